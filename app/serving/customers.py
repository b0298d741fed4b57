"""One customer as a loaded model and the purchases since its training know them.

Why one place: every per-customer answer (cross-sell, the cart, offers, the export)
starts from the same two facts, the customer's row in the model and what they own now,
and a purchase made a minute ago must count the same in all of them.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from app.serving.live import LivePurchases
from models.foldin import owned_now


@dataclass(frozen=True)
class Lines:
    """Sale lines as item indexes of the model and their times (epoch seconds)."""

    items: np.ndarray
    at: np.ndarray


@dataclass(frozen=True)
class Customer:
    """What the model and the live purchases know of one customer at request time."""

    row: int | None  # index in the model, None if unknown to it
    owned: np.ndarray  # item indexes bought, in training and since
    bought: np.ndarray  # item indexes of the sale lines since training, in order
    bought_at: np.ndarray  # their times (epoch seconds)

    @property
    def recent(self) -> bool:
        """Bought something since the model was trained."""
        return bool(len(self.bought))


class Customers:
    """Customers of one loaded model: their rows, and what they own now.

    Rows are found in a sorted array of the ids, not a dict: a dict of 100,000 ids held
    as many small objects as there are customers, and each model swap left some of them
    scattered through memory the next model could not reuse whole (bench/soak.py).
    """

    def __init__(
        self,
        customer_ids: list[str],
        owned: sp.csr_matrix,
        live: LivePurchases,
        newest: int = 0,
    ) -> None:
        self.ids, self.owned, self.live = customer_ids, owned, live
        self.newest = newest  # epoch seconds of the newest purchase the model holds
        ids = np.array(customer_ids, dtype=str)
        self.order = np.argsort(ids, kind="stable")
        self.sorted_ids = ids[self.order]

    def row(self, customer_id: str | None) -> int | None:
        """The customer's row in the model, None when it does not know them."""
        if not customer_id or not len(self.sorted_ids):
            return None
        at = int(np.searchsorted(self.sorted_ids, customer_id))
        if at < len(self.sorted_ids) and self.sorted_ids[at] == customer_id:
            return int(self.order[at])
        return None

    def rows(self, customer_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the ids the model knows, in their order; whether each id is known)."""
        n = len(self.sorted_ids)
        if not n or not customer_ids:
            return np.zeros(0, np.int64), np.zeros(len(customer_ids), bool)
        at = np.searchsorted(self.sorted_ids, customer_ids).clip(0, n - 1)
        known = self.sorted_ids[at] == np.asarray(customer_ids, dtype=str)
        return self.order[at[known]].astype(np.int64), known

    def of(self, customer_id: str | None) -> Customer:
        """The customer as known now (None: an anonymous shopper)."""
        row = self.row(customer_id)
        recent = self.live.recent(customer_id) if customer_id else None
        lines = list(recent.lines) if recent else []  # a copy: the poller may append
        bought = np.array([item for item, _ in lines], dtype=np.int64)
        at = np.array([when for _, when in lines], dtype=np.int64)
        return Customer(row, owned_now(self.owned, row, bought), bought, at)

    def before_model(self, moment: int) -> bool:
        """Whether an answer as of `moment` must not read the model's history: the
        model holds purchases after it (`at` then needs the lines read up to it)."""
        return moment < self.newest

    def at(self, customer_id: str, moment: int, past: Lines | None = None) -> Customer:
        """The customer as known at `moment`: the model's history and the purchases
        since, up to it; or, before the model's newest purchase, only `past` (their
        lines up to it, `app.serving.past.customer_at`), unknown to the model, so that the
        answer folds them in and nothing after the moment counts."""
        if past is not None:
            return Customer(None, np.unique(past.items), past.items, past.at)
        now = self.of(customer_id)
        keep = now.bought_at <= moment
        if keep.all():
            return now
        bought, at = now.bought[keep], now.bought_at[keep]
        return Customer(now.row, owned_now(self.owned, now.row, bought), bought, at)
