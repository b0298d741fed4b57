"""The SaaS plan ladder: which higher plan a subscriber's projected usage needs.

Why the lowest plan that covers the projection: an upgrade the customer needs is one
that removes the limit they are about to hit, no more; offering the top tier to
everyone near a limit is the pushy selling the product must not do. Why one step may
be skipped: when usage projected a few months ahead already overflows the next plan,
offering it would only bring the same prompt back soon. Why a price cap: a plan that
costs many times what the customer pays now is beyond what they can pay, however well
it fits, so it is not offered at all.

Everything is vectorised over subscribers, so evaluation can score every subscriber
of a snapshot at once and serving scores one with the same code.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

TOP_TIER, OVER_CAP, NO_PLAN = 1, 2, 3  # why `target_plans` found no target
MAX_PRICE_MULTIPLE = 4.0  # a step up may cost at most this many times the current plan
PROJECTION_MONTHS = 6.0  # a target plan covers usage projected this far ahead
NO_RANK = np.iinfo(np.int32).max  # above every tier (np.iinfo is slow per call)


@dataclass(frozen=True)
class Ladder:
    """The plans of every ladder (product family), one row per plan."""

    ladder: np.ndarray  # int32 per plan: which ladder it belongs to
    rank: np.ndarray  # int32 per plan: tier rank within its ladder, higher is bigger
    monthly: np.ndarray  # float64 per plan: monthly price
    limits: np.ndarray  # float64 plans x metrics: inf where the plan sets no limit
    metrics: list[str]  # the metric of each column of `limits`

    @cached_property
    def above(self) -> np.ndarray:
        """plans x plans: True where the column is a higher tier of the row's ladder
        (worked out once: the upsell route asks for one subscriber per request)."""
        result: np.ndarray = (self.ladder[None, :] == self.ladder[:, None]) & (
            self.rank[None, :] > self.rank[:, None]
        )
        return result

    @cached_property
    def engagement(self) -> np.ndarray:
        """bool per metric: no plan limits it (logins, active days): it measures how much
        an account uses the product, not how close it is to outgrowing a plan."""
        result: np.ndarray = ~np.isfinite(self.limits).any(axis=0)
        return result


def project(
    now: np.ndarray, before: np.ndarray, months_between: float, months_ahead: float
) -> np.ndarray:
    """Usage `months_ahead` from now at the monthly growth seen over `months_between`.

    Shrinking usage is projected flat (a customer using less needs no bigger plan), and
    a metric without an earlier reading is projected flat too. NaN (no reading now)
    stays NaN: a metric nobody measured constrains nothing.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where((before > 0) & (now > before), now / before, 1.0)
    rate = growth ** (months_ahead / max(months_between, 1e-9))
    result: np.ndarray = now * rate
    return result


def target_plans(
    ladder: Ladder,
    plan: np.ndarray,
    projected: np.ndarray,
    max_multiple: float = MAX_PRICE_MULTIPLE,
) -> tuple[np.ndarray, np.ndarray]:
    """(target plan or -1, why none) per subscriber on `plan` with `projected` usage.

    The target is the lowest plan above the current one, in the same ladder, whose
    limits cover every projected metric; when none covers them, the ladder's top plan.
    `why` is 0 with a target, else TOP_TIER (nothing above), OVER_CAP (the target costs
    more than `max_multiple` times the current plan; a free plan has no cap) or NO_PLAN
    (plan -1: no subscription).
    """
    if not len(ladder.rank):  # no plans at all: nobody has one to upgrade from
        return np.full(len(plan), -1), np.full(len(plan), NO_PLAN)
    known = plan >= 0
    current = np.maximum(plan, 0)
    above = ladder.above[current]
    need = np.where(np.isnan(projected), 0.0, projected)
    covers = above & np.all(ladder.limits[None, :, :] >= need[:, None, :], axis=2)
    lowest = np.where(covers, ladder.rank[None, :], NO_RANK).argmin(axis=1)
    highest = np.where(above, ladder.rank[None, :], -1).argmax(axis=1)
    target = np.where(covers.any(axis=1), lowest, highest)
    paying = ladder.monthly[current]
    # a free plan has no price to multiply: any paid step is the customer's first
    affordable = (paying <= 0) | (ladder.monthly[target] <= max_multiple * paying)
    why = np.where(
        ~known, NO_PLAN, np.where(~above.any(axis=1), TOP_TIER, np.where(affordable, 0, OVER_CAP))
    )
    return np.where(why == 0, target, -1), why
