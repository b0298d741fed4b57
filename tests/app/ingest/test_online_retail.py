"""The UCI Online Retail format: how each kind of line is treated, and the full file."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.db import tables
from app.ingest import online_retail as retail
from app.ingest.online_retail import import_online_retail

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
# fmt: off
LINES = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,2,2010-12-01 08:26:00,3.00,17850.0,United Kingdom",
    "536366,POST,POSTAGE,1,2010-12-01 08:28:00,18.00,17850.0,United Kingdom",
    "536367,71053,WHITE METAL LANTERN,1,12/1/2010 9:00,3.39,,United Kingdom",
    "C536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-02 10:00:00,2.55,17850.0,United Kingdom",
    "536369,85123A,damaged,-12,2010-12-02 11:00:00,0,,United Kingdom",
    "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,-11062.06,,United Kingdom",
    "536370,22728,ALARM CLOCK BAKELIKE PINK,24,not a date,3.75,12583.0,France",
]
# fmt: on


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "retail.csv"
    path.write_text(HEADER + "\n".join(LINES) + "\n")
    return path


def test_each_kind_of_line_is_treated_as_documented(engine: Engine, small_file: Path) -> None:
    report = import_online_retail(engine, small_file)
    assert (report.submitted, report.accepted, report.rejected) == (9, 6, 3)
    assert report.treatment[retail.SALE] == 4
    assert report.treatment[retail.ANONYMOUS] == 1
    assert report.treatment[retail.RETURN] == 1
    assert report.treatment[retail.MERGED] == 1
    assert report.treatment[retail.FEE] == 1
    assert sorted((r.position, r.field) for r in report.rejects) == [
        (8, "quantity"),
        (9, "unitprice"),
        (10, "invoicedate"),
    ]
    with engine.connect() as conn:
        lines = conn.execute(
            select(
                tables.purchase.c.order_id,
                tables.item.c.item_id,
                tables.purchase.c.kind,
                tables.purchase.c.quantity,
                tables.purchase.c.unit_price,
                tables.customer.c.customer_id,
            )
            .join(tables.item, tables.item.c.id == tables.purchase.c.item_id)
            .outerjoin(tables.customer, tables.customer.c.id == tables.purchase.c.customer_id)
            .order_by(tables.purchase.c.order_id, tables.item.c.item_id)
        ).all()
        fee = conn.execute(select(tables.item.c.active).where(tables.item.c.item_id == "POST"))
        assert fee.scalar_one() is False
    assert [tuple(row) for row in lines] == [
        ("536365", "71053", "sale", 8.0, 3.2925, "17850"),  # two scans merged
        ("536365", "85123A", "sale", 6.0, 2.55, "17850"),
        ("536366", "POST", "sale", 1.0, 18.0, "17850"),
        ("536367", "71053", "sale", 1.0, 3.39, None),  # anonymous, US date format
        ("C536368", "85123A", "return", 2.0, 2.55, "17850"),
    ]


def test_full_file_accounts_for_every_row_and_reimports_nothing(
    engine: Engine, online_retail: Path
) -> None:
    if engine.dialect.name in ("mysql", "mariadb"):
        pytest.skip("the full file runs on SQLite and PostgreSQL; MariaDB gets the small file")
    first = import_online_retail(engine, online_retail)
    assert first.submitted == 541_909
    assert first.accepted + first.rejected == 541_909
    assert sum(n for what, n in first.treatment.items() if "of these" not in what) == (
        first.accepted
    )
    assert first.rejected == 1_338  # 1,336 stock write-offs and 2 bad-debt adjustments
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(tables.purchase)).scalar_one()
    assert stored == first.inserted == first.accepted - first.treatment[retail.MERGED]
    second = import_online_retail(engine, online_retail)
    assert (second.inserted, second.updated, second.rejected) == (0, 0, first.rejected)
    assert second.unchanged == first.inserted


def stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                tables.purchase.c.order_id,
                tables.item.c.item_id,
                tables.purchase.c.kind,
                tables.purchase.c.quantity,
                tables.purchase.c.unit_price,
            )
            .join(tables.item, tables.item.c.id == tables.purchase.c.item_id)
            .order_by(tables.purchase.c.id)
        )
        return [tuple(row) for row in rows]


def test_invoices_read_in_small_pieces_are_merged_the_same(engine: Engine, tmp_path: Path) -> None:
    # 40 bytes a piece: every invoice of the file is split across pieces.
    lines = [
        *LINES,
        "536365,85123A,REPEATED LATER,1,2010-12-03 10:00:00,2.55,17850.0,United Kingdom",
    ]
    path = tmp_path / "retail.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    report = import_online_retail(engine, path, block_bytes=40)
    assert (report.submitted, report.accepted, report.rejected) == (10, 6, 4)
    assert report.treatment[retail.MERGED] == 1
    assert sorted((r.position, r.field) for r in report.rejects) == [
        (8, "quantity"),
        (9, "unitprice"),
        (10, "invoicedate"),
        (11, "order_id"),  # invoice 536365 again, after others: not merged, a duplicate
    ]
    assert "already given at line 2" in next(r.reason for r in report.rejects if r.position == 11)
    assert stored(engine) == [
        ("536365", "85123A", "sale", 6.0, 2.55),
        ("536365", "71053", "sale", 8.0, 3.2925),
        ("536366", "POST", "sale", 1.0, 18.0),
        ("536367", "71053", "sale", 1.0, 3.39),
        ("C536368", "85123A", "return", 2.0, 2.55),
    ]
