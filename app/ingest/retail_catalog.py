"""What the Online Retail file says about its customers and items, gathered chunk by chunk.

Customers get the country of their last line; items get the description used most
often as name (the first one seen among equally frequent ones) and the median sale
price. Counting goes through numpy per chunk; only distinct values reach Python.
"""

import numpy as np
from numpy.typing import NDArray

from app.ingest.distinct import Codes, Column
from app.ingest.retail_lines import Lines


def _by_number(col: Column) -> list[object]:
    """The validated values of a column, indexed by their number (`Column.key`)."""
    values: dict[int, object] = {}
    for key, value in zip(col.key.tolist(), col.values, strict=True):
        values.setdefault(key, value)
    return [values[k] for k in range(len(values))]


def _last(keys: Codes) -> Codes:
    """For each distinct key, the index of its last occurrence."""
    backwards = keys[::-1]
    _, first = np.unique(backwards, return_index=True)
    return len(keys) - 1 - first


class Catalog:
    """Countries, names and prices as the accepted lines give them."""

    def __init__(self) -> None:
        self.countries: dict[str, str] = {}
        self.names: dict[str, dict[str, int]] = {}  # counts in order of first use
        self.items: dict[str, int] = {}  # every stock code of an accepted line
        self._priced: list[Codes] = []
        self._prices: list[NDArray[np.float64]] = []

    def note(self, lines: Lines) -> None:
        """Take in one chunk's accepted lines (chunks in file order)."""
        self._note_countries(lines)
        self._note_names(lines)
        stocks = _by_number(lines.cols["stockcode"])
        keys = lines.codes("stockcode")
        numbers = np.full(len(stocks), -1, dtype=np.int64)
        for key in np.unique(keys).tolist():
            numbers[key] = self.items.setdefault(str(stocks[key]), len(self.items))
        stock = numbers[keys]
        priced = (lines.price > 0) & ~lines.cancelled
        self._priced.append(stock[priced])
        self._prices.append(lines.price[priced])

    def _note_countries(self, lines: Lines) -> None:
        customers, countries = lines.cols["customerid"], lines.cols["country"]
        known = np.array([bool(v) for v in customers.values], dtype=bool)
        given = np.array([bool(v) for v in countries.values], dtype=bool)
        rows = lines.rows[known[customers.codes[lines.rows]] & given[countries.codes[lines.rows]]]
        last = rows[_last(customers.key[customers.codes[rows]])]
        for customer, country in zip(customers.rows(last), countries.rows(last), strict=True):
            self.countries[customer] = country

    def _note_names(self, lines: Lines) -> None:
        descriptions = lines.cols["description"]
        stripped = [v.strip() if v else "" for v in descriptions.values]
        numbering: dict[str, int] = {}
        number = np.array([numbering.setdefault(s, len(numbering)) for s in stripped], np.int64)
        named = np.array([bool(s) for s in stripped], dtype=bool)
        codes = descriptions.codes[lines.rows]
        keep = named[codes]
        if not keep.any():
            return
        width = len(numbering)
        pairs = lines.codes("stockcode")[keep] * width + number[codes[keep]]
        unique, first, counts = np.unique(pairs, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        stocks = _by_number(lines.cols["stockcode"])
        names = list(numbering)
        for pair, count in zip(unique[order].tolist(), counts[order].tolist(), strict=True):
            counted = self.names.setdefault(str(stocks[pair // width]), {})
            name = names[pair % width]
            counted[name] = counted.get(name, 0) + count

    def name(self, stock_code: str) -> str | None:
        """The description used most often (the first seen of equally frequent ones)."""
        counted = self.names.get(stock_code)
        return max(counted, key=counted.__getitem__) if counted else None

    def medians(self) -> dict[str, float | None]:
        """The median positive sale price of each item; None for an item never sold."""
        stock = np.concatenate(self._priced) if self._priced else np.zeros(0, np.int64)
        price = np.concatenate(self._prices) if self._prices else np.zeros(0)
        order = np.lexsort((price, stock))
        price = price[order]
        counts = np.bincount(stock, minlength=len(self.items))
        ends = np.cumsum(counts)
        middle = ends - counts + counts // 2
        upper = price[np.minimum(middle, len(price) - 1)] if len(price) else np.zeros(len(counts))
        lower = price[np.maximum(middle - 1, 0)] if len(price) else np.zeros(len(counts))
        median = np.where(counts % 2 == 1, upper, (lower + upper) / 2)
        return {code: (float(median[n]) if counts[n] else None) for code, n in self.items.items()}
