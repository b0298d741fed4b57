"""Where rows come from: CSV files (plain or gzip) and SQL queries on another database.

A source yields `SourceRow`s: either the raw values of one row, or the problem that
made the row unreadable (bad bytes, a line over the size limit, the wrong number of
fields). Problems that make the whole input unreadable (no header, missing columns,
a truncated gzip) raise `SourceUnreadable`; the import then changes nothing.
"""

import csv
import difflib
import gzip
import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from app.db.engine import make_engine

MAX_LINE_BYTES = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# Rejected oversize lines keep this much of their start, so the reject stays readable.
_OVERSIZE_KEPT = 1024

csv.field_size_limit(2 * MAX_LINE_BYTES)


class SourceUnreadable(Exception):
    """The input as a whole cannot be read; nothing from it may be imported."""


@dataclass(slots=True)
class SourceRow:
    """One row of input: its values, or the reason it could not be read."""

    position: int
    raw: str
    values: dict[str, Any] | None
    problem: tuple[str | None, str] | None = None


def normalise_column(name: str) -> str:
    """'Customer ID' and 'customer-id' both mean customer_id."""
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def check_columns(
    found: Sequence[str], allowed: Sequence[str], required: Sequence[str], where: str
) -> list[str]:
    """Raise when columns are missing or misspelt; return warnings for ignored ones.

    An unknown column that looks like a field the file does not have ('cust_id' for
    customer_id) is an error: ignoring it would silently import every row without it.
    """
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if duplicated:
        raise SourceUnreadable(f"{where}: column(s) given twice: {', '.join(duplicated)}")
    absent = [c for c in allowed if c not in found]
    unknown = [c for c in found if c not in allowed]
    missing = [c for c in required if c not in found]
    misspelt = {
        c: close[0]
        for c in unknown
        if (close := difflib.get_close_matches(c, absent, n=1, cutoff=0.6))
    }
    if missing or misspelt:
        problems = []
        if missing:
            problems.append(f"missing required column(s): {', '.join(missing)}")
        problems += [f"found {c!r}: did you mean {m!r}?" for c, m in misspelt.items()]
        raise SourceUnreadable(
            f"{where}: {'; '.join(problems)}; expected columns: {', '.join(allowed)}"
        )
    return [f"{where}: column {c!r} is not a known field and was ignored" for c in unknown]


class _Lines:
    """Physical lines of a binary stream, decoded, with oversize and bad-UTF-8 lines noted.

    The csv module pulls lines from here one at a time, so `consumed` always holds the
    text of the row being parsed, which becomes the raw row of a reject.
    """

    def __init__(self, stream: BufferedIOBase, max_line_bytes: int) -> None:
        self.stream = stream
        self.max_line_bytes = max_line_bytes
        self.number = 0
        self.consumed: list[str] = []
        self.problems: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        data = self.stream.readline(self.max_line_bytes + 1)
        if not data:
            raise StopIteration
        self.number += 1
        if len(data) > self.max_line_bytes and not data.endswith(b"\n"):
            size = len(data) + self._skip_rest()
            self.problems[self.number] = (
                f"the line is {size:,} bytes, longer than the {self.max_line_bytes:,}-byte limit"
            )
            kept = data[:_OVERSIZE_KEPT].decode("utf-8", errors="replace")
            self.consumed.append(f"{kept}... [cut: {size:,} bytes in all]\n")
            return "\n"  # an empty stand-in keeps the CSV parser in step
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems[self.number] = (
                f"bytes that are not UTF-8 (0x{data[exc.start]:02x} at byte {exc.start + 1} "
                "of the line); save the file as UTF-8"
            )
            line = data.decode("utf-8", errors="replace")
        self.consumed.append(line)
        return line

    def _skip_rest(self) -> int:
        skipped = 0
        while True:
            chunk = self.stream.readline(self.max_line_bytes)
            skipped += len(chunk)
            if not chunk or chunk.endswith(b"\n"):
                return skipped

    def problem_between(self, first: int) -> str | None:
        """The first problem on the lines from `first` to the current one."""
        for number in range(first, self.number + 1):
            if number in self.problems:
                return self.problems.pop(number)
        return None


def _open(path: Path) -> BufferedIOBase:
    """The file's bytes, decompressed when it is gzip (whatever its name)."""
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == _GZIP_MAGIC
        return gzip.open(path, "rb") if compressed else path.open("rb")
    except OSError as exc:
        raise SourceUnreadable(f"{path}: cannot be opened: {exc.strerror}") from exc


@contextmanager
def opened(path: Path) -> Iterator[BufferedIOBase]:
    """The file's bytes while it is read. A truncated gzip or a failed read becomes
    SourceUnreadable, which the importer answers by changing nothing."""
    try:
        with _open(path) as stream:
            yield stream
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise SourceUnreadable(
            f"{path}: the gzip data is truncated or corrupt ({exc}); nothing was imported"
        ) from exc
    except OSError as exc:
        raise SourceUnreadable(f"{path}: read failed: {exc}") from exc


class CsvFile:
    """What both CSV readers share (rows here, columns in `app.ingest.csv_columns`): the
    file, and its header line checked against the fields the importer allows."""

    unit = "line"

    def __init__(self, path: Path, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.path = path
        self.name = str(path)
        self.max_line_bytes = max_line_bytes
        self.columns: list[str] = []
        self.warnings: list[str] = []

    def _accept(
        self,
        reader: Iterator[list[str]],
        problems: dict[int, str],
        allowed: Sequence[str],
        required: Sequence[str],
    ) -> list[str]:
        """The header line, normalised; its warnings and the columns kept recorded.

        `problems` are the readers' per-line byte problems (too long, not UTF-8).
        """
        try:
            header = next(reader)
        except StopIteration:
            raise SourceUnreadable(
                f"{self.path}: the file is empty; expected a header line naming the columns"
            ) from None
        except csv.Error as exc:
            raise SourceUnreadable(f"{self.path} line 1: header is not valid CSV: {exc}") from exc
        if 1 in problems:
            raise SourceUnreadable(f"{self.path} line 1 (header): {problems[1]}")
        header = [normalise_column(c) for c in header]
        self.warnings = check_columns(header, allowed, required, f"{self.path} line 1")
        self.columns = [c for c in header if c in allowed]
        return header


class CsvSource(CsvFile):
    """Rows of a CSV file with a header line; gzip-compressed files are read directly."""

    def rows(self, allowed: Sequence[str], required: Sequence[str]) -> Iterator[SourceRow]:
        """Check the header against the fields, then yield each data row."""
        with opened(self.path) as stream:
            yield from self._rows(stream, allowed, required)

    def _rows(
        self, stream: BufferedIOBase, allowed: Sequence[str], required: Sequence[str]
    ) -> Iterator[SourceRow]:
        lines = _Lines(stream, self.max_line_bytes)
        reader = csv.reader(lines, strict=True)
        header = self._accept(reader, lines.problems, allowed, required)
        keep = [(i, c) for i, c in enumerate(header) if c in allowed]
        while True:
            start = lines.number + 1
            lines.consumed.clear()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                lines.problem_between(start)
                yield SourceRow(start, "".join(lines.consumed), None, (None, f"bad CSV: {exc}"))
                continue
            raw = "".join(lines.consumed).rstrip("\r\n")
            problem = lines.problem_between(start)
            if problem is not None:
                yield SourceRow(start, raw, None, (_field_with(fields, header), problem))
            elif not fields:
                continue  # a blank line is not a row
            elif len(fields) != len(header):
                width = f"{len(fields)} fields, but the header has {len(header)}"
                yield SourceRow(start, raw, None, (None, width))
            else:
                yield SourceRow(start, raw, {c: fields[i] for i, c in keep if fields[i] != ""})


def _field_with(fields: list[str], header: list[str]) -> str | None:
    """The column whose value holds a replaced (non-UTF-8) character, if any."""
    for name, value in zip(header, fields, strict=False):
        if "\ufffd" in value:
            return name
    return None


class SqlSource:
    """Rows of a query on another database, streamed in batches (server-side cursor).

    The query's column names are the fields, exactly as in a CSV header, so
    ``SELECT order_no AS order_id, ...`` maps a shop's own orders table.
    """

    unit = "row"

    def __init__(self, url: str, query: str, batch_size: int = 5000) -> None:
        self.url = url
        self.query = query
        self.batch_size = batch_size
        self.name = f"SQL query on {_without_password(url)}"
        self.columns: list[str] = []
        self.warnings: list[str] = []

    def rows(self, allowed: Sequence[str], required: Sequence[str]) -> Iterator[SourceRow]:
        """Run the query and yield its rows; connection or SQL errors make it unreadable."""
        try:
            engine = make_engine(self.url)
        except (ArgumentError, ImportError) as exc:
            raise SourceUnreadable(f"--from-sql URL is not usable: {exc}") from exc
        try:
            with engine.connect() as conn:
                result = conn.execution_options(
                    stream_results=True, yield_per=self.batch_size
                ).execute(text(self.query))
                names = result.keys()  # a result's column names, not a dict
                header = [normalise_column(k) for k in names]
                self.warnings = check_columns(header, allowed, required, "the query")
                self.columns = [c for c in header if c in allowed]
                for number, row in enumerate(result, start=1):
                    record = dict(zip(header, row, strict=True))
                    values = {
                        c: v for c, v in record.items() if c in allowed and v not in (None, "")
                    }
                    yield SourceRow(number, json.dumps(record, default=str), values)
        except DBAPIError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise SourceUnreadable(f"{self.name}: {first}") from exc
        finally:
            engine.dispose()


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "an unparseable URL"
