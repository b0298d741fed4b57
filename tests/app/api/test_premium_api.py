"""Premium alternatives over HTTP on the demo shop, whose price tiers are known.

The demo catalog prices every category in three tiers: basic 0.95-1.05x the category's
price, standard 1.2-1.45x, premium 1.7-2.2x; consumables come in packs of 1, 3 or 6.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.ingest.importer import import_records
from app.ingest.targets import TARGETS
from app.serving.answers import CrossSellAnswer, RelatedAnswer
from app.settings import Settings
from app.training.train import train
from tests.app.api.conftest import conforms

from .conftest import keyed_client
from .test_cross_sell_api import load_demo, sale

TIERS = {"basic": 0, "standard": 1, "premium": 2}
BUYER = "basic-beans-buyer"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The demo shop (600 customers) trained and served, and its database URL.

    One more customer buys a basic bag of coffee beans every 20 days, the last 18 days
    ago: due again, with dearer beans in the same pack size to step up to.
    """
    directory = tmp_path_factory.mktemp("premium")
    url = f"sqlite:///{directory / 'shop.db'}"
    upgrade(url)
    load_demo(url, directory, 600)
    engine = make_engine(url)
    facts = catalog(url)
    beans = min(
        i
        for i, f in facts.items()
        if f["category"] == "coffee beans" and f["tier"] == 0 and f["pack"] == 1
    )
    import_records(engine, TARGETS["customers"], [{"customer_id": BUYER, "country": "FR"}])
    lines = [sale(f"basic-{n}", BUYER, beans, 11.0, 18 + 20 * n) for n in range(5)]
    import_records(engine, TARGETS["purchases"], lines)
    train(engine, directory / "models")
    engine.dispose()
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    with keyed_client(settings) as client:
        yield client, url


def catalog(url: str) -> dict[str, dict[str, Any]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT item_id, name, category, price, active, attributes FROM item")
        ).all()
    engine.dispose()
    facts = {}
    for item_id, name, category, price, active, attributes in rows:
        extra = json.loads(attributes) if isinstance(attributes, str) else attributes
        facts[item_id] = {
            "name": name,
            "category": category,
            "price": price,
            "active": bool(active),
            "tier": TIERS.get(extra.get("tier"), -1),
            "pack": extra.get("pack_size", 1),
        }
    return facts


def premium(client: TestClient, item_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/items/{item_id}/related", params={"kind": "premium", **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    conforms(RelatedAnswer, answer)
    return answer


def basic_items(facts: dict[str, dict[str, Any]], per_category: int = 2) -> list[str]:
    chosen: dict[str, list[str]] = {}
    for item_id in sorted(facts):
        item = facts[item_id]
        if item["tier"] == 0 and item["price"] and item["category"]:
            chosen.setdefault(item["category"], []).append(item_id)
    return [i for items in chosen.values() for i in items[:per_category]]


def test_premium_alternatives_are_the_same_category_dearer_within_the_band(
    shop: tuple[TestClient, str],
) -> None:
    client, url = shop
    facts = catalog(url)
    answered = 0
    for item_id in basic_items(facts):
        item = facts[item_id]
        answer = premium(client, item_id)
        assert answer["kind"] == "premium"
        answered += bool(answer["items"])
        for offer in answer["items"]:
            other = facts[offer["item_id"]]
            assert offer["source"] == "premium" and other["active"]
            assert other["category"] == item["category"] and other["pack"] == item["pack"]
            assert 1.1 * item["price"] <= other["price"] <= 2.5 * item["price"]
            assert other["tier"] >= item["tier"]  # never a cheaper tier
            difference = round(other["price"] - item["price"], 2)
            assert offer["price_difference"] == pytest.approx(difference)
            reason = offer["reasons"][0]
            assert reason["kind"] == "premium"
            assert f"€{difference:,.2f} more than {item['name']}" in reason["text"]
            assert reason["evidence"]["item_id"] == item_id
        scores = [offer["score"] for offer in answer["items"]]
        assert scores == sorted(scores, reverse=True)
    assert answered >= 20  # 27 categories: nearly every basic item has a step up


def test_the_band_can_be_set_per_request(shop: tuple[TestClient, str]) -> None:
    client, url = shop
    facts = catalog(url)
    for item_id in basic_items(facts, 1):
        price = facts[item_id]["price"]
        answer = premium(client, item_id, min_ratio=1.6, max_ratio=2.3, limit=100)
        for offer in answer["items"]:
            assert 1.6 * price <= offer["price"] <= 2.3 * price
            assert facts[offer["item_id"]]["tier"] == TIERS["premium"]


def test_the_band_is_configured_by_the_settings(shop: tuple[TestClient, str]) -> None:
    client, url = shop
    facts = catalog(url)
    models = client.app.state.settings.model_dir
    settings = Settings(
        database_url=url,
        model_dir=models,
        refresh_seconds=0,
        premium_min_ratio=1.6,
        premium_max_ratio=2.3,
    )
    found = 0
    with keyed_client(settings) as narrow:
        for item_id in basic_items(facts, 1):
            price = facts[item_id]["price"]
            for offer in premium(narrow, item_id, limit=100)["items"]:
                found += 1
                assert 1.6 * price <= offer["price"] <= 2.3 * price
    assert found
    with pytest.raises(ValidationError, match="PREMIUM_MAX_RATIO"):
        Settings(premium_min_ratio=2.0, premium_max_ratio=1.5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_ratio": 0.5}, "query.min_ratio"),
        ({"max_ratio": "much"}, "query.max_ratio"),
        ({"min_ratio": 2.0, "max_ratio": 1.5}, "query.max_ratio"),
    ],
)
def test_a_bad_band_is_422_naming_the_field(
    shop: tuple[TestClient, str], params: dict[str, Any], field: str
) -> None:
    client, _ = shop
    response = client.get("/v1/items/I00001/related", params={"kind": "premium", **params})
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_an_item_without_a_price_has_an_empty_list_and_an_unknown_one_404(
    shop: tuple[TestClient, str],
) -> None:
    client, _ = shop
    assert premium(client, "brand-new-lens")["items"] == []  # imported without a price
    response = client.get("/v1/items/no-such-item/related", params={"kind": "premium"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_due_consumable_is_followed_by_its_better_version(
    shop: tuple[TestClient, str],
) -> None:
    client, url = shop
    facts = catalog(url)
    answer = client.get(f"/v1/customers/{BUYER}/cross-sell").json()
    items = answer["items"]
    due, better = items[0], items[1]
    assert due["source"] == "replenishment" and better["source"] == "premium"
    bought = facts[due["item_id"]]
    assert facts[better["item_id"]]["category"] == "coffee beans"
    assert 1.1 * bought["price"] <= better["price"] <= 2.5 * bought["price"]
    assert better["due_at"] == due["due_at"]
    reason = better["reasons"][0]["text"]
    assert f"a step up from {bought['name']}, which is due again" in reason
    assert better["price_difference"] == pytest.approx(better["price"] - bought["price"])
    assert [i["item_id"] for i in items].count(better["item_id"]) == 1
    conforms(CrossSellAnswer, answer)


def test_filters_that_exclude_the_better_version_leave_it_out(
    shop: tuple[TestClient, str],
) -> None:
    client, _ = shop
    plain = client.get(f"/v1/customers/{BUYER}/cross-sell").json()["items"]
    upgrade_id = plain[1]["item_id"]
    capped = client.get(
        f"/v1/customers/{BUYER}/cross-sell", params={"max_price": plain[0]["price"]}
    ).json()["items"]
    assert capped[0]["item_id"] == plain[0]["item_id"]
    assert upgrade_id not in [i["item_id"] for i in capped]
    assert "premium" not in [i["source"] for i in capped]


def test_volume_offers_larger_packs_of_the_kind_cheaper_per_unit(
    shop: tuple[TestClient, str],
) -> None:
    client, url = shop
    facts = catalog(url)
    singles = [i for i, f in sorted(facts.items()) if f["pack"] == 1 and f["price"]]
    offered = 0
    for item_id in singles:
        item = facts[item_id]
        response = client.get(f"/v1/items/{item_id}/related", params={"kind": "volume", "limit": 5})
        assert response.status_code == 200, response.text
        answer = response.json()
        conforms(RelatedAnswer, answer)
        for offer in answer["items"]:
            other = facts[offer["item_id"]]
            unit, was = other["price"] / other["pack"], item["price"]
            assert other["category"] == item["category"] and other["pack"] > 1
            assert 0.7 * was <= unit < was
            assert offer["source"] == "volume"
            reason = offer["reasons"][0]
            assert reason["kind"] == "volume"
            assert reason["text"].startswith(f"{other['pack']} units for €")
            assert reason["evidence"]["unit_saving"] == round(1 - unit / was, 4)
        offered += bool(answer["items"])
    # Packs of 3 and 6 exist only for consumables, at about 10 % off per unit.
    consumables = {f["category"] for f in facts.values() if f["pack"] > 1}
    assert offered >= len([i for i in singles if facts[i]["category"] in consumables]) // 2
    durable = next(i for i in singles if facts[i]["category"] == "cameras")
    answer = client.get(f"/v1/items/{durable}/related", params={"kind": "volume"}).json()
    assert answer["items"] == []
