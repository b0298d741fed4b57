"""The reads an answer as of a past moment makes (a customer's lines, their account's
items, a department's plan then) give, on every backend, what the stored rows say and
what training as of that moment owns (returns taken off)."""

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.tables import customer, purchase
from app.demo.generate import generate
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.serving.past import PastReads, lines_until, peer_items_until
from app.serving.subscriber import driver_cursor, plan_then, reads_for
from app.training.data import load_snapshot
from app.training.saas import load_saas
from models.history import customer_items
from models.upgrades import snapshot


def test_past_reads_are_the_stored_rows_up_to_the_moment(database_url: str, tmp_path: Path) -> None:
    files = generate(tmp_path / "data", customers=600, seed=11)
    engine = make_engine(database_url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    then = int(time.time()) - 120 * 86_400
    moment = datetime.fromtimestamp(then, UTC)
    with engine.connect() as conn:
        people = conn.execute(select(customer.c.id, customer.c.customer_id, customer.c.account_id))
        people = people.all()
        sales = conn.execute(
            select(purchase.c.customer_id, purchase.c.item_id, purchase.c.purchased_at).where(
                purchase.c.kind == "sale", purchase.c.purchased_at <= moment
            )
        ).all()
    items = np.unique(np.array([s[1] for s in sales], np.int64))
    by_pk: dict[int, list[tuple[int, int]]] = {}
    for pk, item_id, at in sales:
        by_pk.setdefault(pk, []).append((item_id, int(at.replace(tzinfo=UTC).timestamp())))
    account = {pk: acc for pk, _, acc in people}
    trained = load_snapshot(engine, as_of=then)  # what training as of the moment owns
    owns, v = customer_items(trained.history), trained.vocab
    trained_owns = {
        v.customer_ids[c]: set(v.item_db_ids[owns[c].indices].tolist())
        for c in range(owns.shape[0])
    }
    offered = set(v.item_db_ids[v.active].tolist())  # fees are never offered nor owned
    data = load_saas(engine, loyal_as_of=then)
    snap = snapshot(data.history, data.ladder, then)
    plan_of = dict(zip(snap.customer.tolist(), snap.plan.tolist(), strict=True))
    index = {c: n for n, c in enumerate(data.customer_ids)}
    reads = reads_for(engine, PastReads)
    checked = peers = plans = 0
    with driver_cursor(engine) as cursor:
        for pk, customer_id, account_id in people[:200]:
            lines = lines_until(cursor, reads, items, customer_id, then)
            got = set(zip(items[lines.items].tolist(), lines.at.tolist(), strict=True))
            assert got <= set(by_pk.get(pk, []))  # sale lines up to the moment, no other
            assert (np.diff(lines.at) >= 0).all()
            bought = set(items[lines.items].tolist())
            kept = trained_owns.get(customer_id, set())
            assert kept <= bought and not (bought - kept) & offered, customer_id
            checked += bool(kept)
            if account_id is not None:
                found, using = peer_items_until(cursor, reads, items, (account_id, pk), then)
                others = [p for p, a in account.items() if a == account_id and p != pk]
                bought: dict[int, int] = {}
                for other in others:
                    for item_id in {i for i, _ in by_pk.get(other, [])}:
                        bought[item_id] = bought.get(item_id, 0) + 1
                assert dict(zip(items[found].tolist(), using.tolist(), strict=True)) == bought
                peers += bool(bought)
            plan = plan_then(cursor, reads, pk, data.plans, then)
            snapped = index.get(customer_id, -1)
            if snapped in plan_of:  # training's snapshot of the subscribers then
                assert plan == plan_of[snapped], customer_id
                plans += 1
    engine.dispose()
    assert checked > 50 and peers > 5 and plans > 20, (checked, peers, plans)
