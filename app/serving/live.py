"""Purchases that arrived after training, kept in memory so they count at request time.

Why polling by row id: the purchase table's id only grows, so "everything after the
last id seen" is one indexed range read, whoever wrote the rows (the bulk API, the
CLI, another worker). A background thread polls every few seconds; the ingestion
API also polls right after it writes, so its own process sees new rows at once.
Requests never touch the database for this.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, text

from app.training.data import epoch


@dataclass
class Recent:
    """One customer's sale lines since training: item indexes and times (seconds)."""

    items: list[int] = field(default_factory=list)
    times: list[int] = field(default_factory=list)


class LivePurchases:
    """Sale lines newer than `last_id`, by external customer id."""

    def __init__(self, item_db_ids: np.ndarray, last_id: int) -> None:
        self.item_db_ids = item_db_ids
        self.last_id = last_id
        self.by_customer: dict[str, Recent] = defaultdict(Recent)
        self.lock = threading.Lock()

    def recent(self, customer_id: str) -> Recent | None:
        """The customer's lines since training, if any."""
        return self.by_customer.get(customer_id)

    def poll(self, engine: Engine, limit: int = 50_000) -> int:
        """Read new sale lines into memory; returns how many were read."""
        with self.lock, engine.connect() as conn:
            at = epoch("p.purchased_at", conn.dialect.name)
            rows = conn.execute(
                text(
                    f"SELECT p.id, c.customer_id, p.item_id, {at} FROM purchase p "
                    "JOIN customer c ON c.id = p.customer_id "
                    "WHERE p.id > :last AND p.kind = 'sale' ORDER BY p.id LIMIT :limit"
                ),
                {"last": self.last_id, "limit": limit},
            ).all()
            if not rows:
                return 0
            db_ids = np.array([r[2] for r in rows], dtype=np.int64)
            index = np.searchsorted(self.item_db_ids, db_ids).clip(0, len(self.item_db_ids) - 1)
            known = self.item_db_ids[index] == db_ids if len(self.item_db_ids) else db_ids < 0
            for (_, customer, _, when), item, ok in zip(rows, index, known, strict=True):
                if ok:
                    recent = self.by_customer[customer]
                    recent.items.append(int(item))
                    recent.times.append(int(when))
            self.last_id = int(rows[-1][0])
            return len(rows)
