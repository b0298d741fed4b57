"""Volume upsell: the same kind of item in a larger pack, cheaper per unit.

Why apart from premium alternatives: a larger pack is not a better product, it is a
better deal for a customer who keeps buying the kind, and it is only an offer when the
price per unit drops. Candidates are items of the same kind (the category, or the
product noun of the name) with a larger pack size (`attributes.pack_size`, or read from
the name) and a lower price per unit. They are ranked like premium alternatives (taste
and what the kind's buyers choose, `Premium.scores`), so the pack customers like this
one buy comes first.
"""

from dataclasses import dataclass

import numpy as np

from models.premium import Premium

MIN_UNIT_RATIO = 0.7  # a larger pack's price per unit, at least this x the item's


@dataclass(frozen=True)
class Volume:
    """Per-item kind, pack size and price per unit."""

    kind: np.ndarray  # int32 per item, -1 for none
    pack: np.ndarray  # int per item: units per sale, at least 1
    price: np.ndarray  # float64 per item, NaN where unknown

    def candidates(self, item: int, allowed: np.ndarray) -> np.ndarray:
        """Allowed items of the same kind in a larger pack at a lower price per unit."""
        kind, unit = int(self.kind[item]), self.unit_price(item)
        if kind < 0 or not unit > 0:
            return np.empty(0, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            per_unit = self.price / self.pack
            cheaper = (per_unit < unit) & (per_unit >= MIN_UNIT_RATIO * unit)
        same = (self.kind == kind) & (self.pack > self.pack[item]) & cheaper & allowed
        return np.flatnonzero(same)

    def larger_packs(
        self, item: int, allowed: np.ndarray, limit: int, premium: Premium
    ) -> tuple[np.ndarray, np.ndarray]:
        """(items, scores): the best `limit` larger packs of `item`'s kind, best first."""
        candidates = self.candidates(item, allowed)
        scores = premium.scores(item, candidates)
        order = np.lexsort((candidates, -scores))[:limit]
        return candidates[order], scores[order]

    def unit_price(self, item: int) -> float:
        return float(self.price[item] / self.pack[item])
