"""Purchase history from the database straight into arrays, with the id vocabularies.

Why raw SQL rows and numpy: training reads millions of order lines; an ORM object or
even a dict per row would cost more than fitting. Timestamps become epoch seconds in
SQL (each dialect has its own spelling), sale lines that were returned are dropped in
the join, and ids map to indexes with one searchsorted.
"""

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text

from app.training.lines import SaleLines, lines
from models.engine import Items
from models.history import NO_CUSTOMER, History, returned_sales
from models.kinds import count_in_name, kinds_of
from models.vocab import Vocab, index_of


@dataclass(frozen=True)
class Sales:
    """Every sale line of a known customer as read, returned or not: what RFM counts.

    Kept beside the history (which drops returns, fees and unknown items) so the
    segments come from the lines training reads anyway, not from a second pass over
    the table.
    """

    customer: np.ndarray  # int64 index into Vocab.customer_ids
    time: np.ndarray  # int64 epoch seconds
    order: np.ndarray  # int64 hash of the order id
    money: np.ndarray  # float64 quantity x unit price


@dataclass(frozen=True)
class Snapshot:
    """History, vocabularies and the known customers' sale lines as read at one moment."""

    history: History
    vocab: Vocab
    sales: Sales


def load_snapshot(
    engine: Engine, reading: SaleLines | None = None, as_of: int | None = None
) -> Snapshot:
    """Everything training needs: lines up to the newest purchase id at the start.

    `reading`, started by the caller on the same database, may be under way already.
    `as_of`: only sales and returns made by then (epoch seconds) count.
    """
    with reading or SaleLines(engine) as sale_lines, engine.connect() as conn:
        # Everything up to `read` is done while the helper process reads sale lines.
        items, customers = _items(conn), _customers(conn)
        item_db_ids, item_ids, names, category, categories, price, active, fee = items[:8]
        consumable, pack, currency = items[8:]
        # Kinds only group premium alternatives: the cross-sell blend sees categories alone.
        kind, kinds = kinds_of(names, category, categories)
        pack = _packs(pack, names, category)
        returns = lines(conn, "return", 0, sale_lines.last_id)
        sales = sale_lines.read(conn)
    if as_of is not None:
        sales, returns = (_until(lines_, as_of) for lines_ in (sales, returns))
    last_id = sale_lines.last_id
    customer_db_ids, customer_ids, group, groups = customers
    with ThreadPoolExecutor(1) as pool:  # numpy's sort lets go of the GIL
        ranking = pool.submit(np.unique, sales["order"], return_inverse=True)
        item, known_item = index_of(item_db_ids, sales["item"])
        customer, known_customer = index_of(customer_db_ids, sales["customer"])
        anonymous = sales["customer"] < 0
        keep = known_item & (known_customer | anonymous) & ~returned_sales(sales, returns)
        keep[known_item] &= ~fee[item[known_item]]
        order = dense_among(ranking.result()[1], keep)
    history = History(
        np.where(anonymous, NO_CUSTOMER, customer)[keep].astype(np.int32),
        item[keep].astype(np.int32),
        order.astype(np.int32),
        sales["time"][keep],
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
        kind=kind,
        kinds=kinds,
        pack=pack,
        currency=currency,
        customer_ids=customer_ids,
        customer_db_ids=customer_db_ids,
        group=group,
        groups=groups,
        last_purchase_id=last_id,
    )
    counted = Sales(
        customer[known_customer],
        sales["time"][known_customer],
        sales["order"][known_customer],
        sales["money"][known_customer],
    )
    return Snapshot(history, vocab, counted)


def dense_among(ranks: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """`np.unique(values[keep], return_inverse=True)[1]`, given the ranks of all values
    (`np.unique(values, return_inverse=True)[1]`).

    Ranking every order while the lines to keep are still being worked out, then
    renumbering the ones kept, gives the same dense indexes as ranking the kept ones.
    """
    kept = ranks[keep]
    used = np.zeros(int(ranks.max(initial=-1)) + 1, dtype=bool)
    used[kept] = True
    renumber = np.cumsum(used) - 1
    result: np.ndarray = renumber[kept]
    return result


def _until(lines_: dict[str, np.ndarray], as_of: int) -> dict[str, np.ndarray]:
    """The lines made at or before `as_of`."""
    made = lines_["time"] <= as_of
    return {k: v[made] for k, v in lines_.items()}


def _items(conn: Connection) -> tuple[Any, ...]:
    rows = conn.execute(
        text(
            "SELECT id, item_id, name, category, price, active, attributes, currency "
            "FROM item ORDER BY id"
        )
    ).all()
    db_ids = np.array([r[0] for r in rows], dtype=np.int64)
    names = [r[2] or r[1] for r in rows]
    categories, category = _factorize([r[3] for r in rows])
    price = np.array([np.nan if r[4] is None else float(r[4]) for r in rows], dtype=np.float64)
    active = np.array([bool(r[5]) for r in rows], dtype=bool)
    attributes = [json_object(r[6]) for r in rows]
    fee = np.array([bool(a.get("fee")) for a in attributes], dtype=bool)
    consumable = np.array([bool(a.get("consumable")) for a in attributes], dtype=bool)
    pack = np.array([_pack_size(a) for a in attributes], dtype=np.int32)
    currency = [r[7] or "" for r in rows]
    ids = [r[1] for r in rows]
    return db_ids, ids, names, category, categories, price, active, fee, consumable, pack, currency


def _pack_size(attributes: dict[str, Any]) -> int:
    """Units in one sale of the item (0: not declared); premium compares equal packs."""
    size = attributes.get("pack_size")
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 0


def _packs(declared: np.ndarray, names: list[str], category: np.ndarray) -> np.ndarray:
    """Declared pack sizes; else, where kinds come from names, the count a name gives."""
    pack = np.where(declared > 0, declared, 1).astype(np.int32)
    from_name = np.flatnonzero((declared == 0) & (category < 0))
    pack[from_name] = [count_in_name(names[i]) for i in from_name.tolist()]
    return pack


def _customers(conn: Connection) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    rows = conn.execute(
        text("SELECT id, customer_id, country, attributes FROM customer ORDER BY id")
    ).all()
    db_ids = np.array([r[0] for r in rows], dtype=np.int64)
    labels = [_group_label(r[2], _segment(r[3])) for r in rows]
    groups, group = _factorize(labels)
    return db_ids, [r[1] for r in rows], group, groups


def _group_label(country: str | None, segment: Any) -> str | None:
    """'GB', 'GB/smb' or None: the customers a newcomer is most like."""
    if not country and not segment:
        return None
    return "/".join(str(part) for part in (country, segment) if part)


def _factorize(values: list[str | None]) -> tuple[list[str], np.ndarray]:
    """(distinct values sorted, code per value with -1 for None)."""
    distinct = sorted({v for v in values if v})
    code = {v: i for i, v in enumerate(distinct)}
    return distinct, np.array([code.get(v, -1) if v else -1 for v in values], dtype=np.int32)


def _segment(attributes: Any) -> Any:
    """The `segment` attribute; text without the word is not even parsed (most rows)."""
    if isinstance(attributes, str) and '"segment"' not in attributes:
        return None
    return json_object(attributes).get("segment")


def json_object(value: Any) -> dict[str, Any]:
    """JSON columns arrive parsed on PostgreSQL and as text elsewhere with raw SQL."""
    if isinstance(value, str):
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) else {}
    return value if isinstance(value, dict) else {}
