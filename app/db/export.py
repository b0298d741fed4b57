"""What the database holds about one customer, as JSON, table by table.

Why streamed: a wholesale customer can have hundreds of thousands of purchase lines;
rows are read in chunks (a server-side cursor where the driver has one) and written
out as they come, so an export never holds a whole history in memory. The tables are
the ones erasure empties (`app.db.erase.customer_tables`), so the two cannot drift.

Rows are shown as stored, with the internal integer ids left out and references given
by the caller's own ids (`item_id`, `plan_id`), as they were imported.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Column, Connection, Engine, Table, select

from app.db import tables
from app.db.erase import customer_tables, rejects_of

CHUNK = 1000  # rows fetched per round trip
NATURAL = {"customer": "customer_id", "item": "item_id", "plan": "plan_id"}
# References without a foreign key (the purchase table has none, for import speed).
UNDECLARED = {("purchase", "item_id"): tables.item}


def customer_row(conn: Connection, customer_id: str) -> tuple[int, dict[str, Any]] | None:
    """The customer's primary key and their row, or None for an unknown id."""
    customer = tables.customer
    found = conn.execute(select(customer).where(customer.c.customer_id == customer_id)).first()
    if found is None:
        return None
    row = dict(found._mapping)
    return int(row.pop("id")), _plain(row)


def chunks(engine: Engine, customer_id: str, pk: int, head: bytes) -> Iterator[bytes]:
    """The export of customer `pk` as JSON text in pieces: `head` (a JSON object with
    the customer row, read by the caller, who answered 404 for an unknown id), then
    `tables` (name -> rows), then the rejected import rows that carry the id
    (`import_rejects`)."""
    with engine.connect() as conn:
        yield head[:-1] + b',"tables":{'
        for n, table in enumerate(customer_tables()):
            yield (b"," if n else b"") + orjson.dumps(str(table.name)) + b":["
            for m, record in enumerate(_rows(conn, table, pk)):
                yield (b"," if m else b"") + orjson.dumps(record)
            yield b"]"
        rejects = [_plain(r) for r in rejects_of(conn, customer_id)]
        for reject in rejects:
            reject.pop("id")
        yield b'},"import_rejects":' + orjson.dumps(rejects) + b"}"


def _rows(conn: Connection, table: Table, pk: int) -> Iterator[dict[str, Any]]:
    """The table's rows of customer `pk`, references as natural ids, oldest first."""
    columns: list[Any] = []
    joined: Any = table
    for column in table.c:
        if column.name in ("id", "customer_id"):
            continue
        target = _referenced(table, column)
        if target is None:
            columns.append(column)
            continue
        alias = target.alias(f"{target.name}_{column.name}")
        joined = joined.outerjoin(alias, alias.c.id == column)
        columns.append(alias.c[NATURAL[target.name]].label(column.name))
    query = select(*columns).select_from(joined).where(table.c.customer_id == pk)
    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
        query.order_by(table.c.id)
    )
    for row in result.mappings():
        yield _plain(dict(row))


def _referenced(table: Table, column: Column[Any]) -> Table | None:
    """The table whose natural id stands for `column`'s integer, if it references one."""
    undeclared = UNDECLARED.get((table.name, column.name))
    if undeclared is not None:
        return undeclared
    for key in column.foreign_keys:
        target = key.column.table
        if isinstance(target, Table) and target.name in NATURAL:
            return target
    return None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON values under plain str keys: timestamps as ISO 8601 in UTC."""
    return {str(k): _iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
