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
    """Customers of one loaded model: their rows, and what they own now."""

    def __init__(self, customer_ids: list[str], owned: sp.csr_matrix, live: LivePurchases) -> None:
        self.ids, self.owned, self.live = customer_ids, owned, live
        self.index = {c: i for i, c in enumerate(customer_ids)}

    def of(self, customer_id: str | None) -> Customer:
        """The customer as known now (None: an anonymous shopper)."""
        row = self.index.get(customer_id) if customer_id else None
        recent = self.live.recent(customer_id) if customer_id else None
        lines = list(recent.lines) if recent else []  # a copy: the poller may append
        bought = np.array([item for item, _ in lines], dtype=np.int64)
        at = np.array([when for _, when in lines], dtype=np.int64)
        return Customer(row, owned_now(self.owned, row, bought), bought, at)
