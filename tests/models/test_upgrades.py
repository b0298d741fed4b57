"""Subscriber state at a moment, rebuilt from history: only what was known then counts."""

import numpy as np

from models.ladder import Ladder
from models.upgrades import DAY, FEATURES, NEVER, SaasHistory, snapshot, upgrades_after

LADDER = Ladder(
    ladder=np.zeros(3, dtype=np.int32),
    rank=np.array([1, 2, 3], dtype=np.int32),
    monthly=np.array([9.0, 29.0, 79.0]),
    limits=np.array([[3.0], [10.0], [25.0]]),
    metrics=["seats"],
)
T = 400 * DAY  # the moment looked at


def history() -> SaasHistory:
    """Customer 0: Lite, 2 then 3 seats, an open complaint, upgrades 20 days after T.
    Customer 1: Standard since day 10, 5 seats, upgraded on day 200 (before T).
    Customer 2: still in its trial at T. Customer 3: cancelled before T."""
    a = np.array
    return SaasHistory(
        sub_customer=a([0, 1, 2, 3]),
        sub_started=a([0, 0, T - 5 * DAY, 0]),
        sub_ended=a([NEVER, NEVER, NEVER, T - DAY]),
        sub_annual=a([True, False, False, False]),
        sub_renews=a([T + 760 * DAY, T + 20 * DAY, T + 9 * DAY, 0]),  # 0: next anniversary T+30
        change_customer=a([0, 0, 1, 1, 2, 3]),
        change_plan=a([0, 1, 0, 1, 0, 0]),
        change_at=a([0, T + 20 * DAY, 10 * DAY, 200 * DAY, T - 5 * DAY, 0]),
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
