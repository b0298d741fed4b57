"""Offer events over HTTP: a verdict per event, replays add nothing, bad events are 4xx."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.engine import make_engine

NOW = datetime.now(UTC)


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "customer_id": "c1",
        "offer_id": "upgrade:pro",
        "event": "impression",
        "channel": "in_app",
        "occurred_at": (NOW - timedelta(minutes=1)).isoformat(),
        **fields,
    }


def setup(client: TestClient) -> None:
    """The customer, items and plan the events below name."""
    items = [{"item_id": "I00042"}, {"item_id": "I00043"}]
    plan = {"plan_id": "pro", "ladder": "app", "tier_rank": 2, "monthly_price": 20}
    for table, rows in (
        ("customers", [{"customer_id": "c1"}]),
        ("items", items),
        ("plans", [plan]),
    ):
        assert client.post(f"/v1/{table}", json=rows).status_code == 200


def stored(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT event_id, offer_kind, event, channel FROM offer_event ORDER BY event_id")
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_events_are_stored_with_their_kind_and_a_replay_adds_nothing(
    client: TestClient, database_url: str
) -> None:
    setup(client)
    batch = [
        event("e1"),
        event("e2", event="click"),
        event("e3", offer_id="cross_sell:I00042", event="dismiss", channel="email"),
    ]
    first = client.post("/v1/events", json=batch).json()
    assert (first["accepted"], first["inserted"], first["rejected"]) == (3, 3, 0)
    again = client.post("/v1/events", json=batch).json()
    assert (again["accepted"], again["inserted"], again["unchanged"]) == (3, 0, 3)
    assert stored(database_url) == [
        ("e1", "upgrade", "impression", "in_app"),
        ("e2", "upgrade", "click", "in_app"),
        ("e3", "cross_sell", "dismiss", "email"),
    ]


def test_bad_events_are_rejected_one_by_one_and_good_ones_kept(client: TestClient) -> None:
    setup(client)
    batch = [
        event("ok"),
        event("bad-offer", offer_id="free-gift"),
        event("future", occurred_at=(NOW + timedelta(hours=2)).isoformat()),
        event("stranger", customer_id="nobody"),
        event("bad-kind", event="purchase"),
    ]
    answer = client.post("/v1/events", json=batch).json()
    assert (answer["accepted"], answer["rejected"]) == (1, 4)
    reasons = {r["index"]: (r["field"], r["reason"]) for r in answer["rejects"]}
    assert reasons[1][0] == "offer_id" and "unknown offer id 'free-gift'" in reasons[1][1]
    assert reasons[2][0] == "occurred_at" and "in the future" in reasons[2][1]
    assert reasons[3][0] == "customer_id" and "unknown customer 'nobody'" in reasons[3][1]
    assert reasons[4][0] == "event"


def test_a_batch_without_one_valid_event_is_422_naming_the_rows(client: TestClient) -> None:
    client.post("/v1/customers", json=[{"customer_id": "c1"}])
    response = client.post(
        "/v1/events", json=[event("x", offer_id="nope"), event("y", offer_id="gift:")]
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [d["field"] for d in error["details"]] == ["[0].offer_id", "[1].offer_id"]
    assert "unknown offer id 'nope'" in error["message"]


def test_a_replayed_event_is_counted_once_and_a_changed_one_is_refused(
    client: TestClient, database_url: str
) -> None:
    setup(client)
    assert client.post("/v1/events", json=[event("x")]).json()["inserted"] == 1
    same = client.post("/v1/events", json=[event("x"), event("y")]).json()
    assert (same["inserted"], same["unchanged"], same["updated"], same["rejected"]) == (1, 1, 0, 0)
    changed = client.post("/v1/events", json=[event("x", event="dismiss"), event("z")]).json()
    assert (changed["inserted"], changed["updated"], changed["rejected"]) == (1, 0, 1)
    (reject,) = changed["rejects"]
    assert reject["index"] == 0 and reject["field"] == "event"
    assert "stored already, with event 'impression', not 'dismiss'" in reject["reason"]
    alone = client.post("/v1/events", json=[event("x", channel="email")])
    assert (
        alone.status_code == 422 and alone.json()["error"]["details"][0]["field"] == "[0].channel"
    )
    assert [r for r in stored(database_url) if r[0] == "x"] == [
        ("x", "upgrade", "impression", "in_app")
    ]


def test_events_about_offers_that_name_nothing_are_refused(client: TestClient) -> None:
    setup(client)
    batch = [
        event("a", offer_id="cross_sell:NOPE_ITEM"),
        event("b", offer_id="upgrade:nonexistent-plan"),
        event("c", offer_id="bundle:I00042+"),
        event("d", offer_id="expansion:seat:I00042"),
        event("e", occurred_at="0001-01-01T00:00:00Z"),
        event("f", offer_id="bundle:I00042+I00043"),
        event("g", offer_id="retention:pro:annual"),
        event("h", offer_id="expansion:item:I00043"),
    ]
    answer = client.post("/v1/events", json=batch).json()
    reasons = {r["index"]: (r["field"], r["reason"]) for r in answer["rejects"]}
    assert sorted(reasons) == [0, 1, 2, 3, 4] and answer["inserted"] == 3
    assert "names unknown item 'NOPE_ITEM'" in reasons[0][1]
    assert "names unknown plan 'nonexistent-plan'" in reasons[1][1]
    assert "names an empty id" in reasons[2][1]
    assert "unknown offer id" in reasons[3][1]
    assert reasons[4][0] == "occurred_at" and "before 1970" in reasons[4][1]
