"""Who cancels: the probability that a subscription ends within the horizon.

Why learned, and from the upgrade model's snapshots: "at risk" from a payment past due
or a usage drop alone missed every churner of a data set whose customers leave as
their engagement fades. The same point-in-time features (engagement, complaints,
payment trouble, usage trend, tenure, billing, the renewal window) are labelled with
whether the subscription ended within `horizon_days`, and a logistic regression
learns the odds; its probability drives the upsell route's `retain` answers.
"""

from typing import Any

import numpy as np

from models.ladder import Ladder
from models.propensity import Propensity, calibration, fit_propensity
from models.upgrade_eval import Split, check_horizon, fit_boosted, scored, training_rows
from models.upgrades import FEATURES, SaasHistory, churned_after, snapshot

# cancellations (and rows that stayed) needed to learn from: ten per feature, the usual
# events-per-variable rule for a logistic regression; with fewer (400 demo customers
# give about 57), the fit flagged a steady account at 5x the base rate
MIN_CHURNERS = 10 * len(FEATURES)


def fit_churn(rows: Split) -> tuple[Propensity, bool, float]:
    """(the churn model, whether there was enough history to learn it, the base rate),
    from the training rows of every live paid subscriber (`Split.every`).

    With fewer than MIN_CHURNERS cancellations (or stayers) the model is all zeros and
    `learned` is False: the upsell rules alone say who is at risk.
    """
    features, churned = rows.every, rows.churned
    base = float(churned.mean()) if len(churned) else float("nan")
    if not MIN_CHURNERS <= int(churned.sum()) <= len(churned) - MIN_CHURNERS:
        return Propensity(list(FEATURES), np.zeros(len(FEATURES)), 0.0), False, base
    return fit_propensity(features, churned, FEATURES), True, base


def risk_threshold(base_rate: float, lift: float, floor: float) -> float:
    """The churn probability from which a subscriber is at risk: `lift` times the base
    rate, and at least `floor` (the upsell decision and `evaluate --churn` share it)."""
    return max(floor, lift * base_rate)


def evaluate_churn(
    history: SaasHistory,
    ladder: Ladder,
    cutoff: int,
    horizon_days: int = 90,
    k: int = 100,
    risk: tuple[float, float] = (3.0, 0.1),
) -> tuple[dict[str, dict[str, float]], dict[str, Any], list[tuple[float, float, int]]]:
    """(ROC AUC, precision@k and Brier per scorer; sizes and the at-risk share; the
    learned model's reliability by decile) for cancellations within the horizon after
    `cutoff`, every live paid subscriber then counted.

    `risk` is (lift, floor) of `risk_threshold`, as the upsell policy flags subscribers.
    """
    check_horizon(history, cutoff, horizon_days)
    first = int(history.sub_started.min())
    rows = training_rows(history, ladder, cutoff, horizon_days, first)
    model, fitted, base = fit_churn(rows)
    if not fitted:
        raise ValueError(
            f"{int(rows.churned.sum())} cancellations among {len(rows.churned):,} training "
            f"rows before the cutoff: at least {MIN_CHURNERS} (and as many who stayed) are "
            "needed to learn a churn risk; choose a later cutoff"
        )
    boosted = fit_boosted(rows.every, rows.churned)
    test = snapshot(history, ladder, cutoff)
    churned = churned_after(history, test, horizon_days)
    learned = model.probability(test.features)
    column = FEATURES.index
    drop = -test.features[:, column("usage growth over 90 days (log)")]
    probabilities = {
        "learned churn risk": learned,
        "gradient boosting, calibrated": boosted.predict_proba(test.features)[:, 1],
    }
    others = {
        "usage-drop rule": drop,
        "open complaint": test.features[:, column("open complaint")],
        "newest first (tenure)": -test.tenure_days,
        "random": np.random.default_rng(0).random(len(churned)),
    }
    results = {
        name: scored(scores, churned, k, name in probabilities)
        for name, scores in {**probabilities, **others}.items()
    }
    flagged = learned >= risk_threshold(base, *risk)
    sizes = {
        "subscribers": len(churned),
        "churners": int(churned.sum()),
        "base rate": round(float(churned.mean()), 4) if len(churned) else float("nan"),
        "flagged at risk": int(flagged.sum()),
        "churn rate among flagged": round(float(churned[flagged].mean()), 4)
        if flagged.any()
        else float("nan"),
    }
    return results, sizes, calibration(learned, churned)
