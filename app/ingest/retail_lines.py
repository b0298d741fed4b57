"""Online Retail lines judged and merged a chunk at a time (see online_retail.py for the rules).

A chunk's columns are validated by their distinct values (distinct.py); the rules
(signs, cancellations, merging repeated stock codes within an invoice) are applied to
all lines at once with numpy. Lines of an invoice that may go on in the next chunk
are handed back, to be judged with it.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, BeforeValidator, Field

from app.ingest.csv_columns import ColumnChunk
from app.ingest.distinct import Codes, Column, Mask, adapters, column, model_rejects
from app.ingest.ids import ExternalId
from app.ingest.report import Reject
from app.ingest.rows import MONEY_MAX, PastTimestamp

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


ADAPTERS = adapters(OnlineRetailLine)
REQUIRED = frozenset(n for n, f in OnlineRetailLine.model_fields.items() if f.is_required())


def is_fee(stock_code: str) -> bool:
    """Postage, fees and adjustments: real lines, but nothing a customer should be offered."""
    return stock_code.upper() in FEE_CODES or stock_code.lower().startswith("gift_")


@dataclass
class Lines:
    """A chunk's accepted lines (in file order) with what the catalog needs of them."""

    cols: dict[str, Column]
    rows: Codes  # row numbers in the chunk
    quantity: NDArray[np.float64]  # made positive
    price: NDArray[np.float64]
    cancelled: Mask

    def codes(self, name: str) -> Codes:
        """The validated value's number of each accepted line, for column `name`."""
        col = self.cols[name]
        return col.key[col.codes[self.rows]]


@dataclass
class Judged:
    """What a chunk's lines became: merged purchase lines, rejects, counts, accepted lines."""

    columns: dict[str, list[Any]]  # purchase fields, one list each
    positions: list[int]
    raws: list[str]
    rejects: list[Reject]
    lines: Lines
    treatment: Counter[str] = field(default_factory=Counter)
    merged: int = 0


def _values(col: Column, limit: float) -> NDArray[np.float64]:
    """Each distinct value as a float, clipped to ±limit (ints may be arbitrarily large)."""
    return np.array(
        [0.0 if v is None else float(max(-limit, min(limit, v))) for v in col.values],
        dtype=np.float64,
    )


def _rule_rejects(
    chunk: ColumnChunk, cols: dict[str, Column], rows: Codes, cancelled: Mask
) -> list[Reject]:
    """Lines with valid values that the rules turn down, worded as the rules say."""
    rejects = []
    quantities, prices = cols["quantity"], cols["unitprice"]
    for i, cancel in zip(rows.tolist(), cancelled.tolist(), strict=True):
        quantity = quantities.values[quantities.codes[i]]
        price = prices.values[prices.codes[i]]
        if price < 0:
            name, reason = (
                "unitprice",
                f"negative price {price} (a bad-debt adjustment, not a sale)",
            )
        elif price > MONEY_MAX:
            name, reason = (
                "unitprice",
                f"price {price} is over the largest amount, {MONEY_MAX:,.0f}",
            )
        elif abs(quantity) > MONEY_MAX:
            name, reason = "quantity", f"quantity {quantity} is over the largest amount"
        elif cancel:
            name, reason = "quantity", f"cancellation with quantity {quantity}; expected negative"
        else:
            name, reason = (
                "quantity",
                (
                    f"quantity {quantity} on an invoice that is not a cancellation "
                    "(a stock write-off, not a sale)"
                ),
            )
        rejects.append(Reject(chunk.positions[i], name, reason, chunk.raws[i]))
    return rejects


def judge(chunk: ColumnChunk, final: bool) -> tuple[Judged, ColumnChunk]:
    """Judge the chunk's lines; hand back those of its last invoice unless `final`."""
    cols = {n: column(chunk.columns[n], ADAPTERS[n], n in REQUIRED) for n in COLUMNS}
    valid = np.logical_and.reduce([c.ok[c.codes] for c in cols.values()])
    invoice = cols["invoiceno"]
    cancelled_values = np.array(
        [v is not None and v.startswith("C") for v in invoice.values], dtype=bool
    )
    cancelled = cancelled_values[invoice.codes]
    quantity = _values(cols["quantity"], 1e300)[cols["quantity"].codes]
    price = _values(cols["unitprice"], 1e300)[cols["unitprice"].codes]
    broken = (
        (price < 0)
        | (price > MONEY_MAX)
        | (np.abs(quantity) > MONEY_MAX)
        | np.where(cancelled, quantity >= 0, quantity <= 0)
    )
    accepted = valid & ~broken
    # A new invoice starts where an accepted line's invoice differs from the accepted
    # line before it (rejected lines in between do not split an invoice).
    rows = np.flatnonzero(accepted)
    invoices = invoice.key[invoice.codes[rows]]
    starts = np.ones(len(rows), dtype=bool)
    starts[1:] = invoices[1:] != invoices[:-1]
    cut = len(chunk)
    if not final and len(rows):
        cut = int(rows[np.flatnonzero(starts)[-1]])
        keep = rows < cut
        rows, starts = rows[keep], starts[keep]
    judged = _merge(chunk, cols, rows, np.cumsum(starts) - 1, quantity, price, cancelled)
    before = np.arange(len(chunk)) < cut
    judged.rejects += model_rejects(
        OnlineRetailLine, chunk, np.flatnonzero(~valid & before), COLUMNS
    )
    judged.rejects += _rule_rejects(
        chunk, cols, np.flatnonzero(valid & broken & before), cancelled[valid & broken & before]
    )
    return judged, _rows_from(chunk, cut)


def _merge(
    chunk: ColumnChunk,
    cols: dict[str, Column],
    rows: Codes,
    invoice_run: Codes,
    quantity: NDArray[np.float64],
    price: NDArray[np.float64],
    cancelled: Mask,
) -> Judged:
    """One purchase line per stock code (and sign) within each run of an invoice's lines."""
    lines = Lines(cols, rows, np.abs(quantity[rows]), price[rows], cancelled[rows])
    stock = lines.codes("stockcode")
    group_key = invoice_run * (int(stock.max(initial=0)) + 1) + stock
    _, first, inverse = np.unique(group_key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group = rank[inverse.reshape(-1)]
    heads = rows[first[order]]
    total = np.bincount(group, weights=lines.quantity, minlength=len(order))
    amount = np.bincount(group, weights=lines.quantity * lines.price, minlength=len(order))
    kinds = np.where(cancelled[heads], "return", "sale").tolist()
    columns = {
        "order_id": cols["invoiceno"].rows(heads),
        "customer_id": cols["customerid"].rows(heads),
        "item_id": cols["stockcode"].rows(heads),
        "kind": kinds,
        "quantity": [round(q, 4) for q in total.tolist()],
        "unit_price": [
            round(a / q, 4) for a, q in zip(amount.tolist(), total.tolist(), strict=True)
        ],
        "purchased_at": cols["invoicedate"].rows(heads),
    }
    raws = np.array(chunk.raws, dtype=object)[heads].tolist()
    sizes = np.bincount(group, minlength=len(order))
    members = rows[np.argsort(group, kind="stable")].tolist()
    ends = np.cumsum(sizes).tolist()
    for g in np.flatnonzero(sizes > 1).tolist():
        raws[g] = "\n".join(chunk.raws[i] for i in members[ends[g] - sizes[g] : ends[g]])
    positions = np.array(chunk.positions)[heads].tolist()
    judged = Judged(columns, positions, raws, [], lines)
    customers = cols["customerid"]
    known = np.array([v is not None for v in customers.values], dtype=bool)[customers.codes[rows]]
    fees = np.array([v is not None and is_fee(v) for v in cols["stockcode"].values], dtype=bool)
    judged.treatment.update(
        {
            RETURN: int(lines.cancelled.sum()),
            SALE: int((~lines.cancelled & known).sum()),
            ANONYMOUS: int((~lines.cancelled & ~known).sum()),
            FEE: int(fees[cols["stockcode"].codes[rows]].sum()),
            MERGED: len(rows) - len(order),
        }
    )
    judged.merged = len(rows) - len(order)
    return judged


def _rows_from(chunk: ColumnChunk, start: int) -> ColumnChunk:
    """The chunk's rows from `start` on (without its rejects, which are judged already)."""
    return ColumnChunk(
        chunk.positions[start:],
        chunk.raws[start:],
        {n: values[start:] for n, values in chunk.columns.items()},
    )


def joined(first: ColumnChunk, second: ColumnChunk) -> ColumnChunk:
    """Two chunks' rows as one chunk (the first one's rejects are already judged)."""
    if not first:
        return second
    return ColumnChunk(
        first.positions + second.positions,
        first.raws + second.raws,
        {n: tuple(v) + tuple(second.columns[n]) for n, v in first.columns.items()},
        second.rejects,
    )
