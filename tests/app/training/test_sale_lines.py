"""Two processes reading the sale lines read exactly what one would, on every backend."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, select

from app.db.bulk import insert_columns
from app.db.tables import customer, item, purchase
from app.training import lines as sale_lines
from app.training.data import dense_among
from app.training.lines import SaleLines, lines

START = datetime(2026, 1, 1, tzinfo=UTC)


def _fill(engine: Engine, n: int = 200) -> None:
    """`n` lines over a few customers and items, every seventh a return."""
    with engine.begin() as conn:
        insert_columns(
            conn,
            customer,
            {
                "customer_id": [f"c{i}" for i in range(5)],
                "attributes": [{}] * 5,
                "marketing_opt_out": [False] * 5,
                "created_at": [START] * 5,
            },
        )
        insert_columns(
            conn,
            item,
            {
                "item_id": [f"i{i}" for i in range(4)],
                "name": [f"Item {i}" for i in range(4)],
                "price": [2.5] * 4,
                "active": [True] * 4,
                "attributes": [{}] * 4,
            },
        )
        people = [r[0] for r in conn.execute(select(customer.c.id).order_by(customer.c.id))]
        goods = [r[0] for r in conn.execute(select(item.c.id).order_by(item.c.id))]
        insert_columns(
            conn,
            purchase,
            {
                "order_id": [f"o{i // 3}" for i in range(n)],
                "customer_id": [None if i % 11 == 0 else people[i % 5] for i in range(n)],
                "item_id": [goods[i % 4] for i in range(n)],
                "kind": ["return" if i % 7 == 0 else "sale" for i in range(n)],
                "quantity": [1.0 + i % 3 for i in range(n)],
                "unit_price": [2.5] * n,
                "purchased_at": [START + timedelta(hours=i) for i in range(n)],
            },
        )


@pytest.fixture
def small_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes even for a small table, in many spans."""
    monkeypatch.setattr(sale_lines, "PARALLEL_READ", 1)
    monkeypatch.setattr(sale_lines, "SPAN", 7)


def _one_process(engine: Engine) -> dict[str, np.ndarray]:
    with engine.connect() as conn:
        return lines(conn, "sale", 0, 10**12)


def _same(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    # id order on SQLite; a server may return each span's rows in any order
    def rows(d: dict[str, np.ndarray]) -> np.ndarray:
        return np.lexsort([d[name] for name in ("money", "time", "order", "item", "customer")])

    for name in expected:
        assert np.array_equal(got[name][rows(got)], expected[name][rows(expected)]), name


@pytest.mark.usefixtures("small_spans")
def test_two_processes_read_every_sale_line_once(engine: Engine) -> None:
    _fill(engine)
    with SaleLines(engine) as reading, engine.connect() as conn:
        assert reading._helper is not None
        got = reading.read(conn)
    expected = _one_process(engine)
    assert len(expected["item"]) == 200 - len(range(0, 200, 7))
    _same(got, expected)


@pytest.mark.usefixtures("small_spans")
def test_the_spans_of_a_failed_helper_are_read_by_this_process(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(_url: str, spans: object, _ids: object, _pipe: object) -> None:
        sale_lines._take(spans, top=True)  # takes two spans, reads neither
        sale_lines._take(spans, top=True)
        raise SystemExit(3)

    _fill(engine)
    monkeypatch.setattr(sale_lines, "_help", dies)
    with SaleLines(engine) as reading, engine.connect() as conn:
        got = reading.read(conn)
    _same(got, _one_process(engine))


@pytest.mark.usefixtures("small_spans")
def test_a_helper_never_asked_for_its_lines_is_stopped(engine: Engine) -> None:
    _fill(engine)
    with SaleLines(engine) as reading:
        helper = reading._helper
    assert helper is not None and not helper.is_alive()


def test_dense_among_numbers_the_kept_values_as_unique_would() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(-50, 50, 1000) * 7919
    keep = rng.random(1000) < 0.3
    ranks = np.unique(values, return_inverse=True)[1]
    expected = np.unique(values[keep], return_inverse=True)[1]
    assert np.array_equal(dense_among(ranks, keep), expected)
    assert len(dense_among(ranks[:0], keep[:0])) == 0
