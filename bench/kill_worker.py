"""Kill -9 one of two workers under load: how long until its replacement serves, and
whether the other worker's requests all succeed (issue: replaced within 5 s).

The data set is the one `bench/offers.py` builds (100,000 customers; run that first).
wrk drives `GET /v1/customers/{id}/cross-sell` with 16 connections; 10 s in, one worker
is killed with SIGKILL, and /metrics is asked every 0.1 s until two workers serve again,
the killed one not among them. The killed worker's connections break (wrk counts them as
socket errors and reconnects); every answer that arrives is a 200.

    python bench/kill_worker.py
    python bench/kill_worker.py --kills 5
"""

import argparse
import os
import signal
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.soak import BASE, loaded, offers_data, serving


def replace_one(base: str) -> float:
    """Kill -9 a worker; seconds until two workers serve, the killed one not among them."""
    victim = min(serving(base))
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    while True:
        try:
            now = serving(base)
        except OSError:  # the request went to the dying worker's connection
            now = {}
        if len(now) == 2 and victim not in now:
            return time.monotonic() - killed
        if time.monotonic() - killed > 60:
            raise SystemExit("FAILED: no replacement within 60 s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=3, help="workers killed, one at a time")
    args, work, url = offers_data(parser)
    env = {"NEXTBEST_DATABASE_URL": url, "NEXTBEST_MODEL_DIR": str(work / "models")}
    with loaded(work, env, args.customers) as load:
        seconds = []
        for _ in range(args.kills):
            time.sleep(10)
            seconds.append(replace_one(BASE))
        time.sleep(5)
    print(f"\n{args.customers:,} customers; 2 workers; wrk -t1 -c16 on the cross-sell route\n")
    print("| kill | seconds until the replacement serves |")
    print("|---:|---:|")
    for n, s in enumerate(seconds, 1):
        print(f"| {n} | {s:.1f} |")
    print("\n" + "\n".join(load.summary))


if __name__ == "__main__":
    main()
