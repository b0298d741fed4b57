"""Purchase lines from the database as arrays: the longest step of training.

Kept apart from `app.training.data` so that `nextbest train` can start reading (numpy
and SQLAlchemy only) before it imports the models.
"""

import multiprocessing
import sqlite3
import sys
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Self

import numpy as np
from sqlalchemy import Connection, Engine, text

from app.db.engine import make_engine
from app.db.sql import epoch, stream

PARALLEL_READ = 500_000  # purchase ids from which on two processes read the sale lines
SPAN = 50_000  # purchase ids per share of the work the two processes take turns at


class SaleLines:
    """The sale lines up to the newest purchase id when it started, being read.

    Turning driver rows into arrays is CPU-bound Python, so a large table is read by
    two processes at once: a helper takes spans of ids from the top, this process
    from the bottom once it gets to it (`read`), until they meet. The helper starts
    first, so what this process does meanwhile (`nextbest train` starts it before
    importing the models; training reads the items and customers) costs no time, and
    however long that takes, both finish together. The helper is forked on Linux
    (nothing to re-import, no `__main__` guard needed in the caller's script); where
    that is not possible, or an in-memory SQLite database cannot be shared, this
    process reads everything.
    """

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            # one aggregate per query: SQLite reads MIN or MAX of a key from the index,
            # but scans the table for the two together
            first_id = conn.execute(text("SELECT COALESCE(MIN(id), 1) FROM purchase")).scalar_one()
            last_id = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM purchase")).scalar_one()
        self.last_id = int(last_id)
        self._ids = (int(first_id) - 1, self.last_id)  # (after, up to): the ids to read
        self._helper: BaseProcess | None = None
        self._pipe: Pipe | None = None
        self._spans: Any = None  # [low, high): the spans nobody has taken yet
        fork = multiprocessing.get_context("fork") if sys.platform == "linux" else None
        database = engine.url.database
        in_memory = engine.dialect.name == "sqlite" and database in (None, "", ":memory:")
        if fork is None or in_memory or self.last_id - self._ids[0] < PARALLEL_READ:
            return
        url = engine.url.render_as_string(hide_password=False)
        ends: list[Any] = []
        try:
            spans = fork.Array("q", [0, _count(self._ids)])
            receive, send = fork.Pipe(duplex=False)
            ends = [receive, send]
            helper = fork.Process(target=_help, args=(url, spans, self._ids, send))
            helper.daemon = True  # never outlives a training run that failed before `read`
            helper.start()
        except OSError:  # no second process (or no semaphore for it): this one reads all
            for end in ends:
                end.close()
            return
        send.close()
        self._spans, self._helper, self._pipe = spans, helper, receive

    def read(self, conn: Connection) -> dict[str, np.ndarray]:
        """All the sale lines, in id order: this process's spans, then the helper's."""
        if self._spans is None:
            return lines(conn, "sale", 0, self.last_id)
        parts = {}
        while (span := _take(self._spans, top=False)) is not None:
            parts[span] = _span(conn, self._ids, span)
        parts.update(self._from_helper())
        for span in range(_count(self._ids)):  # the spans of a helper that failed
            if span not in parts:
                parts[span] = _span(conn, self._ids, span)
        names = ("customer", "item", "order", "time", "money")
        return {n: np.concatenate([parts[s][n] for s in sorted(parts)]) for n in names}

    def _from_helper(self) -> dict[int, dict[str, np.ndarray]]:
        """The helper's spans; none if it failed (this process then reads them)."""
        if self._pipe is None or self._helper is None:
            return {}
        try:
            done: dict[int, dict[str, np.ndarray]] = self._pipe.recv()
        except (EOFError, OSError):
            done = {}
        self._helper.join()
        return done

    def close(self) -> None:
        """Stop a helper whose lines were never asked for (training failed first)."""
        if self._helper is not None and self._helper.is_alive():
            self._helper.terminate()
            self._helper.join()
        if self._pipe is not None:
            self._pipe.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _count(ids: tuple[int, int]) -> int:
    """How many spans the ids (after, up to] make."""
    return -(-(ids[1] - ids[0]) // SPAN)


def _span(conn: Connection, ids: tuple[int, int], span: int) -> dict[str, np.ndarray]:
    """The sale lines of one span of ids (the first from id 0, as a single read would)."""
    after = ids[0] + span * SPAN
    return lines(conn, "sale", after if span else 0, min(after + SPAN, ids[1]))


def _take(spans: Any, top: bool) -> int | None:
    """The next span to read from the top or the bottom; None when none is left."""
    with spans.get_lock():
        low, high = spans[0], spans[1]
        if low >= high:
            return None
        if top:
            spans[1] = high - 1
            return int(high - 1)
        spans[0] = low + 1
        return int(low)


def _help(url: str, spans: Any, ids: tuple[int, int], pipe: Pipe) -> None:
    """The helper process: spans from the top until it meets the other reader; then
    every span it read, in one message. On an error it sends nothing and exits.

    It connects anew and never touches the engine it inherited: closing a connection
    forked from the parent would end the parent's session on a database server.
    """
    engine = make_engine(url)
    parts = {}
    with engine.connect() as conn:
        while (span := _take(spans, top=True)) is not None:
            parts[span] = _span(conn, ids, span)
    engine.dispose()
    pipe.send(parts)
    pipe.close()


def lines(conn: Connection, kind: str, after_id: int, last_id: int) -> dict[str, np.ndarray]:
    """Purchase lines of one kind as arrays: customer (-1 anonymous), item, order, time,
    money (quantity x unit price, float64: what the segments add up).

    Read with the driver's own cursor, a chunk at a time, each chunk turned into one
    structured array at once (faster than an object array, whose columns each need a
    conversion). Orders become int64 hashes of their ids: only equality matters.
    """
    dialect = conn.dialect.name
    sql = (
        f"SELECT COALESCE(customer_id, -1), item_id, order_id, {_at(dialect)}, "
        f"{_money(dialect)} FROM purchase "
        f"WHERE kind = '{kind}' AND id > {int(after_id)} AND id <= {int(last_id)}"
    )
    row = _ROW_TEXT if _at(dialect) == "purchased_at" else _ROW
    parts: list[list[np.ndarray]] = []
    for chunk in stream(conn, sql):
        block = np.fromiter(chunk, dtype=row, count=len(chunk))
        parts.append(
            [
                block["customer"],
                block["item"],
                np.fromiter(map(hash, block["order"]), dtype=np.int64, count=len(block)),
                _seconds(block["time"]),
                block["money"],
            ]
        )
    names = ("customer", "item", "order", "time", "money")
    if not parts:
        empty = {name: np.zeros(0, dtype=np.int64) for name in names}
        return {**empty, "money": np.zeros(0, dtype=np.float64)}
    columns = zip(*parts, strict=True)
    return {name: np.concatenate(column) for name, column in zip(names, columns, strict=True)}


_FIELDS = [("customer", np.int64), ("item", np.int64), ("order", object)]
_ROW = np.dtype([*_FIELDS, ("time", np.int64), ("money", np.float64)])
_ROW_TEXT = np.dtype([*_FIELDS, ("time", object), ("money", np.float64)])


def _at(dialect: str) -> str:
    """SQL for a line's time in epoch seconds; on an SQLite older than 3.38 (no
    unixepoch, and strftime is slower than numpy), the stored text itself."""
    if dialect != "sqlite":
        return epoch("purchased_at", dialect)
    return "unixepoch(purchased_at)" if sqlite3.sqlite_version_info >= (3, 38) else "purchased_at"


def _money(dialect: str) -> str:
    """SQL for a line's quantity x unit price as a float, not a Decimal per row."""
    if dialect == "postgresql":
        return "CAST(quantity * unit_price AS DOUBLE PRECISION)"
    if dialect == "sqlite":
        return "quantity * unit_price"
    return "quantity * unit_price * 1e0"  # MySQL: times a float literal is a DOUBLE


def _seconds(values: np.ndarray) -> np.ndarray:
    """Epoch seconds from integers, or from SQLite's 'YYYY-MM-DD HH:MM:SS[.ffffff]' text."""
    if len(values) and isinstance(values[0], str):
        stamps = values.astype("datetime64[us]").astype("datetime64[s]")
        return stamps.astype(np.int64)
    return values.astype(np.int64)
