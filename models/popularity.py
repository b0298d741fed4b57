"""Popularity: overall, within groups of similar customers, and how new an item is.

Why groups: a customer with no history still has a country and a segment, and what
sells to customers like them beats what sells to everyone. Why newness: shops renew
their range, and a product launched last month is what returning customers look for
(on the Online Retail evaluation, newness is the strongest single signal after EASE).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.sparse import top_per_row

DAY = 86_400


@dataclass(frozen=True)
class Popular:
    """Per group: its items by number of distinct buyers, the most bought first.

    `top` is a CSR matrix, groups x items, with at most `k` items per row;
    `members[g]` is the number of customers in group g with any purchase.
    """

    top: sp.csr_matrix  # int32 buyer counts
    members: np.ndarray  # int32

    def items(self, group: int) -> tuple[np.ndarray, np.ndarray]:
        """(items, buyers) of one group, the most bought first."""
        start, end = self.top.indptr[group], self.top.indptr[group + 1]
        items, buyers = self.top.indices[start:end], self.top.data[start:end]
        order = np.lexsort((items, -buyers))
        return items[order], buyers[order]


def fit_popular(matrix: sp.csr_matrix, group: np.ndarray, n_groups: int, k: int = 200) -> Popular:
    """Count distinct buyers per (group, item); `group[c]` is -1 for a customer in none."""
    buyers = np.diff(matrix.indptr) > 0
    member = (group >= 0) & buyers
    labels = sp.csr_matrix(
        (np.ones(int(member.sum()), dtype=np.float32), (group[member], np.flatnonzero(member))),
        shape=(n_groups, matrix.shape[0]),
    )
    counts = (labels @ (matrix > 0).astype(np.float32)).tocsr()
    counts.data = np.rint(counts.data)
    members = np.bincount(group[member], minlength=n_groups).astype(np.int32)
    return Popular(top_per_row(counts.astype(np.int32), k), members)


def buyers(matrix: sp.csr_matrix) -> np.ndarray:
    """Distinct buyers of each item."""
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.int32)


def newness(first_sold: np.ndarray, now: int, days: float) -> np.ndarray:
    """exp(-age / days) of each item's first sale; 0 for items never sold."""
    age = np.maximum(now - first_sold, 0) / DAY
    fresh = np.exp(-age / days)
    return np.where(first_sold < np.iinfo(np.int64).max, fresh, 0.0).astype(np.float32)
