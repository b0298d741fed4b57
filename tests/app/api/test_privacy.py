"""Erasure and export, as a data-protection request runs them: export what is stored,
erase it, and find no trace of the customer in any table, answer or the next model."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Integer, select, text

from app.api.routes import served_routes
from app.db import tables
from app.db.engine import make_engine
from app.db.erase import customer_hash, customer_tables
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.serving.erasure import STAMP
from app.settings import Settings
from app.training.train import train
from models.trained import artifacts, load

from .conftest import keyed_client

NOW = datetime.now(UTC).replace(microsecond=0)
WHO = "erase-me-7301"  # distinctive: no answer mentions it by chance
OTHER = "erase-me-73011"  # an id that contains WHO: must be left alone


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def rows_about(customer_id: str, item_id: str, plans: list[str]) -> dict[str, list[Any]]:
    """A row in every table that holds customers, and a rejected one carrying the id."""
    return {
        "customers": [{"customer_id": customer_id, "country": "DE", "account_id": "ACME-7"}],
        "purchases": [
            {
                "order_id": f"{customer_id}-o{n}",
                "customer_id": customer_id,
                "item_id": item_id,
                "unit_price": 12.5,
                "purchased_at": ago(days),
            }
            for n, days in enumerate((40, 20, 3))
        ],
        "subscriptions": [
            {
                "subscription_id": f"{customer_id}-sub",
                "customer_id": customer_id,
                "plan_id": plans[0],
                "billing_period": "monthly",
                "status": "active",
                "started_at": ago(100),
                "renews_at": ago(-20),
            }
        ],
        "plan-changes": [
            {
                "customer_id": customer_id,
                "from_plan_id": plans[1],
                "to_plan_id": plans[0],
                "changed_at": ago(100),
            }
        ],
        "usage": [
            {"customer_id": customer_id, "metric": "seats", "value": 3, "measured_at": ago(2)}
        ],
        "tickets": [
            {
                "ticket_id": f"{customer_id}-t",
                "customer_id": customer_id,
                "kind": "question",
                "opened_at": ago(5),
            }
        ],
        "events": [
            {
                "event_id": f"{customer_id}-e",
                "customer_id": customer_id,
                "offer_id": f"upgrade:{plans[0]}",
                "event": "impression",
                "channel": "email",
                "occurred_at": ago(1),
            }
        ],
    }


def load_data(database_url: str, directory: Path) -> Engine:
    """Generated shop data, WHO and OTHER with a row in every table, a trained model."""
    files = generate(directory / "data", customers=150, seed=5)
    engine = make_engine(database_url)
    for table in ("customers", "items", "plans", "purchases"):
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    with engine.connect() as conn:
        item_id = str(conn.execute(text("SELECT MIN(item_id) FROM item")).scalar())
        plans = list(conn.execute(text("SELECT plan_id FROM plan ORDER BY tier_rank")).scalars())
    for who in (WHO, OTHER):
        for table, rows in rows_about(who, item_id, plans[-1:-3:-1]).items():
            report = import_records(engine, TARGETS[table], rows)
            assert report.rejected == 0, report.rejects
    bad = {"order_id": "bad", "customer_id": WHO, "item_id": item_id, "unit_price": -1}
    assert import_records(engine, TARGETS["purchases"], [bad]).rejected == 1
    lines = directory / "bad.csv"  # rejected lines of a file: one for each, kept as sent
    lines.write_text(
        "order_id,customer_id,item_id,unit_price,purchased_at\n"
        f"bad-1,{WHO},{item_id},-1,{ago(1)}\nbad-2,{OTHER},{item_id},-1,{ago(1)}\n"
    )
    assert run_import(engine, TARGETS["purchases"], CsvSource(lines)).rejected == 2
    train(engine, directory / "models")
    return engine


def client_for(database_url: str, directory: Path) -> TestClient:
    settings = Settings(
        database_url=database_url, model_dir=directory / "models", refresh_seconds=0
    )
    return keyed_client(settings)


def traces(engine: Engine, customer_id: str, pk: int) -> list[str]:
    """Every row of every table that names the customer: their id in any text or JSON
    value, or their primary key in a customer column. Generic over the schema, so a
    table added later is searched too."""
    found = []
    with engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    shown = json.dumps(value) if isinstance(value, dict | list) else value
                    if isinstance(shown, str) and re.search(
                        rf"(?<!\w){re.escape(customer_id)}(?!\w)", shown
                    ):
                        found.append(f"{table.name}.{column}: {shown[:80]}")
                    is_ref = column == "customer_id" and isinstance(table.c[column].type, Integer)
                    if is_ref and value == pk:
                        found.append(f"{table.name}.{column} = {pk}")
    return found


def customer_pk(engine: Engine, customer_id: str) -> int:
    with engine.connect() as conn:
        pk = conn.execute(
            select(tables.customer.c.id).where(tables.customer.c.customer_id == customer_id)
        ).scalar()
    assert pk is not None
    return int(pk)


def per_customer_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route about one customer, WHO filled in."""
    return [
        (method, path.replace("{customer_id}", WHO))
        for method, path in served_routes(client.app)  # type: ignore[arg-type]
        if "{customer_id}" in path
    ]


def list_routes(client: TestClient) -> list[str]:
    """Every GET route under /v1 without a path parameter (overviews, lists)."""
    return [
        path
        for method, path in served_routes(client.app)  # type: ignore[arg-type]
        if method == "GET" and path.startswith("/v1/") and "{" not in path
    ]


def answers(client: TestClient, item_id: str) -> str:
    """The text of every list and overview answer, campaigns of both kinds included."""
    texts = [client.get(path).text for path in list_routes(client)]
    for query in ("kind=upgrade&limit=5000", f"kind=cross_sell&item={item_id}&limit=5000"):
        response = client.get(f"/v1/campaigns/targets?{query}")
        assert response.status_code == 200, response.text
        texts.append(response.text)
    texts.append(client.get("/v1/kpis?group_by=segment").text)
    return "\n".join(texts)


def test_after_erasure_no_table_no_answer_and_no_next_model_holds_the_customer(
    database_url: str, tmp_path: Path
) -> None:
    engine = load_data(database_url, tmp_path)
    pk = customer_pk(engine, WHO)
    with engine.connect() as conn:
        item_id = str(conn.execute(text("SELECT MIN(item_id) FROM item")).scalar())
    assert len(traces(engine, WHO, pk)) >= 9  # the customer is everywhere to begin with
    with client_for(database_url, tmp_path) as client:
        for method, path in per_customer_routes(client):
            if method == "GET":
                assert client.get(path).status_code == 200, path
        basket = {"customer_id": WHO, "items": [item_id]}
        assert client.post("/v1/baskets/recommendations", json=basket).status_code == 200
        today = {"order_id": "today", "customer_id": WHO, "item_id": item_id, "unit_price": 2}
        today["purchased_at"] = ago(0.01)
        assert client.post("/v1/purchases", json=[today]).json()["inserted"] == 1
        live = client.app.state.registry.current.live  # type: ignore[attr-defined]
        assert live.recent(WHO) is not None  # bought since training: held in memory

        erased = client.delete(f"/v1/customers/{WHO}")
        assert erased.status_code == 200, erased.text
        deleted = erased.json()["deleted"]
        assert {t.name for t in customer_tables()} <= set(deleted)
        assert all(deleted[t.name] >= 1 for t in customer_tables()), deleted
        assert deleted["customer"] == 1 and deleted["purchase"] == 4
        assert live.recent(WHO) is None
        assert deleted["import_reject"] == 2  # the JSON one and its line of the file

        for method, path in per_customer_routes(client):
            response = client.request(method, path)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"
        assert client.post("/v1/baskets/recommendations", json=basket).status_code == 404
        assert WHO not in answers(client, item_id).replace(OTHER, "")

        # The nightly sync sends the customer again: refused, and not logged whole.
        again = client.post("/v1/customers", json=[{"customer_id": WHO, "country": "DE"}])
        assert again.json()["rejected"] == 1
        assert "erased" in again.json()["rejects"][0]["reason"]
        line = rows_about(WHO, item_id, ["p", "q"])["purchases"][:1]
        created = client.post("/v1/purchases?create_missing=true", json=line)
        assert created.json()["rejected"] == 1 and not created.json()["created"]
        assert client.get(f"/v1/customers/{WHO}/profile").status_code == 404

    assert traces(engine, WHO, pk) == []
    assert traces(engine, OTHER, customer_pk(engine, OTHER)) != []  # the look-alike stays
    with engine.connect() as conn:
        kept = conn.execute(select(tables.erased_customer.c.customer_sha256)).scalars().all()
    assert kept == [customer_hash(WHO)]

    train(engine, tmp_path / "models")
    newest = artifacts(tmp_path / "models")[0]
    model, manifest = load(newest)
    assert WHO not in model.vocab.customer_ids and OTHER in model.vocab.customer_ids
    assert WHO not in json.dumps(manifest)
    engine.dispose()


def test_export_returns_what_was_imported_and_what_the_model_holds(
    database_url: str, tmp_path: Path
) -> None:
    engine = load_data(database_url, tmp_path)
    with client_for(database_url, tmp_path) as client:
        response = client.get(f"/v1/customers/{WHO}/export")
        assert response.status_code == 200, response.text
        data = response.json()
    assert data["customer_id"] == WHO
    assert data["customer"]["account_id"] == "ACME-7" and data["customer"]["country"] == "DE"
    stored = data["tables"]
    assert set(stored) == {t.name for t in customer_tables()}
    assert [p["order_id"] for p in stored["purchase"]] == [f"{WHO}-o{n}" for n in range(3)]
    assert stored["purchase"][0]["unit_price"] == 12.5
    assert stored["purchase"][0]["purchased_at"].startswith(ago(40)[:10])
    with engine.connect() as conn:
        item_id = str(conn.execute(text("SELECT MIN(item_id) FROM item")).scalar())
        top = str(conn.execute(text("SELECT plan_id FROM plan ORDER BY tier_rank DESC")).first()[0])
    assert stored["purchase"][0]["item_id"] == item_id  # the caller's id, not the row number
    assert stored["subscription"][0]["plan_id"] == top
    assert stored["plan_change"][0]["to_plan_id"] == top
    assert stored["usage"][0]["metric"] == "seats" and stored["usage"][0]["value"] == 3
    assert stored["ticket"][0]["ticket_id"] == f"{WHO}-t"
    assert stored["offer_event"][0]["event_id"] == f"{WHO}-e"
    assert [r["reason"] for r in data["import_rejects"]] != []
    assert all(WHO in r["raw"] for r in data["import_rejects"])
    model = data["model"]
    assert model["in_model"] and model["items"] == [item_id]
    assert model["rfm"]["frequency"] == 3
    engine.dispose()


def test_a_second_worker_answers_404_as_soon_as_the_erasure_returns(
    database_url: str, tmp_path: Path
) -> None:
    engine = load_data(database_url, tmp_path)
    engine.dispose()
    path = f"/v1/customers/{WHO}/cross-sell"
    with client_for(database_url, tmp_path) as first, client_for(database_url, tmp_path) as second:
        assert second.get(path).status_code == 200  # answered from its own loaded model
        assert first.delete(f"/v1/customers/{WHO}").status_code == 200
        assert second.get(path).status_code == 404
        assert second.get(f"/v1/customers/{OTHER}/cross-sell").status_code == 200


def test_a_worker_that_misses_the_announcement_learns_at_its_next_refresh(
    database_url: str, tmp_path: Path
) -> None:
    engine = load_data(database_url, tmp_path)
    engine.dispose()
    path = f"/v1/customers/{WHO}/cross-sell"
    with client_for(database_url, tmp_path) as first, client_for(database_url, tmp_path) as other:
        registry = other.app.state.registry  # type: ignore[attr-defined]
        registry.erased.stamp = tmp_path / "elsewhere" / STAMP  # another host's directory
        assert other.get(path).status_code == 200
        assert first.delete(f"/v1/customers/{WHO}").status_code == 200
        assert other.get(path).status_code == 200  # not told yet
        registry.refresh()
        assert other.get(path).status_code == 404


def test_erasing_an_unknown_or_erased_customer_is_404(client: TestClient) -> None:
    unknown = client.delete("/v1/customers/nobody")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"][0]["field"] == "customer_id"
    assert client.post("/v1/customers", json=[{"customer_id": "c1"}]).json()["inserted"] == 1
    first = client.delete("/v1/customers/c1")
    assert first.status_code == 200 and first.json()["deleted"]["customer"] == 1
    assert client.delete("/v1/customers/c1").status_code == 404
    assert client.get("/v1/customers/c1/export").status_code == 404
    assert client.get("/v1/customers/nobody/export").status_code == 404


def test_without_a_model_export_and_erasure_still_work(client: TestClient) -> None:
    assert client.post("/v1/customers", json=[{"customer_id": "c2"}]).json()["inserted"] == 1
    exported = client.get("/v1/customers/c2/export")
    assert exported.status_code == 200 and exported.json()["model"] is None
    assert exported.json()["tables"]["purchase"] == []
    assert client.delete("/v1/customers/c2").status_code == 200


@pytest.mark.parametrize("scopes", [("read",), ("write",), ("read", "write")])
def test_erasure_and_export_need_the_admin_scope(database_url: str, scopes: tuple[str]) -> None:
    with keyed_client(Settings(database_url=database_url), *scopes) as client:
        assert client.delete("/v1/customers/c1").status_code == 403
        assert client.get("/v1/customers/c1/export").status_code == 403
