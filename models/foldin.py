"""One customer's scores at request time, from the fitted engine and what they bought
since it was trained.

Why here: these are the rules of the science, not of the service. A purchase made after
training counts at once (it is folded in: ALS factors are recomputed from what the
customer owns now, and it joins the owned items every scorer reads); an item never sold
borrows the mean score of its category's sold items, so the newest range is reachable;
a cart's own bought-together rules add to the blend for the items in it.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.crosssell import CrossSell
from models.popularity import Popular
from models.sparse import row_sum

MIN_GROUP = 20  # customers a group needs before its popularity stands for a newcomer
BASKET_RULES = 1.0  # weight of the basket's own bought-together rules in cart answers


def owned_now(owned: sp.csr_matrix, row: int | None, bought_since: np.ndarray) -> np.ndarray:
    """The item indexes customer `row` owns (None: unknown to the model), training's
    history and the items bought since, sorted and unique."""
    items = np.empty(0, dtype=np.int64)
    if row is not None:
        items = owned.indices[owned.indptr[row] : owned.indptr[row + 1]].astype(np.int64)
    if len(bought_since):
        items = np.union1d(items, bought_since.astype(np.int64))
    return items


@dataclass(frozen=True)
class NewItems:
    """The pool positions of items never sold and of sold items by category, set once
    per model, so that a request fills the new items' scores with one bincount."""

    new: np.ndarray  # pool positions of never-sold items with a category
    sold: np.ndarray  # pool positions of sold items with a category
    sold_per_category: np.ndarray  # int64 per category
    category: np.ndarray  # the pool's categories

    @classmethod
    def of(cls, cross_sell: CrossSell, buyers: np.ndarray) -> "NewItems":
        """From the engine's pool and each item's number of buyers."""
        category = cross_sell.pool_category
        never = buyers[cross_sell.pool] == 0
        new = np.flatnonzero(never & (category >= 0))
        sold = np.flatnonzero(~never & (category >= 0))
        slots = int(category.max(initial=-1)) + 1
        return cls(new, sold, np.bincount(category[sold], minlength=slots), category)

    def fill(self, scores: np.ndarray) -> np.ndarray:
        """`scores` (pool order) with each new item at its category's mean, a hair below
        it (an item with sales and the same score ranks first); in place."""
        if len(self.new):
            sold, count = self.sold, self.sold_per_category
            total = np.bincount(self.category[sold], scores[sold], minlength=len(count))
            mean = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
            scores[self.new] = mean[self.category[self.new]] - 1e-3
        return scores


def personal_scores(
    cross_sell: CrossSell,
    new_items: NewItems,
    owned: np.ndarray,
    row: int | None,
    bought_since: bool,
) -> np.ndarray:
    """The blend over the pool for customer `row` (None: unknown to the model), who
    owns `owned`: with the trained ALS factors, or folded in from `owned` when the
    model has none for them or they bought since it was trained."""
    factors = None
    if row is not None and not bought_since:
        factors = cross_sell.als.user_factors[row]
    return new_items.fill(cross_sell.score_pool(owned, factors))


def cart_scores(
    cross_sell: CrossSell, rules: sp.csr_matrix, owned: np.ndarray, basket: np.ndarray
) -> np.ndarray:
    """Scores of every item for a cart: the blend folded in from the basket and the
    history (`owned`), plus the basket's own rules (`rules`: confidence, item x item),
    standardised, so that a cart's complements come first."""
    scores = cross_sell.score(owned)
    outside = np.isinf(scores)
    if outside.any() and not outside.all():
        scores[outside] = scores[~outside].min()  # rules may still reach the long tail
    if len(basket):
        together = row_sum(rules, basket).astype(np.float32)
        if together.std() > 0:
            scores = scores + BASKET_RULES * (together - together.mean()) / together.std()
    return scores


def popular_pick(
    popular: Popular,
    by_buyers: np.ndarray,
    buyers: np.ndarray,
    group: int,
    allowed: np.ndarray,
    limit: int,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """A newcomer's items: (items, buyers, from their group?). The most bought among the
    customer's group when it has MIN_GROUP members and any allowed item, else overall
    (`by_buyers`: every item, the most bought first)."""
    if group >= 0 and popular.members[group] >= MIN_GROUP:
        items, counts = popular.items(group)
        keep = allowed[items]
        if keep.any():
            return items[keep][:limit], counts[keep][:limit], True
    ranked = by_buyers[allowed[by_buyers]][:limit]
    return ranked, buyers[ranked], False
