"""Purchases that arrived after training, kept in memory so they count at request time.

Why polling by row id: the purchase table's id only grows, so "everything after the
last id seen" is one indexed range read, whoever wrote the rows (the bulk API, the
CLI, another worker). Concurrent transactions can commit ids out of order, so each
poll re-reads a window of ids below the newest one and skips the ids already seen.
A background thread polls every few seconds; the ingestion API also polls right after
it writes, so its own process sees new rows at once. Requests never touch the
database for this.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, text

from app.db.erase import customer_hash
from app.db.sql import epoch
from models.vocab import index_of

OVERLAP = 10_000  # ids re-read below the newest seen, for late commits


@dataclass
class Recent:
    """One customer's sale lines since training: (item index, time in seconds).

    One list of pairs, appended whole, so a reader never sees half a line.
    """

    lines: list[tuple[int, int]] = field(default_factory=list)


class LivePurchases:
    """Sale lines newer than the training snapshot, by external customer id."""

    def __init__(self, item_db_ids: np.ndarray, last_id: int) -> None:
        self.item_db_ids = item_db_ids
        self.trained_until_id = last_id
        self.newest_id = last_id
        self.seen: set[int] = set()
        self.by_customer: dict[str, Recent] = defaultdict(Recent)
        self.lock = threading.Lock()

    def recent(self, customer_id: str) -> Recent | None:
        """The customer's lines since training, if any."""
        return self.by_customer.get(customer_id)

    def forget(self, hashes: set[str]) -> None:
        """Drop the recent lines of erased customers (`hashes`: SHA-256 of their ids)."""
        if not hashes:
            return
        with self.lock:
            for customer in [c for c in self.by_customer if customer_hash(c) in hashes]:
                del self.by_customer[customer]

    def poll(self, engine: Engine, limit: int = 50_000) -> int:
        """Read new sale lines into memory; returns how many new ones were read."""
        with self.lock, engine.connect() as conn:
            start = max(self.trained_until_id, self.newest_id - OVERLAP)
            at = epoch("p.purchased_at", conn.dialect.name)
            rows = conn.execute(
                text(
                    f"SELECT p.id, c.customer_id, p.item_id, {at} FROM purchase p "
                    "JOIN customer c ON c.id = p.customer_id "
                    "WHERE p.id > :start AND p.kind = 'sale' ORDER BY p.id LIMIT :limit"
                ),
                {"start": start, "limit": limit},
            ).all()
            fresh = [r for r in rows if r[0] not in self.seen]
            if not fresh:
                return 0
            db_ids = np.array([r[2] for r in fresh], dtype=np.int64)
            index, known = index_of(self.item_db_ids, db_ids)
            for (row_id, customer, _, when), item, ok in zip(fresh, index, known, strict=True):
                self.seen.add(int(row_id))
                if ok:  # items added after training are unknown to the model until the next
                    self.by_customer[customer].lines.append((int(item), int(when)))
            self.newest_id = max(self.newest_id, int(rows[-1][0]))
            self.seen = {i for i in self.seen if i > self.newest_id - 2 * OVERLAP}
            return len(fresh)
