"""The upsell route as a SaaS app calls it, on generated data plus customers whose right
answers are known, with the propensity learned from the generated history."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.serving.answers import UpsellAnswer
from app.settings import Settings
from app.training.train import train
from tests.app.api.conftest import conforms

from .conftest import keyed_client

NOW = datetime.now(UTC)


def when(days: float) -> str:
    """A timestamp `days` from now (negative: in the past)."""
    return (NOW + timedelta(days=days)).isoformat()


def account(
    customer_id: str,
    plan: str,
    seats: tuple[float, float],
    billing: str = "annual",
    renews_in: float = 200,
    tenure: float = 700,
) -> dict[str, list[dict[str, Any]]]:
    """One subscriber's rows: seats three months ago and now, little storage or API use."""
    usage = [
        {"customer_id": customer_id, "metric": metric, "value": value, "measured_at": when(ago)}
        for ago, seat in ((-95, seats[0]), (-5, seats[1]))
        for metric, value in (("seats", seat), ("storage_gb", 1.0), ("api_calls", 100))
    ]
    return {
        "customers": [{"customer_id": customer_id, "country": "DE"}],
        "subscriptions": [
            {
                "subscription_id": f"sub-{customer_id}",
                "customer_id": customer_id,
                "plan_id": plan,
                "billing_period": billing,
                "status": "active",
                "started_at": when(-tenure),
                "renews_at": when(renews_in),
            }
        ],
        "usage": usage,
    }


KNOWN = {
    "at-96-percent": account("at-96-percent", "pro", (23, 24)),
    "complainer": account("complainer", "pro", (23, 24)),
    "on-top": account("on-top", "enterprise", (50, 50)),
    "steady-monthly": account("steady-monthly", "standard", (5, 5), billing="monthly"),
    "fresh-complaint": account("fresh-complaint", "pro", (23, 24)),
}


def load(database_url: str, directory: Path, customers: int) -> None:
    """Generated shop + SaaS data, then the known customers."""
    files = generate(directory / "data", customers=customers, seed=5)
    engine = make_engine(database_url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    for table in ("customers", "subscriptions", "usage"):
        rows: list[object] = [row for known in KNOWN.values() for row in known[table]]
        report = import_records(engine, TARGETS[table], rows)
        assert report.rejected == 0, report.rejects
    import_records(engine, TARGETS["customers"], [{"customer_id": "no-plan", "country": "FR"}])
    complaint = {"customer_id": "complainer", "kind": "complaint", "opened_at": when(-2)}
    import_records(engine, TARGETS["tickets"], [{"ticket_id": "T-open", **complaint}])
    train(engine, directory / "models")
    engine.dispose()


def client_for(database_url: str, directory: Path) -> TestClient:
    settings = Settings(
        database_url=database_url, model_dir=directory / "models", refresh_seconds=0
    )
    return keyed_client(settings)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """SQLite with 3,000 generated customers and the known ones, trained, and a client."""
    directory = tmp_path_factory.mktemp("upsell")
    url = f"sqlite:///{directory / 'saas.db'}"
    upgrade(url)
    load(url, directory, 3000)
    with client_for(url, directory) as client:
        yield client


def upsell(client: TestClient, customer_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/customers/{customer_id}/upsell")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    conforms(UpsellAnswer, answer)
    return answer


def kinds(answer: dict[str, Any]) -> list[str]:
    return [r["kind"] for r in answer["reasons"]]


def test_96_percent_of_seats_is_upgrade_now_with_the_evidence(served: TestClient) -> None:
    answer = upsell(served, "at-96-percent")
    assert answer["source"] == "model" and answer["probability"] > 0.25
    assert answer["decision"] == "upgrade" and answer["timing"] == {"when": "now", "at": None}
    assert answer["current"]["plan_id"] == "pro"
    assert answer["target"]["plan_id"] == "enterprise"  # the next tier up covers 26 seats
    assert answer["target"]["billing_period"] == "annual"  # as the customer pays now
    assert answer["price_difference"] == 249 - 79
    usage = answer["reasons"][0]
    assert usage["text"] == "Seats: 24 of 25 used (96%), up from 23 three months ago"
    assert usage["evidence"]["ratio"] == 0.96
    assert kinds(answer) == ["usage", "projection", "propensity"]
    assert "as often as average" in answer["reasons"][2]["text"]


def test_an_open_complaint_is_not_now(served: TestClient) -> None:
    answer = upsell(served, "complainer")
    assert (answer["decision"], answer["why_not"]) == ("not_now", "open_complaint")
    assert answer["target"] is None and answer["timing"] is None
    assert answer["reasons"][0]["text"].startswith("A complaint is open (since ")


def test_the_top_tier_is_not_now(served: TestClient) -> None:
    answer = upsell(served, "on-top")
    assert (answer["decision"], answer["why_not"]) == ("not_now", "top_tier")
    assert answer["reasons"][0]["text"] == "Already on Enterprise, the top plan of its ladder"


def test_monthly_loyal_steady_is_billing_with_the_yearly_saving(served: TestClient) -> None:
    answer = upsell(served, "steady-monthly")
    assert answer["decision"] == "billing"
    assert answer["target"]["plan_id"] == "standard"
    assert answer["target"]["billing_period"] == "annual"
    assert answer["yearly_saving"] == 12 * 29 - 290
    saving = next(r for r in answer["reasons"] if r["kind"] == "billing_saving")
    assert saving["text"] == (
        "Annual billing costs €290.00 a year instead of 12 x €29.00 = €348.00: €58.00 saved"
    )


def test_a_customer_without_a_subscription_is_a_clear_not_now(served: TestClient) -> None:
    answer = upsell(served, "no-plan")
    assert (answer["decision"], answer["why_not"]) == ("not_now", "no_plan")
    assert answer["current"] is None and answer["usage"] == []
    assert answer["reasons"][0]["text"] == "No live subscription: nothing to upgrade"


def test_an_unknown_customer_is_404_in_the_error_shape(served: TestClient) -> None:
    response = served.get("/v1/customers/nobody-here/upsell")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["details"][0]["field"] == "customer_id"


def test_a_malformed_id_is_422_naming_the_field(served: TestClient) -> None:
    for bad in ("tab%09id", "x" * 256):
        response = served.get(f"/v1/customers/{bad}/upsell")
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "path.customer_id"


def test_a_complaint_filed_after_training_counts_at_once(served: TestClient) -> None:
    assert upsell(served, "fresh-complaint")["decision"] == "upgrade"
    ticket = {
        "ticket_id": "T-fresh",
        "customer_id": "fresh-complaint",
        "kind": "complaint",
        "opened_at": when(-0.01),
    }
    assert served.post("/v1/tickets", json=[ticket]).status_code == 200
    assert upsell(served, "fresh-complaint")["why_not"] == "open_complaint"


def test_every_generated_subscriber_gets_a_valid_answer(served: TestClient) -> None:
    """Every reason has a text, and a projection speaks of growth only where a reading
    three months back shows some (a new account, or a flat one, has none to project)."""
    seen, projected, flat = set(), 0, 0
    for n in range(1, 3001, 7):
        answer = upsell(served, f"C{n:06d}")
        seen.add(answer["decision"])
        usage = {
            r["evidence"]["metric"]: r["evidence"]
            for r in answer["reasons"]
            if r["kind"] == "usage"
        }
        for reason in answer["reasons"]:
            assert reason["text"] and "nan" not in reason["text"]
            assert " 1 months" not in reason["text"]
            if reason["kind"] == "projection":
                then = usage[reason["evidence"]["metric"]]
                grew = (then["used_90_days_ago"] or 0) > 0 and (
                    reason["evidence"]["projected"] > then["used"]
                )
                assert reason["text"].startswith("At the growth") == grew, reason["text"]
                projected, flat = projected + grew, flat + (not grew)
    assert {"upgrade", "billing", "not_now"} <= seen
    assert projected and flat, (projected, flat)


def test_the_route_answers_on_every_database(database_url: str, tmp_path: Path) -> None:
    load(database_url, tmp_path, 400)
    with client_for(database_url, tmp_path) as client:
        assert upsell(client, "at-96-percent")["target"]["plan_id"] == "enterprise"
        assert upsell(client, "complainer")["why_not"] == "open_complaint"
        assert upsell(client, "steady-monthly")["yearly_saving"] == 58
        assert upsell(client, "no-plan")["why_not"] == "no_plan"


def test_without_upgrade_history_the_rules_decide_and_say_so(tmp_path: Path) -> None:
    """A shop that has just loaded its plans and subscriptions: nothing to learn from."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    upgrade(url)
    files = generate(tmp_path / "data", customers=300, seed=5)
    engine = make_engine(url)
    for table in ("customers", "items", "plans", "purchases"):
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    for table in ("customers", "subscriptions", "usage"):
        import_records(engine, TARGETS[table], [r for k in KNOWN.values() for r in k[table]])
    train(engine, tmp_path / "models")
    engine.dispose()
    with client_for(url, tmp_path) as client:
        answer = upsell(client, "at-96-percent")
        assert answer["source"] == "rules" and answer["probability"] is None
        assert answer["decision"] == "upgrade" and answer["timing"]["when"] == "now"
        assert "propensity" not in kinds(answer)  # no upgrade rates to quote
        assert upsell(client, "steady-monthly")["decision"] == "billing"


def test_a_database_that_cannot_be_read_gives_not_now_marked_degraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'saas.db'}"
    upgrade(url)
    load(url, tmp_path, 300)
    with client_for(url, tmp_path) as client:
        assert upsell(client, "complainer")["why_not"] == "open_complaint"
        engine = make_engine(url)
        with engine.begin() as conn:  # the ticket table goes away under the running server
            conn.execute(text("ALTER TABLE ticket RENAME TO ticket_gone"))
        engine.dispose()
        answer = upsell(client, "at-96-percent")  # never a prompt on state it cannot see
        assert answer["degraded"] and answer["decision"] == "not_now"
        assert answer["why_not"] == "unavailable" and answer["current"] is None
