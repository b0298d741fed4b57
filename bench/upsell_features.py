"""The measurement behind the upgrade propensity's features: with the usage ratio as a
curve (hinges at models.upgrades.KNOTS) against without it, at five cutoffs, on the demo
generator's SaaS simulation, with the usage-ratio rule alongside.

    python bench/upsell_features.py                 # 60,000 customers, as the tests use
    python bench/upsell_features.py --customers 100000
"""

import argparse

import numpy as np

from app.demo import saas
from app.demo.shop import DAY
from models.propensity import fit_propensity, precision_at_k, roc_auc
from models.upgrade_eval import can_upgrade, subset, training_rows
from models.upgrades import FEATURES, KNOTS, snapshot, upgrades_after

CUTOFF = 1_790_000_000 // DAY * DAY
PLAIN = len(FEATURES) - 2 * len(KNOTS)  # the features before the curve was added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=60_000)
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args()
    history, ladder = saas.simulated(args.customers, CUTOFF)
    k = args.k
    print(f"{args.customers:,} simulated customers; ROC AUC / precision@{k} on the 90 days "
          "after each cutoff\n")  # fmt: skip
    print("| cutoff (days before the end) | subscribers | usage-ratio rule | "
          "without the curve | with the curve (chosen) |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|")
    for days in (90, 120, 150, 180, 240):
        cut = CUTOFF - days * DAY
        test = snapshot(history, ladder, cut)
        test = subset(test, can_upgrade(ladder, test.plan))
        upgraded, _ = upgrades_after(history, ladder, test, 90)
        rows = training_rows(history, ladder, cut, 90, int(history.sub_started.min()))
        cells = [_score(test.features[:, 0], upgraded, k)]
        for columns in (slice(0, PLAIN), slice(None)):
            model = fit_propensity(rows.features[:, columns], rows.upgraded, FEATURES[columns])
            cells.append(_score(model.probability(test.features[:, columns]), upgraded, k))
        print(f"| {days} | {len(upgraded):,} | " + " | ".join(cells) + " |")


def _score(scores: np.ndarray, upgraded: np.ndarray, k: int) -> str:
    return f"{roc_auc(scores, upgraded):.4f} / {precision_at_k(scores, upgraded, k):.2f}"


if __name__ == "__main__":
    main()
