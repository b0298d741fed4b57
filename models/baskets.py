"""Frequently bought together: association rules between items from order baskets.

Why rules and not the collaborative model: a product page wants "bought with this"
with evidence a shopper understands (support, confidence, lift), and anonymous orders
count here, where they carry no customer to learn from.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.history import History, order_items
from models.sparse import top_per_row


@dataclass(frozen=True)
class Baskets:
    """The strongest rules antecedent → consequent, as a CSR matrix of support counts.

    Row i holds the items bought in the same order as item i, at most `top_k` of them,
    each in at least `min_support` orders. `item_orders[i]` is the number of orders
    containing item i and `n_orders` the number of orders.
    """

    support: sp.csr_matrix  # int32 counts of orders holding both items
    item_orders: np.ndarray  # int32
    n_orders: int

    def confidence(self) -> sp.csr_matrix:
        """P(consequent | antecedent) for every kept rule."""
        counts = np.maximum(self.item_orders, 1).astype(np.float32)
        return sp.diags(1.0 / counts) @ self.support.astype(np.float32)

    def rules(self, item: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(consequents, support, confidence, lift) of one item, strongest first."""
        start, end = self.support.indptr[item], self.support.indptr[item + 1]
        others = self.support.indices[start:end]
        support = self.support.data[start:end]
        confidence = support / max(int(self.item_orders[item]), 1)
        lift = confidence * self.n_orders / np.maximum(self.item_orders[others], 1)
        order = np.lexsort((-lift, -confidence))
        return others[order], support[order], confidence[order], lift[order]


def fit_baskets(history: History, min_support: int = 3, top_k: int = 50) -> Baskets:
    """Count co-purchases over all orders (anonymous included) and keep the strong rules.

    A rule needs `min_support` orders and a lift above 1, so pairs seen once or twice
    and items that are merely popular everywhere do not rank.
    """
    orders = order_items(history)
    item_orders = np.bincount(orders.indices, minlength=history.n_items)
    n_orders = int(np.count_nonzero(np.diff(orders.indptr)))
    baskets = orders[np.diff(orders.indptr) > 1]  # single-item orders pair nothing
    pairs = (baskets.T @ baskets).tocsr().astype(np.int32)
    pairs.setdiag(0)
    pairs.eliminate_zeros()
    rows = np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))
    lift = pairs.data * n_orders / (item_orders[rows] * item_orders[pairs.indices].astype(float))
    keep = (pairs.data >= min_support) & (lift > 1.0)
    strong = sp.csr_matrix(
        (pairs.data[keep], (rows[keep], pairs.indices[keep])), shape=pairs.shape, dtype=np.int32
    )
    return Baskets(top_per_row(strong, top_k), item_orders.astype(np.int32), n_orders)
