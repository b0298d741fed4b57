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

import math
from dataclasses import dataclass
from functools import cached_property

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
    """The fitted components and per-item facts the blend needs.

    `pool` lists the items the blend ranks: the items EASE covers first (the most
    bought), then items first sold recently and items never sold. In a catalog larger
    than EASE's reach, the long tail outside the pool is left to the basket rules and
    similar items, and a request scores 4,000 items instead of every item.
    """

    ease: Ease
    als: Als
    content: sp.csr_matrix  # items x items, name similarity (top-k per row)
    newness: np.ndarray  # float32 per item, standardised over the catalog
    category: np.ndarray  # int32 per item, -1 for none
    durable: np.ndarray  # bool per item: owning it makes its category's items substitutes
    pool: np.ndarray  # int64 item indexes: ease.items first, then the rest of the pool
    weights: Weights

    def score(self, owned: np.ndarray, factors: np.ndarray | None = None) -> np.ndarray:
        """Blended scores of every item (-inf outside the pool) for an owner of `owned`."""
        scores = np.full(len(self.category), -np.inf, dtype=np.float32)
        scores[self.pool] = self.score_pool(owned, factors)
        return scores

    def score_pool(self, owned: np.ndarray, factors: np.ndarray | None = None) -> np.ndarray:
        """Blended scores of the pool's items, in `pool` order, for an owner of `owned`.

        `factors` are the customer's ALS factors; None folds them in from `owned`. The
        ranking of `score_matrix`, for one customer on the request path: each component
        is divided by its standard deviation over the pool, and the means, which shift
        every item alike, are left out.
        """
        w, n = self.weights, len(self.pool)
        user = self.als.fold_in(owned) if factors is None else factors
        scores = self.pool_factors @ user
        scores *= w.als / _spread(scores, n)
        rows = self.ease.position[owned]
        rows = rows[rows >= 0]
        if len(rows):
            ease = self.ease.row_sum(rows)
            scores[: len(ease)] += ease * (w.ease / _spread(ease, n))
        if w.content and self.names_alike:
            content = row_sum(self.pool_content, owned)
            scores += (content * (w.content / _spread(content, n))).astype(np.float32)
        scores += self.pool_prior
        if w.substitute and len(owned):
            durable = owned[self.durable[owned] & (self.category[owned] >= 0)]
            if len(durable):
                # a lookup per category, not np.isin over the pool (a sort per request)
                owns = np.zeros(self.category_slots, dtype=bool)
                owns[self.category[durable]] = True
                np.subtract(scores, w.substitute, out=scores, where=owns[self.pool_category])
        result: np.ndarray = scores
        return result

    def score_matrix(self, owned: sp.csr_matrix, factors: np.ndarray) -> np.ndarray:
        """Blended scores for many customers at once (-inf outside the pool)."""
        w = self.weights
        ease = np.zeros((owned.shape[0], len(self.pool)), dtype=np.float32)
        ease[:, : len(self.ease.items)] = owned[:, self.ease.items] @ self.ease.weights
        pooled = w.ease * _standardise(ease)
        pooled += w.als * _standardise(factors @ self.pool_factors.T)
        pooled += w.content * _standardise(np.asarray((owned @ self.pool_content).todense()))
        pooled += self.pool_prior[None, :]
        if w.substitute:
            pooled -= w.substitute * self.substitutes(owned)[:, self.pool]
        scores = np.full(owned.shape, -np.inf, dtype=np.float32)
        scores[:, self.pool] = pooled
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

    @cached_property
    def pool_factors(self) -> np.ndarray:
        result: np.ndarray = np.ascontiguousarray(self.als.item_factors[self.pool])
        return result

    @cached_property
    def pool_prior(self) -> np.ndarray:
        """The weighted newness prior of the pool, the same for every customer."""
        result: np.ndarray = (self.weights.newness * self.newness[self.pool]).astype(np.float32)
        return result

    @cached_property
    def pool_category(self) -> np.ndarray:
        result: np.ndarray = self.category[self.pool]
        return result

    @cached_property
    def category_slots(self) -> int:
        """Categories + 1: a table indexed by category, where -1 (none) is the last slot."""
        return int(self.category.max(initial=-1)) + 2

    @cached_property
    def pool_content(self) -> sp.csr_matrix:
        """Name similarity with the columns in pool order (items outside dropped)."""
        return self.content[:, self.pool].tocsr()

    @cached_property
    def names_alike(self) -> bool:
        """Whether any two items of the pool are named alike (else no content term)."""
        return bool(self.pool_content.nnz)

    @cached_property
    def pool_position(self) -> np.ndarray:
        """Item index → position in the pool, or -1 outside it."""
        position = np.full(len(self.category), -1, dtype=np.int64)
        position[self.pool] = np.arange(len(self.pool))
        return position


def candidate_pool(
    ease_items: np.ndarray, first_sold: np.ndarray, now: int, days: float
) -> np.ndarray:
    """EASE's items, then items first sold within `days` of `now` or never sold."""
    recent = first_sold >= now - days * 86_400
    extra = np.flatnonzero(recent & ~np.isin(np.arange(len(first_sold)), ease_items))
    return np.concatenate([ease_items.astype(np.int64), extra.astype(np.int64)])


def _standardise(scores: np.ndarray) -> np.ndarray:
    """Each row to mean 0 and standard deviation 1 (a constant row becomes 0)."""
    scores = np.asarray(scores, dtype=np.float32)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    result: np.ndarray = (scores - mean) / np.where(std > 0, std, 1.0)
    return result


def _spread(values: np.ndarray, n: int) -> float:
    """Standard deviation of `values` padded with zeros to length n (1.0 if it is 0)."""
    total, squares = float(values.sum()), float(values @ values)
    variance = squares / n - (total / n) ** 2
    return math.sqrt(variance) if variance > 1e-12 else 1.0


def standardised_newness(
    fresh: np.ndarray, clip: float = 3.0, min_spread: float = 0.1
) -> np.ndarray:
    """The newness prior standardised over the catalog, once for every customer.

    Divided by at least `min_spread`, so a catalog launched all at once (tiny spread)
    does not turn days of difference into standard deviations; clipped at `clip`, so in
    a catalog where almost nothing is new, the one item first sold last week does not
    outrank every personal signal.
    """
    if not len(fresh):  # an empty catalog (a subscription business without a shop)
        return fresh.astype(np.float32)
    spread = max(float(fresh.std()), min_spread)
    result: np.ndarray = np.clip((fresh - fresh.mean()) / spread, -clip, clip).astype(np.float32)
    return result
