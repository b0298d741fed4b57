"""Importing CSV files: every row gets a verdict, bad rows never take good ones down."""

import gzip
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.db import tables
from app.ingest.importer import run_import
from app.ingest.report import ImportReport
from app.ingest.sources import CsvSource, SourceUnreadable
from app.ingest.targets import TARGETS

CUSTOMERS = "customer_id,country\nc1,GB\nc2,FR\n"
ITEMS = "item_id,name,category,price\ni1,Camera,cameras,300\ni2,Memory card,memory,20\n"
PURCHASE_HEADER = "order_id,customer_id,item_id,quantity,unit_price,purchased_at\n"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def load(engine: Engine, table: str, path: Path, **options: bool) -> ImportReport:
    report = run_import(engine, TARGETS[table], CsvSource(path), **options)
    assert report.accepted + report.rejected == report.submitted
    return report


def count(engine: Engine, table: tables.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Engine:
    load(engine, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    load(engine, "items", write(tmp_path, "i.csv", ITEMS))
    return engine


def purchases(tmp_path: Path, *lines: str) -> Path:
    return write(tmp_path, "p.csv", PURCHASE_HEADER + "".join(f"{line}\n" for line in lines))


GOOD = "o1,c1,i1,1,300,2024-03-01T10:00:00Z"
GOOD2 = "o1,c1,i2,2,20,2024-03-01T10:00:00Z"


def test_rows_are_imported_and_a_second_import_adds_nothing(shop: Engine, tmp_path: Path) -> None:
    path = purchases(tmp_path, GOOD, GOOD2, "o2,,i2,1,20,2024-03-02 09:00:00")
    first = load(shop, "purchases", path)
    again = load(shop, "purchases", path)
    assert (first.inserted, first.rejected) == (3, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert count(shop, tables.purchase) == 3


def test_a_changed_row_is_updated_not_duplicated(shop: Engine, tmp_path: Path) -> None:
    load(shop, "purchases", purchases(tmp_path, GOOD, GOOD2))
    report = load(
        shop, "purchases", purchases(tmp_path, GOOD, "o1,c1,i2,5,20,2024-03-01T10:00:00Z")
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    with shop.connect() as conn:
        quantities = conn.execute(select(tables.purchase.c.quantity)).scalars().all()
    assert sorted(quantities) == [1.0, 5.0]


def test_missing_column_is_named_and_nothing_changes(shop: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "order_id,cust_id,item_id,unit_price,purchased_at\n")
    with pytest.raises(SourceUnreadable, match=r"missing required column.*purchased_at|item_id"):
        load(shop, "purchases", write(tmp_path, "x.csv", "order_id,customer_id\no1,c1\n"))
    with pytest.raises(SourceUnreadable, match="found 'cust_id'"):
        load(shop, "purchases", path)
    assert count(shop, tables.import_run) == 2  # the two setup imports only


def test_unknown_columns_are_reported_and_ignored(shop: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", PURCHASE_HEADER.rstrip() + ",colour\n" + GOOD + ",red\n")
    report = load(shop, "purchases", path)
    assert report.inserted == 1
    assert any("'colour'" in w for w in report.warnings)


def test_unparseable_date_names_line_and_field(shop: Engine, tmp_path: Path) -> None:
    report = load(shop, "purchases", purchases(tmp_path, GOOD, "o2,c1,i1,1,300,yesterday", GOOD2))
    assert (report.inserted, report.rejected) == (2, 1)
    (reject,) = report.rejects
    assert (reject.position, reject.field) == (3, "purchased_at")
    assert "'yesterday'" in reject.reason


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("o2,c1,i1,-1,300,2024-03-01T10:00:00Z", "quantity"),
        ("o2,c1,i1,1,-5,2024-03-01T10:00:00Z", "unit_price"),
        ("o2,c1,i1,1,300,2099-01-01T00:00:00Z", "purchased_at"),
    ],
)
def test_negative_or_future_values_are_rejected(
    shop: Engine, tmp_path: Path, line: str, field: str
) -> None:
    report = load(shop, "purchases", purchases(tmp_path, GOOD, line))
    assert report.inserted == 1
    assert [(r.position, r.field) for r in report.rejects] == [(3, field)]


def test_non_utf8_bytes_reject_only_their_line(shop: Engine, tmp_path: Path) -> None:
    body = (PURCHASE_HEADER + GOOD + "\n").encode() + b"o2,c\xe9,i1,1,3,2024-03-01\n"
    report = load(shop, "purchases", write(tmp_path, "p.csv", body + (GOOD2 + "\n").encode()))
    assert (report.inserted, report.rejected) == (2, 1)
    (reject,) = report.rejects
    assert (reject.position, reject.field) == (3, "customer_id")
    assert "not UTF-8" in reject.reason


def test_empty_file_cannot_be_read(shop: Engine, tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable, match="empty"):
        load(shop, "purchases", write(tmp_path, "p.csv", b""))


def test_truncated_gzip_imports_nothing(shop: Engine, tmp_path: Path) -> None:
    lines = [f"o{i},c1,i1,1,300,2024-03-01T10:00:00Z" for i in range(5000)]
    data = gzip.compress((PURCHASE_HEADER + "\n".join(lines)).encode())
    path = write(tmp_path, "p.csv.gz", data[: len(data) * 2 // 3])
    with pytest.raises(SourceUnreadable, match="truncated or corrupt"):
        load(shop, "purchases", path)
    assert count(shop, tables.purchase) == 0
    assert count(shop, tables.import_reject) == 0


def test_gzip_is_read_directly(shop: Engine, tmp_path: Path) -> None:
    data = gzip.compress((PURCHASE_HEADER + GOOD + "\n" + GOOD2 + "\n").encode())
    assert load(shop, "purchases", write(tmp_path, "p.csv.gz", data)).inserted == 2


def test_a_10_mb_line_is_rejected_and_the_rest_kept(shop: Engine, tmp_path: Path) -> None:
    huge = "o2,c1,i1,1,300,2024-03-01T10:00:00Z" + "x" * (10 * 1024 * 1024)
    report = load(shop, "purchases", purchases(tmp_path, GOOD, huge, GOOD2))
    assert (report.inserted, report.rejected) == (2, 1)
    (reject,) = report.rejects
    assert reject.position == 3
    assert "10,485,7" in reject.reason and "limit" in reject.reason
    assert len(reject.raw) < 2000  # the stored row is cut, with its size noted


def test_duplicate_keys_in_one_file_keep_the_first(shop: Engine, tmp_path: Path) -> None:
    report = load(shop, "purchases", purchases(tmp_path, GOOD, GOOD2, GOOD))
    assert (report.inserted, report.rejected) == (2, 1)
    (reject,) = report.rejects
    assert reject.position == 4 and reject.field == "order_id"
    assert "already given at line 2" in reject.reason


def test_wrong_number_of_fields_is_rejected(shop: Engine, tmp_path: Path) -> None:
    report = load(shop, "purchases", purchases(tmp_path, GOOD, "o2,c1,i1,1", GOOD2))
    assert [(r.position, r.reason) for r in report.rejects] == [
        (3, "4 fields, but the header has 6")
    ]


def test_unknown_references_are_rejected_or_created(shop: Engine, tmp_path: Path) -> None:
    path = purchases(tmp_path, GOOD, "o2,c9,i9,1,3,2024-03-01T10:00:00Z")
    rejected = load(shop, "purchases", path)
    assert [r.field for r in rejected.rejects] == ["customer_id"]
    assert "unknown customer 'c9'" in rejected.rejects[0].reason
    created = load(shop, "purchases", path, create_missing=True)
    assert (created.inserted, created.unchanged, dict(created.created)) == (
        1,
        1,
        {"customer": 1, "item": 1},
    )


def test_rejects_are_kept_with_their_raw_text(shop: Engine, tmp_path: Path) -> None:
    report = load(shop, "purchases", purchases(tmp_path, GOOD, "o2,c1,i1,zero,300,2024-03-01"))
    with shop.connect() as conn:
        row = conn.execute(select(tables.import_reject)).one()
    assert row.run_id == report.run_id
    assert (row.position, row.field) == (3, "quantity")
    assert row.raw == "o2,c1,i1,zero,300,2024-03-01"


def test_json_cells_and_plan_ladder(engine: Engine, tmp_path: Path) -> None:
    plans = write(
        tmp_path,
        "plans.csv",
        "plan_id,ladder,tier_rank,monthly_price,limits,features\n"
        'lite,ws,1,9,"{""seats"": 3}","[""chat""]"\n'
        'pro,ws,2,79,"{""seats"": 25}",\n'
        "bad,ws,3,99,{seats: 3},\n",
    )
    report = load(engine, "plans", plans)
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.rejects[0].field == "limits" and "not valid JSON" in report.rejects[0].reason
    with engine.connect() as conn:
        limits = dict(conn.execute(select(tables.plan.c.plan_id, tables.plan.c.limits)).all())
    assert limits == {"lite": {"seats": 3.0}, "pro": {"seats": 25.0}}
