"""SQL spelled once per dialect, for the reads that go around the ORM: timestamps as
epoch seconds, and result rows streamed in chunks from the driver's own cursor.

Why here: training, serving and reporting all read whole columns of rows straight
into arrays (an ORM object per row would cost more than the work on them); each
needs the same two pieces, and the database layer is the one they all stand on.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

CHUNK = 100_000  # rows per fetch


def epoch(column: str, dialect: str) -> str:
    """SQL for a UTC DATETIME column as integer seconds since the epoch."""
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {column})"


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
