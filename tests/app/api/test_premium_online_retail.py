"""Premium alternatives on the real Online Retail catalog, which has no categories."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.engine import make_engine
from app.serving.answers import RelatedAnswer
from app.settings import Settings
from app.training.data import load_snapshot
from app.training.train import train
from tests.app.api.conftest import conforms

from .conftest import keyed_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retail(
    online_retail_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    models = tmp_path_factory.mktemp("retail-models")
    engine = make_engine(online_retail_url)
    train(engine, models)
    engine.dispose()
    settings = Settings(database_url=online_retail_url, model_dir=Path(models), refresh_seconds=0)
    with keyed_client(settings) as client:
        yield client


def items(url: str) -> dict[str, tuple[str, float]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT item_id, name, price FROM item")).all()
    engine.dispose()
    return {r[0]: (r[1], float(r[2])) for r in rows if r[2] is not None}


def premium(client: TestClient, item_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/items/{item_id}/related", params={"kind": "premium"}).json()
    conforms(RelatedAnswer, answer)
    found: list[dict[str, Any]] = answer["items"]
    return found


@pytest.mark.parametrize(
    ("item_id", "noun"),
    [("85123A", "HOLDER"), ("85099B", "BAG"), ("47566", "BUNTING")],
)
def test_premium_alternatives_are_dearer_items_of_the_same_kind(
    retail: TestClient, online_retail_url: str, item_id: str, noun: str
) -> None:
    """WHITE HANGING HEART T-LIGHT HOLDER, JUMBO BAG RED RETROSPOT, PARTY BUNTING."""
    catalog = items(online_retail_url)
    name, price = catalog[item_id]
    found = premium(retail, item_id)
    assert found, f"no premium alternative for {name}"
    for offer in found:
        assert re.search(rf"\b{noun}", offer["name"]), (name, offer["name"])
        assert 1.1 * price <= offer["price"] <= 2.5 * price
        reason = offer["reasons"][0]
        assert reason["text"].startswith(f"£{offer['price'] - price:,.2f} more than {name}")
        assert offer["price_difference"] == pytest.approx(offer["price"] - price)


def test_the_best_sellers_premium_alternatives_share_their_product_noun(
    retail: TestClient, online_retail_url: str
) -> None:
    """Across the 100 best sellers: always dearer within the band, nearly always the same noun."""
    catalog = items(online_retail_url)
    best_sellers = retail.get("/v1/customers/nobody/cross-sell", params={"limit": 100}).json()
    pairs = same = 0
    for seller in best_sellers["items"]:
        name, price = catalog[seller["item_id"]]
        for offer in premium(retail, seller["item_id"]):
            assert 1.1 * price <= offer["price"] <= 2.5 * price
            kind = offer["reasons"][0]["evidence"]["kind"]
            pairs += 1
            same += kind[:5].upper() in name and kind[:5].upper() in offer["name"]
    assert pairs > 300
    assert same / pairs > 0.95


def test_most_items_get_a_kind_and_a_pack_of_twelve_is_no_premium_for_one_of_72(
    retail: TestClient, online_retail_url: str
) -> None:
    engine = make_engine(online_retail_url)
    vocab = load_snapshot(engine).vocab
    engine.dispose()
    assert (vocab.kind[vocab.active] >= 0).mean() > 0.93
    assert not vocab.categories and 200 < len(vocab.kinds) < 350
    # PACK OF 72 RETROSPOT CAKE CASES: other packs of cases cost more, but hold fewer.
    assert all("72" in offer["name"] for offer in premium(retail, "21212"))
