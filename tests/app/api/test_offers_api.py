"""Next best offers over HTTP, as a CRM plugin calls them, on trained demo data.

The guardrails are checked on random event logs posted through the real events API:
whatever the log, an answer never takes a customer over the cap, never offers what
they dismissed within the cool-down, and never sells to the holdout, to a customer who
opted out or to one with an open complaint.
"""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.migrate import upgrade
from app.serving.answers import OffersAnswer
from app.serving.offer_candidates import peer_items
from models.holdout import in_holdout
from tests.app.api.conftest import conforms

from .test_upsell_api import client_for, load

NOW = datetime.now(UTC)
SALES = {"upgrade", "billing", "cross_sell", "bundle", "replenishment", "premium", "expansion"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """3,000 generated customers plus the upsell tests' known accounts, trained, served."""
    directory = tmp_path_factory.mktemp("offers")
    url = f"sqlite:///{directory / 'offers.db'}"
    upgrade(url)
    load(url, directory, 3000)
    with client_for(url, directory) as client:
        # Items the tests' events name for offers made elsewhere (events name real items).
        stand_ins = [{"item_id": i, "active": False} for i in ("old", "elsewhere", "x", "x1", "x2")]
        assert client.post("/v1/items", json=stand_ins).status_code == 200
        yield client


def offers(client: TestClient, customer_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/customers/{customer_id}/offers", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    conforms(OffersAnswer, answer)
    return answer


def post_events(client: TestClient, customer_id: str, events: list[tuple[str, str, float]]) -> None:
    """(offer id, event, hours ago) triples for one customer, on the in-app channel."""
    rows = [
        {
            "event_id": f"{customer_id}-{offer}-{event}-{hours}-{n}",
            "customer_id": customer_id,
            "offer_id": offer,
            "event": event,
            "channel": "in_app",
            "occurred_at": (NOW - timedelta(hours=hours)).isoformat(),
        }
        for n, (offer, event, hours) in enumerate(events)
    ]
    response = client.post("/v1/events", json=rows)
    assert response.status_code == 200 and response.json()["rejected"] == 0, response.text


def eligible(n: int) -> str:
    """The n-th generated customer who is not in the holdout."""
    ids = (f"C{i:06d}" for i in range(1, 3001))
    return [c for c in ids if not in_holdout(c, 0.1)][n]


def test_an_account_near_its_limit_gets_the_upgrade_first_with_its_value(
    served: TestClient,
) -> None:
    answer = offers(served, "at-96-percent")
    first = answer["offers"][0]
    assert first["offer_id"] == "upgrade:enterprise" and first["kind"] == "upgrade"
    assert first["value"] == 12 * (249 - 79)  # a year of the monthly difference
    assert first["expected_value"] == round(first["probability"] * first["value"], 2)
    assert first["plan"]["plan_id"] == "enterprise" and first["timing"]["when"] == "now"
    assert first["reasons"][0]["text"].startswith("Seats: 24 of 25 used")
    assert first["channel"] == "in_app" and not first["channel_evidence"]["learned"]
    values = [o["expected_value"] for o in answer["offers"]]
    assert values == sorted(values, reverse=True)


def test_offers_of_every_kind_come_with_reasons_and_stable_ids(served: TestClient) -> None:
    kinds: set[str] = set()
    for n in range(120):
        customer = eligible(n)
        answer = offers(served, customer, limit=3)
        assert len(answer["offers"]) <= 3
        for offer in answer["offers"]:
            kinds.add(offer["kind"])
            assert offer["reasons"] and all(r["text"] for r in offer["reasons"])
            assert offer["offer_id"].startswith(offer["kind"] + ":")
            assert 0 <= offer["probability"] <= 1
        again = offers(served, customer, limit=3)
        assert [o["offer_id"] for o in again["offers"]] == [o["offer_id"] for o in answer["offers"]]
    assert {"cross_sell", "upgrade", "expansion"} <= kinds


def test_a_bundle_is_items_bought_together_with_one_the_customer_owns(served: TestClient) -> None:
    for n in range(300):
        answer = offers(served, eligible(n), kinds="bundle")
        if answer["offers"]:
            bundle = answer["offers"][0]
            assert len(bundle["items"]) == 2 and bundle["discount"] == 0.1
            evidence = bundle["reasons"][0]["evidence"]
            total = evidence["total_price"]
            assert bundle["value"] == round(total * 0.9, 2)
            assert "bought together with" in bundle["reasons"][0]["text"]
            return
    pytest.fail("no customer of 300 got a bundle")


def test_b2b_expansion_names_the_other_departments(served: TestClient) -> None:
    for n in range(300):
        answer = offers(served, eligible(n), kinds="expansion")
        for offer in answer["offers"]:
            evidence = offer["reasons"][0]["evidence"]
            assert evidence["account_id"] and 0 < evidence["using"] <= evidence["departments"]
            assert offer["probability"] == round(evidence["using"] / evidence["departments"], 4)
            assert "other departments of your account" in offer["reasons"][0]["text"]
            return
    pytest.fail("no customer of 300 got an expansion offer")


def test_expansion_items_are_what_other_departments_bought_and_this_one_did_not(
    served: TestClient,
) -> None:
    """The counts behind an expansion offer, checked against the purchase table (items
    that someone in the account returned are left out: a returned sale is not owned)."""
    engine = served.app.state.engine  # type: ignore[attr-defined]
    buyers = text(
        "SELECT c.customer_id, p.kind FROM purchase p JOIN customer c ON c.id = p.customer_id "
        "JOIN item i ON i.id = p.item_id WHERE i.item_id = :item AND c.account_id = :account"
    )
    checked = 0
    for n in range(300):
        customer = eligible(n)
        for offer in offers(served, customer, kinds="expansion", limit=10)["offers"]:
            if not offer["items"]:
                continue  # a plan
            evidence = offer["reasons"][0]["evidence"]
            item = offer["items"][0]["item_id"]
            with engine.connect() as conn:
                rows = conn.execute(buyers, {"item": item, "account": evidence["account_id"]})
                lines = [tuple(r) for r in rows]
            if any(kind == "return" for _, kind in lines):
                continue
            who = {c for c, _ in lines}
            assert customer not in who
            assert len(who) == evidence["using"]
            checked += 1
        if checked >= 10:
            return
    pytest.fail(f"only {checked} expansion items among 300 customers")


def test_what_a_department_bought_since_training_counts_once_for_its_account(
    served: TestClient,
) -> None:
    """Expansion counts departments per item from the model plus the live purchases."""
    registry = served.app.state.registry  # type: ignore[attr-defined]
    engine = served.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        peer, owned_item = conn.execute(
            text(
                "SELECT c.customer_id, i.item_id FROM purchase p "
                "JOIN customer c ON c.id = p.customer_id JOIN item i ON i.id = p.item_id "
                "WHERE c.account_id IS NOT NULL AND p.kind = 'sale' ORDER BY c.id LIMIT 1"
            )
        ).one()
        bought = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT i.item_id FROM purchase p JOIN item i ON i.id = p.item_id "
                    "JOIN customer c ON c.id = p.customer_id WHERE c.customer_id = :c"
                ),
                {"c": peer},
            )
        }
    recommender = registry.get()
    new_item = next(i for i in recommender.catalog.item_ids if i not in bought)
    before_items, before_using = peer_items(recommender.customers, [peer])
    lines = [
        sale_line(f"live-{peer}-1", peer, new_item),
        sale_line(f"live-{peer}-2", peer, new_item),  # twice: still one department
        sale_line(f"live-{peer}-3", peer, owned_item),  # already in the model
    ]
    assert served.post("/v1/purchases", json=lines).json()["inserted"] == 3
    items, using = peer_items(registry.get().customers, [peer])
    ids = recommender.catalog.item_ids
    counts = {ids[i]: n for i, n in zip(items.tolist(), using.tolist(), strict=True)}
    assert counts[new_item] == 1 and counts[owned_item] == 1
    assert len(items) == len(before_items) + 1 and using.max() == 1 == before_using.max()


def sale_line(order_id: str, customer_id: str, item_id: str) -> dict[str, Any]:
    """One sale of today, as the purchases API takes it."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "item_id": item_id,
        "unit_price": 1.0,
        "purchased_at": datetime.now(UTC).isoformat(),
    }


def test_the_holdout_and_opted_out_customers_get_nothing(served: TestClient) -> None:
    held = next(f"C{i:06d}" for i in range(1, 3001) if in_holdout(f"C{i:06d}", 0.1))
    answer = offers(served, held, explain="true")
    assert answer["holdout"] and answer["offers"] == []
    assert {h["rule"] for h in answer["held_back"]} <= {"holdout"} | {
        h["rule"] for h in answer["held_back"] if h["rule"].startswith("upsell:")
    }
    served.post("/v1/customers", json=[{"customer_id": eligible(5), "marketing_opt_out": True}])
    answer = offers(served, eligible(5), explain="true")
    assert answer["offers"] == []
    assert "opt_out" in {h["rule"] for h in answer["held_back"]}


def test_an_open_complaint_holds_back_every_sales_offer(served: TestClient) -> None:
    answer = offers(served, "complainer", explain="true")
    assert {o["kind"] for o in answer["offers"]} <= {"retention"}
    rules = {h["rule"] for h in answer["held_back"]}
    assert "open_complaint" in rules or "upsell:open_complaint" in rules


def test_the_cap_and_the_cooldown_follow_the_events(served: TestClient) -> None:
    customer = eligible(10)
    before = offers(served, customer, explain="true")
    assert before["guardrails"]["shown_in_window"] == 0 and len(before["offers"]) == 3
    dismissed = before["offers"][0]["offer_id"]
    post_events(served, customer, [(dismissed, "impression", 30), (dismissed, "dismiss", 29)])
    after = offers(served, customer, explain="true")
    assert dismissed not in [o["offer_id"] for o in after["offers"]]
    assert (dismissed, "cooldown") in [(h["offer_id"], h["rule"]) for h in after["held_back"]]
    assert len(after["offers"]) == 2  # one of the three of this week is used
    post_events(
        served, customer, [("cross_sell:x1", "impression", 2), ("cross_sell:x2", "impression", 1)]
    )
    full = offers(served, customer, explain="true")
    assert full["offers"] == [] and full["guardrails"]["shown_in_window"] == 3
    assert {h["rule"] for h in full["held_back"]} & {"frequency_cap"}


def test_the_channel_is_where_the_customer_answers(served: TestClient) -> None:
    customer = eligible(20)
    rows = [
        {
            "event_id": f"{customer}-call-{n}",
            "customer_id": customer,
            "offer_id": "cross_sell:old",
            "event": "click" if n % 2 else "impression",
            "channel": "call",
            "occurred_at": (NOW - timedelta(days=30 + n)).isoformat(),
        }
        for n in range(12)
    ]
    assert served.post("/v1/events", json=rows).status_code == 200
    answer = offers(served, customer)
    assert answer["offers"] and {o["channel"] for o in answer["offers"]} == {"call"}
    assert answer["offers"][0]["channel_evidence"] == {
        "impressions": 6,
        "responses": 6,
        "learned": True,
    }
    forced = offers(served, customer, channel="email")
    assert {o["channel"] for o in forced["offers"]} == {"email"}


def test_random_event_logs_never_break_a_guardrail(served: TestClient) -> None:
    rng = random.Random(7)
    for n in range(30, 60):
        customer = eligible(n)
        seen = [o["offer_id"] for o in offers(served, customer, limit=10)["offers"]]
        log = []
        for _ in range(rng.randint(0, 8)):
            offer = rng.choice([*seen, "cross_sell:elsewhere"]) if seen else "cross_sell:x"
            log.append(
                (
                    offer,
                    rng.choice(["impression", "impression", "dismiss", "click"]),
                    rng.uniform(0, 400),
                )
            )
        if log:
            post_events(served, customer, log)
        answer = offers(served, customer, limit=10, explain="true")
        shown = sum(1 for _, e, h in log if e == "impression" and h < 7 * 24)
        assert answer["guardrails"]["shown_in_window"] == shown
        assert len(answer["offers"]) <= max(0, 3 - shown)
        recent = {o for o, e, h in log if e == "dismiss" and h < 30 * 24}
        assert not recent & {o["offer_id"] for o in answer["offers"]}


def test_bad_requests_are_4xx_naming_the_field(served: TestClient) -> None:
    assert served.get("/v1/customers/nobody/offers").status_code == 404
    for params, field in (
        ({"limit": 0}, "query.limit"),
        ({"kinds": "gift"}, "query.kinds.0"),
        ({"channel": "pigeon"}, "query.channel"),
    ):
        response = served.get(f"/v1/customers/{eligible(0)}/offers", params=params)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == field


def test_kinds_filter_the_answer(served: TestClient) -> None:
    answer = offers(served, "at-96-percent", kinds=["upgrade", "billing"])
    assert {o["kind"] for o in answer["offers"]} == {"upgrade"}


def test_offers_answer_on_every_database(database_url: str, tmp_path: Path) -> None:
    load(database_url, tmp_path, 400)
    with client_for(database_url, tmp_path) as client:
        assert offers(client, "at-96-percent")["offers"][0]["offer_id"] == "upgrade:enterprise"
        assert {o["kind"] for o in offers(client, "complainer")["offers"]} <= {"retention"}
        post_events(client, "steady-monthly", [("billing:standard", "dismiss", 1)])
        answer = offers(client, "steady-monthly", explain="true")
        assert "billing:standard" not in [o["offer_id"] for o in answer["offers"]]
