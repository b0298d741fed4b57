"""Hostile JSON posted to every bulk route and to events: never a 5xx, always an answer
in the one shape (an import report, or an error naming what is wrong)."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ingest.targets import TARGETS
from app.settings import Settings
from tests.app.api.conftest import keyed_client

ROUTES = sorted(TARGETS)
MAX_BODY = 64 * 1024

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def nested(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + "1" + closer * depth


@st.composite
def rows(draw: st.DrawFn, route: str) -> Any:
    """A row of the route's fields, some given hostile values, some extra."""
    fields = list(TARGETS[route].row.model_fields)
    chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
    row = {name: draw(values) for name in chosen}
    if draw(st.booleans()):
        row[draw(st.text(max_size=10))] = draw(values)
    return row


@st.composite
def bodies(draw: st.DrawFn, route: str) -> bytes:
    """Raw request bodies: generated JSON, deep nesting, huge strings, NaN, repeated
    keys, broken UTF-8, or not JSON at all."""
    kind = draw(st.sampled_from(["rows", "deep", "deep_attr", "huge", "nan", "dup", "bytes"]))
    if kind == "rows":
        text = json.dumps(draw(st.lists(rows(route), max_size=5)), allow_nan=True)
    elif kind == "deep":
        text = nested(draw(st.integers(10, 5000)), draw(st.sampled_from(["[", '{"a":'])))
    elif kind == "deep_attr":
        depth = draw(st.integers(5, 1500))
        attributes = nested(depth, '{"a":')
        text = f'[{{"customer_id": "c1", "item_id": "i1", "attributes": {attributes}}}]'
    elif kind == "huge":
        field = draw(st.sampled_from(list(TARGETS[route].row.model_fields)))
        text = json.dumps([{field: "x" * draw(st.integers(300, MAX_BODY - 100))}])
    elif kind == "nan":
        field = draw(st.sampled_from(list(TARGETS[route].row.model_fields)))
        text = (
            f'[{{"{field}": {draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"]))}}}]'
        )
    elif kind == "dup":
        field = draw(st.sampled_from(list(TARGETS[route].row.model_fields)))
        text = f'[{{"{field}": "a", "{field}": 1, "{field}": null}}]'
    else:
        return draw(st.binary(max_size=200))
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture
def hostile_client(database_url: str) -> Any:
    settings = Settings(database_url=database_url, max_bulk_rows=50, max_body_bytes=MAX_BODY)
    with keyed_client(settings) as client:
        client.post("/v1/customers", json=[{"customer_id": "c1"}])
        client.post("/v1/items", json=[{"item_id": "i1", "price": 1}])
        yield client


def assert_answered(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        error = body["error"]
        assert isinstance(error["code"], str) and error["message"]
        assert isinstance(error["details"], list)
    else:
        assert body["accepted"] + body["rejected"] == body["submitted"]
        assert all(isinstance(r["reason"], str) for r in body["rejects"])


@pytest.mark.parametrize("route", ROUTES)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_bodies_get_an_answer_in_the_shape(
    hostile_client: TestClient, route: str, data: st.DataObject
) -> None:
    hostile_client.app.state  # noqa: B018 - the app is up (lifespan entered)
    body = data.draw(bodies(route))
    response = hostile_client.post(
        f"/v1/{route}", content=body, headers={"content-type": "application/json"}
    )
    assert_answered(response)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_a_422_naming_the_body(hostile_client: TestClient, opener: str) -> None:
    response = hostile_client.post(
        "/v1/customers", content=nested(3000, opener), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]["message"]


def test_nested_or_large_attributes_reject_their_row_only(hostile_client: TestClient) -> None:
    deep: Any = 1
    for _ in range(900):
        deep = {"a": deep}
    rows = [
        {"customer_id": "deep", "attributes": deep},
        {"customer_id": "large", "attributes": {"blob": "x" * 20_000}},
        {"customer_id": "fine", "attributes": {"tier": "gold", "tags": ["a", "b"]}},
    ]
    response = hostile_client.post("/v1/customers", content=json.dumps(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["inserted"] == 1
    reasons = {r["index"]: r["reason"] for r in report["rejects"]}
    assert "nested deeper than 8 levels" in reasons[0]
    assert "at most 16,384" in reasons[1]


def test_nan_in_attributes_is_refused_the_same_on_every_backend(
    hostile_client: TestClient,
) -> None:
    response = hostile_client.post(
        "/v1/customers", content='[{"customer_id": "n", "attributes": {"score": NaN}}]'
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]["message"]


def test_a_nul_character_rejects_its_row_only_on_every_backend(
    hostile_client: TestClient,
) -> None:
    rows = [
        {"customer_id": "key", "attributes": {"\u0000": 1}},
        {"customer_id": "text", "country": "U\u0000K"},
        {"customer_id": "fine", "country": "UK"},
    ]
    response = hostile_client.post("/v1/customers", content=json.dumps(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["inserted"] == 1
    reasons = {r["index"]: (r["field"], r["reason"]) for r in report["rejects"]}
    assert reasons[0][0] == "attributes" and "NUL character" in reasons[0][1]
    assert reasons[1][0] == "country" and "NUL character" in reasons[1][1]


def test_a_nul_in_a_field_name_is_refused_and_recorded_on_every_backend(
    hostile_client: TestClient,
) -> None:
    """PostgreSQL text cannot hold NUL: the refused row is still recorded (its NUL
    written as \\u0000) and the run's report says why, not a 500."""
    rows = [{"\u0000": None}, {"customer_id": "c1", "plan_id": "p1"}]
    response = hostile_client.post("/v1/plan-changes", content=json.dumps(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rejected"] == 2 and [r["index"] for r in report["rejects"]] == [0, 1]
    (run,) = hostile_client.get("/v1/imports", params={"limit": 1}).json()["runs"]
    refused = run["rejects"][0]
    assert "\x00" not in json.dumps(refused) and "\\u0000" in refused["raw"]


def test_an_empty_array_records_no_import_run(hostile_client: TestClient) -> None:
    before = hostile_client.get("/v1/imports").json()
    report = hostile_client.post("/v1/customers", json=[]).json()
    assert (report["submitted"], report["run_id"]) == (0, None)
    assert hostile_client.get("/v1/imports").json() == before


def test_a_url_over_the_limit_is_a_414_in_the_shape(hostile_client: TestClient) -> None:
    response = hostile_client.get("/v1/customers/c1/cross-sell", params={"x": "a" * 20_000})
    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"
