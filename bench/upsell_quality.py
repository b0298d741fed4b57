"""Upsell and churn quality through the HTTP route, as of a cutoff, on two data sets with
different mechanics: the demo generator and Teamwork (docs/demo-data.md).

For each data set: generate, import into SQLite, train `as_of` the cutoff (nothing after
it is read), then ask `GET /v1/customers/{id}/upsell?as_of=<cutoff>` for every live
paid subscriber at the cutoff, through the whole app (middleware, validation, the
database reads). The route's `probability` and `churn_probability` are scored on what
happened in the 90 days after, beside `evaluate --upsell` / `--churn`'s other scorers
fitted on the same rows; `retain` answers are checked against who then cancelled.

    python bench/upsell_quality.py                    # 20,000 customers each
    python bench/upsell_quality.py --customers 5000
"""

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from fastapi.testclient import TestClient

from app.auth.keys import create_key
from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.demo.teamwork import TABLES, generate_teamwork
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.main import create_app
from app.settings import Settings
from app.training.saas import load_saas
from app.training.train import train
from models.churn import evaluate_churn
from models.upgrade_eval import can_upgrade, evaluate_upgrades, scored, subset
from models.upgrades import FEATURES, churned_after, snapshot, upgrades_after

END = date(2026, 11, 1)
CUTOFF = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())
Generator = Callable[..., dict[str, Path]]
DATA_SETS: dict[str, tuple[Generator, tuple[str, ...]]] = {
    "demo": (generate, IMPORT_ORDER),
    "teamwork": (generate_teamwork, TABLES),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args()
    at = datetime.fromtimestamp(CUTOFF, UTC).date().isoformat()
    print(f"cutoff {at}, horizon 90 days, {args.customers:,} customers per data set\n")
    for name, (make, tables) in DATA_SETS.items():
        with tempfile.TemporaryDirectory() as directory:
            measure(name, make, tables, Path(directory), args.customers, args.k)


def measure(
    name: str, make: Generator, tables: tuple[str, ...], directory: Path, customers: int, k: int
) -> None:
    """Load, train as of the cutoff, ask the route, print both tables for one data set."""
    url = f"sqlite:///{directory / 'data.db'}"
    upgrade(url)
    files = make(directory / "csv", customers=customers, seed=7, as_of=END)
    engine = make_engine(url)
    for table in tables:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    train(engine, directory / "models", as_of=CUTOFF)
    data = load_saas(engine, loyal_as_of=CUTOFF)
    key = create_key(engine, {"read"}, "quality")[1]
    engine.dispose()
    test = snapshot(data.history, data.ladder, CUTOFF)
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        answers = [ask(client, data.customer_ids[c]) for c in test.customer.tolist()]
    print(f"## {name}: upgrades\n")
    upgrades(name, data, test, answers, k)
    print(f"\n## {name}: churn\n")
    churn(data, test, answers, k)
    print()


def ask(client: TestClient, customer_id: str) -> dict[str, Any]:
    at = datetime.fromtimestamp(CUTOFF, UTC).isoformat()
    response = client.get(f"/v1/customers/{customer_id}/upsell", params={"as_of": at})
    if response.status_code != 200:
        sys.exit(f"{customer_id}: {response.status_code} {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def demo_hazard(features: np.ndarray) -> np.ndarray:
    """The chance of an upgrade within 90 days by the demo generator's own rule
    (docs/demo-data.md) applied to the state at the cutoff: the monthly hazard of the
    usage band, x2 for the month of an annual renewal, x0.2 with a complaint open, x1.3
    after a year, x1.5 for a loyal shop customer. It knows the mechanics but not the
    usage of the months ahead, which the learned scorers forecast from its growth."""

    def column(name: str) -> np.ndarray:
        return features[:, FEATURES.index(name)]

    ratio = np.nan_to_num(column("highest usage / limit"), nan=0.0)
    monthly = np.select([ratio >= 0.95, ratio >= 0.8, ratio >= 0.6], [0.25, 0.12, 0.03], 0.005)
    monthly = monthly * np.where(column("open complaint") > 0, 0.2, 1.0)
    monthly = monthly * np.where(column("tenure over 12 months") > 0, 1.3, 1.0)
    monthly = np.minimum(monthly * np.where(column("loyal shop customer") > 0, 1.5, 1.0), 1.0)
    renewal = np.where(column("annual renewal within 90 days") > 0, 2.0, 1.0)
    stays = (1 - monthly) ** 2 * (1 - np.minimum(monthly * renewal, 1.0))
    result: np.ndarray = 1 - stays
    return result


def upgrades(name: str, data: Any, test: Any, answers: list[dict[str, Any]], k: int) -> None:
    room = can_upgrade(data.ladder, test.plan)
    upgraded, _ = upgrades_after(data.history, data.ladder, subset(test, room), 90)
    route = np.array([a["probability"] for a, r in zip(answers, room, strict=True) if r], float)
    results, sizes, _ = evaluate_upgrades(data.history, data.ladder, CUTOFF, 90, k)
    offered = np.array(
        [a["decision"] == "upgrade" for a, r in zip(answers, room, strict=True) if r]
    )
    print(
        f"subscribers who can upgrade: {sizes['subscribers']:,}, "
        f"upgraders: {sizes['upgraders']:,}\n"
    )
    if name == "demo":  # the mechanics themselves, as a scorer
        hazard = demo_hazard(subset(test, room).features)
        results["the generator's own hazard, on the cutoff's state"] = scored(
            hazard, upgraded, k, True
        )
    table("learned propensity", scored(route, upgraded, k, True), results, "--upsell", k)
    rate = upgraded[offered].mean() if offered.any() else float("nan")
    print(
        f"\n`upgrade` answers: {int(offered.sum()):,}, of whom upgraded within 90 days: "
        f"{rate:.1%} (base rate {upgraded.mean():.1%})"
    )


def churn(data: Any, test: Any, answers: list[dict[str, Any]], k: int) -> None:
    churned = churned_after(data.history, test, 90)
    given = [a["churn_probability"] for a in answers]
    if any(p is None for p in given):
        print("churn risk not learned (too few cancellations before the cutoff)")
        return
    route = np.array(given, float)
    results, sizes, _ = evaluate_churn(data.history, data.ladder, CUTOFF, 90, k)
    print(f"live paid subscribers: {sizes['subscribers']:,}, churners: {sizes['churners']:,}\n")
    table("learned churn risk", scored(route, churned, k, True), results, "--churn", k)
    retain = np.array([a["decision"] == "retain" for a in answers])
    risky = np.array(["churn_risk" in a["at_risk"] for a in answers])
    for label, mask in (("`retain` answers", retain), ("answers with churn_risk", risky)):
        rate = churned[mask].mean() if mask.any() else float("nan")
        print(
            f"\n{label}: {int(mask.sum()):,}, of whom cancelled within 90 days: {rate:.1%} "
            f"(base rate {churned.mean():.1%}); churners reached: "
            f"{int(churned[mask].sum()):,} of {int(churned.sum()):,}"
        )


def table(
    name: str, route: dict[str, float], results: dict[str, dict[str, float]], flag: str, k: int
) -> None:
    """The route's row, then `evaluate`'s; a Brier score of no probability is a dash."""
    print(f"| scorer | ROC AUC | precision@{k} | Brier |")
    print("|---|---:|---:|---:|")
    rows = {f"{name}, through the route": route}
    rows.update({f"{scorer} (evaluate {flag})": values for scorer, values in results.items()})
    for label, values in rows.items():
        shown = (values["ROC AUC"], values[f"precision@{k}"], values["Brier"])
        cells = ["—" if v != v else f"{v:.4f}" for v in shown]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
