"""Offline evaluation of upgrade propensity on a time split, against simple baselines.

Why stacked monthly snapshots: one moment gives one row per subscriber and few
upgrades; every month before the cutoff (whose horizon has fully passed) gives many
more, each labelled with what happened in the following `horizon_days`. The test
snapshot is the cutoff itself, scored on the horizon after it.
"""

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.campaigns import upgrade_prospects
from models.ladder import MAX_PRICE_MULTIPLE, PROJECTION_MONTHS, Ladder, project, target_plans
from models.propensity import Propensity, fit_propensity, precision_at_k, roc_auc
from models.upgrades import (
    DAY,
    FEATURES,
    TREND_DAYS,
    SaasHistory,
    Snapshot,
    known_until,
    plan_at,
    snapshot,
    upgrades_after,
)

STEP_DAYS = 30
TRIAL_DAYS = 14  # snapshots count subscribers past their trial


@dataclass(frozen=True)
class Split:
    """Training rows stacked over monthly snapshots, and the test snapshot's labels."""

    features: np.ndarray
    upgraded: np.ndarray
    subscription: np.ndarray  # int64: the subscription of each row


def training_rows(
    history: SaasHistory, ladder: Ladder, until: int, horizon_days: int, first: int
) -> Split:
    """Monthly snapshots from `first` whose horizon ends by `until`, stacked."""
    moments = np.arange(until - horizon_days * DAY, first, -STEP_DAYS * DAY)[::-1]
    parts = []
    for at in moments.tolist():
        snap = snapshot(history, ladder, at)
        upgraded, _ = upgrades_after(history, ladder, snap, horizon_days)
        room = can_upgrade(ladder, snap.plan)
        parts.append((snap.features[room], upgraded[room], snap.subscription[room]))
    if not parts:
        return Split(np.zeros((0, len(FEATURES))), np.zeros(0, bool), np.zeros(0, np.int64))
    features, upgraded, subscription = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return Split(features, upgraded, subscription)


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


def evaluate_upgrades(
    history: SaasHistory, ladder: Ladder, cutoff: int, horizon_days: int = 90, k: int = 100
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """(ROC AUC, precision@k and tier accuracy among upgraders per scorer; sizes) at `cutoff`.

    The same shape as the cross-sell evaluation's answer, so one table prints both.
    A horizon that ends more than a day after the newest record is a ValueError that
    says so (the last day's records may come at any hour of it).
    """
    check_horizon(history, cutoff, horizon_days)
    model = fit_upgrades(history, ladder, cutoff, horizon_days)
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
    scorers = {
        "learned propensity": (model.probability(test.features), learned_target),
        "campaign list (expected value, complaints out)": (campaign, campaign_target),
        "usage-ratio rule": (ratio, rule_target),
        "tenure": (test.tenure_days, next_up),
        "random": (rng.random(len(ratio)), next_up),
    }
    results = {}
    for name, (scores, target) in scorers.items():
        results[name] = {
            "ROC AUC": roc_auc(scores, upgraded),
            f"precision@{k}": precision_at_k(scores, upgraded, k),
            "tier accuracy": float((target[upgraded] == to[upgraded]).mean())
            if upgraded.any()
            else float("nan"),
        }
    return results, {"subscribers": len(upgraded), "upgraders": int(upgraded.sum())}


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
