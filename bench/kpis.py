"""Time of `GET /v1/kpis` on generated data, and whether every database gives the same answer.

Generates the demo data set (shop and SaaS), imports it into a fresh database per
backend, adds seeded random offer events (the same on every backend), then asks for
the KPIs of the last 30 and 180 days, overall and by offer kind. Prints a Markdown
table and whether the answers of all databases were identical.

    python bench/kpis.py --customers 40000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --mysql mysql+pymysql://root@127.0.0.1:3306/test
"""

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from import_throughput import fresh_database

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.main import create_app
from app.settings import Settings
from bench.serving import bench_key

CHANNELS = ["email", "web", "in_app"]
EVENTS = ["impression", "impression", "impression", "click", "accept", "dismiss"]


def offer_events(files: dict[str, Path], count: int, now: datetime) -> list[dict[str, Any]]:
    """Random events over the 400 days before `now`: 70 % cross-sells, 30 % upgrades."""
    rng = np.random.default_rng(11)
    customers = _column(files["customers"], "customer_id")
    items = _column(files["items"], "item_id")[:500]
    plans = _column(files["plans"], "plan_id")
    rows = []
    for n in range(count):
        if rng.random() < 0.7:
            offer = f"cross_sell:{items[rng.integers(len(items))]}"
        else:
            offer = f"upgrade:{plans[rng.integers(len(plans))]}"
        when = now - timedelta(seconds=int(rng.integers(400 * 86_400)))
        rows.append(
            {
                "event_id": f"bench-{n}",
                "customer_id": customers[rng.integers(len(customers))],
                "offer_id": offer,
                "event": EVENTS[rng.integers(len(EVENTS))],
                "channel": CHANNELS[rng.integers(len(CHANNELS))],
                "occurred_at": when.isoformat(),
            }
        )
    return rows


def _column(path: Path, name: str) -> list[str]:
    lines = path.read_text().splitlines()
    index = lines[0].split(",").index(name)
    return sorted(line.split(",")[index] for line in lines[1:])


def load(url: str, files: dict[str, Path], events: list[dict[str, Any]]) -> None:
    upgrade(url)
    engine = make_engine(url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    for i in range(0, len(events), 10_000):
        report = import_records(engine, TARGETS["events"], events[i : i + 10_000])
        assert report.rejected == 0, report.rejects[:3]
    engine.dispose()


def measure(label: str, url: str, now: datetime) -> tuple[list[str], list[Any]]:
    """Table rows and the answers, for 30 and 180 days, overall and by kind."""
    lines, answers = [], []
    settings = Settings(database_url=url, refresh_seconds=0, model_dir=Path(tempfile.mkdtemp()))
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {bench_key(url)}"
        for days in (30, 180):
            for group_by in ("", "kind"):
                params = {"from": (now - timedelta(days=days)).isoformat(), "to": now.isoformat()}
                if group_by:
                    params["group_by"] = group_by
                start = time.perf_counter()
                response = client.get("/v1/kpis", params=params)
                seconds = time.perf_counter() - start
                assert response.status_code == 200, response.text
                answer = response.json()
                answers.append(answer)
                orders = answer["overall"]["outcomes"]["orders"]
                events = answer["overall"]["offers"]["impressions"]
                lines.append(
                    f"| {label} | {days} | {group_by or '-'} | {seconds:.2f} "
                    f"| {orders['treated'] + orders['holdout']:,} | {events:,} |"
                )
    return lines, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--postgres", help="server URL; a database is created and dropped")
    parser.add_argument("--mysql", help="server URL; a database is created and dropped")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    backends = [("SQLite", None), ("PostgreSQL", args.postgres), ("MariaDB/MySQL", args.mysql)]
    table, answers = [], []
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(Path(tmp) / "data", customers=args.customers, seed=3)
        events = offer_events(files, args.events, now)
        for label, server in backends:
            if label != "SQLite" and server is None:
                continue
            with fresh_database(server) as url:
                load(url, files, events)
                lines, found = measure(label, url, now)
            table += lines
            answers.append(found)
    cores = os.cpu_count()
    print(f"GET /v1/kpis, {args.customers:,} customers, {args.events:,} events, {cores} cores\n")
    print("| database | days | group_by | seconds | orders in the period | impressions |")
    print("|---|---:|---|---:|---:|---:|")
    print("\n".join(table))
    print(f"\nidentical answers on every database: {all(a == answers[0] for a in answers)}")


if __name__ == "__main__":
    main()
