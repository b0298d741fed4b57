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
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from sqlalchemy import Engine

from app.ingest.importer import describe_error, finish_run, start_run
from app.ingest.report import ImportReport, Reject
from app.ingest.rows import CustomerRow, ExternalId, ItemRow, PastTimestamp, PurchaseRow
from app.ingest.sources import CsvSource, SourceRow
from app.ingest.targets import TARGETS
from app.ingest.writer import BackgroundWriter, Batch, BatchWriter, in_background

COLUMNS = (
    "invoiceno",
    "stockcode",
    "description",
    "quantity",
    "invoicedate",
    "unitprice",
    "customerid",
    "country",
)
FEE_CODES = frozenset(
    {"POST", "DOT", "M", "D", "C2", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK"}
)
CURRENCY = "GBP"
PURCHASE_FIELDS = frozenset(PurchaseRow.model_fields)
BATCH_SIZE = 10000

RETURN = "cancellation lines (invoice starting with C): kept as returns"
ANONYMOUS = "sale lines without CustomerID: kept as anonymous orders (baskets)"
SALE = "sale lines of known customers: kept as purchases"
FEE = "of these, postage/fee/adjustment lines: kept, item marked inactive"
MERGED = "of these, repeated stock codes in one invoice: merged into the first line"


def _invoice_date(value: str) -> str | datetime:
    """The data set circulates with ISO dates and with '12/1/2010 8:26'."""
    if "/" in value:
        return datetime.strptime(value, "%m/%d/%Y %H:%M")
    return value


def _customer(value: str) -> str:
    """CustomerID is stored as a float in some copies: 17850.0 means customer 17850."""
    return value[:-2] if value.endswith(".0") else value


class OnlineRetailLine(BaseModel):
    """One line of the file, as written; classified into a purchase or a reject after.

    Fields that become purchase fields use PurchaseRow's types, so a valid line is a
    valid purchase once its sign has been dealt with.
    """

    invoiceno: ExternalId
    stockcode: ExternalId
    description: str | None = None
    quantity: int
    invoicedate: Annotated[PastTimestamp, BeforeValidator(_invoice_date)]
    unitprice: Annotated[float, Field(allow_inf_nan=False)]
    customerid: Annotated[ExternalId, BeforeValidator(_customer)] | None = None
    country: str | None = None


def is_fee(stock_code: str) -> bool:
    """Postage, fees and adjustments: real lines, but nothing a customer should be offered."""
    return stock_code.upper() in FEE_CODES or stock_code.lower().startswith("gift_")


@dataclass
class _Group:
    """Lines of one invoice with the same stock code, merged into one purchase."""

    position: int
    raw: list[str]
    quantity: float
    amount: float
    line: OnlineRetailLine


@dataclass
class _Catalog:
    """What the file says about each customer and item, for their rows at the end."""

    countries: dict[str, str] = field(default_factory=dict)
    names: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    prices: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def note(self, line: OnlineRetailLine) -> None:
        if line.customerid and line.country:
            self.countries[line.customerid] = line.country
        if line.description and line.description.strip():
            self.names[line.stockcode][line.description.strip()] += 1
        if line.unitprice > 0 and not line.invoiceno.startswith("C"):
            self.prices[line.stockcode].append(line.unitprice)
        else:
            self.prices.setdefault(line.stockcode, [])


class OnlineRetailImport:
    """One pass over the file: classify, merge per invoice, write purchases in batches."""

    def __init__(self, writer: BackgroundWriter, report: ImportReport) -> None:
        self.writer = writer
        self.report = report
        self.catalog = _Catalog()
        self.invoice: str | None = None
        self.groups: dict[tuple[str, str], _Group] = {}
        self.batch = Batch.empty(TARGETS["purchases"], PURCHASE_FIELDS)
        self.merged = 0  # accepted lines that became part of an earlier line

    def feed(self, item: SourceRow) -> None:
        """Give one line of the file its verdict (merged lines wait for their invoice)."""
        self.report.submitted += 1
        if item.values is None:
            field, reason = item.problem or (None, "unreadable")
            self.batch.rejects.append(Reject(item.position, field, reason, item.raw))
            return
        try:
            line = OnlineRetailLine.model_validate(item.values)
        except ValidationError as exc:
            self.batch.rejects.append(Reject(item.position, *describe_error(exc), item.raw))
            return
        rejection = _rejection(line)
        if rejection:
            self.batch.rejects.append(Reject(item.position, *rejection, item.raw))
            return
        if line.invoiceno != self.invoice:
            self.flush_invoice()
            self.invoice = line.invoiceno
        self._add(item, line)

    def _add(self, item: SourceRow, line: OnlineRetailLine) -> None:
        self.catalog.note(line)
        kind = "return" if line.invoiceno.startswith("C") else "sale"
        quantity = float(abs(line.quantity))
        self.report.treatment[
            RETURN if kind == "return" else SALE if line.customerid else ANONYMOUS
        ] += 1
        if is_fee(line.stockcode):
            self.report.treatment[FEE] += 1
        group = self.groups.get((line.stockcode, kind))
        if group is None:
            self.groups[(line.stockcode, kind)] = _Group(
                item.position, [item.raw], quantity, quantity * line.unitprice, line
            )
            return
        group.raw.append(item.raw)
        group.quantity += quantity
        group.amount += quantity * line.unitprice
        self.report.treatment[MERGED] += 1
        self.merged += 1

    def flush_invoice(self) -> None:
        """Turn the finished invoice's groups into purchase rows."""
        for (stock_code, kind), group in self.groups.items():
            line = group.line
            # Every value was validated on the line with PurchaseRow's own types.
            columns = self.batch.columns
            columns["order_id"].append(line.invoiceno)
            columns["customer_id"].append(line.customerid)
            columns["item_id"].append(stock_code)
            columns["kind"].append(kind)
            columns["quantity"].append(round(group.quantity, 4))
            columns["unit_price"].append(round(group.amount / group.quantity, 4))
            columns["purchased_at"].append(line.invoicedate)
            self.batch.positions.append(group.position)
            self.batch.raws.append("".join(group.raw))
        self.groups = {}
        if len(self.batch) >= BATCH_SIZE:
            self.flush_batch()

    def flush_batch(self) -> None:
        """Write the purchases (and rejected lines) gathered so far."""
        self.writer.write(self.batch)
        self.batch = Batch.empty(TARGETS["purchases"], PURCHASE_FIELDS)


def _rejection(line: OnlineRetailLine) -> tuple[str, str] | None:
    if line.unitprice < 0:
        return "unitprice", f"negative price {line.unitprice} (a bad-debt adjustment, not a sale)"
    if line.invoiceno.startswith("C"):
        if line.quantity >= 0:
            return "quantity", f"cancellation with quantity {line.quantity}; expected negative"
        return None
    if line.quantity <= 0:
        return "quantity", (
            f"quantity {line.quantity} on an invoice that is not a cancellation "
            "(a stock write-off, not a sale)"
        )
    return None


def _write_catalog(
    writer_for: Callable[[str, ImportReport], BatchWriter],
    catalog: _Catalog,
    report: ImportReport,
) -> None:
    """Give the customers and items the file mentions their country, name and price."""
    customers = [
        CustomerRow(customer_id=cid, country=country)
        for cid, country in sorted(catalog.countries.items())
    ]
    items = [
        ItemRow(
            item_id=code,
            name=names.most_common(1)[0][0] if (names := catalog.names.get(code)) else None,
            price=round(statistics.median(prices), 4) if prices else None,
            currency=CURRENCY,
            active=not is_fee(code),
            attributes={"fee": True} if is_fee(code) else {},
        )
        for code, prices in sorted(catalog.prices.items())
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


def import_online_retail(engine: Engine, path: Path) -> ImportReport:
    """Import the file at `path`; raises SourceUnreadable (changing nothing) if it cannot."""
    source = CsvSource(path)
    report = ImportReport("online-retail", str(path))
    with engine.begin() as conn:
        run_id = start_run(conn, report)
        purchases = BatchWriter(conn, TARGETS["purchases"], report, run_id, create_missing=True)
        with in_background(purchases) as background:
            state = OnlineRetailImport(background, report)
            for item in source.rows(COLUMNS, COLUMNS):
                state.feed(item)
            state.flush_invoice()
            state.flush_batch()
        report.accepted += state.merged
        report.warnings.extend(source.warnings)

        def writer_for(name: str, sub: ImportReport) -> BatchWriter:
            return BatchWriter(conn, TARGETS[name], sub, run_id)

        _write_catalog(writer_for, state.catalog, report)
        finish_run(conn, report)
    return report
