"""Repurchase cycles: items a customer buys again on a regular rhythm come back when due.

Why per customer and per item: coffee beans last one household three weeks and an
office three days, so a customer's own intervals decide once there are two of them;
before that, the item's typical interval over all customers does, if it has one.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from models.history import History

DAY = 86_400
DUE_EARLY = 0.15  # a cycle item is due from 85 % of its cycle after the last purchase
LAPSED = 1.0  # ...until one more cycle has passed: then the habit is gone


@dataclass(frozen=True)
class Cycles:
    """Per (customer, item) pair with a cycle, sorted by customer then item.

    `cycle` is the expected days between purchases and `last` the last purchase
    (seconds). `item_cycle` is each item's typical interval in days (0: not repeated
    regularly), used for a customer who has bought an item only once, or after training.
    """

    customer: np.ndarray  # int32
    item: np.ndarray  # int32
    cycle: np.ndarray  # float32 days
    last: np.ndarray  # int64 seconds
    count: np.ndarray  # int32 purchase days
    item_cycle: np.ndarray  # float32 days per catalog item

    def of(self, customer: int) -> slice:
        """The rows of one customer."""
        starts = self.starts
        if customer + 1 >= len(starts):  # after the last customer with a cycle
            return slice(len(self.customer), len(self.customer))
        return slice(int(starts[customer]), int(starts[customer + 1]))

    @cached_property
    def starts(self) -> np.ndarray:
        """Each customer's first row, up to the last customer with a cycle and one past:
        a request reads two numbers instead of searching."""
        last = int(self.customer[-1]) + 2 if len(self.customer) else 1
        result: np.ndarray = np.searchsorted(self.customer, np.arange(last))
        return result


@dataclass(frozen=True)
class Windows:
    """Per cycle row: due (seconds), and the span around it in which it is offered."""

    due: np.ndarray  # int64
    opens: np.ndarray  # float64
    closes: np.ndarray  # float64


def due_windows(last: np.ndarray, cycle: np.ndarray, early: float, lapsed: float) -> Windows:
    """Due one cycle after `last`; offered from `early` of a cycle before that until
    `lapsed` cycles after (then the habit is gone)."""
    due = last + (cycle * DAY).astype(np.int64)
    window = cycle * DAY
    return Windows(due, due - early * window, due + lapsed * window)


def due_now(items: np.ndarray, windows: Windows, allowed: np.ndarray, now: int) -> np.ndarray:
    """The rows whose window is open at `now` and whose item is allowed, the most
    overdue first."""
    if not len(items):
        return np.empty(0, dtype=np.int64)
    is_due = (now >= windows.opens) & (now <= windows.closes)
    is_due &= allowed[items]
    if not is_due.any():  # the usual answer: skip the sort
        return np.empty(0, dtype=np.int64)
    order = np.argsort(windows.due[is_due], kind="stable")
    result: np.ndarray = np.flatnonzero(is_due)[order]
    return result


def with_purchases_since(
    items: np.ndarray,
    cycle: np.ndarray,
    last: np.ndarray,
    item_cycle: np.ndarray,
    bought: np.ndarray,
    when: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A customer's cycle rows (item, cycle, last) with the purchases made since
    training (`bought` items at `when`): a newer `last` for an item with a row, and a
    new row for an item that has a typical cycle (`item_cycle` > 0)."""
    items, cycle, last = items.copy(), cycle.copy(), last.copy()
    position = {int(i): n for n, i in enumerate(items)}
    newest: dict[int, int] = {}
    for item, at in zip(bought.tolist(), when.tolist(), strict=True):
        newest[item] = max(newest.get(item, at), at)
    extra = []
    for item, at in newest.items():
        if item in position:
            last[position[item]] = max(last[position[item]], at)
        elif item_cycle[item] > 0:
            extra.append((item, float(item_cycle[item]), at))
    if extra:
        more = np.array(extra, dtype=np.float64)
        items = np.r_[items, more[:, 0].astype(items.dtype)]
        cycle = np.r_[cycle, more[:, 1].astype(cycle.dtype)]
        last = np.r_[last, more[:, 2].astype(last.dtype)]
    return items, cycle, last


def fit_cycles(
    history: History,
    max_spread: float = 0.5,
    min_item_intervals: int = 10,
    min_days: float = 2.0,
    only: np.ndarray | None = None,
) -> Cycles:
    """Median interval of each pair bought on 3+ distinct days, when regular enough.

    Regular means the intervals' interquartile range is at most `max_spread` x the
    median: a rhythm, not two random re-buys. Purchases on one day count once. `only`
    (a mask over items) limits cycles to items the shop declared consumable.
    """
    known = history.known
    if only is not None:
        known = known.select(only[known.item])
    if not len(known):
        empty = np.zeros(0, np.int32)
        no_cycle = np.zeros(history.n_items, np.float32)
        return Cycles(
            empty, empty, empty.astype(np.float32), empty.astype(np.int64), empty, no_cycle
        )
    key, times = _purchase_days(known)
    same_pair = (key[1:, 0] == key[:-1, 0]) & (key[1:, 1] == key[:-1, 1])
    gaps = np.where(same_pair, (times[1:] - times[:-1]) / DAY, np.nan)
    pair_start = np.flatnonzero(np.r_[True, ~same_pair])
    pair_of_gap = np.cumsum(np.r_[True, ~same_pair])[1:] - 1
    valid = same_pair & (gaps >= min_days)
    n_pairs = len(pair_start)
    counts = np.bincount(pair_of_gap[valid], minlength=n_pairs)
    median, spread = _grouped_median_spread(pair_of_gap[valid], gaps[valid], n_pairs)
    regular = (counts >= 2) & (spread <= max_spread * median)
    item_cycle = _item_cycles(
        key[pair_start, 1], median, counts, history.n_items, min_item_intervals
    )
    pair_end = np.r_[pair_start[1:], len(key)] - 1
    once = item_cycle[key[pair_start, 1]] > 0
    keep = regular | once
    cycle = np.where(regular, median, item_cycle[key[pair_start, 1]])
    return Cycles(
        key[pair_start, 0][keep].astype(np.int32),
        key[pair_start, 1][keep].astype(np.int32),
        cycle[keep].astype(np.float32),
        times[pair_end][keep].astype(np.int64),
        (counts + 1)[keep].astype(np.int32),
        item_cycle,
    )


def _purchase_days(history: History) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (customer, item, day) rows, sorted, and the first purchase time of each.

    One int64 key per line (customer, item, day packed together) sorts much faster
    than rows of three columns, and sorting that key alone, then taking each run's
    earliest time, is three times faster than sorting by key and time.
    """
    day = history.time // DAY
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    pair = history.customer.astype(np.int64) * history.n_items + history.item
    packed = pair * span + (day - first_day)
    order = np.argsort(packed)
    packed = packed[order]
    first = np.flatnonzero(np.r_[True, packed[1:] != packed[:-1]])
    packed, times = packed[first], np.minimum.reduceat(history.time[order], first)
    pairs = packed // span
    key = np.stack([pairs // history.n_items, pairs % history.n_items, packed % span], axis=1)
    return key, times


def _grouped_median_spread(
    group: np.ndarray, values: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Median and interquartile range of `values` per group (NaN for empty groups)."""
    order = np.lexsort((values, group))
    group, values = group[order], values[order]
    start = np.searchsorted(group, np.arange(n))
    size = np.bincount(group, minlength=n)
    median = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    has = size > 0
    last = start + size - 1

    def quantile(q: float) -> np.ndarray:
        pos = start[has] + q * (size[has] - 1)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, last[has])
        result: np.ndarray = values[low] + (values[high] - values[low]) * (pos - low)
        return result

    median[has] = quantile(0.5)
    spread[has] = quantile(0.75) - quantile(0.25)
    return median, spread


def _item_cycles(
    pair_item: np.ndarray, median: np.ndarray, counts: np.ndarray, n_items: int, minimum: int
) -> np.ndarray:
    """Each item's median over its customers' median intervals, if enough customers repeat it."""
    has = counts > 0
    item_median, _ = _grouped_median_spread(pair_item[has], median[has], n_items)
    repeaters = np.bincount(pair_item[has], minlength=n_items)
    return np.where(repeaters >= minimum, np.nan_to_num(item_median), 0.0).astype(np.float32)
