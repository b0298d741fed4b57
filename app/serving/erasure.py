"""Erased customers, kept out of answers until the model that still holds them is gone.

The loaded model keeps an erased customer's factors, history and segment until the
next training, so every per-customer route asks `ErasedSet.check` first and answers
404 for an erased id, as for one that never existed (the answer does not say that
the id was a customer).

How every worker knows at once, without a database round trip per request: the
worker (or `nextbest customers erase`) that erases replaces a small stamp file in the
model directory after the transaction commits and before it answers. Every request
compares the stamp's inode and mtime with the last ones seen (one `stat`, about a
microsecond); when it changed, the worker reads the new erased_customer rows (one
indexed read, once per erasure) before answering. So a DELETE that has returned is
seen by every worker that shares the model directory, which serving already needs to
load the artifacts. Routes that read the customer's row anyway (upsell, offers,
profile, campaign lists) would also 404 by themselves, but cross-sell answers from
memory alone and is the hottest route: an extra query there would cost a third of its
throughput. Hosts that do not share the directory learn on their next
`Registry.refresh` (NEXTBEST_REFRESH_SECONDS), which reads the table too.

The set holds SHA-256 hashes, as the table does; hashing an id costs under a
microsecond, and nothing is hashed while no customer has been erased.
"""

import logging
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import tables
from app.db.erase import customer_hash
from app.serving.subscriber import unknown_customer

log = logging.getLogger("nextbest")

STAMP = ".erasures"  # in the model directory; not an artifact (no manifest)
OVERLAP = 1000  # ids re-read below the newest seen: concurrent erasures commit out of order


class ErasedSet:
    """The hashes of erased customer ids, as this process knows them."""

    def __init__(self, engine: Engine, model_dir: Path) -> None:
        self.engine = engine
        self.stamp = model_dir / STAMP
        self.hashes: set[str] = set()
        self.newest_id = 0
        self.seen: tuple[int, int] | None = None
        self.lock = threading.Lock()

    @property
    def stamp(self) -> Path:
        return Path(self._stamp)

    @stamp.setter
    def stamp(self, path: Path) -> None:
        self._stamp = os.fspath(path)  # a str: os.stat takes it without a conversion

    def check(self, customer_id: str | None) -> None:
        """404 for an erased id (None, an anonymous caller, passes)."""
        if self.erased(customer_id):
            raise unknown_customer(str(customer_id))

    def erased(self, customer_id: str | None) -> bool:
        """Whether `customer_id` was erased, as of the newest stamp."""
        self._follow_stamp()
        return (
            bool(self.hashes)
            and customer_id is not None
            and (customer_hash(customer_id) in self.hashes)
        )

    def sync(self) -> set[str]:
        """Read erasures recorded since the last read; the hashes that are new here."""
        column = tables.erased_customer.c
        with self.lock, self.engine.connect() as conn:
            rows = conn.execute(
                select(column.id, column.customer_sha256).where(
                    column.id > self.newest_id - OVERLAP
                )
            ).all()
            fresh = {h for _, h in rows} - self.hashes
            self.hashes |= fresh
            if rows:
                self.newest_id = max(self.newest_id, max(i for i, _ in rows))
        return fresh

    def add(self, customer_id: str) -> None:
        """Record an erasure this process made, then tell the other workers."""
        self.hashes.add(customer_hash(customer_id))
        announce(self.stamp)

    def _follow_stamp(self) -> None:
        try:
            info = os.stat(self._stamp)
            now = (info.st_ino, info.st_mtime_ns)
        except OSError:
            return  # no erasure announced on this host yet
        if now == self.seen:
            return
        try:
            self.sync()
        except SQLAlchemyError as exc:  # the next request or refresh tries again
            log.warning("erased customers cannot be read now: %s", exc)
            return
        self.seen = now


def announce(stamp: Path) -> None:
    """Replace the stamp file, so every worker sharing the directory reads the table.

    A new file each time (write, then rename over the old one): its inode changes
    even where timestamps are coarse. A directory that cannot be written is logged;
    the workers then learn on their next refresh.
    """
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        fresh = stamp.with_name(f"{stamp.name}.{os.getpid()}.{threading.get_ident()}")
        fresh.write_text(f"{os.getpid()} {threading.get_ident()}\n")
        os.replace(fresh, stamp)
    except OSError as exc:
        log.warning("cannot announce an erasure in %s: %s", stamp.parent, exc)
