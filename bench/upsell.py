"""Serving speed of the upsell route on generated SaaS customers (issue: p99 under 15 ms
at 16 concurrent connections on 100,000 SaaS customers).

The demo generator writes about one subscription per two customers, so the default
200,000 customers give about 100,000 subscribers. They are imported into SQLite (the
first run takes several minutes; the database is kept under bench/results/upsell/),
trained, and served with 1 and 2 workers. wrk asks `GET /v1/customers/{id}/upsell`
for subscribers drawn at random: every request reads that customer's live
subscription, usage, complaints and sales, and decides.

    python bench/upsell.py
    python bench/upsell.py --customers 20000 --duration 10
"""

import argparse
import collections
import csv
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx

from app.cli import IMPORT_ORDER
from bench.serving import add_against, bench_key, runs, server, wrk

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 1)
LUA = """
ids = {}
for line in io.lines(IDS) do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format(PATH, ids[math.random(1, #ids)]))
end
"""


def nextbest(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"nextbest {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build(work: Path, customers: int, env: dict[str, str]) -> None:
    """Generate the data set and import every table."""
    data = work / "data"
    print(f"generating {customers:,} customers ...", flush=True)
    nextbest(
        "demo-data", "--customers", str(customers), "--as-of", AS_OF.isoformat(),
        "--out", str(data), env=env,
    )  # fmt: skip
    for table in IMPORT_ORDER:
        start = time.perf_counter()
        nextbest("import", table, str(data / f"{table}.csv"), env=env)
        print(f"  imported {table} in {time.perf_counter() - start:.0f} s", flush=True)


def subscribers(work: Path) -> list[str]:
    """Customers with a subscription that is not cancelled: the ones an app would ask about."""
    with (work / "data" / "subscriptions.csv").open(encoding="utf-8") as f:
        return sorted({r["customer_id"] for r in csv.DictReader(f) if r["status"] != "cancelled"})


def decisions(port: int, ids: list[str], key: str, n: int = 2000) -> collections.Counter[str]:
    """What the route answers for a sample of subscribers (the mix the load exercised)."""
    counts: collections.Counter[str] = collections.Counter()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
        for customer in random.Random(0).sample(ids, min(n, len(ids))):
            answer = client.get(f"/v1/customers/{customer}/upsell").json()
            counts[
                answer["decision"] + (f" ({answer['why_not']})" if answer["why_not"] else "")
            ] += 1
    return counts


def train_once(work: Path, env: dict[str, str]) -> None:
    """Train unless the benchmark's directory has a model already."""
    if not (work / "models").is_dir():
        print("training ...", flush=True)
        print(nextbest("train", env=env).strip().splitlines()[-1], flush=True)


Sample = Callable[[int, list[str], str], collections.Counter[str]]


def load_test(
    work: Path, env: dict[str, str], path: str, ids: list[str], args: Any, sample: Sample
) -> tuple[dict[str, dict[str, float]], collections.Counter[str]]:
    """wrk on `path` for random `ids`, with 1 and `args.workers` workers (and another
    checkout in turns, with --against); the answers of a sample (`sample`) taken once,
    while the first server runs."""
    (work / "ids.txt").write_text("\n".join(ids) + "\n")
    lua = f'IDS = "{work / "ids.txt"}"\n{LUA}'
    key = bench_key(env["NEXTBEST_DATABASE_URL"])
    results: dict[str, dict[str, float]] = {}
    mix: collections.Counter[str] = collections.Counter()
    for label, checkout, workers in runs(args):
        print(f"serving {label}, {workers} worker(s) ...", flush=True)
        command = [sys.executable, "-m", "app.cli", "serve", "--port", "8000"]
        command += ["--workers", str(workers)]
        with server(command, "http://127.0.0.1:8000/healthz", env, checkout) as cpu:
            if not mix:
                mix = sample(8000, ids, key)
            result = wrk(8000, path, len(ids), args.duration, args.connections, lua, key, cpu=cpu)
        results[f"{label}, {workers} worker(s), run {len(results) + 1}"] = result
    return results, mix


def print_table(label: str, results: dict[str, dict[str, float]]) -> None:
    print("| server | req/s | CPU µs/req | p50 ms | p90 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run, r in results.items():
        print(
            f"| {label}: {run} | {r['rps']:,.0f} | {r['cpu_us']:.0f} | {r['p50']:.1f} | "
            f"{r['p90']:.1f} | {r['p99']:.1f} | {r['errors']:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    add_against(parser)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "results" / "upsell")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("wrk not found (Debian: apt-get install wrk)")
    work = args.dir / str(args.customers)
    env = {
        "NEXTBEST_DATABASE_URL": f"sqlite:///{work / 'nextbest.db'}",
        "NEXTBEST_MODEL_DIR": str(work / "models"),
    }
    if not (work / "nextbest.db").is_file():
        work.mkdir(parents=True, exist_ok=True)
        build(work, args.customers, env)
    train_once(work, env)
    ids = subscribers(work)
    results, mix = load_test(work, env, "/v1/customers/%s/upsell", ids, args, decisions)
    print(
        f"\n{args.customers:,} customers, {len(ids):,} live subscribers; {os.cpu_count()} "
        f"cores; wrk -t1 -c{args.connections} -d{args.duration}s, random subscribers\n"
    )
    print_table("NextBest upsell", results)
    total = sum(mix.values())
    print("\nanswers for 2,000 random subscribers: " + ", ".join(
        f"{k} {v / total:.0%}" for k, v in mix.most_common()
    ))  # fmt: skip


if __name__ == "__main__":
    main()
