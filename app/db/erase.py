"""Erasing a customer on request: every row about them goes, a hash of the id stays.

Which rows: the customer row, and every row of every table with an integer
`customer_id` column (purchases, subscriptions, plan changes, usage, tickets, offer
events, and any table added later that follows the convention), found from the
schema rather than listed here, so a new table cannot be forgotten. Rejected import
rows (`import_reject.raw`) that carry the id are deleted too: a rejected line of a
CSV file is personal data as much as an accepted one.

Why a hash is kept (`erased_customer.customer_sha256`): the loaded model still holds
the customer until the next training, so the servers need to recognise the id to
answer 404 for it; and a nightly sync from the upstream CRM would otherwise bring the
customer straight back. A hash recognises the id when a caller names it again, but
the table alone does not say who was erased. It is a plain SHA-256 of the id (no
secret salt), so an operator can check an erasure with `printf %s ID | sha256sum`;
the cost is that an id easy to guess can be confirmed by hashing the guess.
"""

import csv
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Table, delete, insert, select

from app.db import tables
from app.db.bulk import in_values


def customer_hash(customer_id: str) -> str:
    """The SHA-256 (hex) of a customer id, as erased_customer stores it."""
    return hashlib.sha256(customer_id.encode()).hexdigest()


def customer_tables() -> list[Table]:
    """Every table whose rows belong to one customer: an integer `customer_id` column
    holding customer.id (the customer table's own `customer_id` is the external id)."""
    return [
        table
        for table in tables.metadata.sorted_tables
        if table is not tables.customer
        and "customer_id" in table.c
        and isinstance(table.c.customer_id.type, Integer)
    ]


def erase(engine: Engine, customer_id: str) -> dict[str, int] | None:
    """Delete everything stored about `customer_id` in one transaction and record the
    erasure; the rows deleted per table, or None for an id the database does not hold.

    Two erasures of the same id at once: the second finds no customer row left to
    delete and answers None, like an unknown id.
    """
    try:
        with engine.begin() as conn:
            return _erase(conn, customer_id)
    except _Gone:
        return None


class _Gone(Exception):
    """The customer row went meanwhile: roll back, nothing to erase."""


def _erase(conn: Connection, customer_id: str) -> dict[str, int] | None:
    customer = tables.customer
    pk = conn.execute(
        select(customer.c.id).where(customer.c.customer_id == customer_id).with_for_update()
    ).scalar()
    if pk is None:
        return None
    counts = {
        str(table.name): conn.execute(delete(table).where(table.c.customer_id == pk)).rowcount
        for table in customer_tables()
    }
    counts["import_reject"] = _erase_rejects(conn, customer_id)
    counts["customer"] = conn.execute(delete(customer).where(customer.c.id == pk)).rowcount
    if not counts["customer"]:
        raise _Gone(customer_id)
    if not erased_among(conn, [customer_id]):
        conn.execute(
            insert(tables.erased_customer).values(
                customer_sha256=customer_hash(customer_id), erased_at=datetime.now(UTC)
            )
        )
    return counts


def erased_among(conn: Connection, customer_ids: list[str]) -> set[str]:
    """The ids among `customer_ids` that were erased (one indexed read)."""
    if not customer_ids:
        return set()
    by_hash = {customer_hash(c): c for c in customer_ids}
    column = tables.erased_customer.c.customer_sha256
    found = conn.execute(select(column).where(in_values(conn, column, list(by_hash)))).scalars()
    return {by_hash[h] for h in found}


def any_erased(conn: Connection) -> bool:
    """Whether any customer was ever erased: imports skip the check when none was."""
    column = tables.erased_customer.c.id
    return conn.execute(select(column).limit(1)).first() is not None


def rejects_of(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    """Rejected import rows that carry the id as one of their fields."""
    reject = tables.import_reject
    escaped = customer_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    candidates = conn.execute(
        select(reject.c.id, reject.c.run_id, reject.c.position, reject.c.field, reject.c.reason)
        .add_columns(reject.c.raw)
        .where(reject.c.raw.like(f"%{escaped}%", escape="\\"))
        .order_by(reject.c.id)
    ).mappings()
    rows = [{str(k): v for k, v in row.items()} for row in candidates]
    return [row for row in rows if customer_id in _fields(row["raw"])]


def _erase_rejects(conn: Connection, customer_id: str) -> int:
    ids = [row["id"] for row in rejects_of(conn, customer_id)]
    if not ids:
        return 0
    reject = tables.import_reject
    return conn.execute(delete(reject).where(in_values(conn, reject.c.id, ids))).rowcount


def _fields(raw: str) -> set[str]:
    """The values of a rejected row: a JSON object's (top level), else a CSV line's.

    Exact values, so erasing "C1" leaves the rejects of "C12" alone.
    """
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return {v if isinstance(v, str) else json.dumps(v) for v in parsed.values()}
    found: set[str] = set()
    for delimiter in (",", ";", "\t"):
        for line in csv.reader(raw.splitlines(), delimiter=delimiter):
            found.update(field.strip() for field in line)
    return found
