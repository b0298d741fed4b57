"""Premium alternatives: the better version of an item, of the same kind, a step dearer.

Why a price band: an upsell a customer says yes to is a step up, not a leap, and a
cheaper item is no upsell at all; candidates cost `low` to `high` times the item's
price (1.1 to 2.5 by default). Why the same group: a dearer clock is no upgrade of a
candle holder, and a six-pack is a bigger quantity, not a better product, so where
pack sizes are known only items of the same pack size compare (`groups`).

Why two signals in the ranking: the cosine of the items' ALS factors says the
candidate is bought by customers like this item's buyers, so it fits their taste;
its buyers relative to the group's most bought item say it is a choice customers
actually make. Each alone ranks worse than the blend on Online Retail (README,
"Premium alternatives"), and popularity matters more, hence the weights.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

SIMILARITY = 0.25  # weight of the cosine; the rest goes to `appeal` (measured, README)
CHUNK = 256  # rows per block when choosing every item's best alternative at once


@dataclass(frozen=True)
class Band:
    """Prices a premium alternative may have, as multiples of the item's price."""

    low: float = 1.1
    high: float = 2.5


@dataclass(frozen=True)
class Premium:
    """Per-item facts the choice needs; `group` -1 means the item has no kind."""

    group: np.ndarray  # int32 per item: kind (and pack size) index, -1 for none
    price: np.ndarray  # float64 per item, NaN where unknown
    unit: np.ndarray  # float32 items x factors: ALS item factors scaled to length 1 (or 0)
    buyers: np.ndarray  # int per item: distinct customers who bought it
    group_buyers: np.ndarray  # int per group: distinct customers who bought any of its items
    similarity: float = SIMILARITY

    def alternatives(
        self, item: int, band: Band, allowed: np.ndarray, limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(items, scores) of the best `limit` alternatives of `item`, best first."""
        candidates = self.candidates(item, band, allowed)
        scores = self.scores(item, candidates)
        order = np.lexsort((candidates, -scores))[:limit]
        return candidates[order], scores[order]

    def candidates(self, item: int, band: Band, allowed: np.ndarray) -> np.ndarray:
        """Allowed items of the item's group priced within the band above it."""
        group, price = int(self.group[item]), float(self.price[item])
        if group < 0 or not price > 0:
            return np.empty(0, dtype=np.int64)
        start, end = self._bounds[group], self._bounds[group + 1]
        prices = self._sorted_price[start:end]
        first = np.searchsorted(prices, band.low * price, side="left")
        last = np.searchsorted(prices, band.high * price, side="right")
        members = self._by_group[start + first : start + last]
        members = members[allowed[members] & (self.price[members] > price)]
        result: np.ndarray = members.astype(np.int64)
        return result

    def scores(self, item: int, candidates: np.ndarray) -> np.ndarray:
        """The blend of cosine and share of the group's buyers, for `item`'s candidates."""
        cosine = self.unit[candidates] @ self.unit[item]
        appeal = self.appeal[candidates]
        result: np.ndarray = self.similarity * cosine + (1 - self.similarity) * appeal
        return result.astype(np.float64)

    def share(self, item: int) -> float:
        """Share of the item's group's buyers who bought it."""
        group = int(self.group[item])
        total = int(self.group_buyers[group]) if group >= 0 else 0
        return float(self.buyers[item]) / total if total else 0.0

    def best(self, band: Band, allowed: np.ndarray) -> np.ndarray:
        """Every item's best alternative (int64, -1 for none), a group at a time.

        For the hot cross-sell route: chosen once when a model loads, so offering the
        better version of a due item costs one array lookup per request.
        """
        best = np.full(len(self.group), -1, dtype=np.int64)
        for group in range(len(self._bounds) - 1):
            members = self._by_group[self._bounds[group] : self._bounds[group + 1]]
            if len(members) > 1:
                best[members] = self._best_among(members, band, allowed)
        return best

    def _best_among(self, members: np.ndarray, band: Band, allowed: np.ndarray) -> np.ndarray:
        """Best alternative of each of `members` (one group, sorted by price) among them."""
        prices = self.price[members]
        first = np.searchsorted(prices, band.low * prices, side="left")
        last = np.searchsorted(prices, band.high * prices, side="right")
        open_ = allowed[members]
        appeal = (1 - self.similarity) * self.appeal[members]
        best = np.full(len(members), -1, dtype=np.int64)
        for start in range(0, len(members), CHUNK):
            rows = np.arange(start, min(start + CHUNK, len(members)))
            low, high = int(first[rows].min()), int(last[rows].max())
            if high <= low:
                continue
            cols = np.arange(low, high)
            inside = (cols >= first[rows, None]) & (cols < last[rows, None])
            inside &= open_[cols] & (prices[cols] > prices[rows, None])
            cosine = self.unit[members[rows]] @ self.unit[members[cols]].T
            scores = np.where(inside, self.similarity * cosine + appeal[cols], -np.inf)
            pick = scores.argmax(axis=1)
            found = inside.any(axis=1)
            best[rows[found]] = members[cols[pick[found]]]
        return best

    @cached_property
    def appeal(self) -> np.ndarray:
        """Buyers of each item relative to the most bought item of its group (0 to 1)."""
        has = self.group >= 0
        most = np.zeros(len(self.group_buyers), dtype=np.float64)
        np.maximum.at(most, self.group[has], self.buyers[has].astype(np.float64))
        top = np.where(has, most[np.maximum(self.group, 0)], 0.0)
        return np.where(top > 0, self.buyers / np.maximum(top, 1.0), 0.0)

    @cached_property
    def _by_group(self) -> np.ndarray:
        """Priced items with a group, ordered by group, then price (then index)."""
        priced = np.flatnonzero((self.group >= 0) & (self.price > 0))
        order = np.lexsort((priced, self.price[priced], self.group[priced]))
        result: np.ndarray = priced[order]
        return result

    @cached_property
    def _sorted_price(self) -> np.ndarray:
        result: np.ndarray = self.price[self._by_group]
        return result

    @cached_property
    def _bounds(self) -> np.ndarray:
        """Where each group starts in `_by_group` (one more entry than there are groups)."""
        counts = np.bincount(self.group[self._by_group], minlength=len(self.group_buyers))
        result: np.ndarray = np.r_[0, np.cumsum(counts)]
        return result


def groups(kind: np.ndarray, pack: np.ndarray) -> tuple[np.ndarray, int]:
    """(group per item, number of groups): one group per (kind, pack size); -1 without kind."""
    has = kind >= 0
    keys = np.stack([kind[has], pack[has]])
    if not has.any():
        return np.full(len(kind), -1, dtype=np.int32), 0
    distinct, inverse = np.unique(keys, axis=1, return_inverse=True)
    group = np.full(len(kind), -1, dtype=np.int32)
    group[has] = inverse.ravel()
    return group, distinct.shape[1]


def group_buyers(owned: sp.csr_matrix, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Distinct customers (rows of `owned`) who bought any item of each group."""
    items = np.flatnonzero(group >= 0)
    if not n_groups or not len(items):
        return np.zeros(n_groups, dtype=np.int64)
    to_group = sp.csr_matrix(
        (np.ones(len(items), dtype=np.float32), (items, group[items])),
        shape=(owned.shape[1], n_groups),
    )
    bought = (owned @ to_group).tocsr()
    bought.eliminate_zeros()
    return np.bincount(bought.indices, minlength=n_groups).astype(np.int64)


def unit_rows(factors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1; all-zero rows stay zero (cosine 0 with everything)."""
    norms = np.linalg.norm(factors, axis=1)
    result: np.ndarray = factors / np.where(norms > 0, norms, 1.0)[:, None]
    return result
