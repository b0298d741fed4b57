"""Soak: 30 activations and rollbacks of a 100,000-customer model under load, with 2
workers; each worker's memory after them against after the first, and failed requests.

The data set is the one `bench/offers.py` builds (run that first); a second version is
trained beside the first. wrk drives `GET /v1/customers/{id}/cross-sell` with 16
connections the whole time, while the versions are activated in turn, each time
waiting until both workers serve the new one (read from /metrics). Each worker's
resident memory (VmRSS) is read after the first swap and after the last, 3 s after each.

    python bench/soak.py
    python bench/soak.py --swaps 10
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.serving import bench_key, server
from bench.upsell import LUA, nextbest

ROOT = Path(__file__).resolve().parent.parent
# Memory is read this long after a switch (three refresh intervals), at both ends alike:
# a worker trims what the swapped-out model held at its next refresh once the requests
# still answering from it have ended.
SETTLE = 3.0


def serving(base: str) -> dict[int, str]:
    """Worker pid -> the version it serves, from /metrics."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    found = {}
    for family in text_string_to_metric_families(text):
        if family.name == "nextbest_model_info":
            for sample in family.samples:
                if sample.value == 1:
                    found[int(sample.labels["pid"])] = sample.labels["version"]
    return found


BASE = "http://127.0.0.1:8000"


@dataclass
class Load:
    """wrk's figures, filled in when the load ends."""

    summary: list[str] = field(default_factory=list)


@contextmanager
def loaded(work: Path, env: dict[str, str], customers: int) -> Iterator[Load]:
    """A 2-worker server on `env`'s data, with wrk on the cross-sell route (16
    connections, random customers of `work`'s data set) from the moment both workers
    serve until the block ends; then wrk's request count and failures are in the Load."""
    key = bench_key(env["NEXTBEST_DATABASE_URL"])
    command = [sys.executable, "-m", "app.cli", "serve", "--port", "8000", "--workers", "2"]
    (work / "ids.txt").write_text("\n".join(f"C{n:06d}" for n in range(1, customers + 1)))
    found = Load()
    with server(command, f"{BASE}/healthz", env), tempfile.TemporaryDirectory() as scratch:
        while len(serving(BASE)) < 2:
            time.sleep(0.5)
        script = Path(scratch) / "load.lua"
        script.write_text(
            f'IDS = "{work / "ids.txt"}"\nPATH = "/v1/customers/%s/cross-sell"\n{LUA}'
        )
        wrk = ["wrk", "-t1", "-c16", "-d3600s", "-s", str(script), BASE]
        load = subprocess.Popen(
            [*wrk, "-H", f"Authorization: Bearer {key}"], stdout=subprocess.PIPE, text=True
        )
        try:
            yield found
        finally:
            load.send_signal(signal.SIGINT)  # wrk prints its figures on SIGINT
            out = load.communicate(timeout=30)[0]
    wanted = ("requests in", "Non-2xx", "Socket errors")
    lines = [line.strip() for line in out.splitlines() if any(w in line for w in wanted)]
    found.summary = lines if len(lines) > 1 else [*lines, "no non-2xx answers, no socket errors"]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def switch_to(version: str, base: str, env: dict[str, str]) -> float:
    """Activate `version`; seconds until both workers serve it."""
    start = time.perf_counter()
    nextbest("models", "activate", version, env=env)
    while True:
        now = serving(BASE)
        if len(now) == 2 and set(now.values()) == {version}:
            return time.perf_counter() - start
        time.sleep(0.2)


def offers_data(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, Path, str]:
    """(the arguments, the directory and the database URL of offers.py's data set):
    the benchmarks that load a server with it take its size and place the same way."""
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "results" / "offers")
    args = parser.parse_args()
    work = args.dir / str(args.customers)
    if not (work / "nextbest.db").is_file():
        parser.error(f"no data set in {work}: run bench/offers.py first")
    return args, work, f"sqlite:///{work / 'nextbest.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swaps", type=int, default=30, help="activations and rollbacks each")
    args, work, url = offers_data(parser)
    models = work / "soak-models"
    env = {
        "NEXTBEST_DATABASE_URL": url,
        "NEXTBEST_MODEL_DIR": str(models),
        "NEXTBEST_REFRESH_SECONDS": "1",
    }
    listed = nextbest("models", "list", env=env).splitlines()
    # the registry is the database's: what was active is activated again at the end
    was_active = next((line.split()[0] for line in listed if " active " in line), None)
    listed = listed if models.is_dir() else []
    if len(listed) < 2:  # two versions to swap between, trained once and kept
        shutil.rmtree(models, ignore_errors=True)
        for _ in range(2):
            nextbest("train", env=env)
        listed = nextbest("models", "list", env=env).splitlines()
    second, first = (line.split()[0] for line in listed[:2])  # newest first
    nextbest("models", "activate", first, env=env)
    with loaded(work, env, args.customers) as load:
        seconds = [switch_to(second, BASE, env)]
        time.sleep(SETTLE)
        after_first = {pid: rss_mib(pid) for pid in serving(BASE)}
        for _ in range(args.swaps - 1):
            seconds.append(switch_to(first, BASE, env))
            seconds.append(switch_to(second, BASE, env))
        seconds.append(switch_to(first, BASE, env))
        time.sleep(SETTLE)
        after_last = {pid: rss_mib(pid) for pid in serving(BASE)}
    if was_active is not None:
        nextbest("models", "activate", was_active, env=env)
    print(f"\n{args.customers:,} customers; 2 workers; {args.swaps} activations and rollbacks")
    print(
        f"under wrk -t1 -c16 on the cross-sell route; switch took {min(seconds):.1f}-"
        f"{max(seconds):.1f} s (both workers)\n"
    )
    print("| worker | RSS after the first swap, MiB | after the last, MiB | change |")
    print("|---|---:|---:|---:|")
    for pid, before in after_first.items():
        after = after_last.get(pid, float("nan"))
        print(f"| {pid} | {before:,.0f} | {after:,.0f} | {(after / before - 1):+.1%} |")
    print("\n" + "\n".join(load.summary))


if __name__ == "__main__":
    main()
