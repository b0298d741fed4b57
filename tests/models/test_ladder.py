"""The plan ladder's target tier: the lowest plan that covers projected usage, within reach."""

import numpy as np
import pytest

from models.ladder import NO_PLAN, OVER_CAP, TOP_TIER, Ladder, project, target_plans

INF = np.inf
# The demo ladder (seats, storage GB): Lite 9, Standard 29, Pro 79, Enterprise 249,
# plus a second family ("storage add-on") that must never mix with the first.
LADDER = Ladder(
    ladder=np.array([0, 0, 0, 0, 1, 1], dtype=np.int32),
    rank=np.array([1, 2, 3, 4, 1, 2], dtype=np.int32),
    monthly=np.array([9.0, 29.0, 79.0, 249.0, 5.0, 10.0]),
    limits=np.array(
        [
            [3, 10],
            [10, 100],
            [25, 500],
            [100, 2000],
            [INF, 50],
            [INF, 500],
        ],
        dtype=float,
    ),
    metrics=["seats", "storage_gb"],
)
LITE, STANDARD, PRO, ENTERPRISE, ADDON_S, ADDON_L = range(6)


def targets(plan: list[int], usage: list[list[float]], cap: float = 4.0) -> list[int]:
    target, _ = target_plans(LADDER, np.array(plan), np.array(usage, dtype=float), cap)
    return target.tolist()


def test_lowest_plan_that_covers_the_projected_usage() -> None:
    # 9 seats on Lite: Standard (10 seats) covers them; Pro would be more than needed.
    assert targets([LITE], [[9, 5]]) == [STANDARD]


def test_usage_two_steps_up_skips_a_level() -> None:
    # 20 seats on Standard: Pro covers them. 60 seats on Standard: only Enterprise does,
    # but Enterprise is 8.6x Standard's price, over the 4x cap: nothing is offered.
    target, why = target_plans(LADDER, np.array([STANDARD, STANDARD]), np.array([[20, 5], [60, 5]]))
    assert target.tolist() == [PRO, -1]
    assert why.tolist() == [0, OVER_CAP]
    # With a looser cap the skip-level plan is offered.
    assert targets([STANDARD], [[60, 5]], cap=10.0) == [ENTERPRISE]


def test_skip_level_when_one_step_is_not_enough() -> None:
    # 12 seats on Lite: Standard's 10 seats would overflow at once; Pro (8.8x Lite) is over
    # the default cap, and within a cap of 9 it is the target.
    assert targets([LITE], [[12, 5]]) == [-1]
    assert targets([LITE], [[12, 5]], cap=9.0) == [PRO]


def test_any_metric_can_force_the_step() -> None:
    # Seats fit Standard but storage (300 GB) needs Pro.
    assert targets([STANDARD], [[8, 300]]) == [PRO]


def test_top_tier_and_no_plan_have_no_target() -> None:
    target, why = target_plans(LADDER, np.array([ENTERPRISE, -1]), np.array([[150, 1], [5, 5]]))
    assert target.tolist() == [-1, -1]
    assert why.tolist() == [TOP_TIER, NO_PLAN]


def test_beyond_every_limit_goes_to_the_top_of_its_own_ladder() -> None:
    # The add-on family: 900 GB is over every add-on limit; the top add-on, never a workspace plan.
    assert targets([ADDON_S], [[0, 900]]) == [ADDON_L]
    assert targets([PRO], [[500, 9000]]) == [ENTERPRISE]


def test_unmeasured_metrics_constrain_nothing() -> None:
    assert targets([LITE], [[np.nan, 50]]) == [STANDARD]


def test_free_plan_has_no_price_cap() -> None:
    free = Ladder(
        ladder=np.array([0, 0], dtype=np.int32),
        rank=np.array([0, 1], dtype=np.int32),
        monthly=np.array([0.0, 49.0]),
        limits=np.array([[1.0], [10.0]]),
        metrics=["seats"],
    )
    target, _ = target_plans(free, np.array([0]), np.array([[1.0]]))
    assert target.tolist() == [1]


def test_projection_follows_growth_and_never_shrinks() -> None:
    now = np.array([[9.0, 10.0, 4.0, np.nan]])
    before = np.array([[6.0, 20.0, 0.0, 3.0]])
    # Seats grew 1.5x in 3 months: 6 months ahead is 1.5^2 x 9.
    projected = project(now, before, months_between=3, months_ahead=6)
    assert projected[0, 0] == pytest.approx(9 * 1.5**2)
    assert projected[0, 1] == 10.0  # shrinking usage stays flat
    assert projected[0, 2] == 4.0  # no earlier reading: flat
    assert np.isnan(projected[0, 3])  # no reading now: unknown


def test_a_catalog_without_plans_has_no_targets() -> None:
    empty = Ladder(
        ladder=np.zeros(0, dtype=np.int32),
        rank=np.zeros(0, dtype=np.int32),
        monthly=np.zeros(0),
        limits=np.zeros((0, 0)),
        metrics=[],
    )
    target, why = target_plans(empty, np.array([-1, -1]), np.zeros((2, 0)))
    assert target.tolist() == [-1, -1] and why.tolist() == [NO_PLAN, NO_PLAN]
