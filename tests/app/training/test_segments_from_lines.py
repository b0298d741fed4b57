"""RFM facts of `nextbest train` come from the sale lines training reads, on every backend."""

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import Engine, select

from app.db.bulk import insert_columns
from app.db.tables import customer, item, purchase
from app.training.data import load_snapshot
from app.training.segments import fit_segments
from app.training.train import newest_sale

DAY = 86_400
END = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _at(days_before_end: float) -> datetime:
    return datetime.fromtimestamp(END.timestamp() - days_before_end * DAY, UTC)


def _fill(engine: Engine) -> None:
    """ada: two orders this year (one of two lines, one returned) and one two years ago;
    ben: a single order 100 days ago; cai: nothing; plus an anonymous order."""
    sales = [  # order, customer (None: anonymous), item, quantity, unit price, days ago
        ("o1", 1, 1, 2.0, 10.0, 0),
        ("o1", 1, 2, 1.0, 5.5, 0),
        ("o2", 1, 1, 1.0, 10.0, 30),
        ("o0", 1, 2, 4.0, 5.5, 730),
        ("o3", 2, 2, 3.0, 5.5, 100),
        ("o4", None, 1, 9.0, 10.0, 1),
    ]
    with engine.begin() as conn:
        insert_columns(
            conn,
            customer,
            {
                "customer_id": ["ada", "ben", "cai"],
                "attributes": [{}] * 3,
                "marketing_opt_out": [False] * 3,
                "created_at": [_at(1000)] * 3,
            },
        )
        insert_columns(
            conn,
            item,
            {
                "item_id": ["mug", "tea"],
                "name": ["Mug", "Tea"],
                "price": [10.0, 5.5],
                "active": [True, True],
                "attributes": [{}, {}],
            },
        )
        # primary keys as the database gave them (a server's counters outlive a test)
        people = dict(conn.execute(select(customer.c.customer_id, customer.c.id)).all())
        goods = dict(conn.execute(select(item.c.item_id, item.c.id)).all())
        pk = {1: people["ada"], 2: people["ben"], None: None}
        item_pk = {1: goods["mug"], 2: goods["tea"]}
        columns = {
            "order_id": [s[0] for s in sales] + ["o2"],
            "customer_id": [pk[s[1]] for s in sales] + [pk[1]],
            "item_id": [item_pk[s[2]] for s in sales] + [item_pk[1]],
            "kind": ["sale"] * len(sales) + ["return"],
            "quantity": [s[3] for s in sales] + [1.0],
            "unit_price": [s[4] for s in sales] + [10.0],
            "purchased_at": [_at(s[5]) for s in sales] + [_at(29)],
        }
        insert_columns(conn, purchase, columns)


def test_segments_count_every_sale_line_of_the_year(engine: Engine) -> None:
    _fill(engine)
    snapshot = load_snapshot(engine)
    as_of = newest_sale(snapshot)
    assert as_of == int(END.timestamp())
    segments = fit_segments(snapshot.sales, len(snapshot.vocab.customer_ids), as_of)
    assert snapshot.vocab.customer_ids == ["ada", "ben", "cai"]
    # a returned sale still counts as sales; the line of two years ago only as tenure
    assert segments.frequency.tolist() == [2, 1, 0]
    assert segments.monetary.tolist() == pytest.approx([2 * 10.0 + 5.5 + 10.0, 3 * 5.5, 0.0])
    assert segments.recency[:2].tolist() == [0.0, 100.0] and np.isnan(segments.recency[2])
    assert segments.tenure[:2].tolist() == [730.0, 100.0] and np.isnan(segments.tenure[2])
    assert segments.names[segments.segment[2]] == "no_purchases"
