"""Fast inserts of many rows: COPY on PostgreSQL, driver-level executemany elsewhere.

SQLAlchemy's executemany builds a parameter dict per row, which costs more than the
database's own work for large imports. Here rows arrive column by column, each
column is converted once with its type's bind processor (the conversion SQLAlchemy
itself applies: UTC timestamps, JSON text), and plain tuples go to the driver.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Connection, Table, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY

from app.db.types import UTCDateTime


def _processed(conn: Connection, table: Table, name: str, values: list[Any]) -> list[Any]:
    process = table.c[name].type.bind_processor(conn.dialect)
    if process is None:
        return values
    return [None if v is None else process(v) for v in values]


def insert_columns(conn: Connection, table: Table, columns: dict[str, list[Any]]) -> None:
    """Insert rows given column by column (lists of equal length) into `table`."""
    names = list(columns)
    if not names or not columns[names[0]]:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        converted = [_for_copy(conn, table, n, columns[n]) for n in names]
        _copy(conn, table, names, list(zip(*converted, strict=True)))
        return
    converted = [_processed(conn, table, n, columns[n]) for n in names]
    conn.exec_driver_sql(_positional_insert(conn, table, names), list(zip(*converted, strict=True)))


def _positional_insert(conn: Connection, table: Table, names: list[str]) -> str:
    """INSERT with positional placeholders, so the driver takes plain tuples."""
    quote = conn.dialect.identifier_preparer.quote
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(n) for n in names)}) VALUES ({', '.join([marker] * len(names))})"
    )


def _for_copy(conn: Connection, table: Table, name: str, values: list[Any]) -> list[Any]:
    """COPY takes Python values as psycopg adapts them, except JSON, which goes as text."""
    if isinstance(table.c[name].type, JSON):
        return [None if v is None else json.dumps(v) for v in values]
    if isinstance(table.c[name].type, UTCDateTime):
        return [v if v is None or v.tzinfo is None else _naive_utc(v) for v in values]
    return values


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _copy(
    conn: Connection, table: Table, columns: list[str], values: list[tuple[Any, ...]]
) -> None:
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    name = conn.dialect.identifier_preparer.format_table(table)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def in_values(conn: Connection, column: Column[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL one array parameter instead of one per value.

    Thousands of separate parameters cost more to send and plan than the lookup itself.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)
