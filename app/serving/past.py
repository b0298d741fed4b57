"""What a customer, and the other departments of their account, had bought as of a
moment a caller asks for (`as_of`), read from the database.

Why a read and not the model: the model holds every purchase up to its training, and
an answer as of an earlier moment must not know the ones after it. Purchases since
training are in memory with their times (`app.serving.live`), so only a moment before
the model's newest purchase needs these reads; both are bounded to one customer (or
one account) through the purchase table's (customer_id, purchased_at) index.
"""

import numpy as np
from sqlalchemy import Engine

from app.db.sql import epoch
from app.serving.customers import Customer, Customers, Lines
from app.serving.subscriber import Cursor, Reads, driver_cursor, reads_for
from models.history import returned_sales
from models.vocab import index_of


class PastReads(Reads):
    """The upsell route's reads, plus the purchases up to a moment (driver SQL, written
    once per dialect: `reads_for(engine, PastReads)`)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        mark = "?" if self.sqlite else "%s"
        at = epoch("p.purchased_at", engine.dialect.name)
        self.lines = (
            f"SELECT p.item_id, {at}, p.order_id, p.kind FROM purchase p "
            f"JOIN customer c ON c.id = p.customer_id WHERE c.customer_id = {mark} "
            f"AND p.kind IN ('sale', 'return') AND p.purchased_at <= {mark} "
            "ORDER BY p.purchased_at, p.id"
        )
        self.peer_lines = (
            "SELECT DISTINCT c.id, p.item_id FROM purchase p JOIN customer c "
            f"ON c.id = p.customer_id WHERE c.account_id = {mark} AND c.id <> {mark} "
            f"AND p.kind = 'sale' AND p.purchased_at <= {mark}"
        )


def lines_until(
    cursor: Cursor,
    reads: PastReads,
    item_db_ids: np.ndarray,
    customer_id: str,
    moment: int,
) -> Lines:
    """The customer's sale lines up to `moment`, oldest first, of items the model knows
    (an item added since its training has no place in its vectors), less those returned
    by then as training counts returns (`models.history.returned_sales`)."""
    cursor.execute(reads.lines, (customer_id, reads.moment(moment)))
    rows = cursor.fetchall()
    item = np.array([int(r[0]) for r in rows], np.int64)
    at = np.array([int(r[1]) for r in rows], np.int64)
    order = np.array([hash(r[2]) for r in rows], np.int64)
    sale = np.array([r[3] == "sale" for r in rows], bool)
    who = np.zeros(len(rows), np.int64)

    def part(keep: np.ndarray) -> dict[str, np.ndarray]:
        return {"customer": who[keep], "item": item[keep], "order": order[keep]}

    kept = np.flatnonzero(sale)[~returned_sales(part(sale), part(~sale))]
    index, known = index_of(item_db_ids, item[kept])
    return Lines(index[known].astype(np.int64), at[kept][known])


def peer_items_until(
    cursor: Cursor,
    reads: PastReads,
    item_db_ids: np.ndarray,
    account: tuple[str, int],
    moment: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(item indexes, how many departments bought each) of the account's other
    departments up to `moment`; `account` is (account id, this customer's key)."""
    cursor.execute(reads.peer_lines, (*account, reads.moment(moment)))
    pairs = np.array([(int(c), int(i)) for c, i in cursor.fetchall()], np.int64).reshape(-1, 2)
    index, known = index_of(item_db_ids, pairs[:, 1])
    found, using = np.unique(index[known], return_counts=True)
    return found.astype(np.int64), using.astype(np.int64)


def customer_at(engine: Engine, customers: Customers, customer_id: str, moment: int) -> Customer:
    """The customer as known at `moment` (`Customers.at`), reading their lines when
    the moment is before the model's newest purchase; a database that cannot be read
    is a 503 (blocking: the worker's answer thread runs it)."""
    if not customers.before_model(moment):
        return customers.at(customer_id, moment)
    with driver_cursor(engine) as cursor:
        return customer_read(cursor, engine, customers, customer_id, moment)


def customer_read(
    cursor: Cursor, engine: Engine, customers: Customers, customer_id: str, moment: int
) -> Customer:
    """`customer_at` on a cursor the caller holds (one connection per answer)."""
    if not customers.before_model(moment):
        return customers.at(customer_id, moment)
    reads, db_ids = reads_for(engine, PastReads), customers.live.item_db_ids
    return customers.at(
        customer_id, moment, lines_until(cursor, reads, db_ids, customer_id, moment)
    )
