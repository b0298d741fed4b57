"""The offers route's own work, without HTTP: `Offers.answer` timed in one process over
random customers of the data set `bench/offers.py` built (run that first).

Why: wrk figures on a shared 2-core machine move by 2x from day to day. The work per
answer, timed in turns against another checkout on the same data, shows what a change
did. Run it from each checkout (`PYTHONPATH=<checkout>`), alternating, and compare the
medians; `--profile` prints the functions that cost most (cProfile).

    python bench/offers_inprocess.py
    python bench/offers_inprocess.py --answers 3000 --rounds 5 --profile
"""

import argparse
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from sqlalchemy import Engine

from app.db.engine import make_engine
from app.serving.offers import OfferRequest
from app.serving.registry import Registry

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=2000, help="answers per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "results" / "offers")
    args = parser.parse_args()
    work = args.dir / str(args.customers)
    if not (work / "nextbest.db").is_file():
        parser.error(f"no data set in {work}: run bench/offers.py first")
    engine = make_engine(f"sqlite:///{work / 'nextbest.db'}")
    registry = Registry(work / "models", engine)
    registry.refresh()
    rng = random.Random(1)
    ids = [f"C{rng.randint(1, args.customers):06d}" for _ in range(args.answers)]
    for customer in ids[:200]:  # warm caches and lazily built tables
        registry.get().offers.answer(engine, OfferRequest(customer))
    if args.profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            answer_all(registry, engine, ids)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        return
    per_answer = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        answer_all(registry, engine, ids)
        per_answer.append((time.perf_counter() - start) / len(ids) * 1000)
    print(
        f"{len(ids):,} answers x {args.rounds} rounds: median {statistics.median(per_answer):.3f} "
        f"ms per answer (best {min(per_answer):.3f}, worst {max(per_answer):.3f})"
    )


def answer_all(registry: Registry, engine: Engine, ids: list[str]) -> None:
    for customer in ids:
        registry.for_customer(customer).offers.answer(engine, OfferRequest(customer))


if __name__ == "__main__":
    main()
