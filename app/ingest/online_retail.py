"""Import the UCI Online Retail data set (InvoiceNo, StockCode, ..., CustomerID, Country).

How each kind of line is treated (the report counts each):

- invoices starting with ``C`` are cancellations: kept as ``return`` lines with the
  quantity made positive;
- lines without a CustomerID are anonymous orders: kept as purchases without a
  customer, because their baskets still tell what is bought together;
- postage, fees, discounts and manual adjustments (StockCode POST, DOT, M, D, C2,
  BANK CHARGES, AMAZONFEE, CRUK, S, B and gift vouchers) are kept, but their items
  are marked inactive so they are never recommended;
- several lines for the same stock code in one invoice are merged into one line
  (quantities added, unit price averaged by quantity), since they are one order line
  scanned more than once;
- rejected: a negative quantity on an invoice that is not a cancellation (stock
  write-offs such as "damaged" or "lost") and a negative price (bad-debt adjustments).

Customers get their Country; items get the description used most often as name and
the median sale price as price, in GBP.

The file is read in chunks of columns and judged a chunk at a time with numpy
(retail_lines.py), while a second thread writes the previous chunk.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from app.ingest.csv_columns import BLOCK_BYTES, ColumnChunk, CsvColumns
from app.ingest.importer import finish_run, start_run
from app.ingest.report import ImportReport
from app.ingest.retail_catalog import Catalog
from app.ingest.retail_lines import (
    ANONYMOUS,
    COLUMNS,
    FEE,
    FEE_CODES,
    MERGED,
    RETURN,
    SALE,
    OnlineRetailLine,
    is_fee,
    joined,
    judge,
)
from app.ingest.rows import CustomerRow, ItemRow, PurchaseRow
from app.ingest.targets import TARGETS
from app.ingest.writer import BackgroundWriter, Batch, BatchWriter, in_background

__all__ = [
    "ANONYMOUS",
    "COLUMNS",
    "FEE",
    "FEE_CODES",
    "MERGED",
    "RETURN",
    "SALE",
    "OnlineRetailLine",
    "import_online_retail",
    "is_fee",
]

CURRENCY = "GBP"
PURCHASE_FIELDS = frozenset(PurchaseRow.model_fields)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while half a million rows of strings are alive.

    The import makes no reference cycles; without the pause the collector walks the
    growing heap again and again, which costs as much as parsing the file.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _feed(chunks: Iterator[ColumnChunk], writer: BackgroundWriter, report: ImportReport) -> Catalog:
    """Judge every chunk and queue its purchases and rejects for the writer."""
    catalog = Catalog()
    pending = ColumnChunk([], [], {n: () for n in COLUMNS})
    chunk = next(chunks, None)
    while chunk is not None:
        following = next(chunks, None)
        judged, pending = judge(joined(pending, chunk), final=following is None)
        report.submitted += len(judged.positions) + judged.merged + len(judged.rejects)
        report.submitted += len(chunk.rejects)
        report.treatment.update(judged.treatment)
        report.accepted += judged.merged
        catalog.note(judged.lines)
        rejects = sorted(chunk.rejects + judged.rejects, key=lambda r: r.position)
        batch = Batch(PURCHASE_FIELDS, judged.columns, judged.positions, judged.raws, rejects)
        writer.write(batch)
        chunk = following
    return catalog


def _write_catalog(
    writer_for: Callable[[str, ImportReport], BatchWriter],
    catalog: Catalog,
    report: ImportReport,
) -> None:
    """Give the customers and items the file mentions their country, name and price."""
    customers = [
        CustomerRow(customer_id=cid, country=country)
        for cid, country in sorted(catalog.countries.items())
    ]
    medians = catalog.medians()
    items = [
        ItemRow(
            item_id=code,
            name=catalog.name(code),
            price=round(price, 4) if price is not None else None,
            currency=CURRENCY,
            active=not is_fee(code),
            attributes={"fee": True} if is_fee(code) else {},
        )
        for code, price in sorted(medians.items())
    ]
    for name, rows, fields in (
        ("customers", customers, {"country"}),
        ("items", items, {"name", "price", "currency", "active", "attributes"}),
    ):
        sub = ImportReport(name, report.source)
        writer = writer_for(name, sub)
        batch = Batch.empty(TARGETS[name], fields)
        for row in rows:
            batch.add(0, "", row.__dict__)
        writer.write(batch)
        report.derived[name] = {
            "in_file": len(rows),
            "new": report.created.get(name.rstrip("s"), 0),
            "updated": sub.updated,
        }


def import_online_retail(
    engine: Engine, path: Path, *, block_bytes: int = BLOCK_BYTES
) -> ImportReport:
    """Import the file at `path`; raises SourceUnreadable (changing nothing) if it cannot.

    `block_bytes` is how much of the file is read and judged at a time.
    """
    source = CsvColumns(path, block_bytes=block_bytes)
    report = ImportReport("online-retail", str(path))
    with _collector_paused(), engine.begin() as conn:
        run_id = start_run(conn, report)
        purchases = BatchWriter(conn, TARGETS["purchases"], report, run_id, create_missing=True)
        with in_background(purchases) as background:
            catalog = _feed(source.chunks(COLUMNS, COLUMNS), background, report)
        report.warnings.extend(source.warnings)

        def writer_for(name: str, sub: ImportReport) -> BatchWriter:
            return BatchWriter(conn, TARGETS[name], sub, run_id)

        _write_catalog(writer_for, catalog, report)
        finish_run(conn, report)
    return report
