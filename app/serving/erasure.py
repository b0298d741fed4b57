"""Erased customers, kept out of answers until the model that still holds them is gone.

The loaded model keeps an erased customer's factors, history and segment until the
next training, so every per-customer route asks `ErasedSet.check` first and answers
404 for an erased id, as for one that never existed (the answer does not say that
the id was a customer).

How every worker knows at once, without a database round trip per request: the
model directory holds a counter of erasures, an 8-byte file (`.erasures`) that every
worker maps into memory. The worker (or `nextbest customers erase`) that erases adds
one to it after the transaction commits and before it answers; every request compares
the mapped counter with the value it saw last (a memory read: the page is shared by
the processes of the host), and when it moved, reads the new erased_customer rows
(one indexed read, once per erasure) before answering. So a DELETE that has returned
is seen by every worker sharing the model directory, which serving already needs to
load the artifacts. Routes that read the customer's row anyway (upsell, offers,
profile, campaign lists) would 404 by themselves, but cross-sell answers from memory
alone and is the hottest route: a query per request there costs 0.1 ms on SQLite and
0.9 ms on PostgreSQL against under a microsecond here (bench/erasure.py), and a `stat`
of a stamp file per request cost 3-6 % of its throughput.
Hosts that do not share the directory (or cannot write it) learn on their next
`Registry.refresh` (NEXTBEST_REFRESH_SECONDS), which reads the table too.

The set holds SHA-256 hashes, as the table does; hashing an id costs about a
microsecond, and nothing is hashed while no customer has been erased.

A server started while the database is down has read nothing, yet its model still
holds the customers erased since training. So each refresh that reads the table leaves
a copy of the hashes in the model directory (`.erased.json`, 0600, the table's
contents and nothing more), and a process that cannot read the table at its start
takes the copy instead (`restore`). Without a usable copy it answers 503 about any
named customer until it can read the table: it cannot tell who was erased.
"""

import fcntl
import logging
import mmap
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import tables
from app.db.erase import customer_hash
from app.errors import Unavailable
from app.serving.subscriber import unknown_customer
from app.state_files import read_json, write_json

log = logging.getLogger("nextbest")

STAMP = ".erasures"  # in the model directory; not an artifact (no manifest)
COPY = ".erased.json"  # the hashes as last read, for a start while the database is down
SIZE = 8  # bytes: one little-endian unsigned counter
OVERLAP = 1000  # ids re-read below the newest seen: concurrent erasures commit out of order


class ErasedSet:
    """The hashes of erased customer ids, as this process knows them."""

    def __init__(self, engine: Engine, model_dir: Path) -> None:
        self.engine = engine
        self.hashes: set[str] = set()
        self.learned: set[str] = set()  # not yet dropped from the live purchases
        self.newest_id = 0
        self.lock = threading.Lock()
        self.stamp = model_dir / STAMP
        self.copy = model_dir / COPY
        self.read = False  # the table has been read at least once
        self.restored = False  # the copy has been taken instead
        self.kept = -1  # how many hashes the copy held when this process wrote it
        self.blind = False  # neither the table nor a copy could be read: 503 for ids

    @property
    def stamp(self) -> Path:
        """The counter file this process follows."""
        return self._stamp

    @stamp.setter
    def stamp(self, path: Path) -> None:
        self._stamp = path
        self._counter: mmap.mmap | None = None
        self._seen = b""
        self._tried = False

    def check(self, customer_id: str | None) -> None:
        """404 for an erased id (None, an anonymous caller, passes), as this process
        knows now; callers `follow` first when `moved`."""
        if self.blind and customer_id is not None:
            raise Unavailable(
                "erased customers cannot be checked now (no database, no copy of the "
                "erasures); retry shortly"
            )
        if self.erased(customer_id):
            raise unknown_customer(str(customer_id))

    def erased(self, customer_id: str | None) -> bool:
        """Whether `customer_id` was erased, as this process knows now (memory only:
        `follow` first reads what another worker announced)."""
        return (
            bool(self.hashes)
            and customer_id is not None
            and (customer_hash(customer_id) in self.hashes)
        )

    def moved(self) -> bool:
        """Whether an erasure was announced that this process has not read yet: one
        read of the mapped counter, cheap enough for every request."""
        counter = self._counter
        if counter is None:
            counter = self._map()
        return counter is not None and counter[:SIZE] != self._seen

    def follow(self) -> None:
        """Read the erasures announced since the last read (a database read: blocking,
        so an event loop calls it in a thread, and only when `moved`)."""
        if self.moved():  # maps the counter on first use, as for every other caller
            assert self._counter is not None
            self._follow(self._counter[:SIZE])

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
            self.learned |= fresh
            if rows:
                self.newest_id = max(self.newest_id, max(i for i, _ in rows))
            self.read, self.blind = True, False
        return fresh

    def keep(self) -> None:
        """Write the hashes known here to the copy when this process knows more than it
        last wrote (hashes are only ever added; the first read always writes). Called
        from the refresh, not from requests. Best effort: a failure is logged once per
        change."""
        if not self.copy.parent.is_dir():
            return  # no model directory: no model holds anyone yet
        with self.lock:
            if not self.read or len(self.hashes) == self.kept:
                return
            hashes, self.kept = sorted(self.hashes), len(self.hashes)
        try:
            write_json(self.copy, {"customer_sha256": hashes})
        except OSError as exc:
            log.warning("cannot keep a copy of the erased customers in %s: %s", self.copy, exc)

    def restore(self) -> None:
        """Before the table has ever been read here, take the hashes from the copy; without
        a usable one, answer 503 about named customers (`check`) until the table is read."""
        if self.read or self.restored:
            return
        try:
            hashes = _hashes(read_json(self.copy))
        except (OSError, ValueError) as exc:
            if not self.blind:
                log.warning(
                    "erased customers cannot be read and their copy %s is unusable (%s): "
                    "answering 503 about customers until the database is back",
                    self.copy,
                    exc,
                )
            self.blind = True
            return
        with self.lock:
            self.hashes |= hashes
            self.learned |= hashes
            self.restored, self.blind = True, False

    def drain(self) -> set[str]:
        """The hashes learned since the last drain: what the live state should forget."""
        with self.lock:
            learned, self.learned = self.learned, set()
        return learned

    def add(self, customer_id: str) -> None:
        """Record an erasure this process made, then tell the other workers."""
        with self.lock:
            self.hashes.add(customer_hash(customer_id))
            self.learned.add(customer_hash(customer_id))
        announce(self.stamp)

    def _follow(self, count: bytes) -> None:
        try:
            self.sync()
        except SQLAlchemyError as exc:  # the next request or refresh tries again
            log.warning("erased customers cannot be read now: %s", exc)
            return
        self._seen = count

    def _map(self) -> mmap.mmap | None:
        """Map the counter (creating it at zero); None where the directory cannot be
        written: this process then learns of erasures at its refreshes. Without a model
        directory yet (nothing trained: nothing to keep anyone out of), tried again."""
        if self._tried or not self.stamp.parent.is_dir():
            return None
        self._tried = True
        try:
            fd = _open(self.stamp)
            try:
                self._counter = mmap.mmap(fd, SIZE, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("cannot follow erasures in %s, refreshes will: %s", self.stamp, exc)
        return self._counter


def _hashes(record: object) -> set[str]:
    """The hashes of a copy, each 64 hex digits; ValueError for anything else."""
    found = record.get("customer_sha256") if isinstance(record, dict) else None
    if not isinstance(found, list) or not all(
        isinstance(h, str) and len(h) == 64 and set(h) <= set("0123456789abcdef") for h in found
    ):
        raise ValueError("not a list of SHA-256 hashes")
    return set(found)


def _open(stamp: Path) -> int:
    """The counter file, open for reading and writing, at least SIZE bytes long."""
    fd = os.open(stamp, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size < SIZE:
            fcntl.flock(fd, fcntl.LOCK_EX)  # two processes creating it: one pads it
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        os.close(fd)
        raise
    return fd


def announce(stamp: Path) -> None:
    """Add one to the erasure counter, so every worker mapping it reads the table.

    Written in place (never replaced), under a lock: the workers keep mapping the same
    file. A directory that cannot be written is logged; workers learn at their refresh.
    """
    if not stamp.parent.is_dir():
        return  # no model directory: no server follows this one
    try:
        fd = _open(stamp)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            count = int.from_bytes(os.pread(fd, SIZE, 0), "little")
            os.pwrite(fd, ((count + 1) % 2**64).to_bytes(SIZE, "little"), 0)
        finally:
            os.close(fd)  # closing releases the lock
    except OSError as exc:
        log.warning("cannot announce an erasure in %s: %s", stamp.parent, exc)
