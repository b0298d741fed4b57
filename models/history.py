"""Purchase history as parallel arrays, and the customer x item matrix built from it.

Training reads the database straight into these arrays (one entry per order line),
so nothing here knows where the data came from.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

NO_CUSTOMER = -1  # an anonymous order: a basket without a known customer


@dataclass(frozen=True)
class History:
    """Order lines: customer and item as row/column indexes, order index, time in seconds.

    `customer` is NO_CUSTOMER for anonymous orders; those still count as baskets.
    """

    customer: np.ndarray  # int32
    item: np.ndarray  # int32
    order: np.ndarray  # int32
    time: np.ndarray  # int64, seconds since the epoch (UTC)
    n_customers: int
    n_items: int

    def __post_init__(self) -> None:
        n = len(self.item)
        if not (len(self.customer) == len(self.order) == len(self.time) == n):
            raise ValueError("history arrays must have the same length")

    def __len__(self) -> int:
        return len(self.item)

    def before(self, cutoff: int) -> "History":
        """The lines strictly before `cutoff` (seconds since the epoch)."""
        return self.select(self.time < cutoff)

    def select(self, mask: np.ndarray) -> "History":
        """The lines where `mask` is true, with the same vocabularies."""
        return History(
            self.customer[mask],
            self.item[mask],
            self.order[mask],
            self.time[mask],
            self.n_customers,
            self.n_items,
        )

    @property
    def known(self) -> "History":
        """Only the lines of known customers."""
        return self.select(self.customer != NO_CUSTOMER)


def customer_items(
    history: History, weighting: str = "binary", half_life_days: float = 180.0
) -> sp.csr_matrix:
    """The customer x item matrix of confidence weights.

    `binary`: 1 where the customer bought the item; `orders`: 1 + log of the number of
    distinct orders holding it; `recency`: the newest purchase's age decayed with a
    half-life. Binary measured best on the Online Retail evaluation (README).
    """
    known = history.known
    shape = (history.n_customers, history.n_items)
    rows, cols = known.customer, known.item
    if weighting == "recency":
        age_days = (known.time.max(initial=0) - known.time) / 86_400
        decay = np.exp2(-age_days / half_life_days).astype(np.float32)
        return _row_col_max(rows, cols, decay, shape)
    if weighting == "orders":  # one line per (customer, item, order)
        rows, cols, _ = np.unique(np.stack([rows, cols, known.order]), axis=1)
    elif weighting != "binary":
        raise ValueError(f"unknown weighting {weighting!r}: binary, orders or recency")
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    matrix.sum_duplicates()  # data: lines (or distinct orders) per pair
    counts = matrix.data if weighting == "orders" else np.ones_like(matrix.data)
    matrix.data = (1.0 + np.log(counts)).astype(np.float32)
    return matrix


def _row_col_max(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """A CSR matrix holding the largest value given for each (row, column)."""
    order = np.lexsort((-values, cols, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    return sp.csr_matrix((values[first], (rows[first], cols[first])), shape=shape)


def order_items(history: History) -> sp.csr_matrix:
    """The binary order x item matrix (baskets, anonymous orders included)."""
    n_orders = int(history.order.max()) + 1 if len(history) else 0
    matrix = sp.csr_matrix(
        (np.ones(len(history), dtype=np.float32), (history.order, history.item)),
        shape=(n_orders, history.n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def first_sold(history: History) -> np.ndarray:
    """Each item's first sale time (int64 seconds; the int64 maximum if never sold)."""
    first = np.full(history.n_items, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, history.item, history.time)
    return first


def returned_sales(sales: dict[str, np.ndarray], returns: dict[str, np.ndarray]) -> np.ndarray:
    """Sale lines that were returned: in the same order, or every line of the pair
    (`sales`, `returns`: arrays "customer", "item" and "order", -1 for no customer).

    A return in its own order (Online Retail's "C" invoices) cannot be matched to one
    sale, so a customer's (customer, item) pair drops out once there are as many return
    lines as sale lines of it: what they bought and kept is what they own.
    """
    same_order = np.isin(
        pair_key(sales["order"], sales["item"]), pair_key(returns["order"], returns["item"])
    )
    known = returns["customer"] >= 0
    given, back = np.unique(
        pair_key(returns["customer"][known], returns["item"][known]), return_counts=True
    )
    sale_pair = pair_key(sales["customer"], sales["item"])
    returned = np.isin(sale_pair, given) & (sales["customer"] >= 0)  # pairs with a return
    pairs, sold = np.unique(sale_pair[returned], return_counts=True)
    kept_nothing = pairs[back[np.searchsorted(given, pairs)] >= sold]
    whole_pair = returned & np.isin(sale_pair, kept_nothing)
    return same_order | whole_pair


def pair_key(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One int64 per (first, second) pair; item ids stay below 2**31."""
    return first.astype(np.int64) * (1 << 31) + second.astype(np.int64)
