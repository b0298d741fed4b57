"""GET /v1/kpis on the hand-computed log of tests/models/test_kpis.py, posted through the
API on every database, and the requests it must refuse.

The log is the same (see that file's docstring for it and the arithmetic); here its
days count back from now, because events cannot be in the future: the period is the
30 days up to now. ned and quin are the holdout under the default settings (share 0.1,
no salt): their id hashes fall under 0.1, the other eight do not.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.kpis import KpiAnswer
from app.settings import Settings
from models.holdout import in_holdout

from ...models.test_kpis import CUSTOMERS, EVENT_LOG, ITEMS, PLAN_CHANGES, PLANS, PURCHASES
from .conftest import keyed_client

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=30)
PERIOD = {"from": START.isoformat(), "to": NOW.isoformat()}


def day(offset: float) -> str:
    return (START + timedelta(days=offset)).isoformat()


def post(client: TestClient, table: str, rows: list[dict[str, Any]]) -> None:
    answer = client.post(f"/v1/{table}", json=rows).json()
    assert answer["rejected"] == 0, answer["rejects"]


def load(client: TestClient) -> None:
    """The log through the ingestion routes, as a shop and its CRM would send it."""
    post(client, "customers", [{"customer_id": c} for c in CUSTOMERS])
    post(client, "items", [{"item_id": i, "price": p} for i, p in ITEMS.items()])
    plans = [
        {"plan_id": p, "ladder": "saas", "tier_rank": rank, "monthly_price": price}
        for p, (rank, price) in PLANS.items()
    ]
    post(client, "plans", plans)
    post(
        client,
        "purchases",
        [
            {"order_id": o, "customer_id": c, "item_id": i, "kind": k, "quantity": q}
            | {"unit_price": ITEMS[i], "purchased_at": day(d)}
            for o, c, i, k, q, d in PURCHASES
        ],
    )
    changes = [
        {"customer_id": c, "from_plan_id": f, "to_plan_id": t, "changed_at": day(d)}
        for c, f, t, d in PLAN_CHANGES
    ]
    post(client, "plan-changes", changes)
    events = [
        {"event_id": f"e{n}", "customer_id": c, "offer_id": o, "event": e, "channel": ch}
        | {"occurred_at": day(d)}
        for n, (c, o, e, ch, d) in enumerate(EVENT_LOG)
    ]
    post(client, "events", events)


def kpis(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/v1/kpis", params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    KpiAnswer.model_validate(answer)
    return answer


def test_the_holdout_of_the_log_is_ned_and_quin() -> None:
    assert [c for c in CUSTOMERS if in_holdout(c, 0.1)] == ["ned", "quin"]


def test_kpis_of_the_hand_computed_log(client: TestClient) -> None:
    load(client)
    answer = kpis(client)
    assert (answer["from"], answer["to"]) == (
        START.isoformat().replace("+00:00", "Z"),
        NOW.isoformat().replace("+00:00", "Z"),
    )
    assert (answer["attribution_days"], answer["holdout_share"], answer["groups"]) == (14, 0.1, [])
    outcomes = answer["overall"]["outcomes"]
    assert outcomes["customers"] == {"treated": 8, "holdout": 2}
    assert outcomes["orders"] == {"treated": 6, "holdout": 2}
    assert outcomes["holdout_shown_offers"] == 0
    upsell = outcomes["upsell_rate"]  # fay of 8 against quin of 2
    assert (upsell["treated"], upsell["holdout"], upsell["uplift"]) == (0.125, 0.5, -0.375)
    assert upsell["ci95"] == [-1.0, 0.354865] and upsell["p_value"] == 0.23568
    cross = outcomes["cross_sell_rate"]  # ada, cai, dee of 8 against ned of 2
    assert (cross["treated"], cross["holdout"], cross["uplift"]) == (0.375, 0.5, -0.125)
    aov = outcomes["average_order_value"]  # 280 / 6 against 30 / 2
    assert (aov["treated"], aov["holdout"], aov["uplift"]) == (46.666667, 15.0, 31.666667)
    revenue = outcomes["revenue_per_customer"]  # 230 / 8 against 30 / 2
    assert (revenue["treated"], revenue["holdout"], revenue["uplift"]) == (28.75, 15.0, 13.75)
    assert revenue["relative_uplift"] == 0.916667
    assert revenue["ci95"] == [-22.435002, 49.935002] and revenue["p_value"] == 0.456411
    ltv = outcomes["ltv_change"]  # (28.75 - 3.75) - (15 - 10)
    assert (ltv["treated"], ltv["holdout"], ltv["uplift"]) == (25.0, 5.0, 20.0)


def test_offer_metrics_and_attribution_of_the_log(client: TestClient) -> None:
    load(client)
    offers = kpis(client)["overall"]["offers"]
    assert offers == {
        "customers_shown": 6,
        "impressions": 8,
        "clicks": 1,
        "accepts": 2,
        "dismissals": 1,
        "acceptance_rate": 0.25,
        "click_rate": 0.125,
        "dismissal_rate": 0.125,
        "average_days_to_accept": 2.5,  # ada 1 day, fay 4 days
        "accepts_timed": 2,
        "attributed_purchases": 3,  # ada's B, cai's D, eve's A
        "attributed_revenue": 130.0,
        "attributed_plan_changes": 1,  # fay to pro
        "attributed_monthly_revenue": 20.0,
    }


def test_by_kind_and_channel_only_the_offers_split(client: TestClient) -> None:
    load(client)
    by_kind = {g["group"]: g for g in kpis(client, group_by="kind")["groups"]}
    assert list(by_kind) == ["bundle", "cross_sell", "upgrade"]
    assert all(g["outcomes"] is None for g in by_kind.values())
    bundle, cross, upgrade = (by_kind[k]["offers"] for k in by_kind)
    assert (bundle["impressions"], bundle["attributed_revenue"]) == (2, 20.0)
    assert (cross["impressions"], cross["accepts"], cross["attributed_revenue"]) == (3, 1, 110.0)
    assert (upgrade["dismissals"], upgrade["average_days_to_accept"]) == (1, 4.0)
    by_channel = {g["group"]: g["offers"] for g in kpis(client, group_by="channel")["groups"]}
    assert list(by_channel) == ["email", "in_app", "web"]
    assert (by_channel["email"]["acceptance_rate"], by_channel["in_app"]["accepts"]) == (0.0, 1)
    assert by_channel["email"]["attributed_revenue"] == 110.0  # cai's D and eve's A


def test_by_segment_each_segment_against_its_own_holdout(client: TestClient) -> None:
    load(client)
    mapping = {c: "loyal" for c in ("ada", "ben", "cai", "ned")}
    mapping |= {c: "new" for c in ("dee", "eve", "fay", "gus", "quin")}  # hal: none
    client.app.state.segments = lambda: mapping  # type: ignore[attr-defined]
    groups = {g["group"]: g for g in kpis(client, group_by="segment")["groups"]}
    assert list(groups) == ["loyal", "new", "unsegmented"]
    loyal = groups["loyal"]
    assert loyal["outcomes"]["customers"] == {"treated": 3, "holdout": 1}
    revenue = loyal["outcomes"]["revenue_per_customer"]  # (20 + 20 + 150) / 3 against 20
    assert (revenue["treated"], revenue["holdout"], revenue["ci95"]) == (63.333333, 20.0, None)
    assert loyal["offers"]["impressions"] == 4  # ada twice, cai, ben
    assert loyal["offers"]["attributed_revenue"] == 120.0  # ada's B and cai's D
    assert groups["unsegmented"]["outcomes"]["customers"] == {"treated": 1, "holdout": 0}


def test_group_by_segment_needs_a_model_with_segments(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, model_dir=tmp_path, refresh_seconds=0)
    with keyed_client(settings) as client:  # an empty model directory: no model
        response = client.get("/v1/kpis", params={"group_by": "segment"})
        assert client.get("/v1/kpis", params={"group_by": "kind"}).status_code == 200
    assert response.status_code == 422
    error = response.json()["error"]
    assert "segments need a model trained with them; no model is loaded yet" in error["message"]
    assert error["details"][0]["field"] == "query.group_by"


def test_an_empty_database_answers_zeros_not_errors(client: TestClient) -> None:
    answer = kpis(client, group_by="kind")
    assert answer["overall"]["outcomes"]["customers"] == {"treated": 0, "holdout": 0}
    assert answer["overall"]["outcomes"]["revenue_per_customer"]["treated"] is None
    assert answer["overall"]["offers"]["acceptance_rate"] is None
    assert answer["groups"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01-01T00:00:00", "to": "0001-01-02"},  # the baseline is before year 1
        {"from": "9999-12-30", "to": "9999-12-31T23:59:59"},
        {"from": "2026-11-01T00:00:00+14:00", "to": "2026-11-20T00:00:00-12:00"},
    ],
)
def test_any_valid_period_is_answered(client: TestClient, params: dict[str, str]) -> None:
    client.post("/v1/customers", json=[{"customer_id": "ada"}])
    response = client.get("/v1/kpis", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["overall"]["outcomes"]["customers"] == {"treated": 1, "holdout": 0}


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"from": NOW.isoformat(), "to": START.isoformat()}, "query.from", "must be before to"),
        ({"from": NOW.isoformat(), "to": NOW.isoformat()}, "query.from", "must be before to"),
        ({"from": "last tuesday"}, "query.from", "ISO 8601 date"),
        ({"from": "1700000000"}, "query.from", "ISO 8601 date"),  # not read as epoch seconds
        ({"to": "2026-13-45"}, "query.to", "valid datetime"),
        ({"group_by": "country"}, "query.group_by", "'kind', 'channel' or 'segment'"),
        ({"from": "2024-01-01", "to": "2025-06-01"}, "query.from", "at most 366 days"),
        ({"from": (NOW + timedelta(days=1)).isoformat()}, "query.from", "must be before to"),
    ],
)
def test_bad_requests_are_422_naming_the_field(
    client: TestClient, params: dict[str, str], field: str, words: str
) -> None:
    response = client.get("/v1/kpis", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert words in error["message"]
    assert error["details"][0]["field"] == field
