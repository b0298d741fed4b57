"""Treated against holdout: the difference, its 95 % interval and a p-value.

Why a normal approximation and not an exact test: the KPIs report on every customer
of a shop, thousands at least, where the approximation is good, and it needs nothing
beyond the counts, sums and variances a report has anyway. With a handful of
customers the interval is wide and says so; it is not a verdict, only the honest
size of the noise. `None` marks what cannot be computed (an empty group, no
variation to estimate the noise from), never a guess.
"""

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the two-sided 95 % quantile of the normal distribution


@dataclass(frozen=True)
class Comparison:
    """One KPI for the treated customers and the holdout, and what the offers added."""

    treated: float | None
    holdout: float | None
    uplift: float | None  # treated - holdout
    relative_uplift: float | None  # uplift / holdout, when the holdout's value is positive
    ci95: tuple[float, float] | None  # normal-approximation interval of the uplift
    p_value: float | None  # two-sided, for "no uplift"


def compare_rates(hits_treated: int, treated: int, hits_holdout: int, holdout: int) -> Comparison:
    """Two shares: the difference, a Wald interval (clipped to [-1, 1]) and the pooled
    two-proportion z-test."""
    p1 = hits_treated / treated if treated else None
    p2 = hits_holdout / holdout if holdout else None
    if p1 is None or p2 is None:
        return Comparison(p1, p2, None, None, None, None)
    diff = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / treated + p2 * (1 - p2) / holdout)
    pooled = (hits_treated + hits_holdout) / (treated + holdout)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / treated + 1 / holdout))
    ci = (max(-1.0, diff - Z95 * se), min(1.0, diff + Z95 * se)) if se > 0 else None
    return Comparison(p1, p2, diff, _relative(diff, p2), ci, _p_value(diff, se0))


def compare_means(treated: np.ndarray, holdout: np.ndarray, relative: bool = True) -> Comparison:
    """Two means: the difference, a Welch-type normal interval and z-test (both groups
    need two values or more for their variance)."""
    m1 = float(treated.mean()) if len(treated) else None
    m2 = float(holdout.mean()) if len(holdout) else None
    if m1 is None or m2 is None:
        return Comparison(m1, m2, None, None, None, None)
    diff = m1 - m2
    share = _relative(diff, m2) if relative else None
    if len(treated) < 2 or len(holdout) < 2:
        return Comparison(m1, m2, diff, share, None, None)
    se = math.sqrt(treated.var(ddof=1) / len(treated) + holdout.var(ddof=1) / len(holdout))
    ci = (diff - Z95 * se, diff + Z95 * se) if se > 0 else None
    return Comparison(m1, m2, diff, share, ci, _p_value(diff, se))


def _relative(diff: float, base: float) -> float | None:
    return diff / base if base > 0 else None


def _p_value(diff: float, se: float) -> float | None:
    """Two-sided normal p-value of `diff` with standard error `se` (None without noise)."""
    if se <= 0:
        return None
    return math.erfc(abs(diff) / se / math.sqrt(2))
