"""Re-importing data that is already stored adds nothing and refuses nothing; a
corrected row is updated. On every backend, for every table of the demo data set."""

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app.cli import IMPORT_ORDER
from app.db import tables
from app.demo.generate import generate
from app.ingest.importer import run_import
from app.ingest.report import ImportReport
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS

# Enough rows that usage batches reach the staged path (app.ingest.writer.STAGED_ROWS).
CUSTOMERS = 600


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("demo"), customers=CUSTOMERS, seed=11)


def load(engine: Engine, table: str, path: Path, batch_size: int = 2000) -> ImportReport:
    report = run_import(engine, TARGETS[table], CsvSource(path), batch_size=batch_size)
    assert report.balanced
    return report


def one_row_file(source: Path, out: Path, change: dict[str, str]) -> dict[str, str]:
    """The source's first row with `change` applied, written as a file of its own."""
    with source.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        row = next(reader) | change
        fields = list(reader.fieldnames or [])
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerow(row)
    return row


def test_every_table_imported_twice_adds_nothing_the_second_time(
    engine: Engine, demo_files: dict[str, Path]
) -> None:
    first = {table: load(engine, table, demo_files[table]) for table in IMPORT_ORDER}
    assert all(r.rejected == 0 and r.inserted == r.submitted for r in first.values())
    assert first["usage"].submitted > 5000
    for batch_size in (2000, 10_000):  # row-by-row comparison, then the staged one
        for table in IMPORT_ORDER:
            again = load(engine, table, demo_files[table], batch_size)
            verdict = (again.inserted, again.updated, again.rejected, again.unchanged)
            assert verdict == (0, 0, 0, first[table].submitted), (table, batch_size)


def test_a_corrected_reading_and_plan_change_are_updated(
    engine: Engine, demo_files: dict[str, Path], tmp_path: Path
) -> None:
    for table in IMPORT_ORDER:
        load(engine, table, demo_files[table])
    reading = one_row_file(demo_files["usage"], tmp_path / "usage.csv", {"value": "12345.5"})
    change = one_row_file(
        demo_files["plan-changes"], tmp_path / "changes.csv", {"to_plan_id": "enterprise"}
    )
    for table, path in (
        ("usage", tmp_path / "usage.csv"),
        ("plan-changes", tmp_path / "changes.csv"),
    ):
        report = load(engine, table, path)
        assert (report.updated, report.inserted, report.rejected) == (1, 0, 0), table
    usage, plan_change, customer, plan = (
        tables.usage,
        tables.plan_change,
        tables.customer,
        tables.plan,
    )
    with engine.connect() as conn:
        values = (
            conn.execute(
                select(usage.c.value)
                .join(customer, customer.c.id == usage.c.customer_id)
                .where(customer.c.customer_id == reading["customer_id"])
                .where(usage.c.metric == reading["metric"])
            )
            .scalars()
            .all()
        )
        to_plans = (
            conn.execute(
                select(plan.c.plan_id)
                .join(plan_change, plan_change.c.to_plan_id == plan.c.id)
                .join(customer, customer.c.id == plan_change.c.customer_id)
                .where(customer.c.customer_id == change["customer_id"])
            )
            .scalars()
            .all()
        )
    assert 12345.5 in values
    assert "enterprise" in to_plans
