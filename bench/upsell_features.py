"""The measurement behind the upgrade propensity's features: with the usage ratio as a
curve (hinges at models.upgrades.KNOTS) against without it, at five cutoffs, on the demo
generator's SaaS simulation, with the usage-ratio rule alongside. Then the drivers the
model fitted on all the history recovers, as odds ratios against the planted ones.

    python bench/upsell_features.py                 # 60,000 customers, as the tests use
    python bench/upsell_features.py --customers 100000
"""

import argparse

import numpy as np

from app.demo import saas
from app.demo.shop import DAY
from models.propensity import Propensity, fit_propensity, precision_at_k, roc_auc
from models.upgrade_eval import can_upgrade, fit_upgrades, subset, training_rows
from models.upgrades import FEATURES, KNOTS, profile, snapshot, upgrades_after

CUTOFF = 1_790_000_000 // DAY * DAY
CURVE = {f"{kind} / limit past {k:.0%}" for kind in ("usage", "projected usage") for k in KNOTS}
PLAIN = [i for i, name in enumerate(FEATURES) if name not in CURVE]  # all but the curve


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
        for columns in (PLAIN, slice(None)):
            names = np.array(FEATURES)[columns].tolist()
            model = fit_propensity(rows.features[:, columns], rows.upgraded, names)
            cells.append(_score(model.probability(test.features[:, columns]), upgraded, k))
        print(f"| {days} | {len(upgraded):,} | " + " | ".join(cells) + " |")
    drivers(fit_upgrades(history, ladder, CUTOFF))


# What the generator plants (docs/demo-data.md), as odds ratios over a 90-day horizon:
# monthly hazards 0.5 / 3 / 12 / 25 % by usage band give 1.5 / 8.7 / 32 / 58 % in 90 days.
PLANTED = {
    "usage at 70% (60-80% band) vs 40%": 6.3,
    "usage at 87.5% (80-95% band) vs 40%": 31.0,
    "usage at 100% (95%+ band) vs 40%": 91.0,
    "open complaint": 0.2,
    "loyal shop customer": 1.5,
    "tenure over 12 months": 1.3,
    "annual renewal within 90 days": 2.0,
}


def drivers(model: Propensity) -> None:
    """Odds ratios of the fitted model between two profiles of a subscriber."""

    def odds(ratio: float, **flags: bool) -> float:
        p = float(model.probability(profile(ratio, **flags)[None])[0])
        return p / (1 - p)

    learned = [odds(r) / odds(0.4) for r in (0.7, 0.875, 1.0)]
    for flag in ("complaint", "loyal", "tenured", "renewal"):
        learned.append(odds(0.7, **{flag: True}) / odds(0.7))
    print("\n| driver | planted odds ratio | learned odds ratio |")
    print("|---|---:|---:|")
    for (name, planted), value in zip(PLANTED.items(), learned, strict=True):
        print(f"| {name} | {planted:g} | {value:.2f} |")


def _score(scores: np.ndarray, upgraded: np.ndarray, k: int) -> str:
    return f"{roc_auc(scores, upgraded):.4f} / {precision_at_k(scores, upgraded, k):.2f}"


if __name__ == "__main__":
    main()
