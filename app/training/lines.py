"""Purchase lines from the database as arrays: the longest step of training.

Kept apart from `app.training.data` so the second reading process imports only numpy
and SQLAlchemy, not the models.
"""

import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Engine

from app.db.engine import make_engine

T = TypeVar("T")
CHUNK = 100_000
PARALLEL_READ = 500_000  # purchase ids above which two processes read the sale lines


def epoch(column: str, dialect: str) -> str:
    """SQL for a UTC DATETIME column as integer seconds since the epoch."""
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {column})"


def sale_lines(
    engine: Engine, conn: Connection, last_id: int, meanwhile: Callable[[], T]
) -> tuple[dict[str, np.ndarray], T]:
    """Sale lines; a large table is read in two halves at once, one in a second process.

    Turning driver rows into arrays is CPU-bound Python, so a second core shortens the
    longest step of training. `meanwhile()` (the caller's other reads) runs here while
    the second process starts on its half, so both finish at about the same time. The
    helper process is forked on Linux (nothing to re-import, and no `__main__` guard
    needed in the caller's script); where that is not possible, or an in-memory SQLite
    database cannot be shared, one process reads.
    """
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    if last_id < PARALLEL_READ or in_memory or sys.platform != "linux":
        return lines(conn, "sale", 0, last_id), meanwhile()
    middle = last_id // 2
    url = engine.url.render_as_string(hide_password=False)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            second = pool.submit(_read_lines, url, "sale", middle, last_id)
            other = meanwhile()
            first = lines(conn, "sale", 0, middle)
            rest = second.result()
    except (BrokenProcessPool, OSError):
        return lines(conn, "sale", 0, last_id), meanwhile()
    return {name: np.concatenate([first[name], rest[name]]) for name in first}, other


def _read_lines(url: str, kind: str, after_id: int, last_id: int) -> dict[str, np.ndarray]:
    """`lines` on a connection of its own (run in a worker process)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return lines(conn, kind, after_id, last_id)
    finally:
        engine.dispose()


def lines(conn: Connection, kind: str, after_id: int, last_id: int) -> dict[str, np.ndarray]:
    """Purchase lines of one kind as arrays: customer (-1 anonymous), item, order, time,
    money (quantity x unit price, float64: what the segments add up).

    Read with the driver's own cursor, a chunk at a time, each chunk turned into arrays
    at once. Orders become int64 hashes of their ids: only equality matters.
    """
    dialect = conn.dialect.name
    at = "purchased_at" if dialect == "sqlite" else epoch("purchased_at", dialect)
    sql = (
        f"SELECT COALESCE(customer_id, -1), item_id, order_id, {at}, {_money(dialect)} "
        "FROM purchase "
        f"WHERE kind = '{kind}' AND id > {int(after_id)} AND id <= {int(last_id)}"
    )
    parts: list[list[np.ndarray]] = []
    for chunk in stream(conn, sql):
        block = np.array(chunk, dtype=object)  # one 2-D conversion beats zip(*rows)
        parts.append(
            [
                block[:, 0].astype(np.int64),
                block[:, 1].astype(np.int64),
                np.fromiter(map(hash, block[:, 2]), dtype=np.int64, count=len(block)),
                _seconds(block[:, 3]),
                block[:, 4].astype(np.float64),
            ]
        )
    names = ("customer", "item", "order", "time", "money")
    if not parts:
        empty = {name: np.zeros(0, dtype=np.int64) for name in names}
        return {**empty, "money": np.zeros(0, dtype=np.float64)}
    columns = zip(*parts, strict=True)
    return {name: np.concatenate(column) for name, column in zip(names, columns, strict=True)}


def _money(dialect: str) -> str:
    """SQL for a line's quantity x unit price as a float, not a Decimal per row."""
    if dialect == "postgresql":
        return "CAST(quantity * unit_price AS DOUBLE PRECISION)"
    if dialect == "sqlite":
        return "quantity * unit_price"
    return "quantity * unit_price * 1e0"  # MySQL: times a float literal is a DOUBLE


def stream(conn: Connection, sql: str) -> Iterator[Sequence[Any]]:
    """Chunks of rows from the DBAPI cursor (server-side on PostgreSQL and MySQL)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="nextbest_training")
    elif conn.dialect.name in ("mysql", "mariadb"):
        import pymysql.cursors

        cursor = dbapi.cursor(pymysql.cursors.SSCursor)
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(CHUNK):
            yield chunk
    finally:
        cursor.close()


def _seconds(values: np.ndarray) -> np.ndarray:
    """Epoch seconds from integers, or from SQLite's 'YYYY-MM-DD HH:MM:SS[.ffffff]' text."""
    if len(values) and isinstance(values[0], str):
        stamps = values.astype("datetime64[us]").astype("datetime64[s]")
        return stamps.astype(np.int64)
    return values.astype(np.int64)
