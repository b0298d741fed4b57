"""The validation runs behind the engine's defaults (README, "Recommendation quality").

Everything here sees only history before the test cutoff: the validation split trains
before `--validation-cutoff` and scores the months up to `--test-cutoff`. Prints one
Markdown table of NDCG@10 and the other metrics per variant.

    python bench/choose_params.py --database-url sqlite:///retail.db
    python bench/choose_params.py --database-url sqlite:///demo.db \\
        --validation-cutoff 2026-05-01 --test-cutoff 2026-08-01
"""

import dataclasses
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from splits import arguments, read

from app.training.evaluation import engine_scorer
from models.crosssell import Weights
from models.engine import Params
from models.evaluate import evaluate, split

VARIANTS: dict[str, Params] = {
    "defaults (binary weights)": Params(),
    "recency weights (180-day half-life)": Params(weighting="recency"),
    "distinct-order weights": Params(weighting="orders"),
    "ALS 15 iterations": Params(iterations=15),
    "EASE only": Params(weights=Weights(als=0, content=0, newness=0)),
    "EASE + ALS": Params(weights=Weights(content=0, newness=0)),
    "EASE + ALS + names": Params(weights=Weights(newness=0)),
    "no complement rule": Params(weights=Weights(substitute=0)),
}


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    snapshot = read(args.database_url)
    before_test = snapshot.history.before(int(args.test_cutoff.timestamp()))
    snapshot = dataclasses.replace(snapshot, history=before_test)
    data = split(before_test, int(args.validation_cutoff.timestamp()), snapshot.vocab.active)
    print(
        f"validation: train before {args.validation_cutoff.date()}, score until "
        f"{args.test_cutoff.date()}; {len(data.users):,} customers\n"
    )
    rows = {}
    for name, params in VARIANTS.items():
        scorer = engine_scorer(snapshot, data, params)
        rows[name] = evaluate(scorer, data, snapshot.vocab.active, 10)
    metrics = list(next(iter(rows.values())))
    print("| variant | " + " | ".join(metrics) + " |")
    print("|---|" + "---:|" * len(metrics))
    for name, values in rows.items():
        print(f"| {name} | " + " | ".join(f"{values[m]:.4f}" for m in metrics) + " |")


if __name__ == "__main__":
    main()
