"""Subscriber state at a moment, rebuilt from history: only what was known then counts."""

import dataclasses
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ladder import Ladder
from models.upgrades import (
    DAY,
    FEATURES,
    NEVER,
    SaasHistory,
    one_state,
    pressure,
    pressure_of_one,
    snapshot,
    state,
    upgrades_after,
)

LADDER = Ladder(
    ladder=np.zeros(3, dtype=np.int32),
    rank=np.array([1, 2, 3], dtype=np.int32),
    monthly=np.array([9.0, 29.0, 79.0]),
    limits=np.array([[3.0], [10.0], [25.0]]),
    metrics=["seats"],
)
T = 400 * DAY  # the moment looked at


def history() -> SaasHistory:
    """Customer 0: Lite, 2 then 3 seats, an open complaint, annual since day 65 (next
    anniversary T+30), upgrades 20 days after T. Customer 1: Standard since day 10, 5
    seats, upgraded on day 200 (before T). Customer 2: still in its trial at T.
    Customer 3: cancelled before T."""
    a = np.array
    return SaasHistory(
        sub_customer=a([0, 1, 2, 3]),
        sub_plan=a([1, 1, 0, 0]),
        sub_started=a([0, 0, T - 5 * DAY, 0]),
        sub_ended=a([NEVER, NEVER, NEVER, T - DAY]),
        sub_annual=a([True, False, False, False]),
        change_customer=a([0, 0, 0, 1, 1, 2, 3]),
        change_from=a([-1, 0, 0, -1, 0, -1, -1]),
        change_plan=a([0, 0, 1, 0, 1, 0, 0]),
        change_annual=a([0, 1, -1, -1, -1, -1, -1]),
        change_at=a([0, 65 * DAY, T + 20 * DAY, 10 * DAY, 200 * DAY, T - 5 * DAY, 0]),
        usage_customer=a([0, 0, 0, 1]),
        usage_metric=a([0, 0, 0, 0]),
        usage_value=a([2.0, 3.0, 9.0, 5.0]),
        usage_at=a([T - 100 * DAY, T - 10 * DAY, T + DAY, T - DAY]),
        ticket_customer=a([0, 1]),
        ticket_opened=a([T - 3 * DAY, T - 50 * DAY]),
        ticket_closed=a([NEVER, T - 40 * DAY]),
        loyal=a([False, True, False, False]),
    )


def feature(snap: object, name: str) -> list[float]:
    return snap.features[:, FEATURES.index(name)].tolist()  # type: ignore[attr-defined]


def test_state_at_a_moment_uses_only_what_was_known_then() -> None:
    snap = snapshot(history(), LADDER, T)
    assert snap.customer.tolist() == [0, 1]  # not the trial, not the cancelled one
    assert snap.plan.tolist() == [0, 1]  # the upgrade after T does not count yet
    assert snap.usage[:, 0].tolist() == [3.0, 5.0]  # the reading after T is unknown
    assert snap.before[0, 0] == 2.0 and np.isnan(snap.before[1, 0])
    assert feature(snap, "highest usage / limit") == [1.0, 0.5]
    assert feature(snap, "usage 95%+ of a limit") == [1.0, 0.0]
    assert feature(snap, "usage growth over 90 days (log)")[0] == np.log(1.5)
    assert feature(snap, "open complaint") == [1.0, 0.0]  # customer 1's closed long ago
    assert feature(snap, "annual renewal within 90 days") == [1.0, 0.0]  # anniversary T+30
    assert feature(snap, "tenure over 12 months") == [1.0, 1.0]
    assert feature(snap, "loyal shop customer") == [0.0, 1.0]


def test_upgrades_are_counted_within_the_horizon_only() -> None:
    h = history()
    snap = snapshot(h, LADDER, T)
    upgraded, to = upgrades_after(h, LADDER, snap, horizon_days=90)
    assert upgraded.tolist() == [True, False]
    assert to.tolist() == [1, -1]
    upgraded, _ = upgrades_after(h, LADDER, snap, horizon_days=10)
    assert upgraded.tolist() == [False, False]


Case = tuple[Ladder, int, list[tuple[int, float, int]], dict[str, Any]]


@st.composite
def one_subscriber(draw: st.DrawFn) -> Case:
    """A ladder of 0-3 metrics (some without a limit, some with a limit of 0), one
    subscriber on one of its plans, readings around the moment T (some after it, some of
    them zero, some exactly at T, at T - 90 days or on a band edge), and its facts."""
    metrics = draw(st.integers(0, 3))
    limit = st.one_of(st.sampled_from([np.inf, 10.0, 0.0]), st.floats(1.0, 500.0))
    limits = np.array([[draw(limit) for _ in range(metrics)] for _ in range(3)]).reshape(3, -1)
    ladder = Ladder(
        LADDER.ladder, LADDER.rank, LADDER.monthly, limits, [f"m{m}" for m in range(metrics)]
    )
    edges = [T, T - 90 * DAY, T - 210 * DAY, T - 210 * DAY + 1]  # the trend, the reading floor
    times = st.one_of(st.sampled_from(edges), st.integers(T - 400 * DAY, T + 5 * DAY))
    keys = (
        draw(st.sets(st.tuples(st.integers(0, metrics - 1), times), max_size=12))
        if metrics
        else set()
    )
    value = st.one_of(st.sampled_from([0.0, 6.0, 8.0, 9.5]), st.floats(0.001, 1e6))
    readings = [(m, draw(value), at) for m, at in keys]
    started = draw(st.one_of(st.just(T - 365 * DAY), st.integers(T - 800 * DAY, T)))
    switched = draw(st.one_of(st.just(T - 275 * DAY), st.integers(T - 900 * DAY, T)))
    renews = max(started, switched)  # the annual term starts at the switch, or the start
    facts = {
        "started": started,
        "renews": renews,
        "annual": draw(st.booleans()),
        "complaint": draw(st.booleans()),
        "loyal": draw(st.booleans()),
        "trouble": draw(st.booleans()),
    }
    return ladder, draw(st.integers(0, 2)), readings, facts


@settings(max_examples=400, deadline=None)
@given(one_subscriber())
def test_one_subscribers_state_is_the_state_training_builds(case: Case) -> None:
    """The serving path's one-row state gives the numbers of the vectorised `state`."""
    ladder, plan, readings, facts = case
    rows = sorted(readings, key=lambda r: (r[0], r[2]))
    a = np.array
    complaint = int(facts["complaint"])
    history = SaasHistory(
        sub_customer=a([0]),
        sub_plan=a([plan]),
        sub_started=a([facts["started"]]),
        sub_ended=a([NEVER]),
        sub_annual=a([facts["annual"]]),
        change_customer=a([0]),
        change_from=a([-1]),
        change_plan=a([plan]),
        change_annual=a([int(facts["annual"])]),
        change_at=a([facts["renews"]]),  # the annual term starts here (or at the start)
        usage_customer=np.zeros(len(rows), dtype=np.int64),
        usage_metric=a([r[0] for r in rows], dtype=np.int64),
        usage_value=a([r[1] for r in rows], dtype=np.float64),
        usage_at=a([r[2] for r in rows], dtype=np.int64),
        ticket_customer=np.zeros(complaint, dtype=np.int64),
        ticket_opened=np.full(complaint, T - DAY),
        ticket_closed=np.full(complaint, NEVER),
        loyal=a([facts["loyal"]]),
        # a billing ticket 40 days back (too old to count), and one 10 days back or none
        trouble_customer=np.zeros(1 + facts["trouble"], np.int64),
        trouble_at=a([T - 40 * DAY, T - 10 * DAY][: 1 + facts["trouble"]]),
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # a limit of 0 divides by 0
        snap = state(history, ladder, a([0]), a([plan]), T)
        usage, before, features = one_state(ladder, plan, readings, at=T, **facts)
        top, growth = pressure(snap.usage, snap.before, ladder.limits[[plan]])
        assert pressure_of_one(usage, before, ladder.limits[plan]) == (top[0], growth[0])
    np.testing.assert_array_equal(usage, snap.usage[0])
    np.testing.assert_array_equal(before, snap.before[0])
    np.testing.assert_array_equal(features, snap.features[0])
    assert usage.dtype == before.dtype == features.dtype == np.float64


def test_a_billing_switch_before_an_upgrade_does_not_hide_it() -> None:
    """Customer 0 switches Lite to annual 5 days after T, then upgrades on day T+20."""
    h = history()
    at = np.append(h.change_at, T + 5 * DAY)
    order = np.lexsort((at, np.append(h.change_customer, 0)))
    switched = dataclasses.replace(
        h,
        change_customer=np.append(h.change_customer, 0)[order],
        change_from=np.append(h.change_from, 0)[order],
        change_plan=np.append(h.change_plan, 0)[order],
        change_annual=np.append(h.change_annual, 1)[order],
        change_at=at[order],
    )
    snap = snapshot(switched, LADDER, T)
    upgraded, to = upgrades_after(switched, LADDER, snap, horizon_days=90)
    assert upgraded.tolist() == [True, False] and to.tolist() == [1, -1]
