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
    assert client.post("/v1/customers", json=[{"customer_id": "c1"}]).status_code == 200
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
    client.post("/v1/customers", json=[{"customer_id": "c1"}])
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
