"""Campaign lists: the customers most worth contacting about one offer, by expected value.

Why expected value and not probability alone: sales time is the scarce thing, and a
likely step from a 9 EUR plan is worth less than a fairly likely step from a 79 EUR
one. Upgrade prospects are every live subscriber at one moment with the learned
propensity (or, under rules, the usage ratio) and the plan the upsell engine would
target; cross-sell prospects for one item are every customer who does not own it, with
the strongest bought-together confidence from what they own. Both are vectorised
over all customers; the guardrails are applied afterwards, to the head of the list.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.ladder import OVER_CAP, PROJECTION_MONTHS, Ladder, project, target_plans
from models.propensity import Propensity
from models.upgrades import FEATURES, TREND_DAYS, Snapshot

MONTHS = 12  # an upgrade is worth a year of the monthly price difference


@dataclass(frozen=True)
class Prospects:
    """Live subscribers who can upgrade, at one moment, with what an upgrade is worth."""

    customer: np.ndarray  # int64 customer index
    plan: np.ndarray  # int64 current plan
    target: np.ndarray  # int64 plan the upsell engine would offer
    probability: np.ndarray  # float64 P(upgrade within the horizon); the usage ratio under rules
    value: np.ndarray  # float64 a year of the monthly price difference
    open_complaint: np.ndarray  # bool, at that moment

    @property
    def expected_value(self) -> np.ndarray:
        result: np.ndarray = self.probability * self.value
        return result


def upgrade_prospects(
    snap: Snapshot, ladder: Ladder, propensity: Propensity | None, max_multiple: float
) -> Prospects:
    """Every subscriber of `snap` with an affordable target plan, scored.

    The target is the upsell route's: the plan covering projected usage, or, when that
    one is over the price cap, the plan covering today's usage if it is within it.
    """
    projected = project(snap.usage, snap.before, TREND_DAYS / 30.44, PROJECTION_MONTHS)
    target, why = target_plans(ladder, snap.plan, projected, max_multiple)
    nearer, why_now = target_plans(ladder, snap.plan, snap.usage, max_multiple)
    fallback = (why == OVER_CAP) & (why_now == 0)
    target, why = np.where(fallback, nearer, target), np.where(fallback, 0, why)
    measured = snap.features[:, FEATURES.index("no usage reading")] == 0
    keep = (why == 0) & measured  # unknown usage: no plan to point at, as the route says
    if propensity is not None:
        probability = propensity.probability(snap.features)
    else:  # rules: the usage ratio ranks, as the usage-ratio rule does
        probability = np.clip(snap.features[:, 0], 0.0, 1.0)
    value = MONTHS * (ladder.monthly[np.maximum(target, 0)] - ladder.monthly[snap.plan])
    complaint = snap.features[:, FEATURES.index("open complaint")] > 0
    return Prospects(
        customer=snap.customer[keep].astype(np.int64),
        plan=snap.plan[keep].astype(np.int64),
        target=target[keep].astype(np.int64),
        probability=probability[keep],
        value=value[keep],
        open_complaint=complaint[keep],
    )


def rank_upgrades(prospects: Prospects, plan: int | None = None) -> np.ndarray:
    """Positions of the prospects (for `plan`, or any), best expected value first."""
    rows = np.arange(len(prospects.customer))
    if plan is not None:
        rows = rows[prospects.target == plan]
    order = np.argsort(-prospects.expected_value[rows], kind="stable")
    result: np.ndarray = rows[order]
    return result


def cross_sell_prospects(
    owned: sp.csr_matrix,
    confidence: sp.csr_matrix,
    item: int,
    base_rate: float,
    taste: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customers who do not own `item`, P(buying it), the owned item behind it or -1),
    best first; equal probabilities rank by `taste` (e.g. the ALS score), if given.

    The probability is the strongest rule from an owned item to `item` (its confidence),
    and never less than the item's base rate among all customers.
    """
    column = confidence[:, item].toarray().ravel()  # P(item | antecedent) per antecedent
    product = owned.multiply(column[None, :]).tocsr()
    strongest = product.max(axis=1).toarray().ravel()
    anchor = np.where(strongest > 0, np.asarray(product.argmax(axis=1)).ravel(), -1)
    probability = np.maximum(strongest, base_rate)
    has = np.zeros(owned.shape[0], dtype=bool)
    has[owned[:, item].nonzero()[0]] = True
    customers = np.flatnonzero(~has)
    ties = np.zeros(len(customers)) if taste is None else -taste[customers]
    order = customers[np.lexsort((ties, -probability[customers]))]
    return order, probability[order], anchor[order].astype(np.int64)
