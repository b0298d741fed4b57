"""Hot swap under load: activate another model version while wrk drives the server, and
count the requests that failed (the issue asks for 0), with 2 worker processes.

A demo data set is trained twice (two versions). The server starts on the first, wrk
loads `GET /v1/customers/{id}/cross-sell` for 30 s with 16 connections, and the second
version is activated with `nextbest models activate` 10 s in and the first again 20 s
in. Afterwards, requests on fresh connections (spread over both workers) show which
version each worker serves.

    python bench/hot_swap.py
    python bench/hot_swap.py --customers 5000 --duration 20
"""

import argparse
import collections
import os
import shutil
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx

from bench.serving import bench_key, server, wrk
from bench.upsell import build, nextbest

ROOT = Path(__file__).resolve().parent.parent


def versions_served(key: str, samples: int = 200) -> collections.Counter[str]:
    """The model version of answers on fresh connections (the kernel spreads them)."""
    seen: collections.Counter[str] = collections.Counter()
    headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
    for n in range(samples):
        url = f"http://127.0.0.1:8000/v1/customers/C{n % 1000 + 1:06d}/cross-sell"
        seen[httpx.get(url, headers=headers, timeout=5).json()["model_version"]] += 1
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "results" / "hot_swap")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("wrk not found (Debian: apt-get install wrk)")
    work = args.dir / str(args.customers)
    url = f"sqlite:///{work / 'nextbest.db'}"
    env = {
        "NEXTBEST_DATABASE_URL": url,
        "NEXTBEST_MODEL_DIR": str(work / "models"),
        "NEXTBEST_REFRESH_SECONDS": "1",
    }
    if not (work / "nextbest.db").is_file():
        work.mkdir(parents=True, exist_ok=True)
        build(work, args.customers, env)
    shutil.rmtree(work / "models", ignore_errors=True)
    versions = []
    for _ in range(2):
        nextbest("train", env=env)
        versions.append(nextbest("models", "list", env=env).split()[0])  # newest first
    first, second = versions
    nextbest("models", "activate", first, env=env)
    key = bench_key(url)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", "8000", "--workers", "2"]
    with server(command, "http://127.0.0.1:8000/healthz", env):
        before = versions_served(key)
        timeline = []

        def switch() -> None:
            for version in (second, first):
                time.sleep(args.duration / 3 - 3)
                nextbest("models", "activate", version, env=env)
                time.sleep(3)  # a refresh interval (1 s) and a full load of the model
                seen = dict(versions_served(key, 40))
                timeline.append(f"{time.strftime('%H:%M:%S')} activated {version}: served {seen}")

        switcher = threading.Thread(target=switch)
        switcher.start()
        path = "/v1/customers/C%06d/cross-sell"
        result = wrk(8000, path, args.customers, args.duration, 16, key=key, warmup=0)
        switcher.join()
        time.sleep(2)  # one refresh interval and a bit
        after = versions_served(key)
    print(f"\n{args.customers:,} customers; 2 workers; wrk -t1 -c16 -d{args.duration}s")
    print("\n".join(timeline))
    print("\n| requests | req/s | non-2xx | socket errors | p99 ms |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {result['requests']:,.0f} | {result['rps']:,.0f} | {result['errors']:.0f} | "
        f"{result['socket_errors']:.0f} | {result['p99']:.1f} |"
    )
    print(f"\nversions served before: {dict(before)}; after both switches: {dict(after)}")
    switched = all(len(line.split("served ")[1].split(",")) == 1 for line in timeline)
    if result["errors"] or result["socket_errors"] or set(after) != {first} or not switched:
        raise SystemExit("FAILED: a request failed, or a worker did not switch")


if __name__ == "__main__":
    main()
