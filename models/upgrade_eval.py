"""Offline evaluation of upgrade propensity on a time split, against simple baselines.

Why stacked monthly snapshots: one moment gives one row per subscriber and few
upgrades; every month before the cutoff (whose horizon has fully passed) gives many
more, each labelled with what happened in the following `horizon_days`. The test
snapshot is the cutoff itself, scored on the horizon after it.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.campaigns import upgrade_prospects
from models.ladder import MAX_PRICE_MULTIPLE, PROJECTION_MONTHS, Ladder, project, target_plans
from models.propensity import Propensity, calibration, fit_propensity, precision_at_k, roc_auc
from models.upgrades import (
    DAY,
    FEATURES,
    TREND_DAYS,
    SaasHistory,
    Snapshot,
    churned_after,
    known_until,
    plan_at,
    snapshot,
    upgrades_after,
)

STEP_DAYS = 30
TRIAL_DAYS = 14  # snapshots count subscribers past their trial


@dataclass(frozen=True)
class Split:
    """Training rows stacked over monthly snapshots: the subscribers who could upgrade,
    for the upgrade models, and every live paid subscriber, for the churn model."""

    features: np.ndarray
    upgraded: np.ndarray
    subscription: np.ndarray  # int64: the subscription of each row
    raw: np.ndarray  # the same rows' raw columns (RAW), for the plain baseline
    every: np.ndarray  # features of every live paid subscriber, the top tier included
    churned: np.ndarray  # bool per row of `every`: the subscription ended in the horizon


def training_rows(
    history: SaasHistory, ladder: Ladder, until: int, horizon_days: int, first: int
) -> Split:
    """Monthly snapshots from `first` whose horizon ends by `until`, stacked."""
    parts = []
    for snap in monthly_snapshots(history, ladder, until, horizon_days, first):
        upgraded, _ = upgrades_after(history, ladder, snap, horizon_days)
        room = can_upgrade(ladder, snap.plan)
        raw = raw_columns(snap, ladder)
        churned = churned_after(history, snap, horizon_days)
        upgrade = (snap.features[room], upgraded[room], snap.subscription[room], raw[room])
        parts.append((*upgrade, snap.features, churned))
    if not parts:
        none, table = np.zeros(0, np.int64), np.zeros((0, len(FEATURES)))
        return Split(table, none.astype(bool), none, np.zeros((0, len(RAW))), table, none > 0)
    return Split(*(np.concatenate([p[i] for p in parts]) for i in range(6)))


def monthly_snapshots(
    history: SaasHistory, ladder: Ladder, until: int, horizon_days: int, first: int
) -> Iterator[Snapshot]:
    """The snapshots every STEP_DAYS from `first` whose horizon ends by `until`, oldest
    first: what upgrade and churn models both learn from."""
    moments = np.arange(until - horizon_days * DAY, first, -STEP_DAYS * DAY)[::-1]
    for at in moments.tolist():
        yield snapshot(history, ladder, at)


def coverage(
    history: SaasHistory, ladder: Ladder, rows: Split, until: int, horizon_days: int
) -> dict[str, Any]:
    """How many subscriptions training learned from, and why each other one was left out.

    Why: a model that silently drops most subscribers (as ours once did, every one
    without plan-change rows) looks fine on the rest; the manifest says who was missing.
    """
    h, n = history, len(history.sub_customer)
    counted = np.zeros(n, dtype=bool)
    counted[rows.subscription] = True
    last = until - horizon_days * DAY  # the newest snapshot whose horizon has passed
    paid_from = h.sub_started + TRIAL_DAYS * DAY
    never_paid = ~counted & (h.sub_ended <= paid_from)
    too_new = ~counted & ~never_paid & (paid_from > last)
    rest = ~counted & ~never_paid & ~too_new
    top = rest & ~can_upgrade(ladder, plan_at(h, np.arange(n), last))
    return {
        "subscriptions": n,
        "counted": int(counted.sum()),
        "left_out": {
            "ended_in_trial": int(never_paid.sum()),
            "outcome_not_known_yet": int(too_new.sum()),
            "top_tier": int(top.sum()),
            "between_snapshots": int((rest & ~top).sum()),
        },
    }


def fit_upgrades(
    history: SaasHistory, ladder: Ladder, until: int, horizon_days: int = 90
) -> Propensity:
    """The propensity model fitted on every monthly snapshot whose outcome is known."""
    first = int(history.sub_started.min()) if len(history.sub_started) else until
    rows = training_rows(history, ladder, until, horizon_days, first)
    return fit_propensity(rows.features, rows.upgraded, FEATURES)


Reliability = list[tuple[float, float, int]]  # (mean predicted, observed, rows) per decile


def evaluate_upgrades(
    history: SaasHistory,
    ladder: Ladder,
    cutoff: int,
    horizon_days: int = 90,
    k: int = 100,
    compare: bool = True,
) -> tuple[dict[str, dict[str, float]], dict[str, int], Reliability]:
    """(ROC AUC, precision@k, Brier score and tier accuracy among upgraders per scorer;
    sizes; the learned propensity's reliability by decile) at `cutoff`.

    Beside the rules, two other models are fitted on the same training rows: a plain
    logistic regression on the raw columns, and gradient boosting on the features
    (scikit-learn's HistGradientBoosting, isotonic-calibrated), so the served model is
    chosen by measurement (`compare` False leaves them out: they cost most of the time).
    The Brier score is NaN for scores that are not probabilities.
    A horizon that ends more than a day after the newest record is a ValueError that
    says so (the last day's records may come at any hour of it).
    """
    check_horizon(history, cutoff, horizon_days)
    first = int(history.sub_started.min())
    rows = training_rows(history, ladder, cutoff, horizon_days, first)
    model = fit_propensity(rows.features, rows.upgraded, FEATURES)
    test = snapshot(history, ladder, cutoff)
    test = subset(test, can_upgrade(ladder, test.plan))
    upgraded, to = upgrades_after(history, ladder, test, horizon_days)
    months = TREND_DAYS / 30.44
    projected = project(test.usage, test.before, months, PROJECTION_MONTHS)
    learned_target, _ = target_plans(ladder, test.plan, projected, np.inf)
    rule_target, _ = target_plans(ladder, test.plan, test.usage, np.inf)
    next_up, _ = target_plans(ladder, test.plan, np.zeros_like(test.usage), np.inf)
    ratio = np.nan_to_num(test.usage / ladder.limits[test.plan], nan=0.0).max(axis=1, initial=0)
    rng = np.random.default_rng(0)
    campaign, campaign_target = campaign_scores(test, ladder, model)
    learned = model.probability(test.features)
    probabilities = {"learned propensity": (learned, learned_target)}
    if compare:
        raw = fit_propensity(rows.raw, rows.upgraded, RAW)
        boosted = fit_boosted(rows.features, rows.upgraded)
        probabilities["logistic regression on the raw columns"] = (
            raw.probability(raw_columns(test, ladder)),
            learned_target,
        )
        probabilities["gradient boosting, calibrated"] = (
            boosted.predict_proba(test.features)[:, 1],
            learned_target,
        )
    others = {
        "campaign list (expected value, complaints out)": (campaign, campaign_target),
        "usage-ratio rule": (ratio, rule_target),
        "tenure": (test.tenure_days, next_up),
        "random": (rng.random(len(ratio)), next_up),
    }
    results = {}
    for name, (scores, target) in {**probabilities, **others}.items():
        results[name] = {
            **scored(scores, upgraded, k, name in probabilities),
            "tier accuracy": float((target[upgraded] == to[upgraded]).mean())
            if upgraded.any()
            else float("nan"),
        }
    sizes = {"subscribers": len(upgraded), "upgraders": int(upgraded.sum())}
    return results, sizes, calibration(learned, upgraded)


RAW = [  # the columns a plain model reads, the natural way
    "highest usage / limit",
    "tenure (years)",
    "annual billing",
    "open complaint",
    "engagement level (log)",
]


def raw_columns(snap: Snapshot, ladder: Ladder) -> np.ndarray:
    """The snapshot's subscribers as a plain model reads them: the highest usage / limit
    (0 unread), tenure in years, billing, an open complaint, and the log engagement."""
    ratio = np.nan_to_num(snap.usage / ladder.limits[snap.plan], nan=0.0, posinf=0.0)
    column = FEATURES.index
    return np.column_stack(
        [
            np.clip(ratio.max(axis=1, initial=0.0), 0.0, 2.0),
            snap.tenure_days / 365.0,
            snap.features[:, column("annual billing")],
            snap.features[:, column("open complaint")],
            snap.features[:, column("engagement level (log)")],
        ]
    )


def fit_boosted(features: np.ndarray, upgraded: np.ndarray) -> Any:
    """Gradient boosting on the features, calibrated by isotonic regression over 3 folds
    (scikit-learn): the flexible model the logistic regression is measured against."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    boosted = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.08, random_state=0)
    return CalibratedClassifierCV(boosted, method="isotonic", cv=3).fit(features, upgraded)


def scored(scores: np.ndarray, positive: np.ndarray, k: int, probability: bool) -> dict[str, float]:
    """ROC AUC, precision@k and (for a probability; NaN otherwise) the Brier score: the
    columns every upgrade and churn evaluation table shares."""
    return {
        "ROC AUC": roc_auc(scores, positive),
        f"precision@{k}": precision_at_k(scores, positive, k),
        "Brier": brier(scores, positive) if probability else float("nan"),
    }


def brier(probability: np.ndarray, positive: np.ndarray) -> float:
    """Mean squared distance of the probability from what happened (lower is better)."""
    return float(np.mean((probability - positive.astype(np.float64)) ** 2))


def check_horizon(history: SaasHistory, cutoff: int, horizon_days: int) -> None:
    """ValueError when the data cannot say who upgraded within the horizon."""
    newest = known_until(history)
    if newest is None:
        raise ValueError("there is no subscription history to evaluate: import subscriptions")
    end = cutoff + horizon_days * DAY
    if end - newest >= DAY:
        raise ValueError(
            f"the {horizon_days}-day horizon after the cutoff {_day(cutoff)} ends on "
            f"{_day(end)}, but the data ends on {_day(newest)}: choose a cutoff on or "
            f"before {_day(newest - horizon_days * DAY + DAY - 1)}, or a shorter horizon"
        )


def _day(moment: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(moment))


def campaign_scores(
    snap: Snapshot, ladder: Ladder, model: Propensity
) -> tuple[np.ndarray, np.ndarray]:
    """(expected value, target) per subscriber as the campaign list ranks them: the
    affordable targets only, and no one with an open complaint (scored -1, listed last).
    """
    prospects = upgrade_prospects(snap, ladder, model, MAX_PRICE_MULTIPLE)
    position = {c: i for i, c in enumerate(snap.customer.tolist())}
    rows = np.array([position[c] for c in prospects.customer.tolist()], dtype=np.int64)
    score = np.full(len(snap.customer), -1.0)
    target = np.full(len(snap.customer), -1, dtype=np.int64)
    listed = ~prospects.open_complaint
    score[rows[listed]] = prospects.expected_value[listed]
    target[rows] = prospects.target
    return score, target


def can_upgrade(ladder: Ladder, plan: np.ndarray) -> np.ndarray:
    """Subscribers with a higher plan in their ladder: only they can upgrade at all."""
    _, why = target_plans(ladder, plan, np.zeros((len(plan), ladder.limits.shape[1])), np.inf)
    result: np.ndarray = why == 0
    return result


def subset(snap: Snapshot, keep: np.ndarray) -> Snapshot:
    """The snapshot's subscribers where `keep` is true."""
    return Snapshot(
        snap.at,
        snap.subscription[keep],
        snap.customer[keep],
        snap.plan[keep],
        snap.usage[keep],
        snap.before[keep],
        snap.tenure_days[keep],
        snap.features[keep],
    )
