"""Seeded synthetic purchase histories whose right answers are known."""

import numpy as np
import pytest

from models.engine import Items
from models.history import History

DAY = 86_400
T0 = 1_700_000_000


def history_from(baskets: list[tuple[int, list[int]]], n_customers: int, n_items: int) -> History:
    """One order per (customer, items) pair, a day apart; customer -1 is anonymous."""
    customer, item, order, time = [], [], [], []
    for number, (who, items) in enumerate(baskets):
        customer += [who] * len(items)
        item += items
        order += [number] * len(items)
        time += [T0 + number * DAY] * len(items)
    return History(
        np.array(customer, dtype=np.int32),
        np.array(item, dtype=np.int32),
        np.array(order, dtype=np.int32),
        np.array(time, dtype=np.int64),
        n_customers,
        n_items,
    )


BLOCKS, BLOCK_ITEMS, PER_BLOCK = 4, 8, 40


@pytest.fixture(scope="session")
def blocks() -> tuple[History, Items, dict[int, int]]:
    """4 blocks of 8 items; each customer buys their block (one random extra item).

    The last customer of each block misses one item of it: that withheld item is the
    right first answer for them. Returns the history, item facts and {customer: item}.
    """
    rng = np.random.default_rng(42)
    n_items = BLOCKS * BLOCK_ITEMS
    baskets: list[tuple[int, list[int]]] = []
    withheld = {}
    for block in range(BLOCKS):
        own = list(range(block * BLOCK_ITEMS, (block + 1) * BLOCK_ITEMS))
        for n in range(PER_BLOCK):
            who = block * PER_BLOCK + n
            noise = int(rng.integers(n_items))
            items = [*own, noise] if noise not in own else own
            if n == PER_BLOCK - 1:
                missing = int(rng.choice(own))
                withheld[who] = missing
                items = [i for i in items if i != missing]
            baskets += [(who, items[: len(items) // 2]), (who, items[len(items) // 2 :])]
    baskets = [baskets[i] for i in rng.permutation(len(baskets))]  # blocks span the same time
    names = [f"product {i}" for i in range(n_items)]
    items = Items(names, np.full(n_items, -1, np.int32), np.zeros(n_items, bool))
    return history_from(baskets, BLOCKS * PER_BLOCK, n_items), items, withheld
