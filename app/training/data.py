"""Purchase history from the database straight into arrays, with the id vocabularies.

Why raw SQL rows and numpy: training reads millions of order lines; an ORM object or
even a dict per row would cost more than fitting. Timestamps become epoch seconds in
SQL (each dialect has its own spelling), sale lines that were returned are dropped in
the join, and ids map to indexes with one searchsorted.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text

from models.engine import Items
from models.history import NO_CUSTOMER, History

CHUNK = 100_000


@dataclass(frozen=True)
class Vocab:
    """What serving needs besides the models: ids, item facts and customer groups."""

    items: Items
    item_ids: list[str]  # external ids, by index
    item_db_ids: np.ndarray  # int64 primary keys, sorted; index = position
    price: np.ndarray  # float64, NaN where unknown
    active: np.ndarray  # bool: may be offered
    categories: list[str]  # category names; Items.category indexes them
    customer_ids: list[str]
    customer_db_ids: np.ndarray  # int64 primary keys, sorted
    group: np.ndarray  # int32 per customer: (country, segment) group, -1 for none
    groups: list[str]  # group labels
    last_purchase_id: int  # the newest purchase row read


@dataclass(frozen=True)
class Snapshot:
    """History and vocabularies as read at one moment."""

    history: History
    vocab: Vocab


def epoch(column: str, dialect: str) -> str:
    """SQL for a UTC DATETIME column as integer seconds since the epoch."""
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {column})"


def load_snapshot(engine: Engine) -> Snapshot:
    """Everything training needs, read in one transaction."""
    with engine.connect() as conn:
        items = _items(conn)
        customers = _customers(conn)
        lines, last_id = _sale_lines(conn)
    item_db_ids, item_ids, names, category, categories, price, active, fee, consumable = items
    customer_db_ids, customer_ids, group, groups = customers
    line_item = np.searchsorted(item_db_ids, lines["item"])
    keep = ~fee[line_item]
    known = lines["customer"] >= 0
    customer = np.full(len(line_item), NO_CUSTOMER, dtype=np.int32)
    customer[known] = np.searchsorted(customer_db_ids, lines["customer"][known])
    _, order = np.unique(lines["order"], return_inverse=True)
    history = History(
        customer[keep],
        line_item[keep].astype(np.int32),
        order.astype(np.int32)[keep],
        lines["time"][keep],
        len(customer_ids),
        len(item_ids),
    )
    vocab = Vocab(
        items=Items(names, category, consumable),
        item_ids=item_ids,
        item_db_ids=item_db_ids,
        price=price,
        active=active & ~fee,
        categories=categories,
        customer_ids=customer_ids,
        customer_db_ids=customer_db_ids,
        group=group,
        groups=groups,
        last_purchase_id=last_id,
    )
    return Snapshot(history, vocab)


def _items(conn: Connection) -> tuple[Any, ...]:
    rows = conn.execute(
        text("SELECT id, item_id, name, category, price, active, attributes FROM item ORDER BY id")
    ).all()
    db_ids = np.array([r[0] for r in rows], dtype=np.int64)
    names = [r[2] or r[1] for r in rows]
    categories, category = _factorize([r[3] for r in rows])
    price = np.array([np.nan if r[4] is None else float(r[4]) for r in rows], dtype=np.float64)
    active = np.array([bool(r[5]) for r in rows], dtype=bool)
    attributes = [_json(r[6]) for r in rows]
    fee = np.array([bool(a.get("fee")) for a in attributes], dtype=bool)
    consumable = np.array([bool(a.get("consumable")) for a in attributes], dtype=bool)
    ids = [r[1] for r in rows]
    return db_ids, ids, names, category, categories, price, active, fee, consumable


def _customers(conn: Connection) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    rows = conn.execute(
        text("SELECT id, customer_id, country, attributes FROM customer ORDER BY id")
    ).all()
    db_ids = np.array([r[0] for r in rows], dtype=np.int64)
    labels = [_group_label(r[2], _json(r[3]).get("segment")) for r in rows]
    groups, group = _factorize(labels)
    return db_ids, [r[1] for r in rows], group, groups


def _group_label(country: str | None, segment: Any) -> str | None:
    """'GB', 'GB/smb' or None: the customers a newcomer is most like."""
    if not country and not segment:
        return None
    return "/".join(str(part) for part in (country, segment) if part)


def _sale_lines(conn: Connection) -> tuple[dict[str, np.ndarray], int]:
    """Sale lines not returned: internal customer (-1 anonymous), item, order, time."""
    at = epoch("p.purchased_at", conn.dialect.name)
    result = conn.execution_options(stream_results=True).execute(
        text(
            f"SELECT p.id, COALESCE(p.customer_id, -1), p.item_id, p.order_id, {at} "
            "FROM purchase p LEFT JOIN purchase r ON r.order_id = p.order_id "
            "AND r.item_id = p.item_id AND r.kind = 'return' "
            "WHERE p.kind = 'sale' AND r.id IS NULL"
        )
    )
    parts: list[Sequence[Any]] = []
    while chunk := result.fetchmany(CHUNK):
        parts.extend(chunk)
    columns = list(zip(*parts, strict=True)) if parts else [(), (), (), (), ()]
    ids = np.array(columns[0], dtype=np.int64)
    lines = {
        "customer": np.array(columns[1], dtype=np.int64),
        "item": np.array(columns[2], dtype=np.int64),
        "order": np.array(columns[3], dtype=str),
        "time": np.array(columns[4], dtype=np.int64),
    }
    return lines, int(ids.max()) if len(ids) else 0


def _factorize(values: list[str | None]) -> tuple[list[str], np.ndarray]:
    """(distinct values sorted, code per value with -1 for None)."""
    distinct = sorted({v for v in values if v})
    code = {v: i for i, v in enumerate(distinct)}
    return distinct, np.array([code.get(v, -1) if v else -1 for v in values], dtype=np.int32)


def _json(value: Any) -> dict[str, Any]:
    """JSON columns arrive parsed on PostgreSQL and as text elsewhere with raw SQL."""
    if isinstance(value, str):
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) else {}
    return value if isinstance(value, dict) else {}
