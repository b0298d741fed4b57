"""Personal cross-sell: a blend of item-based, collaborative and content scorers.

Why a blend: on the Online Retail evaluation no scorer alone reaches the goal. EASE is
the strongest single scorer, ALS adds taste the item pairs miss, name similarity
reaches items with few sales, and newness favours the range the shop is selling now.
Each component is standardised per customer (z-score over the catalog) so the
weights mean the same for a customer with 3 purchases and one with 300; the weights
were chosen on a validation split before the evaluation cutoff (README).

Substitutes: an item in a category the customer already owns a durable item of is a
second fridge, not a cross-sell, so it loses `substitute` standard deviations.
Consumables are exempt: their re-buys are replenishment's business.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.als import Als
from models.ease import Ease
from models.sparse import row_sum


@dataclass(frozen=True)
class Weights:
    """Blend weights in standard deviations of each component's per-customer scores."""

    ease: float = 1.0
    als: float = 0.1
    content: float = 0.3
    newness: float = 1.3
    substitute: float = 1.0


@dataclass(frozen=True)
class CrossSell:
    """The fitted components and per-item facts the blend needs."""

    ease: Ease
    als: Als
    content: sp.csr_matrix  # items x items, name similarity (top-k per row)
    newness: np.ndarray  # float32 per item, standardised over the catalog
    category: np.ndarray  # int32 per item, -1 for none
    durable: np.ndarray  # bool per item: owning it makes its category's items substitutes
    weights: Weights

    def score(self, owned: np.ndarray, factors: np.ndarray | None = None) -> np.ndarray:
        """Blended scores of every item for a customer who owns `owned` (item indexes).

        `factors` are the customer's ALS factors; None folds them in from `owned`. The
        same arithmetic as `score_matrix`, for one customer without sparse products.
        """
        w = self.weights
        user = self.als.fold_in(owned) if factors is None else factors
        scores = w.ease * _z(self.ease.score(owned))
        scores += w.als * _z(self.als.item_factors @ user)
        scores += w.content * _z(row_sum(self.content, owned).astype(np.float32))
        scores += w.newness * self.newness
        if w.substitute and len(owned):
            durable = owned[self.durable[owned] & (self.category[owned] >= 0)]
            if len(durable):
                same = np.isin(self.category, self.category[durable])
                scores -= w.substitute * same
        result: np.ndarray = scores
        return result

    def score_matrix(self, owned: sp.csr_matrix, factors: np.ndarray) -> np.ndarray:
        """Blended scores for many customers at once: rows of `owned` (binary) and factors."""
        w = self.weights
        scores = w.ease * _standardise(self.ease.score_matrix(owned))
        scores += w.als * _standardise(factors @ self.als.item_factors.T)
        scores += w.content * _standardise(np.asarray((owned @ self.content).todense()))
        scores += w.newness * self.newness[None, :]
        if w.substitute:
            scores -= w.substitute * self.substitutes(owned)
        return scores

    def substitutes(self, owned: sp.csr_matrix) -> np.ndarray:
        """1.0 where an item shares a category with a durable item the customer owns."""
        has = self.category >= 0
        n_categories = int(self.category.max()) + 1 if has.any() else 0
        items = np.flatnonzero(has & self.durable)
        to_category = sp.csr_matrix(
            (np.ones(len(items), np.float32), (items, self.category[items])),
            shape=(len(self.category), max(n_categories, 1)),
        )
        owns = np.asarray((owned @ to_category).todense()) > 0
        result = np.zeros(owned.shape, dtype=np.float32)
        result[:, has] = owns[:, self.category[has]]
        return result


def _standardise(scores: np.ndarray) -> np.ndarray:
    """Each row to mean 0 and standard deviation 1 (a constant row becomes 0)."""
    scores = np.asarray(scores, dtype=np.float32)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    result: np.ndarray = (scores - mean) / np.where(std > 0, std, 1.0)
    return result


def _z(scores: np.ndarray) -> np.ndarray:
    """One vector to mean 0 and standard deviation 1 (`_standardise` for one row, faster)."""
    centred = scores - scores.mean()
    spread = float(np.sqrt(centred @ centred / max(len(centred), 1)))
    result: np.ndarray = centred / spread if spread > 0 else centred * 0
    return result


def standardised_newness(
    fresh: np.ndarray, clip: float = 3.0, min_spread: float = 0.1
) -> np.ndarray:
    """The newness prior standardised over the catalog, once for every customer.

    Divided by at least `min_spread`, so a catalog launched all at once (tiny spread)
    does not turn days of difference into standard deviations; clipped at `clip`, so in
    a catalog where almost nothing is new, the one item first sold last week does not
    outrank every personal signal.
    """
    spread = max(float(fresh.std()), min_spread)
    result: np.ndarray = np.clip((fresh - fresh.mean()) / spread, -clip, clip).astype(np.float32)
    return result
