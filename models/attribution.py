"""Last-touch attribution: which offer event, if any, a purchase or plan change is owed to.

A conversion (a customer buying an item, or moving to a plan) belongs to the latest
impression or acceptance of an offer of that item or plan, shown to the same customer
at most `window` seconds before it. One conversion, at most one event: a purchase
offered twice (a cross-sell and a bundle) is counted once, for the offer the customer
saw last. Why last touch: it is the rule a sales team can check by hand, and the
holdout comparison, not attribution, is what says whether offers added anything.
"""

import numpy as np

NONE = -1


def expand_touches(
    touch_offer: np.ndarray, pair_offer: np.ndarray, pair_target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each touch once per target of its offer: (touch position, target) pairs.

    `pair_offer`/`pair_target` list what each offer points at (a bundle has several
    items); a touch of an offer without targets disappears.
    """
    order = np.argsort(pair_offer, kind="stable")
    offers, targets = pair_offer[order], pair_target[order]
    low = np.searchsorted(offers, touch_offer, side="left")
    counts = np.searchsorted(offers, touch_offer, side="right") - low
    position = np.repeat(np.arange(len(touch_offer)), counts)
    starts = np.repeat(low - (np.cumsum(counts) - counts), counts)
    return position, targets[starts + np.arange(len(position))]


def last_touch(
    conversion: tuple[np.ndarray, np.ndarray, np.ndarray],
    touch: tuple[np.ndarray, np.ndarray, np.ndarray],
    window: int,
) -> np.ndarray:
    """For each conversion (customer, target, time): the position of the latest touch
    (customer, target, time) of the same customer and target at most `window` seconds
    earlier, or NONE.

    One sort and one binary search: touches are ordered by (customer, target, time),
    and each conversion looks up the last touch at or before its own key and time.
    """
    n = len(conversion[0])
    if not n or not len(touch[0]):
        return np.full(n, NONE, dtype=np.int64)
    keys = np.concatenate([np.stack(conversion[:2], axis=1), np.stack(touch[:2], axis=1)])
    _, rank = np.unique(keys, axis=0, return_inverse=True)
    rank = rank.reshape(-1).astype(np.int64)
    c_rank, t_rank = rank[:n], rank[n:]
    c_time, t_time = conversion[2].astype(np.int64), touch[2].astype(np.int64)
    base = min(int(c_time.min()), int(t_time.min()))
    span = max(int(c_time.max()), int(t_time.max())) - base + 1
    t_key = t_rank * span + (t_time - base)  # (customer, target) first, then time
    order = np.argsort(t_key, kind="stable")
    found = np.searchsorted(t_key[order], c_rank * span + (c_time - base), side="right") - 1
    best = order[np.maximum(found, 0)]
    ok = (found >= 0) & (t_rank[best] == c_rank) & (c_time - t_time[best] <= window)
    return np.where(ok, best, NONE).astype(np.int64)
