"""Repurchase cycles: regular rhythms found, irregular re-buys ignored."""

import numpy as np
import pytest

from models.history import History
from models.replenish import DAY, fit_cycles


def lines(
    purchases: list[tuple[int, int, float]], n_customers: int = 3, n_items: int = 3
) -> History:
    """(customer, item, day) triples, one order each."""
    customer, item, day = (np.array(x) for x in zip(*purchases, strict=True))
    n = len(purchases)
    return History(
        customer.astype(np.int32),
        item.astype(np.int32),
        np.arange(n, dtype=np.int32),
        (1_700_000_000 + day * DAY).astype(np.int64),
        n_customers,
        n_items,
    )


def test_a_regular_rhythm_gives_its_cycle_and_last_purchase() -> None:
    every_30 = [(0, 1, d) for d in (0, 30, 61, 90, 121)]
    random = [(1, 1, d) for d in (0, 3, 90, 95)]
    cycles = fit_cycles(lines(every_30 + random))
    assert cycles.customer.tolist() == [0]
    assert cycles.cycle[0] == pytest.approx(30.5, abs=0.6)
    assert cycles.last[0] == 1_700_000_000 + 121 * DAY
    assert cycles.count[0] == 5


def test_purchases_on_one_day_count_once() -> None:
    same_day = [(0, 2, d) for d in (0, 0.1, 0.2, 20, 40, 60)]
    cycles = fit_cycles(lines(same_day))
    assert cycles.cycle.tolist() == pytest.approx([20.0], abs=0.2)


def test_an_item_bought_regularly_by_many_has_a_typical_cycle_for_one_time_buyers() -> None:
    regular = [(c, 0, c + d) for c in range(12) for d in (0, 14, 28)]
    once = [(12, 0, 5.0)]
    cycles = fit_cycles(lines(regular + once, n_customers=13, n_items=1))
    assert cycles.item_cycle[0] == pytest.approx(14.0)
    row = cycles.of(12)
    assert cycles.cycle[row].tolist() == pytest.approx([14.0])


def test_only_items_declared_consumable_get_cycles_when_the_shop_declares_any() -> None:
    every_30 = [(0, 1, d) for d in (0, 30, 60, 90)] + [(0, 2, d) for d in (0, 30, 60, 90)]
    consumable = np.array([False, False, True])
    cycles = fit_cycles(lines(every_30), only=consumable)
    assert cycles.item.tolist() == [2]
