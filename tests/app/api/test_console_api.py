"""The routes the web console calls, as any caller meets them: the overview, the model
registry over HTTP, the import log, a customer's purchase history and the KPI series."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.imports import ImportsAnswer
from app.api.kpi_series import KpiSeries
from app.api.overview import Overview
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.settings import Settings
from app.training.train import Activation, train

from .conftest import keyed_client, new_key
from .test_cross_sell_api import load_demo
from .test_kpis_api import load as load_kpi_log


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, list[str]]]:
    """A demo shop trained twice (the second forced active): settings, versions oldest first."""
    directory = tmp_path_factory.mktemp("console-api")
    url = f"sqlite:///{directory / 'shop.db'}"
    upgrade(url)
    load_demo(url, directory, 200)
    engine = make_engine(url)
    first = train(engine, directory / "models")
    second = train(engine, directory / "models", activation=Activation(force=True))
    engine.dispose()
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    yield settings, [first.manifest["version"], second.manifest["version"]]


def test_the_overview_counts_the_data_and_names_the_active_model(
    shop: tuple[Settings, list[str]],
) -> None:
    settings, (_, newest) = shop
    with keyed_client(settings, "read") as client:
        answer = client.get("/v1/overview")
    assert answer.status_code == 200, answer.text
    overview = Overview.model_validate(answer.json())
    assert overview.counts.customers == 202  # 200 generated, newcomer-de and beans-buyer
    assert overview.counts.purchases > 1000
    assert overview.active_model is not None and overview.active_model.version == newest
    assert overview.serving == newest
    assert overview.freshness.newest_purchase_at is not None
    assert overview.freshness.last_import_at is not None
    assert overview.freshness.last_training_at is not None
    targets = [run.target for run in overview.recent_imports]
    assert {"customers", "items", "purchases"} <= set(targets)


def test_models_activate_and_roll_back_over_http_as_the_cli_does(
    shop: tuple[Settings, list[str]],
) -> None:
    settings, (oldest, newest) = shop
    with keyed_client(settings, "admin") as client:
        listed = client.get("/v1/models").json()
        assert [v["version"] for v in listed["versions"]] == [newest, oldest]
        assert listed["active"] == newest == listed["serving"]
        activated = client.post(f"/v1/models/{oldest}/activate")
        assert activated.status_code == 200, activated.text
        assert activated.json()["active"]["status"] == "active"
        assert client.get("/v1/models").json()["active"] == oldest
        # Like the CLI, the table changes; the server switches on its next refresh.
        assert served(client) == newest
        client.app.state.registry.refresh()  # type: ignore[attr-defined]
        assert served(client) == oldest
        back = client.post("/v1/models/rollback")
        assert back.status_code == 200 and back.json()["active"]["version"] == newest
        assert back.json()["active"]["note"] == f"rolled back from {oldest}"
        unknown = client.post("/v1/models/20990101T000000000000Z/activate")
        assert unknown.status_code == 404
        assert "no model version" in unknown.json()["error"]["message"]
    with keyed_client(settings, "read") as client:
        refused = client.get("/v1/models")
        assert refused.status_code == 403 and "'admin'" in refused.json()["error"]["message"]


def served(client: TestClient) -> str:
    return str(client.get("/v1/customers/C000010/cross-sell").json()["model_version"])


def test_rollback_with_nothing_before_is_a_clear_409(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, model_dir=tmp_path, refresh_seconds=0)
    with keyed_client(settings, "admin") as client:
        answer = client.post("/v1/models/rollback")
    assert answer.status_code == 409
    assert answer.json()["error"]["message"] == "no earlier active version to roll back to"


def test_imports_show_the_refused_rows_to_admin_keys_only(client: TestClient) -> None:
    rows: list[dict[str, Any]] = [
        {"customer_id": "ann"},
        {"customer_id": "bob", "created_at": "yesterday"},
        {"customer_id": ""},
    ]
    client.post("/v1/customers", json=rows)
    client.post("/v1/items", json=[{"item_id": "cup", "price": -1}])
    answer = client.get("/v1/imports", params={"rejects": 1})
    assert answer.status_code == 200, answer.text
    runs = ImportsAnswer.model_validate(answer.json()).runs
    assert [run.target for run in runs] == ["items", "customers"]  # newest first
    items, customers = runs
    assert (customers.submitted, customers.accepted, customers.rejected) == (3, 1, 2)
    assert [r.position for r in customers.rejects] == [1]  # the first refused row only
    assert customers.rejects[0].field == "created_at" and "yesterday" in customers.rejects[0].raw
    assert items.rejects[0].field == "price"
    only = client.get("/v1/imports", params={"target": "items"}).json()["runs"]
    assert [run["target"] for run in only] == ["items"]
    overview = client.get("/v1/overview").json()["recent_imports"]
    assert sum(overview[1]["reject_reasons"].values()) == 2
    assert "yesterday" not in str(overview)  # the values stay blanked for read keys
    read = new_key(client.app.state.settings.database_url, "read")  # type: ignore[attr-defined]
    refused = client.get("/v1/imports", headers={"Authorization": f"Bearer {read}"})
    assert refused.status_code == 403


def test_purchase_history_pages_newest_first(client: TestClient) -> None:
    client.post("/v1/customers", json=[{"customer_id": "ann"}, {"customer_id": "bob"}])
    client.post("/v1/items", json=[{"item_id": f"i{n}", "name": f"Item {n}"} for n in range(3)])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = [
        {"order_id": f"o{n}", "customer_id": "ann", "item_id": f"i{n % 3}", "quantity": 1}
        | {"unit_price": 10 + n, "purchased_at": (start + timedelta(days=n)).isoformat()}
        for n in range(7)
    ]
    lines.append(lines[0] | {"order_id": "bob-1", "customer_id": "bob"})
    assert client.post("/v1/purchases", json=lines).json()["rejected"] == 0
    first = client.get("/v1/customers/ann/purchases", params={"limit": 3}).json()
    assert first["total"] == 7
    assert [line["order_id"] for line in first["purchases"]] == ["o6", "o5", "o4"]
    assert first["purchases"][0] == {
        "order_id": "o6",
        "item_id": "i0",
        "name": "Item 0",
        "kind": "sale",
        "quantity": 1.0,
        "unit_price": 16.0,
        "currency": None,  # the item was imported without a price
        "purchased_at": "2026-01-07T00:00:00Z",
    }
    last = client.get("/v1/customers/ann/purchases", params={"limit": 3, "offset": 6}).json()
    assert [line["order_id"] for line in last["purchases"]] == ["o0"]
    missing = client.get("/v1/customers/nobody/purchases")
    assert missing.status_code == 404 and "nobody" in missing.json()["error"]["message"]
    assert client.get("/v1/customers/ann/purchases?limit=0").status_code == 422


def test_every_kpi_bucket_is_the_report_of_its_period(database_url: str) -> None:
    with keyed_client(Settings(database_url=database_url)) as client:
        load_kpi_log(client)
        end = datetime.now(UTC).replace(microsecond=0)
        start = end - timedelta(days=30)
        period = {"from": start.isoformat(), "to": end.isoformat()}
        answer = client.get("/v1/kpis/series", params=period | {"interval": "week"})
        assert answer.status_code == 200, answer.text
        series = KpiSeries.model_validate(answer.json())
        assert len(series.buckets) == 5  # four weeks and two days
        assert series.buckets[0].start == series.start and series.buckets[-1].end == series.end
        for bucket in series.buckets:
            alone = client.get("/v1/kpis", params={"from": bucket.start, "to": bucket.end})
            assert alone.json()["overall"] == bucket.overall.model_dump(mode="json")
        impressions = sum(b.overall.offers.impressions for b in series.buckets)
        whole = client.get("/v1/kpis", params=period).json()
        assert impressions == whole["overall"]["offers"]["impressions"] > 0
        by_kind = client.get("/v1/kpis/series", params=period | {"group_by": "kind"}).json()
        assert {g["group"] for b in by_kind["buckets"] for g in b["groups"]} >= {"cross_sell"}
        too_many = client.get("/v1/kpis/series", params=period | {"interval": "day"})
        assert too_many.status_code == 200
        year = {"from": (end - timedelta(days=366)).isoformat(), "to": end.isoformat()}
        refused = client.get("/v1/kpis/series", params=year | {"interval": "day"})
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["field"] == "query.interval"
