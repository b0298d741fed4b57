"""Fast inserts and upserts of many rows: COPY on PostgreSQL, driver-level executemany elsewhere.

SQLAlchemy's executemany builds a parameter dict per row, which costs more than the
database's own work for large imports. Here rows arrive column by column, each
column is converted once per distinct value with its type's bind processor (the
conversion SQLAlchemy itself applies: UTC timestamps, JSON text), and plain tuples
go to the driver. On PostgreSQL the rows go as COPY text, formatted here a column
at a time rather than by the driver a value at a time.

`upsert_columns` inserts a batch straight away when none of its keys is stored (the
first import of a file). Otherwise it loads the rows into a temporary staging table
and lets the database compare them with the stored ones (PostgreSQL: one INSERT ...
ON CONFLICT DO UPDATE; elsewhere an UPDATE of the changed rows and an INSERT of the
new ones), instead of reading the stored rows back into Python.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    any_,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.db.types import MYSQL_TABLE_OPTIONS, UTCDateTime

STAGE_ROW = "nextbest_row"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _each_distinct(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`convert` applied to each value, computed once per distinct value; None stays None.

    Import columns repeat a few thousand values (dates, prices, ids) over many rows.
    """
    try:
        done = {v: None if v is None else convert(v) for v in dict.fromkeys(values)}
    except TypeError:  # unhashable values (JSON objects)
        return [None if v is None else convert(v) for v in values]
    return list(map(done.__getitem__, values))


def _processed(conn: Connection, table: Table, name: str, values: list[Any]) -> list[Any]:
    """`values` as SQLAlchemy binds them for this column on this dialect.

    The dialect's own implementation of the type, not the generic one: SQLite's
    DATETIME writes 'YYYY-MM-DD HH:MM:SS.ffffff', which every compiled statement
    compares against; the generic type left whole seconds to the driver's shorter text.
    """
    process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if process is None:
        return values
    return _each_distinct(values, process)


@dataclass
class _Prepared:
    """Rows converted once for the driver: COPY lines on PostgreSQL, tuples elsewhere."""

    names: list[str]
    lines: list[str] = field(default_factory=list)
    tuples: list[tuple[Any, ...]] = field(default_factory=list)


def _uses_copy(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def _prepare(conn: Connection, table: Table, columns: dict[str, list[Any]]) -> _Prepared:
    names = list(columns)
    if _uses_copy(conn):
        texts = [_copy_text(table, n, columns[n]) for n in names]
        return _Prepared(names, lines=list(map("\t".join, zip(*texts, strict=True))))
    converted = [_processed(conn, table, n, columns[n]) for n in names]
    return _Prepared(names, tuples=list(zip(*converted, strict=True)))


def _send(conn: Connection, table: Table, rows: _Prepared) -> None:
    """Insert prepared rows into `table` (or another table with the same columns)."""
    if _uses_copy(conn):
        _copy(conn, table, rows.names, rows.lines)
    elif conn.dialect.driver == "pymysql" and rows.tuples:
        _multirow_insert(conn, table, rows)
    elif rows.tuples:
        conn.exec_driver_sql(_positional_insert(conn, table, rows.names), rows.tuples)


def _multirow_insert(conn: Connection, table: Table, rows: _Prepared) -> None:
    """INSERT ... VALUES (...), (...) in statements of about a megabyte, as PyMySQL's
    executemany builds them, but with each distinct value escaped once (by PyMySQL's
    own escaping) instead of each value of each row."""
    raw = conn.connection.driver_connection
    assert raw is not None
    columns = [
        _each_distinct(list(values), raw.escape) for values in zip(*rows.tuples, strict=True)
    ]
    literals = [["NULL" if v is None else v for v in column] for column in columns]
    values = list(map(",".join, zip(*literals, strict=True)))
    quote = conn.dialect.identifier_preparer.quote
    head = (
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(n) for n in rows.names)}) VALUES "
    )
    error = conn.dialect.loaded_dbapi.Error
    with raw.cursor() as cursor:
        start = 0
        while start < len(values):
            end, size = start, 0
            while end < len(values) and size < 1_000_000:
                size += len(values[end]) + 3
                end += 1
            statement = head + "(" + "),(".join(values[start:end]) + ")"
            try:
                cursor.execute(statement)
            except error as exc:  # raised as SQLAlchemy's, like execute()
                raise DBAPIError.instance(head, None, exc, error) from exc
            start = end


def insert_columns(conn: Connection, table: Table, columns: dict[str, list[Any]]) -> None:
    """Insert rows given column by column (lists of equal length) into `table`."""
    names = list(columns)
    if names and columns[names[0]]:
        _send(conn, table, _prepare(conn, table, columns))


def _positional_insert(conn: Connection, table: Table, names: list[str]) -> str:
    """INSERT with positional placeholders, so the driver takes plain tuples."""
    quote = conn.dialect.identifier_preparer.quote
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(n) for n in names)}) VALUES ({', '.join([marker] * len(names))})"
    )


def _copy_value(value: Any) -> str:
    """One value in COPY's text format (as psycopg would write it)."""
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _copy_text(table: Table, name: str, values: list[Any]) -> list[str]:
    """A column as COPY text: JSON as its text, UTC timestamps naive, NULL as \\N."""
    kind = table.c[name].type
    if isinstance(kind, JSON):
        texts = _each_distinct(values, lambda v: json.dumps(v).translate(_COPY_ESCAPES))
    elif isinstance(kind, UTCDateTime):
        texts = _each_distinct(values, lambda v: _copy_value(_naive_utc(v)))
    else:
        texts = _each_distinct(values, _copy_value)
    return [r"\N" if t is None else t for t in texts] if None in values else texts


def _naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def _copy(conn: Connection, table: Table, columns: list[str], lines: list[str]) -> None:
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    name = conn.dialect.identifier_preparer.format_table(table)
    raw = conn.connection.driver_connection
    assert raw is not None
    statement = f"COPY {name} ({quoted}) FROM STDIN"
    error = conn.dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            step = 20_000  # a few megabytes per write
            for start in range(0, len(lines), step):
                copy.write("\n".join(lines[start : start + step]) + "\n")
    except error as exc:  # the driver's own error: raised as SQLAlchemy's, like execute()
        raise DBAPIError.instance(statement, None, exc, error) from exc


def in_values(conn: Connection, column: Column[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL one array parameter instead of one per value.

    Thousands of separate parameters cost more to send and plan than the lookup itself.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


def _stage(table: Table, names: Sequence[str]) -> Table:
    """A temporary table with `names` as in `table`; its key numbers the rows in order."""
    columns = [Column(n, table.c[n].type, nullable=True) for n in names]
    return Table(
        f"nextbest_stage_{table.name}",
        MetaData(),
        Column(STAGE_ROW, Integer, primary_key=True, autoincrement=True),
        *columns,
        prefixes=["TEMPORARY"],
        **MYSQL_TABLE_OPTIONS,
    )


def _drop(conn: Connection, stage: Table) -> None:
    """Drop the staging table, never a real table of the same name."""
    name = conn.dialect.identifier_preparer.quote(stage.name)
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.execute(text(f"DROP TEMPORARY TABLE IF EXISTS {name}"))
    else:
        schema = "pg_temp" if conn.dialect.name == "postgresql" else "temp"
        conn.execute(text(f"DROP TABLE IF EXISTS {schema}.{name}"))


def upsert_columns(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    fields: Sequence[str],
    columns: dict[str, list[Any]],
) -> tuple[int, int]:
    """Insert the rows whose `key` is new and update `fields` where they differ.

    Rows must have distinct keys and `key` must be a unique constraint of `table`.
    Returns (inserted, updated); the other rows were already stored as given.
    """
    names = list(columns)
    if not names or not columns[names[0]]:
        return 0, 0
    rows = _prepare(conn, table, columns)
    try:  # new rows are the usual case of a large import: inserted straight away
        with conn.begin_nested():
            _send(conn, table, rows)
        return len(columns[names[0]]), 0
    except IntegrityError:
        pass  # a key is stored already (or a row breaks a constraint: the statements below say so)
    stage = _stage(table, names)
    _drop(conn, stage)  # one left behind by a failed batch (MySQL keeps it)
    stage.create(conn)
    _send(conn, stage, rows)
    staged = select(*(stage.c[n] for n in names)).order_by(stage.c[STAGE_ROW])
    if conn.dialect.name == "postgresql":
        counts = _upsert_on_conflict(conn, table, key, fields, names, staged)
    else:
        counts = _update_then_insert(conn, table, key, fields, names, stage)
    _drop(conn, stage)
    return counts


def _upsert_on_conflict(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    fields: Sequence[str],
    names: list[str],
    staged: Select[Any],
) -> tuple[int, int]:
    """One INSERT ... ON CONFLICT DO UPDATE of the changed rows: an index probe per row.

    A join with the stored rows would be planned with statistics from before this
    transaction, which do not count the rows it inserted, and would read the whole
    table for every batch. A row returned with xmax = 0 was inserted, any other was
    updated.
    """
    statement = pg_insert(table).from_select(names, staged)
    if fields:
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={f: excluded[f] for f in fields},
            where=or_(*(table.c[f].is_distinct_from(excluded[f]) for f in fields)),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    done = statement.returning(literal_column("xmax = 0").label("new")).cte("done")
    counts = select(func.count().filter(done.c.new), func.count().filter(done.c.new.is_(False)))
    inserted, updated = conn.execute(counts).one()
    return int(inserted), int(updated)


def _update_then_insert(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    fields: Sequence[str],
    names: list[str],
    stage: Table,
) -> tuple[int, int]:
    """An UPDATE joined on the key, then an INSERT of the staged rows without a match."""
    same_key = and_(*(table.c[k] == stage.c[k] for k in key))
    updated = 0
    if fields:
        differs = or_(*(table.c[f].is_distinct_from(stage.c[f]) for f in fields))
        change = update(table).values({f: stage.c[f] for f in fields}).where(same_key, differs)
        updated = conn.execute(change).rowcount
    new = (
        select(*(stage.c[n] for n in names))
        .where(~exists().where(same_key))
        .order_by(stage.c[STAGE_ROW])
    )
    adding = insert(table).from_select(names, new).execution_options(preserve_rowcount=True)
    return conn.execute(adding).rowcount, updated
