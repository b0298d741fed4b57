"""A subscription business with no shop: `train` learns the upsell engine from the
SaaS tables alone, counts every subscriber (plan-change rows or not), and says "not
now" rather than "0 % used" for a subscriber without usage readings."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.settings import Settings
from app.training.train import TrainResult, train
from tests.app.api.test_upsell_api import account, upsell

from .conftest import keyed_client

SHOP_TABLES = {"items", "purchases", "events"}


@pytest.fixture(scope="module")
def saas_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrainResult, TestClient]]:
    """Generated customers, plans, subscriptions, plan changes, usage and tickets (no
    items, no purchases), a subscriber at 96 % of a limit and one never measured."""
    directory = tmp_path_factory.mktemp("saas-only")
    url = f"sqlite:///{directory / 'saas.db'}"
    upgrade(url)
    files = generate(directory / "data", customers=3000, seed=5)
    engine = make_engine(url)
    for table in IMPORT_ORDER:
        if table not in SHOP_TABLES:
            run_import(engine, TARGETS[table], CsvSource(files[table]))
    unmeasured = account("never-measured", "standard", (5, 5), billing="monthly")
    unmeasured["usage"] = []
    for known in (account("at-96-percent", "pro", (23, 24)), unmeasured):
        for table, rows in known.items():
            assert import_records(engine, TARGETS[table], list(rows)).rejected == 0
    result = train(engine, directory / "models")
    engine.dispose()
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    with keyed_client(settings) as client:
        yield result, client


def test_train_learns_upsell_from_subscriptions_alone(saas_only: Any) -> None:
    result, _ = saas_only
    assert result.manifest["data"]["purchase_lines"] == 0
    upsell_manifest = result.manifest["upsell"]
    assert upsell_manifest["source"] == "model" and upsell_manifest["training_upgrades"] > 100
    coverage = upsell_manifest["coverage"]
    left_out = sum(coverage["left_out"].values())
    assert coverage["counted"] + left_out == coverage["subscriptions"]
    assert coverage["counted"] > coverage["subscriptions"] / 2


def test_a_subscriber_without_plan_changes_is_answered_from_its_subscription(
    saas_only: Any,
) -> None:
    _, client = saas_only
    answer = upsell(client, "at-96-percent")
    assert answer["decision"] == "upgrade" and answer["target"]["plan_id"] == "enterprise"


def test_no_usage_reading_is_not_now_and_never_zero_percent(saas_only: Any) -> None:
    _, client = saas_only
    answer = upsell(client, "never-measured")
    assert (answer["decision"], answer["why_not"]) == ("not_now", "no_usage")
    assert answer["usage"] == []
    assert not any("0%" in reason["text"] for reason in answer["reasons"])
    assert answer["reasons"][0]["text"].startswith("No usage reading")


def test_cross_sell_routes_answer_without_a_shop(saas_only: Any) -> None:
    _, client = saas_only
    response = client.get("/v1/customers/at-96-percent/cross-sell")
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
