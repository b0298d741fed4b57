"""Who upgrades: each subscriber's state at a moment, its features, and what happened next.

Why state at a moment rebuilt from history: a propensity model must learn from what
was known *then* (the plan, the usage readings and the tickets up to that moment) and
be judged on what happened *after*, or it learns from the future. The same functions
build the stacked monthly snapshots that training fits on and the snapshot at an
evaluation cutoff, every step vectorised over subscribers; one subscriber's features at
request time come from `one_state`, through the same feature definition (`_features`)
on one row, which a property test holds equal to `state`.

The features are the drivers a salesperson would name: how close usage is to the
plan's limits (in bands), its trend, the renewal window, an open complaint, tenure,
loyalty, the billing period, whether usage is measured at all (a missing reading
is unknown, not 0 %), and engagement: the level and 90-day change of the metrics no
plan limits (active days, logins), the classic loyalty signal. The usage ratio, now
and projected, also enters as a piecewise-linear curve (hinges at KNOTS): the chance
of upgrading does not grow in proportion to the ratio, and with the curve the model
beat the plain usage-ratio rule at every cutoff measured (README), where without it
the two tied.

Subscription rows hold only today's plan, billing and renewal date. A past snapshot
takes the plan and the billing from the plan changes around it (the change before the
moment, else what the next change moved away from, else today's row), and the renewal
from the start of the annual term then: today's `renews_at` may have been re-anchored
by the very upgrade a model is trying to predict.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.ladder import Ladder

DAY = 86_400
NEVER = np.iinfo(np.int64).max
BANDS = (0.6, 0.8, 0.95)  # usage-ratio band edges: below 60 %, 60-80, 80-95, 95 and up
TREND_DAYS = 90  # usage now against usage this long ago
READING_DAYS = TREND_DAYS + 120  # a reading older than this at the moment is not read
# (the serving path reads this far back: training must not know more than it does)
RENEWAL_DAYS = 90  # an annual renewal within the horizon is a natural moment to upgrade
TENURE_DAYS = 365
KNOTS = (0.3, 0.6, 0.8, 0.95, 1.1)  # where the usage-ratio curve may bend
FEATURES = [
    "highest usage / limit",
    "the same, projected 90 days ahead",
    "usage 60-80% of a limit",
    "usage 80-95% of a limit",
    "usage 95%+ of a limit",
    "usage growth over 90 days (log)",
    "annual renewal within 90 days",
    "open complaint",
    "tenure over 12 months",
    "loyal shop customer",
    "annual billing",
    *(f"usage / limit past {k:.0%}" for k in KNOTS),
    *(f"projected usage / limit past {k:.0%}" for k in KNOTS),
    "no usage reading",
    "engagement level (log)",
    "engagement change over 90 days (log)",
    "no engagement reading",
    "payment trouble in the last 30 days",
]
TROUBLE_DAYS = 30  # a billing ticket this recent is payment trouble
TROUBLE_KINDS = ("billing", "payment")  # the ticket kinds that mean payment trouble
ANNUAL, MONTHLY, UNCHANGED = 1, 0, -1  # the billing a plan change moved to


@dataclass(frozen=True)
class SaasHistory:
    """Subscriptions, plan changes, usage readings and tickets, by customer index."""

    sub_customer: np.ndarray  # int64 per subscription
    sub_plan: np.ndarray  # int64: the plan today (the subscription row's)
    sub_started: np.ndarray  # int64 seconds
    sub_ended: np.ndarray  # int64 seconds, NEVER while live
    sub_annual: np.ndarray  # bool: billed yearly today
    change_customer: np.ndarray  # int64 per plan change, sorted by (customer, at)
    change_from: np.ndarray  # int64: the plan changed from, -1 when not recorded
    change_plan: np.ndarray  # int64: the plan changed to
    change_annual: np.ndarray  # int64: the billing changed to (ANNUAL, MONTHLY, UNCHANGED)
    change_at: np.ndarray  # int64 seconds
    usage_customer: np.ndarray  # int64 per reading, sorted by (customer, metric, at)
    usage_metric: np.ndarray  # int64: column of Ladder.limits
    usage_value: np.ndarray  # float64
    usage_at: np.ndarray  # int64 seconds
    ticket_customer: np.ndarray  # int64 per complaint
    ticket_opened: np.ndarray  # int64 seconds
    ticket_closed: np.ndarray  # int64 seconds, NEVER while open
    loyal: np.ndarray  # bool per customer: the shop's best customers (RFM)
    trouble_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    trouble_at: np.ndarray = field(  # int64: billing tickets opened, sorted by (customer, at)
        default_factory=lambda: np.zeros(0, np.int64)
    )


@dataclass(frozen=True)
class Snapshot:
    """Live paid subscribers at moment `at`, what was known of them then, and the features."""

    at: int
    subscription: np.ndarray  # int64 index into the SaasHistory subscriptions
    customer: np.ndarray  # int64
    plan: np.ndarray  # int64 plan at `at`
    usage: np.ndarray  # float64 subscribers x metrics, NaN without a reading
    before: np.ndarray  # float64, the same TREND_DAYS earlier
    tenure_days: np.ndarray  # float64
    features: np.ndarray  # float64 subscribers x len(FEATURES)


def known_until(history: SaasHistory) -> int | None:
    """The newest moment the history records something that happened (a subscription
    starting, a plan change, a reading); None for an empty history. Ends are left out:
    a cancellation can be recorded ahead, for the end of the paid period.

    Why: training snapshots stop here, and an evaluation whose horizon runs past it
    would count the days without data as days nobody upgraded.
    """
    times = (history.sub_started, history.change_at, history.usage_at)
    return max((int(t.max()) for t in times if len(t)), default=None)


def known_at(history: SaasHistory, at: int) -> SaasHistory:
    """The history as a database read at `at` held it: nothing recorded after `at`,
    and the subscription rows with the plan and billing of that moment.

    Why: training as of a past moment (`nextbest train --as-of`) must not learn from
    what came later, and the route asked `as_of` that moment answers from this much.
    """
    h, subs = history, np.arange(len(history.sub_customer))
    annual, _ = annual_at(h, subs, at)
    known = h.sub_started <= at
    change, usage, ticket = h.change_at <= at, h.usage_at <= at, h.ticket_opened <= at
    return dataclasses.replace(
        h,
        sub_customer=h.sub_customer[known],
        sub_plan=plan_at(h, subs, at)[known],
        sub_started=h.sub_started[known],
        sub_ended=np.where(h.sub_ended <= at, h.sub_ended, NEVER)[known],
        sub_annual=annual[known],
        change_customer=h.change_customer[change],
        change_from=h.change_from[change],
        change_plan=h.change_plan[change],
        change_annual=h.change_annual[change],
        change_at=h.change_at[change],
        usage_customer=h.usage_customer[usage],
        usage_metric=h.usage_metric[usage],
        usage_value=h.usage_value[usage],
        usage_at=h.usage_at[usage],
        ticket_customer=h.ticket_customer[ticket],
        ticket_opened=h.ticket_opened[ticket],
        ticket_closed=np.where(h.ticket_closed <= at, h.ticket_closed, NEVER)[ticket],
        trouble_customer=h.trouble_customer[h.trouble_at <= at],
        trouble_at=h.trouble_at[h.trouble_at <= at],
    )


def live_at(history: SaasHistory, at: int, trial_days: int = 14) -> np.ndarray:
    """The subscriptions live and past their trial at `at` (indexes)."""
    h = history
    return np.flatnonzero((h.sub_started + trial_days * DAY <= at) & (h.sub_ended > at))


def snapshot(history: SaasHistory, ladder: Ladder, at: int, trial_days: int = 14) -> Snapshot:
    """Subscribers live and past their trial at `at`, with their features then."""
    subs = live_at(history, at, trial_days)
    return state(history, ladder, subs, plan_at(history, subs, at), at)


def plan_at(history: SaasHistory, subs: np.ndarray, at: int) -> np.ndarray:
    """Each subscription's plan at `at`: the last plan change at or before it; else the
    plan the next change moved away from; else the plan on the subscription row (no
    change since). Every subscriber has a plan, with or without plan-change rows."""
    h = history
    who = h.sub_customer[subs]
    before = _value_at(h.change_customer, h.change_at, h.change_plan, who, at)
    after = _value_at(h.change_customer, h.change_at, h.change_from, who, at, after=True)
    now = h.sub_plan[subs]
    return np.where(before >= 0, before, np.where(after >= 0, after, now)).astype(np.int64)


def annual_at(history: SaasHistory, subs: np.ndarray, at: int) -> tuple[np.ndarray, np.ndarray]:
    """(billed yearly at `at`, start of that annual term) per subscription.

    The billing a change moved to last, at or before `at`; else the opposite of what
    the next billing change moved to; else today's. The annual term runs from the
    switch to annual billing, or from the start of the subscription.
    """
    h = history
    who = h.sub_customer[subs]
    named = h.change_annual != UNCHANGED
    owner, moment, billing = h.change_customer[named], h.change_at[named], h.change_annual[named]
    last = _value_at(owner, moment, billing, who, at)
    following = _value_at(owner, moment, billing, who, at, after=True)
    annual = np.where(
        last >= 0, last == ANNUAL, np.where(following >= 0, following != ANNUAL, h.sub_annual[subs])
    )
    switched = _value_at(owner, moment, np.where(billing == ANNUAL, moment, -1), who, at)
    term = np.maximum(h.sub_started[subs], np.where(last == ANNUAL, switched, -1))
    return annual.astype(bool), term.astype(np.int64)


def state(
    history: SaasHistory, ladder: Ladder, subs: np.ndarray, plan: np.ndarray, at: int
) -> Snapshot:
    """What was known at `at` of subscriptions `subs` on plans `plan`, and the features.

    One live subscriber at request time takes the same steps in `one_state`.
    """
    h = history
    customer = h.sub_customer[subs]
    metrics = ladder.limits.shape[1]
    usage, before = _readings(h, customer, (at, at - TREND_DAYS * DAY), metrics)
    tenure = (at - h.sub_started[subs]) / DAY
    top, growth = pressure(usage, before, ladder.limits[plan])
    annual, term = annual_at(h, subs, at)
    renewal = annual & (next_anniversary(term, at) - at <= RENEWAL_DAYS * DAY)
    facts = (
        renewal,
        _open_complaint(h, customer, at),
        tenure,
        h.loyal[customer],
        annual,
        ~has_reading(usage, ladder.limits[plan]).any(axis=1),
    )
    features = _features(_COLUMNS, top, growth, *facts)
    engaged = engagement(usage, before, ladder.engagement)
    trouble = payment_trouble(h, customer, at)[:, None]
    extra = np.hstack([features, engaged, trouble])
    return Snapshot(at, subs, customer, plan, usage, before, tenure, extra)


def payment_trouble(history: SaasHistory, customer: np.ndarray, at: int) -> np.ndarray:
    """Whether each customer opened a billing ticket in the TROUBLE_DAYS up to `at`."""
    h = history
    last = _value_at(h.trouble_customer, h.trouble_at, h.trouble_at, customer, at)
    result: np.ndarray = (last >= 0) & (last > at - TROUBLE_DAYS * DAY)
    return result.astype(np.float64)


def engagement(usage: np.ndarray, before: np.ndarray, metrics: np.ndarray) -> np.ndarray:
    """(level, change, unmeasured) per row from the engagement `metrics` (no plan limits
    them): the mean log1p of the readings, its mean change since TREND_DAYS earlier
    (0 without both readings, clipped to +-1), and 1 where none was read.

    Why logs: engagement metrics count days or logins on scales no plan fixes; a log
    level and a log change mean the same on every scale.
    """
    rows = len(usage)
    if not metrics.any():
        return np.column_stack([np.zeros(rows), np.zeros(rows), np.ones(rows)])
    now, then = usage[:, metrics], before[:, metrics]
    known, both = ~np.isnan(now), ~np.isnan(now) & ~np.isnan(then)
    log_now = np.log1p(np.maximum(np.nan_to_num(now), 0.0))
    log_then = np.log1p(np.maximum(np.nan_to_num(then), 0.0))
    count, pairs = known.sum(axis=1), both.sum(axis=1)
    level = np.where(known, log_now, 0.0).sum(axis=1) / np.maximum(count, 1)
    change = np.where(both, log_now - log_then, 0.0).sum(axis=1) / np.maximum(pairs, 1)
    return np.column_stack([level, np.clip(change, -1.0, 1.0), (count == 0).astype(np.float64)])


def has_reading(usage: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Where a metric with a limit has a reading: usage known against the plan."""
    result: np.ndarray = ~np.isnan(usage) & np.isfinite(limits)
    return result


class _Columns:
    """The steps of `_features` on whole columns (training, evaluation)."""

    exp = staticmethod(np.exp)
    clip = staticmethod(np.clip)
    maximum = staticmethod(np.maximum)

    @staticmethod
    def band(ratio: Any) -> Any:
        return np.searchsorted(BANDS, ratio, side="right")

    @staticmethod
    def stack(columns: list[Any]) -> np.ndarray:
        result: np.ndarray = np.column_stack(columns).astype(np.float64)
        return result


class _One:
    """The same steps on one subscriber's Python floats (serving): numpy's calls on
    arrays of one row cost more than the rest of an upsell answer."""

    @staticmethod
    def exp(value: Any) -> float:
        return float(np.exp(value))  # numpy's routine, as for columns: the same last bit

    @staticmethod
    def clip(value: Any, low: float, high: float) -> Any:
        return min(max(value, low), high)

    @staticmethod
    def maximum(low: float, value: Any) -> Any:
        return max(low, value)

    @staticmethod
    def band(ratio: Any) -> int:
        return sum(ratio >= edge for edge in BANDS)

    @staticmethod
    def stack(columns: list[Any]) -> np.ndarray:
        return np.array(columns, dtype=np.float64)


_COLUMNS, _ONE = _Columns(), _One()


def _features(
    ops: _Columns | _One,
    top: Any,
    growth: Any,
    renewal: Any,
    complaint: Any,
    tenure_days: Any,
    loyal: Any,
    annual: Any,
    unmeasured: Any,
) -> np.ndarray:
    """The feature columns (FEATURES) from what is known of subscribers at a moment:
    written once, for whole columns (`_COLUMNS`, training) and one row (`_ONE`, serving).
    `top` and `growth` are `pressure`'s."""
    ahead = top * ops.exp(ops.clip(growth, 0.0, 1.0))  # where usage will be in 90 days
    band = ops.band(top)
    top, ahead = ops.clip(top, 0.0, 1.5), ops.clip(ahead, 0.0, 1.5)
    hinges = [ops.maximum(0.0, value - knot) for value in (top, ahead) for knot in KNOTS]
    return ops.stack(
        [
            top,
            ahead,
            band == 1,
            band == 2,
            band == 3,
            ops.clip(growth, -1.0, 1.0),
            renewal,
            complaint,
            tenure_days >= TENURE_DAYS,
            loyal,
            annual,
            *hinges,
            unmeasured,
        ]
    )


def one_state(
    ladder: Ladder,
    plan: int,
    readings: list[tuple[int, float, int]],
    *,
    started: int,
    renews: int,
    annual: bool,
    complaint: bool,
    loyal: bool,
    at: int,
    trouble: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(usage, before, features) of one subscriber at `at`, the numbers `state` gives.

    The serving path builds one subscriber's state per request from the readings it
    read: the features come from the same `_features` as training's, on one row's
    Python floats (a property test holds the two equal on random histories).
    `readings` are (metric column, value, time); `renews` is a renewal date of the
    annual term (its anniversaries follow), the recorded one when serving;
    `complaint` is a complaint open at `at`; `trouble` a billing ticket opened in the
    TROUBLE_DAYS up to it.
    """
    metrics = ladder.limits.shape[1]
    usage, before = [np.nan] * metrics, [np.nan] * metrics
    then = at - TREND_DAYS * DAY
    floor = at - READING_DAYS * DAY
    for metric, value, measured in sorted(readings, key=lambda r: (r[0], r[2])):
        if measured <= floor:  # too old to be read (as in `state`)
            continue
        if measured <= at:  # the newest reading at or before each moment wins
            usage[metric] = value
        if measured <= then:
            before[metric] = value
    usage_now = np.array(usage, dtype=np.float64)
    usage_before = np.array(before, dtype=np.float64)
    limits = ladder.limits[plan]
    top, growth = pressure_of_one(usage_now, usage_before, limits)
    renewal = annual and int(next_anniversary(np.int64(renews), at)) - at <= RENEWAL_DAYS * DAY
    tenure = (at - started) / DAY
    unmeasured = not has_reading(usage_now, limits).any()
    facts = (renewal, complaint, tenure, loyal, annual, unmeasured)
    features = _features(_ONE, top, growth, *facts)
    engaged = engagement(usage_now[None], usage_before[None], ladder.engagement)[0]
    return usage_now, usage_before, np.concatenate([features, engaged, [float(trouble)]])


def pressure_of_one(
    usage: np.ndarray, before: np.ndarray, limits: np.ndarray
) -> tuple[float, float]:
    """`pressure` of one subscriber's readings, as Python floats: `pressure` itself, on
    a table of one row."""
    top, growth = pressure(usage[None, :], before[None, :], limits[None, :])
    return float(top[0]), float(growth[0])


def pressure(
    usage: np.ndarray, before: np.ndarray, limits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(highest usage / limit over the metrics, log growth of that metric) per row.

    A metric without a reading, or without a limit, presses nothing; growth without an
    earlier reading is 0 (flat).
    """
    if not usage.size:
        return np.zeros(len(usage)), np.zeros(len(usage))
    rows = np.arange(len(usage))
    ratio = usage / limits
    ratio[np.isnan(ratio)] = 0.0
    worst = ratio.argmax(axis=1)
    now, then = usage[rows, worst], before[rows, worst]
    # the log of a positive finite change; 0 for none (no reading, a zero, a NaN)
    change = np.divide(now, then, out=np.full(len(now), np.nan), where=then > 0)
    growth = np.log(change, out=np.zeros(len(now)), where=(change > 0) & (change < np.inf))
    return ratio[rows, worst], growth


def upgrades_after(
    history: SaasHistory, ladder: Ladder, snap: Snapshot, horizon_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(upgraded within the horizon, plan upgraded to or -1) per subscriber of `snap`.

    The first plan change after the moment counts, when it is to a higher tier of the
    same ladder within `horizon_days`. A switch of billing alone (a change to the same
    plan) is not a plan change.
    """
    h = history
    moved = h.change_plan != h.change_from
    owner, at = h.change_customer[moved], h.change_at[moved]
    to = _value_at(owner, at, h.change_plan[moved], snap.customer, snap.at, after=True)
    when = _value_at(owner, at, at, snap.customer, snap.at, after=True)
    upgraded = (
        (to >= 0)
        & (when <= snap.at + horizon_days * DAY)
        & (ladder.ladder[to] == ladder.ladder[snap.plan])
        & (ladder.rank[to] > ladder.rank[snap.plan])
    )
    return upgraded, np.where(upgraded, to, -1)


def churned_after(history: SaasHistory, snap: Snapshot, horizon_days: int) -> np.ndarray:
    """Whether each subscription of `snap` ended within `horizon_days` after its moment."""
    ended = history.sub_ended[snap.subscription]
    result: np.ndarray = (ended > snap.at) & (ended <= snap.at + horizon_days * DAY)
    return result


def _key(customer: np.ndarray, at: np.ndarray) -> np.ndarray:
    """One sortable int64 per (customer, seconds) pair; seconds stay below 2**36."""
    result: np.ndarray = customer.astype(np.int64) * (1 << 36) + np.minimum(at, (1 << 36) - 1)
    return result


def _value_at(
    owner: np.ndarray,
    at: np.ndarray,
    value: np.ndarray,
    who: np.ndarray,
    moment: int,
    after: bool = False,
) -> np.ndarray:
    """The `value` of each of `who`'s last row at or before `moment` (or, `after`, its
    first row after it); -1 without one. Rows sorted by (owner, at)."""
    if not len(owner):
        return np.full(len(who), -1, dtype=np.int64)
    key = _key(owner, at)
    row = np.searchsorted(key, _key(who, np.full(len(who), moment)), "right") - (not after)
    inside = (row >= 0) & (row < len(key))
    row = np.clip(row, 0, len(key) - 1)
    return np.where(inside & (owner[row] == who), value[row], -1).astype(np.int64)


def _readings(
    h: SaasHistory, customer: np.ndarray, moments: tuple[int, ...], metrics: int
) -> list[np.ndarray]:
    """Per moment, the newest reading of each metric at or before it and after
    READING_DAYS before the first moment (NaN without one).

    Readings are sorted by (customer, metric, time), so (customer, metric) is one
    sorted owner and one search finds every metric of every customer at every moment.
    """
    n = len(customer)
    if not len(h.usage_value):
        return [np.full((n, metrics), np.nan) for _ in moments]
    owner = h.usage_customer * metrics + h.usage_metric
    who = np.tile((customer[:, None] * metrics + np.arange(metrics)).ravel(), len(moments))
    at = np.repeat(np.asarray(moments, dtype=np.int64), n * metrics)
    key = _key(owner, h.usage_at)
    last = np.searchsorted(key, _key(who, at), "right") - 1
    floor = moments[0] - READING_DAYS * DAY  # as old as the serving path reads
    found = (last >= 0) & (owner[np.maximum(last, 0)] == who)
    found &= h.usage_at[np.maximum(last, 0)] > floor
    values = np.where(found, h.usage_value[np.maximum(last, 0)], np.nan)
    return list(values.reshape(len(moments), n, metrics))


def next_anniversary(anchor: Any, moment: int) -> Any:
    """The first yearly anniversary of `anchor` after `moment`."""
    year = 365 * DAY
    return anchor + year * ((moment - anchor) // year + 1)


def _open_complaint(h: SaasHistory, customer: np.ndarray, moment: int) -> np.ndarray:
    """Whether each customer had a complaint open at `moment`."""
    open_now = (h.ticket_opened <= moment) & (h.ticket_closed > moment)
    if not open_now.any():  # the usual case, and np.isin sorts even when empty
        return np.zeros(len(customer), dtype=bool)
    return np.isin(customer, h.ticket_customer[open_now])


def profile(ratio: float, growth: float = 0.0, **flags: bool) -> np.ndarray:
    """The feature row of a subscriber at usage `ratio` (log `growth`), flags as given.

    Why: with the usage ratio entering as a curve, no single coefficient is "the effect
    of being at 90 %"; comparing the model's odds at two profiles is (see `usage_odds`).
    """
    row = np.zeros(len(FEATURES))
    ahead = ratio * np.exp(np.clip(growth, 0.0, 1.0))
    band = int(np.searchsorted(BANDS, ratio, side="right"))
    row[:6] = [min(ratio, 1.5), min(ahead, 1.5), band == 1, band == 2, band == 3, growth]
    knots = np.array(KNOTS)
    row[11 : 11 + len(KNOTS)] = np.maximum(0.0, min(ratio, 1.5) - knots)
    row[11 + len(KNOTS) : 11 + 2 * len(KNOTS)] = np.maximum(0.0, min(ahead, 1.5) - knots)
    names = {
        "renewal": "annual renewal within 90 days",
        "complaint": "open complaint",
        "tenured": "tenure over 12 months",
        "loyal": "loyal shop customer",
        "annual": "annual billing",
    }
    for flag, on in flags.items():
        row[FEATURES.index(names[flag])] = float(on)
    return row
