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
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.db import tables

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
    database); a revocation takes effect within that time in every worker. While the
    database cannot be read, keys checked before keep working (reads go on answering
    from the model); a key never seen gets a 503.
    """

    def __init__(self, engine: Engine, ttl: float = CACHE_SECONDS) -> None:
        self.engine, self.ttl = engine, ttl
        self.cache: dict[str, tuple[float, tuple[str, Key] | None]] = {}
        self.lock = threading.Lock()

    def check(self, text: str) -> Key | None:
        """The key, if the text is a live stored key (secret compared in constant time)."""
        parts = split(text)
        if parts is None:
            return None
        key_id, secret = parts
        stored = self._stored(key_id)
        if stored is None:
            return None
        digest, key = stored
        if not hmac.compare_digest(digest, _sha256(secret)):
            return None
        return key if key.revoked_at is None else None

    def _stored(self, key_id: str) -> tuple[str, Key] | None:
        now = time.monotonic()
        hit = self.cache.get(key_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        k = tables.api_key
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(
                        k.c.secret_sha256, k.c.name, k.c.scopes, k.c.created_at, k.c.revoked_at
                    ).where(k.c.key_id == key_id)
                ).first()
        except SQLAlchemyError:
            if hit is not None:  # the database is down: a key seen before still works
                return hit[1]
            raise
        found = None
        if row is not None:
            found = (row[0], Key(key_id, row[1], frozenset(row[2].split(",")), row[3], row[4]))
        with self.lock:
            if len(self.cache) > 10_000:  # bounded, whatever ids are presented
                self.cache.clear()
            self.cache[key_id] = (now, found)
        return found


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
