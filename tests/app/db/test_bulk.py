"""Bulk upserts: new rows inserted, changed rows updated, the same rows left alone."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from app.db import tables
from app.db.bulk import upsert_columns

KEY = ("order_id", "item_id", "kind")
FIELDS = ["customer_id", "quantity", "unit_price", "purchased_at"]


def lines(orders: range, quantity: float = 1.0) -> dict[str, list[Any]]:
    n = len(orders)
    return {
        "order_id": [f"o{i}" for i in orders],
        "customer_id": [None] * n,
        "item_id": [7] * n,
        "kind": ["sale"] * n,
        "quantity": [quantity] * n,
        "unit_price": [2.5] * n,
        "purchased_at": [datetime(2024, 3, 1, 10, tzinfo=UTC)] * n,
    }


def upsert(engine: Engine, columns: dict[str, list[Any]]) -> tuple[int, int]:
    with engine.begin() as conn:
        return upsert_columns(conn, tables.purchase, KEY, FIELDS, columns)


def test_new_changed_and_unchanged_rows(engine: Engine) -> None:
    assert upsert(engine, lines(range(6000))) == (6000, 0)
    assert upsert(engine, lines(range(6000))) == (0, 0)
    again = lines(range(5000, 7000))
    again["quantity"][0] = 3.0  # o5000
    again["customer_id"][1] = 42  # o5001: NULL becomes a customer
    assert upsert(engine, again) == (1000, 2)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(tables.purchase.c.order_id, tables.purchase.c.quantity).where(
                    tables.purchase.c.order_id.in_(["o4999", "o5000", "o6999"])
                )
            ).all()
        )
        customer = conn.execute(
            select(tables.purchase.c.customer_id).where(tables.purchase.c.order_id == "o5001")
        ).scalar_one()
    assert rows == {"o4999": 1.0, "o5000": 3.0, "o6999": 1.0}
    assert customer == 42
    back = lines(range(5001, 5002))
    assert upsert(engine, back) == (0, 1)  # and back to NULL


def test_a_row_the_database_refuses_fails_the_batch(engine: Engine) -> None:
    # The writer then retries the batch row by row, to reject only that row.
    upsert(engine, lines(range(10)))
    bad = lines(range(5, 15))
    bad["quantity"][-1] = -1.0  # breaks quantity > 0
    with engine.connect() as conn, pytest.raises(DBAPIError, match=r"(?i)quantity|check"):
        upsert_columns(conn, tables.purchase, KEY, FIELDS, bad)
