"""The customer profile and the segments overview, as a CRM console calls them, on a
trained demo data set plus customers whose segments are known."""

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.serving.answers import CustomerProfile, SegmentName, SegmentsAnswer
from app.settings import Settings
from app.training.train import train
from models.segments import NAMES
from models.trained import artifacts
from tests.app.api.conftest import conforms

from .conftest import keyed_client

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def orders(
    customer_id: str, item_id: str, price: float, days_ago: list[float], prefix: str = ""
) -> list[object]:
    """One single-line order per day given, as the bulk API takes purchases."""
    return [
        {
            "order_id": f"{prefix or customer_id}-{n}",
            "customer_id": customer_id,
            "item_id": item_id,
            "unit_price": price,
            "purchased_at": ago(days),
        }
        for n, days in enumerate(days_ago)
    ]


def known_rows(item_id: str) -> dict[str, list[object]]:
    """Customers whose segment a salesperson would name at a glance, and a subscriber."""
    customers = ["champion", "lapsed-regular", "newcomer", "no-orders", "subscriber"]
    return {
        "customers": [
            {"customer_id": c, "country": "DE", "account_id": "ACME" if c == "subscriber" else None}
            for c in customers
        ],
        "purchases": [
            # 25 orders of 200 in the last 290 days, the last one yesterday...
            *orders("champion", item_id, 200.0, [1 + 12 * n for n in range(25)]),
            # ...and a first order long before the year the scores look at.
            *orders("champion", item_id, 999.0, [400], prefix="champion-old"),
            # 12 orders of 300, then nothing for 150 days.
            *orders("lapsed-regular", item_id, 300.0, [150 + 10 * n for n in range(12)]),
            *orders("newcomer", item_id, 20.0, [10, 5]),
        ],
        "subscriptions": [
            {
                "subscription_id": "sub-1",
                "customer_id": "subscriber",
                "plan_id": "pro",
                "billing_period": "annual",
                "status": "active",
                "started_at": ago(400),
                "renews_at": ago(-35),
            }
        ],
        "usage": [
            {"customer_id": "subscriber", "metric": "seats", "value": 20, "measured_at": ago(3)}
        ],
        "tickets": [
            {
                "ticket_id": "T-open",
                "customer_id": "subscriber",
                "kind": "complaint",
                "opened_at": ago(2),
            },
            {
                "ticket_id": "T-closed",
                "customer_id": "subscriber",
                "kind": "question",
                "opened_at": ago(9),
                "closed_at": ago(8),
            },
        ],
    }


def load(database_url: str, directory: Path, customers: int) -> None:
    """Generated shop data and the plans, the known customers, then a trained model."""
    files = generate(directory / "data", customers=customers, seed=11)
    engine = make_engine(database_url)
    for table in ("customers", "items", "plans", "purchases"):
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    with engine.connect() as conn:
        item_id = str(conn.execute(text("SELECT MIN(item_id) FROM item")).scalar())
    for table, rows in known_rows(item_id).items():
        report = import_records(engine, TARGETS[table], rows)
        assert report.rejected == 0, report.rejects
    train(engine, directory / "models")
    engine.dispose()


def client_for(database_url: str, directory: Path) -> TestClient:
    settings = Settings(
        database_url=database_url, model_dir=directory / "models", refresh_seconds=0
    )
    return keyed_client(settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with SQLite holding 600 generated customers and the known ones, and a
    model trained on them."""
    directory = tmp_path_factory.mktemp("profile")
    upgrade(f"sqlite:///{directory / 'crm.db'}")
    load(f"sqlite:///{directory / 'crm.db'}", directory, 600)
    return directory


@pytest.fixture(scope="module")
def served(trained: Path) -> Iterator[TestClient]:
    with client_for(f"sqlite:///{trained / 'crm.db'}", trained) as client:
        yield client


def profile(client: TestClient, customer_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/customers/{customer_id}/profile")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    conforms(CustomerProfile, answer)
    assert set(answer) == set(CustomerProfile.__annotations__)  # nothing undocumented
    return answer


def segments(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/segments")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    conforms(SegmentsAnswer, answer)
    return answer


def test_a_customer_who_buys_often_lately_and_a_lot_is_a_champion(served: TestClient) -> None:
    rfm = profile(served, "champion")["rfm"]
    assert rfm["segment"] == "champions" and rfm["meaning"] == "bought recently, often and a lot"
    assert (rfm["frequency"], rfm["monetary"]) == (25, 5000.0)
    assert min(rfm["r"], rfm["f"], rfm["m"]) >= 4
    assert rfm["last_purchase_at"] == ago(1).replace("+00:00", "Z")
    assert rfm["first_purchase_at"] == ago(400).replace("+00:00", "Z")


def test_a_regular_who_stopped_buying_is_at_risk(served: TestClient) -> None:
    rfm = profile(served, "lapsed-regular")["rfm"]
    assert rfm["segment"] == "at_risk" and rfm["r"] <= 2 and rfm["f"] >= 3
    assert rfm["frequency"] == 12 and rfm["monetary"] == 3600.0
    assert 149 <= rfm["recency_days"] < 150  # as_of: the newest sale, a day or less ago


def test_a_first_order_ten_days_ago_is_new(served: TestClient) -> None:
    assert profile(served, "newcomer")["rfm"]["segment"] == "new"


def test_a_customer_without_orders_is_named_without_scores(served: TestClient) -> None:
    rfm = profile(served, "no-orders")["rfm"]
    assert rfm["segment"] == "no_purchases"
    assert rfm["r"] is rfm["f"] is rfm["m"] is rfm["recency_days"] is None
    assert (rfm["frequency"], rfm["monetary"]) == (0, 0.0)


def test_the_profile_shows_the_live_plan_usage_renewal_and_open_tickets(
    served: TestClient,
) -> None:
    answer = profile(served, "subscriber")
    assert (answer["account_id"], answer["country"]) == ("ACME", "DE")
    assert answer["marketing_opt_out"] is False
    plan = answer["subscription"]
    assert (plan["plan_id"], plan["billing_period"], plan["status"]) == ("pro", "annual", "active")
    assert plan["renews_at"] == ago(-35).replace("+00:00", "Z")
    seats = next(u for u in plan["usage"] if u["metric"] == "seats")
    assert (seats["used"], seats["limit"], seats["ratio"]) == (20.0, 25.0, 0.8)
    # The closed question is history; only the open complaint is listed.
    assert [(t["ticket_id"], t["kind"]) for t in answer["open_tickets"]] == [
        ("T-open", "complaint")
    ]


def test_the_latest_20_lines_come_newest_first_including_todays(served: TestClient) -> None:
    item_id = profile(served, "champion")["recent_purchases"][0]["item_id"]
    today = orders("champion", item_id, 450.0, [0.01])
    today[0]["order_id"] = "today"  # type: ignore[index]
    assert served.post("/v1/purchases", json=today).status_code == 200
    answer = profile(served, "champion")
    lines = answer["recent_purchases"]
    assert len(lines) == 20
    assert (lines[0]["order_id"], lines[0]["unit_price"], lines[0]["kind"]) == (
        "today",
        450,
        "sale",
    )
    times = [line["purchased_at"] for line in lines]
    assert times == sorted(times, reverse=True)
    # The scores stay those of training; the line shows at once.
    assert answer["rfm"]["frequency"] == 25


def test_a_customer_added_after_training_has_a_profile_without_scores(
    served: TestClient,
) -> None:
    row = {"customer_id": "joined-today", "country": "FR", "marketing_opt_out": True}
    assert served.post("/v1/customers", json=[row]).status_code == 200
    answer = profile(served, "joined-today")
    assert answer["rfm"] is None and answer["marketing_opt_out"] is True
    assert "next training" in answer["notes"][0]
    assert answer["subscription"] is None and answer["recent_purchases"] == []


def test_a_plan_added_after_training_is_a_note_not_an_error(served: TestClient) -> None:
    plan = {"plan_id": "galaxy", "ladder": "workspace", "tier_rank": 9, "monthly_price": 999}
    subscription = {
        "subscription_id": "sub-galaxy",
        "customer_id": "no-orders",
        "plan_id": "galaxy",
        "billing_period": "monthly",
        "status": "active",
        "started_at": ago(1),
    }
    for table, row in (("plans", plan), ("subscriptions", subscription)):
        response = served.post(f"/v1/{table}", json=[row])
        assert response.json()["accepted"] == 1, response.text
    answer = profile(served, "no-orders")
    assert answer["subscription"] is None
    assert answer["notes"] == [
        "The live subscription's plan is newer than the model: retrain to show it"
    ]


def test_an_unknown_customer_is_404_and_a_malformed_id_422(served: TestClient) -> None:
    response = served.get("/v1/customers/nobody/profile")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = served.get("/v1/customers/bad%01id/profile")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "path.customer_id"


def test_the_overview_adds_up_to_the_model_and_its_manifest(
    served: TestClient, trained: Path
) -> None:
    answer = segments(served)
    rows = answer["segments"]
    assert [r["segment"] for r in rows] == list(NAMES) == list(SegmentName.__args__)
    counts = {r["segment"]: r["customers"] for r in rows}
    manifest = json.loads((artifacts(trained / "models")[0] / "manifest.json").read_text())
    assert counts == manifest["segments"]["counts"]
    assert answer["customers"] == sum(counts.values()) == manifest["data"]["customers"]
    assert sum(r["share"] for r in rows) == pytest.approx(1, abs=1e-3)
    assert sum(r["sales"] for r in rows) == pytest.approx(answer["sales"])
    assert counts["champions"] >= 1 and counts["no_purchases"] >= 1
    champions = rows[0]
    average = champions["sales"] / counts["champions"]
    assert champions["average_sales"] == pytest.approx(average, abs=0.01)
    assert answer["as_of"] == profile(served, "champion")["rfm"]["as_of"]


def test_score_edges_explain_the_champions_scores(served: TestClient) -> None:
    """R >= 4 means "bought within so many days": the champion is inside every edge."""
    edges = {e["score"]: e for e in segments(served)["scores"]}
    rfm = profile(served, "champion")["rfm"]
    assert rfm["recency_days"] <= edges[4]["recency_days_at_most"]
    assert rfm["frequency"] >= edges[4]["frequency_at_least"]
    assert rfm["monetary"] >= edges[4]["monetary_at_least"]
    assert edges[2]["frequency_at_least"] <= edges[5]["frequency_at_least"]


def test_without_a_model_both_routes_are_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    with client_for(url, tmp_path) as client:
        for path in ("/v1/segments", "/v1/customers/anyone/profile"):
            response = client.get(path)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "unavailable"


def test_a_database_that_cannot_be_read_is_503_not_500(trained: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(trained / "crm.db", tmp_path / "copy.db")
    settings = Settings(database_url=url, model_dir=trained / "models", refresh_seconds=0)
    with keyed_client(settings) as client:
        assert profile(client, "subscriber")["open_tickets"]
        engine = make_engine(url)
        with engine.begin() as conn:  # the ticket table goes away under the running server
            conn.execute(text("ALTER TABLE ticket RENAME TO ticket_gone"))
        engine.dispose()
        response = client.get("/v1/customers/subscriber/profile")
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert response.json()["error"]["code"] == "unavailable"
        assert segments(client)["customers"] > 600  # from the model: no database needed


def test_the_profile_and_segments_answer_on_every_database(
    database_url: str, tmp_path: Path
) -> None:
    load(database_url, tmp_path, 200)
    with client_for(database_url, tmp_path) as client:
        champion = profile(client, "champion")["rfm"]
        assert champion["segment"] == "champions"
        assert (champion["frequency"], champion["monetary"]) == (25, 5000.0)
        assert profile(client, "lapsed-regular")["rfm"]["segment"] == "at_risk"
        subscriber = profile(client, "subscriber")
        assert subscriber["subscription"]["plan_id"] == "pro"
        assert [t["ticket_id"] for t in subscriber["open_tickets"]] == ["T-open"]
        assert len(profile(client, "champion")["recent_purchases"]) == 20
        answer = segments(client)
        assert answer["customers"] == sum(r["customers"] for r in answer["segments"])
