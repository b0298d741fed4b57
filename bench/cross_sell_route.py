"""Cross-sell quality through the HTTP route, as of a cutoff, on two data sets: the UCI
Online Retail data set (a real shop) and the demo generator.

For each: import into SQLite, then score three rankings of the same customers on the
same targets (items each bought after the cutoff and never before, `nextbest evaluate`'s
protocol and metric code):

1. `evaluate`: the engine fitted offline on the history before the cutoff;
2. the route, backtest: `nextbest train --as-of` the cutoff, then
   `GET /v1/customers/{id}/cross-sell?as_of=<cutoff>&limit=10` for every customer,
   through the whole app (middleware, validation, serialisation);
3. the route, model trained on everything, asked `as_of` the cutoff: the customer's
   lines up to it are read and folded in, but the item side learned from the months
   being scored (what a caller gets who backtests on the model in service).

Where the route's answer differs from `evaluate`'s, it is in what it puts first:
repurchases that are due (owned items, never a target under this protocol) and, for a
customer without history, the cold start.

    python bench/cross_sell_route.py --online-retail PATH/online_retail.csv.gz
    python bench/cross_sell_route.py --customers 5000   # demo only, without the file
"""

import argparse
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import scipy.sparse as sp
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth.keys import create_key
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.ingest.importer import run_import
from app.ingest.online_retail import import_online_retail
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.main import create_app
from app.settings import Settings
from app.training.data import load_snapshot
from app.training.evaluation import engine_scorer
from app.training.train import train
from models.engine import Params
from models.evaluate import Split, evaluate_lists, rank, split, top_k
from models.history import History, customer_items

K = 10
ROOT = Path(__file__).resolve().parent.parent
RETAIL_FILE = Path(
    os.environ.get(
        "NEXTBEST_ONLINE_RETAIL_CSV", ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
    )
)
DEMO_END = date(2026, 11, 1)
RETAIL_CUTOFF = datetime(2011, 9, 1, tzinfo=UTC)  # `nextbest evaluate`'s, docs/quality.md
DEMO_CUTOFF = datetime(2026, 8, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--online-retail",
        type=Path,
        default=RETAIL_FILE if RETAIL_FILE.exists() else None,
        help="online_retail.csv.gz (default: NEXTBEST_ONLINE_RETAIL_CSV, as the tests)",
    )
    parser.add_argument("--customers", type=int, default=20_000, help="demo customers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        if args.online_retail is not None:
            engine = database(root / "retail.db")
            import_online_retail(engine, args.online_retail)
            measure("Online Retail", engine, root / "retail", RETAIL_CUTOFF)
        engine = database(root / "demo.db")
        files = generate(root / "csv", customers=args.customers, seed=7, as_of=DEMO_END)
        for table in ("customers", "items", "purchases"):
            run_import(engine, TARGETS[table], CsvSource(files[table]))
        measure(f"demo, {args.customers:,} customers", engine, root / "demo", DEMO_CUTOFF)


def database(path: Path) -> Engine:
    upgrade(f"sqlite:///{path}")
    return make_engine(f"sqlite:///{path}")


def measure(name: str, engine: Engine, directory: Path, cutoff: datetime) -> None:
    """The rankings of one data set, printed as two tables: on the new items only
    (`evaluate`'s protocol), and on everything bought after the cutoff (repeats count,
    so a due repurchase can be a hit)."""
    moment = int(cutoff.timestamp())
    snapshot = load_snapshot(engine)
    active = snapshot.vocab.active
    data = split(snapshot.history, moment, active)
    ids = [snapshot.vocab.customer_ids[u] for u in data.users.tolist()]
    scorer = engine_scorer(snapshot, data, Params())
    lists = {"`evaluate` (offline, fitted before the cutoff)": rank(scorer, data, active, K)}
    index = {item: n for n, item in enumerate(snapshot.vocab.item_ids)}
    train(engine, directory / "as-of", as_of=moment)
    lists["route, trained `--as-of` the cutoff"], due = route_lists(
        engine, directory / "as-of", ids, cutoff, index
    )
    train(engine, directory / "all")
    lists["route, trained on everything, `as_of` the cutoff"], _ = route_lists(
        engine, directory / "all", ids, cutoff, index
    )
    engine.dispose()
    lists["buy again (most often bought first)"] = buy_again(data)
    everything = bought_after(snapshot.history, data, moment, active)
    print(
        f"\n{name}, cutoff {cutoff.date()}: {len(data.users):,} customers, "
        f"{data.targets.nnz:,} new items and {everything.nnz:,} items in all bought after "
        f"it; due repurchases: {due:.1%} of the backtest route's items"
    )
    for title, targets in (("new items only", data.targets), ("repeats count", everything)):
        rows = {label: evaluate_lists(top, targets, active, K) for label, top in lists.items()}
        print_table(title, rows)


def buy_again(data: Split) -> np.ndarray:
    """Each customer's own items, the most often bought first (the repeat baseline)."""
    t = data.train
    known = t.customer >= 0  # lines of no customer (a guest checkout) are nobody's
    counts = sp.csr_matrix(
        (np.ones(int(known.sum()), np.float32), (t.customer[known], t.item[known])),
        shape=(t.n_customers, t.n_items),
    )[data.users].toarray()
    top = top_k(np.where(counts > 0, counts, -np.inf), K)
    return np.where(np.take_along_axis(counts, top, axis=1) > 0, top, -1)


def bought_after(history: History, data: Split, moment: int, active: np.ndarray) -> sp.csr_matrix:
    """users x items: every offerable item each evaluated customer bought after `moment`."""
    after = customer_items(history.select(history.time >= moment))[data.users]
    return after.multiply(sp.csr_matrix(active.astype(np.float32)[None, :])).tocsr()


def route_lists(
    engine: Engine, models: Path, ids: list[str], cutoff: datetime, index: dict[str, int]
) -> tuple[np.ndarray, float]:
    """Each customer's answer as item indexes (-1 padded), and the share of listed
    items that were due repurchases."""
    key = create_key(engine, {"read"}, "quality")[1]
    settings = Settings(database_url=str(engine.url), model_dir=models, refresh_seconds=0)
    top = np.full((len(ids), K), -1, np.int64)
    listed = due = 0
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        for row, customer_id in enumerate(ids):
            items = ask(client, customer_id, cutoff)
            top[row, : len(items)] = [index[i["item_id"]] for i in items]
            listed += len(items)
            due += sum(i["source"] == "replenishment" for i in items)
    return top, due / max(listed, 1)


def ask(client: TestClient, customer_id: str, cutoff: datetime) -> list[dict[str, Any]]:
    params = {"as_of": cutoff.isoformat(), "limit": K}
    response = client.get(f"/v1/customers/{customer_id}/cross-sell", params=params)
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}:\n")
    print(f"| ranking | HR@{K} | Recall@{K} | NDCG@{K} | MAP@{K} | coverage |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, m in rows.items():
        names = (f"HR@{K}", f"Recall@{K}", f"NDCG@{K}", f"MAP@{K}", "coverage")
        print(f"| {label} | " + " | ".join(f"{m[n]:.4f}" for n in names) + " |")


if __name__ == "__main__":
    main()
