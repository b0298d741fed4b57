"""API keys: created with a random secret, stored as its sha256, checked in constant time.

A key reads `nb_<key id>_<secret>`. The key id is public: it names the key in lists,
logs and revocations. The secret is 32 random bytes, shown once when the key is
created and never stored: the database holds its sha256, which is enough for a secret
that long (nothing to brute-force, unlike a password). A key carries scopes: `read`
(recommendations and reports), `write` (ingestion and events), `admin` (training,
models, erasure, exports; it includes the other two).
"""

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.auth import key_copy
from app.db import tables

log = logging.getLogger("nextbest")

SCOPES = ("read", "write", "admin")
PREFIX = "nb_"
CACHE_SECONDS = 10.0  # a revocation reaches every worker within this long


@dataclass(frozen=True)
class Key:
    """A stored key's public facts."""

    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        """Whether this key may call a route that needs `scope` (admin may call any)."""
        return self.revoked_at is None and (scope in self.scopes or "admin" in self.scopes)


Stored = tuple[str, Key]  # (sha256 of the secret, the key's public facts)


def create_key(engine: Engine, scopes: set[str], name: str) -> tuple[Key, str]:
    """A new key with `scopes`; returns it and the full key text (shown once)."""
    unknown = scopes - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {sorted(scopes)}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(tables.api_key).values(
                key_id=key_id,
                secret_sha256=_sha256(secret),
                scopes=",".join(sorted(scopes)),
                name=name,
                created_at=now,
            )
        )
    return Key(key_id, name, frozenset(scopes), now, None), f"{PREFIX}{key_id}_{secret}"


def list_keys(engine: Engine) -> list[Key]:
    """Every key, oldest first (revoked ones included)."""
    k = tables.api_key
    with engine.connect() as conn:
        rows = conn.execute(
            select(k.c.key_id, k.c.name, k.c.scopes, k.c.created_at, k.c.revoked_at).order_by(
                k.c.id
            )
        ).all()
    return [Key(r[0], r[1], frozenset(r[2].split(",")), r[3], r[4]) for r in rows]


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Revoke a key by its id; False when there is no such live key."""
    k = tables.api_key
    with engine.begin() as conn:
        done = conn.execute(
            update(k)
            .where(k.c.key_id == key_id, k.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(done.rowcount)


def split(text: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    if not text.startswith(PREFIX):
        return None
    key_id, sep, secret = text[len(PREFIX) :].partition("_")
    if not sep or not key_id or not secret or len(text) > 200:
        return None
    return key_id, secret


class KeyStore:
    """Checks presented keys against the database, with a short per-process cache.

    Why a cache: the hot routes answer in about a millisecond, and a database read per
    request for the key would be a good part of that. A key's row is cached for
    CACHE_SECONDS (so is an unknown key id, so a flood of bad keys does not reach the
    database); a revocation takes effect within that time in every worker.

    While the database cannot be read, a key is checked against what this process last
    knew of it: its cached row, and the last-known copy of the whole table (`sync`
    reads it at start and at every refresh, and writes it to `copy`, which a process
    started during an outage reads, once, when it first needs it). Of two readings, a
    revoked one wins: keys are never un-revoked. A key id known to neither cannot be
    checked and raises (503 with Retry-After); a wrong secret or a revoked key is
    refused (401). What that means for revocation: a key revoked after the last copy
    was written keeps working on a server that cannot reach the database, until it
    can. While the database answers, the copy trails the table by at most the refresh
    interval (NEXTBEST_REFRESH_SECONDS), so that is the window in which a revocation
    can miss a server that restarts into an outage; a revocation made from elsewhere
    during the outage reaches this server when the database does. An answer given
    without the database is cached like any other, so an outage costs one failed
    connection per key per CACHE_SECONDS, not one per request.
    """

    def __init__(
        self, engine: Engine, ttl: float = CACHE_SECONDS, copy: Path | None = None
    ) -> None:
        self.engine, self.ttl, self.copy = engine, ttl, copy
        self.cache: dict[str, tuple[float, Stored | None]] = {}
        self.lock = threading.Lock()
        self.known: dict[str, Stored] | None = None  # every key, as of the last full read
        self.written = b""  # the copy as this process last wrote it
        self.copy_read = False

    def check(self, text: str) -> Key | None:
        """The key, if the text is a live stored key (secret compared in constant time).

        Reads the key table on a cache miss: blocking, so an event loop asks
        `remembered` first and calls this in a thread only when that cannot say.
        """
        parts = split(text)
        if parts is None:
            return None
        key_id, secret = parts
        return _verified(self._stored(key_id), secret)

    def remembered(self, text: str) -> tuple[bool, Key | None]:
        """(decided, key): the answer of `check` from memory alone when this process has
        a fresh reading of the key (or the text is no key at all); else (False, None)."""
        parts = split(text)
        if parts is None:
            return True, None
        key_id, secret = parts
        hit = self.cache.get(key_id)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return False, None
        return True, _verified(hit[1], secret)

    def sync(self) -> bool:
        """Read the whole key table into memory and into the copy on disk (when it
        changed); False (logged) when the database cannot be read."""
        k = tables.api_key
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(*(k.c[c] for c in key_copy.COLUMNS))).all()
        except SQLAlchemyError as exc:
            log.warning("API keys cannot be read now, retrying later: %s", exc)
            return False
        table: list[key_copy.Row] = [tuple(r) for r in rows]
        self.known = {row[0]: _stored(row) for row in table}
        data = key_copy.dump(table)
        if self.copy is not None and data != self.written and key_copy.save(self.copy, data):
            self.written = data  # a failed write is logged once, not at every refresh
        return True

    def _stored(self, key_id: str) -> Stored | None:
        now = time.monotonic()
        hit = self.cache.get(key_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        k = tables.api_key
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(*(k.c[c] for c in key_copy.COLUMNS)).where(k.c.key_id == key_id)
                ).first()
        except SQLAlchemyError:
            copied = self._known().get(key_id)
            if hit is None and copied is None:
                raise  # never seen, not in the copy: it cannot be checked now
            found = _later(hit[1] if hit else None, copied)
        else:
            found = None if row is None else _stored(tuple(row))
        with self.lock:
            if len(self.cache) > 10_000:  # bounded, whatever ids are presented
                self.cache.clear()
            self.cache[key_id] = (now, found)
        return found

    def _known(self) -> dict[str, Stored]:
        """Every key as last read here, else as in the copy (read once, when needed)."""
        with self.lock:
            if self.known is None and self.copy is not None and not self.copy_read:
                self.copy_read = True
                rows = key_copy.load(self.copy)
                if rows is not None:
                    self.known = {row[0]: _stored(row) for row in rows}
        return self.known or {}


def _verified(stored: Stored | None, secret: str) -> Key | None:
    """The stored key when `secret` is its secret and it is not revoked."""
    if stored is None:
        return None
    digest, key = stored
    if not hmac.compare_digest(digest, _sha256(secret)):
        return None
    return key if key.revoked_at is None else None


def _stored(row: key_copy.Row) -> Stored:
    key_id, digest, scopes, name, created_at, revoked_at = row
    return digest, Key(key_id, name, frozenset(scopes.split(",")), created_at, revoked_at)


def _later(cached: Stored | None, copied: Stored | None) -> Stored | None:
    """Of two readings of one key, the one that knows more: a revocation (keys are never
    un-revoked), else whichever found the key."""
    if cached is None or copied is None:
        return cached or copied
    return cached if cached[1].revoked_at is not None else copied


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
