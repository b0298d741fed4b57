"""Serving and training speed of the cross-sell engine against the naive baseline server.

The data is the naive server's own synthetic set (100,000 customers, 20,000 items,
2,000,000 purchase lines, power-law popularity, seed 0), rebuilt line for line and
loaded into NextBest's database with dates and orders added. Then, in one run:

1. training: `nextbest train` end to end (read the database, build, fit, save),
   against implicit's `fit` alone on the same matrix (64 factors);
2. serving: `GET /v1/customers/{id}/cross-sell` on NextBest and
   `GET /recommend/{id}` on the naive server, random customers, wrk with 16
   connections, each server alone on the machine while it is measured.

    python bench/serving.py                      # the full size (about 10 minutes)
    python bench/serving.py --customers 20000 --items 5000 --lines 300000 --duration 10
    python bench/serving.py --train-only         # the training table alone

Needs wrk (Debian: apt-get install wrk) and the naive server script
(`--naive`, default ../shared/bench/naive_server.py next to the checkout).
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
import numpy as np

from app.auth.keys import create_key
from app.db.bulk import insert_columns
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.tables import customer, item, purchase
from models.engine import Params

ROOT = Path(__file__).resolve().parent.parent
NAIVE = ROOT.parent / "shared" / "bench" / "naive_server.py"
DAY = 86_400
LUA = """
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format(PATH, math.random(0, CUSTOMERS - 1)))
end
"""


def synthetic(customers: int, items: int, lines: int) -> tuple[np.ndarray, np.ndarray]:
    """The naive server's `synthetic()` rows and columns, draw for draw (seed 0)."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, customers, lines)
    cols = (rng.zipf(1.3, lines) - 1) % items
    return rows, cols


def build_database(url: str, customers: int, items: int, lines: int) -> None:
    """Customers c0.., items i0.. and one purchase line per synthetic draw."""
    rows, cols = synthetic(customers, items, lines)
    rng = np.random.default_rng(1)
    day = rng.integers(0, 30, lines)  # a customer's lines on one day form one order
    when = int(time.time()) - 400 * DAY + (rows % 365) * DAY + day * 3 * DAY // 2
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        insert_columns(
            conn,
            customer,
            {
                "customer_id": [f"c{i}" for i in range(customers)],
                "attributes": [{}] * customers,
                "marketing_opt_out": [False] * customers,
                "created_at": [_dt(int(time.time()) - 500 * DAY)] * customers,
            },
        )
        insert_columns(
            conn,
            item,
            {
                "item_id": [f"i{i}" for i in range(items)],
                "name": [f"Product {i}" for i in range(items)],
                "price": [10.0] * items,
                "active": [True] * items,
                "attributes": [{}] * items,
            },
        )
        order = np.unique(rows * 100 + day, return_inverse=True)[1]
        # the same item twice in one order is one line with quantity 2
        _, first, count = np.unique(order * items + cols, return_index=True, return_counts=True)
        rows, cols, when, order = rows[first], cols[first], when[first], order[first]
        for start in range(0, len(rows), 200_000):
            part = slice(start, start + 200_000)
            n = len(rows[part])
            insert_columns(
                conn,
                purchase,
                {
                    "order_id": [f"o{o}" for o in order[part].tolist()],
                    "customer_id": (rows[part] + 1).tolist(),
                    "item_id": (cols[part] + 1).tolist(),
                    "kind": ["sale"] * n,
                    "quantity": count[part].astype(float).tolist(),
                    "unit_price": [10.0] * n,
                    "purchased_at": [_dt(t) for t in when[part].tolist()],
                },
            )
    engine.dispose()


def _dt(seconds: int) -> object:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


def time_train(url: str, model_dir: Path) -> tuple[float, str]:
    env = {**os.environ, "NEXTBEST_DATABASE_URL": url, "NEXTBEST_MODEL_DIR": str(model_dir)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "train"], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"nextbest train failed:\n{done.stdout}{done.stderr}")
    saved = [line for line in done.stdout.splitlines() if " saved to " in line]
    return elapsed, (saved or done.stdout.strip().splitlines())[-1]


def time_implicit_fit(customers: int, items: int, lines: int, iterations: int) -> float:
    """implicit's fit alone, in a fresh process, on the same (binary) matrix."""
    code = f"""
import os, time
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np, scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from bench.serving import synthetic
rows, cols = synthetic({customers}, {items}, {lines})
m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=({customers}, {items}))
m.sum_duplicates(); m.data[:] = 1
model = AlternatingLeastSquares(factors=64, iterations={iterations}, random_state=0)
start = time.perf_counter()
model.fit(m, show_progress=False)
print(time.perf_counter() - start)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def session_cpu(session: int) -> float:
    """CPU seconds (user and system) used so far by the processes of a session: a
    server and its workers. Read from /proc, so Linux only; 0 elsewhere."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[3]) == session:  # field 6 of stat, after pid and comm: sid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@contextmanager
def server(
    command: list[str], url: str, env: dict[str, str], checkout: Path = ROOT
) -> Iterator[Callable[[], float]]:
    """Start a server process (from `checkout`, another copy of the code if given),
    wait until `url` answers, stop it afterwards. Yields a function giving the CPU
    seconds the server and its workers used so far."""
    process = subprocess.Popen(
        command,
        env={**os.environ, **env, "PYTHONPATH": str(checkout)},
        cwd=checkout,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"{command[:3]} exited with {process.returncode}")
            time.sleep(1)
        yield partial(session_cpu, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wrk(
    port: int,
    path: str,
    customers: int,
    duration: int,
    connections: int,
    lua: str = LUA,
    key: str | None = None,
    warmup: int = 5,
    cpu: Callable[[], float] | None = None,
) -> dict[str, float]:
    """Requests/s and latency percentiles (ms) from wrk, after a 5 s warm-up; with
    `cpu` (what `server` yields), the server's CPU time per request in µs, which is
    what a core can serve whatever else the machine runs meanwhile (wrk included).

    `lua` writes the requests; it sees PATH and CUSTOMERS (the default picks customers
    c0..c<CUSTOMERS-1> at random).
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'PATH = "{path}"\nCUSTOMERS = {customers}\n{lua}')
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", script.name]
    if key:  # NextBest's routes need an API key
        base += ["-H", f"Authorization: Bearer {key}"]
    if warmup:
        subprocess.run(
            [*base, f"-d{warmup}s", f"http://127.0.0.1:{port}"], capture_output=True, check=True
        )
    spent = cpu() if cpu else 0.0
    out = subprocess.run(
        [*base, f"-d{duration}s", f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spent = cpu() - spent if cpu else 0.0
    os.unlink(script.name)
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for p in ("50", "90", "99"):
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(\w+)", out, re.M).groups()  # type: ignore[union-attr]
        result[f"p{p}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    result["socket_errors"] = float(sum(map(int, sockets.groups()))) if sockets else 0.0
    total = re.search(r"(\d+) requests in", out)
    result["requests"] = float(total.group(1)) if total else 0.0
    result["cpu_us"] = spent / result["requests"] * 1e6 if cpu and result["requests"] else 0.0
    return result


def add_against(parser: argparse.ArgumentParser) -> None:
    """The options that compare this code with another checkout of it."""
    parser.add_argument(
        "--against", type=Path, help="another checkout, served in turns with this one"
    )
    parser.add_argument("--rounds", type=int, default=1, help="turns of each, with --against")


def runs(args: argparse.Namespace) -> list[tuple[str, Path, int]]:
    """(label, checkout, workers) of each server run, alternating with --against."""
    codes = [("NextBest", ROOT)]
    if args.against:
        codes = [("this code", ROOT), (f"code in {args.against.name}", args.against)]
    rounds = args.rounds if args.against else 1
    return [
        (label, checkout, workers)
        for workers in sorted({1, args.workers})
        for _ in range(rounds)
        for label, checkout in codes
    ]


def bench_key(url: str) -> str:
    """A read key in the benchmark's database (every /v1 route needs one)."""
    engine = make_engine(url)
    try:
        return create_key(engine, {"read"}, "benchmark")[1]
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="NextBest worker processes")
    parser.add_argument("--naive", type=Path, default=NAIVE)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "results" / "serving")
    add_against(parser)
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--serve-only", action="store_true", help="skip training, serve the newest model"
    )
    only.add_argument(
        "--train-only", action="store_true", help="time training alone, skip the load test"
    )
    args = parser.parse_args()
    if not args.train_only and not shutil.which("wrk"):
        parser.error("wrk not found (Debian: apt-get install wrk)")
    if not args.train_only and not args.naive.is_file():
        parser.error(f"{args.naive} not found; pass --naive")
    size = f"{args.customers},{args.items},{args.lines}"
    work = args.dir / size.replace(",", "-")
    url = f"sqlite:///{work / 'nextbest.db'}"
    if not (work / "nextbest.db").is_file():
        work.mkdir(parents=True, exist_ok=True)
        print(f"building the database ({size}) ...", flush=True)
        build_database(url, args.customers, args.items, args.lines)
    if not args.serve_only:
        shutil.rmtree(work / "models", ignore_errors=True)
        print("training ...", flush=True)
        train_s, trained = time_train(url, work / "models")
        fit15 = time_implicit_fit(args.customers, args.items, args.lines, 15)
        fit_ours = time_implicit_fit(args.customers, args.items, args.lines, Params().iterations)
        if args.train_only:
            print(f"\n{size} (customers, items, lines); {os.cpu_count()} cores\n")
            print_training(train_s, fit15, fit_ours, trained)
            return
    results = {}
    env = {"NEXTBEST_DATABASE_URL": url, "NEXTBEST_MODEL_DIR": str(work / "models")}
    key = bench_key(url)
    for label, checkout, workers in runs(args):
        print(f"serving {label}, {workers} worker(s) ...", flush=True)
        command = [sys.executable, "-m", "app.cli", "serve", "--port", "8000"]
        command += ["--workers", str(workers)]
        with server(command, "http://127.0.0.1:8000/healthz", env, checkout) as cpu:
            result = wrk(
                8000,
                "/v1/customers/c%d/cross-sell?limit=10",
                args.customers,
                args.duration,
                args.connections,
                key=key,
                cpu=cpu,
            )
        results[f"{label}, {workers} worker(s), run {len(results) + 1}"] = result
    print("serving the naive server ...", flush=True)
    naive = [sys.executable, str(args.naive), "--synthetic", size, "--port", "8001"]
    with server(naive, "http://127.0.0.1:8001/recommend/c0", {}) as cpu:
        results["naive server (1 process)"] = wrk(
            8001, "/recommend/c%d?n=10", args.customers, args.duration, args.connections, cpu=cpu
        )
    print(
        f"\n{size} (customers, items, lines); {os.cpu_count()} cores; "
        f"wrk -t1 -c{args.connections} -d{args.duration}s\n"
    )
    if not args.serve_only:
        print_training(train_s, fit15, fit_ours, trained)
    naive_rps = results["naive server (1 process)"]["rps"]
    print("| server | req/s | vs naive | CPU µs/req | p50 ms | p90 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:,.0f} | {r['rps'] / naive_rps:.2f}x | {r['cpu_us']:.0f} | "
            f"{r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | {r['errors']:.0f} |"
        )


def print_training(train_s: float, fit15: float, fit_ours: float, trained: str) -> None:
    print("| training | seconds | vs implicit fit (15 it.) |")
    print("|---|---:|---:|")
    print(f"| `nextbest train` end to end | {train_s:.1f} | {train_s / fit15:.2f}x |")
    print(f"| implicit fit alone, 64 factors, 15 iterations | {fit15:.1f} | 1.00x |")
    print(
        f"| implicit fit alone, 64 factors, {Params().iterations} iterations (NextBest's) "
        f"| {fit_ours:.1f} "
        f"| {fit_ours / fit15:.2f}x |"
    )
    print(f"\n{trained}\n")


if __name__ == "__main__":
    main()
