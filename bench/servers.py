"""Which server runs the workers: uvicorn's own supervisor, gunicorn with uvicorn
workers, or granian, serving the same app on `serving.py`'s data and load.

Why measured and not assumed: each of the three starts, restarts and pings workers
well, so the choice is the cost per request and the tail. The three are run in turns,
each alone on the machine while it is measured, on the database `serving.py` built.

    python bench/serving.py --train-only   # builds the data set and a model, once
    python bench/servers.py --workers 2 --rounds 2

Needs wrk and the optional extra `.[bench]` (gunicorn, uvicorn-worker, granian).
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench.serving import ROOT, bench_key, server, wrk

PATH = "/v1/customers/c%d/cross-sell?limit=10"


def commands(workers: int) -> dict[str, list[str]]:
    """The command line of each server, for `workers` worker processes on port 8000."""
    bin_dir = Path(sys.executable).parent
    app = "app.main:create_app"
    return {
        "uvicorn (nextbest serve)": [
            *(sys.executable, "-m", "app.cli", "serve", "--port", "8000"),
            *("--workers", str(workers)),
        ],
        "gunicorn + uvicorn-worker": [
            *(str(bin_dir / "gunicorn"), "-k", "uvicorn_worker.UvicornWorker"),
            *("-w", str(workers), "-b", "127.0.0.1:8000", f"{app}()"),
        ],
        "granian": [
            *(str(bin_dir / "granian"), "--interface", "asgi", "--factory", "--no-ws"),
            *("--loop", "uvloop", "--workers", str(workers), "--port", "8000"),
            *("--log-level", "warning", app),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "results" / "serving")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("wrk not found (Debian: apt-get install wrk)")
    work = args.dir / f"{args.customers}-{args.items}-{args.lines}"
    if not (work / "models").is_dir():
        parser.error(f"no model in {work}: run bench/serving.py --train-only first")
    url = f"sqlite:///{work / 'nextbest.db'}"
    key = bench_key(url)
    print("| server | workers | req/s | CPU µs/req | p50 ms | p90 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for _ in range(args.rounds):
        for name, command in commands(args.workers).items():
            env = {"NEXTBEST_DATABASE_URL": url, "NEXTBEST_MODEL_DIR": str(work / "models")}
            with tempfile.TemporaryDirectory() as metrics:
                if args.workers > 1 and not name.startswith("uvicorn"):
                    # what `nextbest serve` sets up itself for several workers
                    env["PROMETHEUS_MULTIPROC_DIR"] = metrics
                with server(command, "http://127.0.0.1:8000/healthz", env) as cpu:
                    r = wrk(
                        8000,
                        PATH,
                        args.customers,
                        args.duration,
                        args.connections,
                        key=key,
                        cpu=cpu,
                    )
            print(
                f"| {name} | {args.workers} | {r['rps']:,.0f} | {r['cpu_us']:,.0f} | "
                f"{r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | {r['errors']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
