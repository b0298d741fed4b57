"""Bulk JSON ingestion: per-row verdicts, limits that answer 413, one error shape."""

import json
from typing import Any

from fastapi.testclient import TestClient

CUSTOMERS = [{"customer_id": "c1", "country": "GB"}, {"customer_id": "c2"}]
ITEMS = [{"item_id": "i1", "name": "Camera", "price": 300}]


def post(client: TestClient, table: str, rows: Any, **params: str) -> dict[str, Any]:
    response = client.post(f"/v1/{table}", json=rows, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["accepted"] + body["rejected"] == body["submitted"]
    return body


def assert_error(response: Any, status: int, code: str, text: str) -> None:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert text in error["message"]


def test_rows_are_stored_and_reposting_changes_nothing(client: TestClient) -> None:
    first = post(client, "customers", CUSTOMERS)
    again = post(client, "customers", CUSTOMERS)
    assert (first["inserted"], again["inserted"], again["unchanged"]) == (2, 0, 2)


def test_only_fields_sent_are_updated(client: TestClient) -> None:
    post(client, "customers", [{"customer_id": "c1", "country": "GB", "attributes": {"a": 1}}])
    result = post(client, "customers", [{"customer_id": "c1", "country": "FR"}])
    assert result["updated"] == 1
    again = post(client, "customers", [{"customer_id": "c1", "attributes": {"a": 1}}])
    assert again["unchanged"] == 1  # attributes were kept when only country was sent


def test_bad_rows_are_rejected_one_by_one(client: TestClient) -> None:
    rows = [
        {"customer_id": "ok"},
        {"customer_id": ""},
        {"customer_id": "x", "colour": "red"},
        "not an object",
        {"customer_id": "y", "created_at": "31/12/2020"},
    ]
    result = post(client, "customers", rows)
    assert result["inserted"] == 1
    assert [(r["index"], r["field"]) for r in result["rejects"]] == [
        (1, "customer_id"),
        (2, "colour"),
        (3, None),
        (4, "created_at"),
    ]
    assert "expected a JSON object, got str" in result["rejects"][2]["reason"]


def test_purchases_with_unknown_references(client: TestClient) -> None:
    post(client, "customers", CUSTOMERS)
    post(client, "items", ITEMS)
    purchase = {
        "order_id": "o1",
        "customer_id": "c9",
        "item_id": "i1",
        "unit_price": 300,
        "purchased_at": "2024-01-01T10:00:00+01:00",
    }
    rejected = post(client, "purchases", [purchase])
    assert rejected["rejects"][0]["field"] == "customer_id"
    created = post(client, "purchases", [purchase], create_missing="true")
    assert (created["inserted"], created["created"]) == (1, {"customer": 1})


def test_too_many_rows_is_413(client: TestClient) -> None:
    rows = [{"customer_id": f"c{i}"} for i in range(51)]
    assert_error(client.post("/v1/customers", json=rows), 413, "payload_too_large", "at most 50")


def test_too_many_bytes_is_413(client: TestClient) -> None:
    rows = [{"customer_id": "c1", "attributes": {"note": "x" * 70_000}}]
    response = client.post("/v1/customers", content=json.dumps(rows))
    assert_error(response, 413, "payload_too_large", "65,536")


def test_body_that_is_not_an_array_is_422(client: TestClient) -> None:
    assert_error(client.post("/v1/items", json={"item_id": "i1"}), 422, "invalid_request", "array")
    response = client.post("/v1/items", content=b"[{", headers={"content-type": "application/json"})
    assert_error(response, 422, "invalid_request", "not valid JSON")


def test_unknown_route_has_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found", "Not Found")
    assert_error(client.get("/v1/customers"), 405, "method_not_allowed", "Not Allowed")


def test_every_table_has_a_bulk_route(client: TestClient) -> None:
    for table in (
        "customers",
        "items",
        "purchases",
        "plans",
        "subscriptions",
        "plan-changes",
        "usage",
        "tickets",
    ):
        assert post(client, table, [])["submitted"] == 0


def test_a_corrected_reading_replaces_the_stored_one(client: TestClient) -> None:
    post(client, "customers", CUSTOMERS)
    reading = {"customer_id": "c1", "metric": "seats", "measured_at": "2025-03-01T00:00:00Z"}
    first = post(client, "usage", [reading | {"value": 4}])
    again = post(client, "usage", [reading | {"value": 4}])
    corrected = post(client, "usage", [reading | {"value": 7}])
    assert (first["inserted"], again["unchanged"], corrected["updated"]) == (1, 1, 1)
    assert corrected["rejected"] == 0
    stored = client.get("/v1/customers/c1/export").json()["tables"]["usage"]
    assert [(r["metric"], r["value"]) for r in stored] == [("seats", 7.0)]
