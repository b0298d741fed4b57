"""Engine creation with the per-database settings NextBest relies on."""

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

# Bytes of the database file SQLite may read through a memory map (it caps this at its
# own limit, 2 GB in common builds).
SQLITE_MMAP_BYTES = 1 << 31


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the server read while an
    # import writes; the busy timeout turns lock contention into waiting, not errors.
    # Reads through a memory map: the per-request reads of the offers and upsell routes
    # touch a new customer's pages almost every time, and with the default (a read()
    # system call and a copy into each connection's own small page cache per page) an
    # offers answer took 1.6-2.0 ms against 1.0-1.3 ms mapped (fresh customers, 100,000
    # of them). Workers share the mapped pages through the OS page cache.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` (SQLite, PostgreSQL via psycopg, MySQL/MariaDB via PyMySQL)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend in ("mysql", "mariadb") and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+pymysql")
    if backend in ("mysql", "mariadb"):
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    options: dict[str, Any] = {"pool_pre_ping": backend != "sqlite"}
    options.update(kwargs)
    engine = create_engine(parsed, **options)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
