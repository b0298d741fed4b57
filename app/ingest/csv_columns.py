"""A CSV file read in chunks of rows, column by column, for importers that vectorise.

`CsvSource` hands out one row at a time, which costs more than the rest of a large
import. This reader decodes and parses a few megabytes at once: a block whose
physical lines are each one row (the usual case) is parsed by one call to the csv
module and transposed into columns. A block where a quoted value spans lines, or
whose CSV is broken, is parsed row by row instead, exactly as `CsvSource` does,
so every row still gets its own line number, raw text and reason.

Lines that are not UTF-8 or are over the size limit are rejects of their own
row; the input as a whole being unreadable (no header, missing columns, truncated
gzip) raises `SourceUnreadable`, as with `CsvSource`.
"""

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import BufferedIOBase
from pathlib import Path

from app.ingest.report import Reject
from app.ingest.sources import (
    _OVERSIZE_KEPT,
    MAX_LINE_BYTES,
    CsvFile,
    _field_with,
    opened,
)

BLOCK_BYTES = 4 * 1024 * 1024


@dataclass
class ColumnChunk:
    """Consecutive rows of the file: the readable ones as columns, the others judged."""

    positions: list[int]  # the line each row starts on
    raws: list[str]  # each row as written, for its reject
    columns: dict[str, Sequence[str]]  # the allowed columns; "" where a value is empty
    rejects: list[Reject] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.positions)


class _Blocks:
    """Decoded physical lines (without their newline), a few megabytes at a time.

    Problems of single lines (bad UTF-8, over the limit) are noted by line number;
    an oversize line is handed on as an empty stand-in so that parsing stays in step,
    and `shown` keeps its readable start for the reject.
    """

    def __init__(self, stream: BufferedIOBase, max_line_bytes: int, block_bytes: int) -> None:
        self.stream = stream
        self.max_line_bytes = max_line_bytes
        self.block_bytes = max(block_bytes, 1)
        self.number = 0  # physical lines handed out so far
        self.problems: dict[int, str] = {}
        self.shown: dict[int, str] = {}
        self._rest = b""

    def __iter__(self) -> Iterator[list[str]]:
        while True:
            more = self.stream.read(self.block_bytes)
            data, self._rest = self._rest + more, b""
            if not data:
                return
            end = data.rfind(b"\n")
            if end >= 0:
                self._rest = data[end + 1 :]
                yield self._decode(data[:end].split(b"\n"))
            elif not more:  # the last line, without a newline
                if len(data) > self.max_line_bytes:
                    self._note_oversize(self.number + 1, data, len(data))
                    data = b""
                yield self._decode([data])
            elif len(data) > self.max_line_bytes:
                yield self._decode([self._oversize(data)])
            else:
                self._rest = data

    def _oversize(self, start: bytes) -> bytes:
        """Skip the rest of a line over the limit (without holding it); note it."""
        size = len(start)
        while chunk := self.stream.read(self.block_bytes):
            end = chunk.find(b"\n")
            if end >= 0:
                self._rest = chunk[end + 1 :]
                size += end + 1
                break
            size += len(chunk)
        self._note_oversize(self.number + 1, start, size)
        return b""

    def _note_oversize(self, number: int, start: bytes, size: int) -> None:
        self.problems[number] = (
            f"the line is {size:,} bytes, longer than the {self.max_line_bytes:,}-byte limit"
        )
        kept = start[: min(_OVERSIZE_KEPT, self.max_line_bytes + 1)].decode(
            "utf-8", errors="replace"
        )
        self.shown[number] = f"{kept}... [cut: {size:,} bytes in all]"

    def _decode(self, parts: list[bytes]) -> list[str]:
        first = self.number + 1
        self.number += len(parts)
        if max(map(len, parts)) > self.max_line_bytes:
            parts = [self._cut(first + i, p) for i, p in enumerate(parts)]
        try:
            return b"\n".join(parts).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            return [self._decode_line(first + i, p) for i, p in enumerate(parts)]

    def _cut(self, number: int, part: bytes) -> bytes:
        if len(part) <= self.max_line_bytes:
            return part
        self._note_oversize(number, part, len(part) + 1)  # with its newline
        return b""

    def _decode_line(self, number: int, part: bytes) -> str:
        try:
            return part.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems[number] = (
                f"bytes that are not UTF-8 (0x{part[exc.start]:02x} at byte {exc.start + 1} "
                "of the line); save the file as UTF-8"
            )
            return part.decode("utf-8", errors="replace")


class _Feed:
    """The blocks' lines one at a time, as the csv module's row-by-row mode reads them.

    `consumed` holds the text of the row being parsed (its raw text for a reject).
    """

    def __init__(self, blocks: _Blocks) -> None:
        self.blocks = blocks
        self._blocks = iter(blocks)
        self._lines: list[str] = []
        self._at = 0
        self.number = 0  # lines consumed so far
        self.consumed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if not self.fill():
            raise StopIteration
        line = self._lines[self._at]
        self._at += 1
        self.number += 1
        shown = self.blocks.shown.get(self.number)
        self.consumed.append(line + "\n" if shown is None else shown + "\n")
        return line + "\n"

    def fill(self) -> bool:
        """Whether lines are waiting; reads the next block when none are."""
        while self._at >= len(self._lines):
            block = next(self._blocks, None)
            if block is None:
                return False
            self._lines, self._at = block, 0
        return True

    @property
    def waiting(self) -> bool:
        """Lines of the current block are left (without reading another block)."""
        return self._at < len(self._lines)

    def take(self) -> list[str]:
        """Every waiting line of the current block."""
        lines = self._lines if self._at == 0 else self._lines[self._at :]
        self.number += len(lines)
        self._lines, self._at = [], 0
        return lines

    def give_back(self, lines: list[str]) -> None:
        """Undo `take`: the lines are read again, one at a time."""
        self.number -= len(lines)
        self._lines, self._at = lines, 0

    def problem_between(self, first: int) -> str | None:
        """The first problem on the lines from `first` to the current one."""
        problems = self.blocks.problems
        for number in range(first, self.number + 1):
            if number in problems:
                return problems.pop(number)
        return None


class CsvColumns(CsvFile):
    """Rows of a CSV file with a header line, in chunks of columns; gzip is read directly."""

    def __init__(
        self, path: Path, max_line_bytes: int = MAX_LINE_BYTES, block_bytes: int = BLOCK_BYTES
    ) -> None:
        super().__init__(path, max_line_bytes)
        self.block_bytes = block_bytes

    def chunks(self, allowed: Sequence[str], required: Sequence[str]) -> Iterator[ColumnChunk]:
        """Check the header against the fields, then yield the rows in chunks."""
        with opened(self.path) as stream:
            yield from self._chunks(stream, allowed, required)

    def _chunks(
        self, stream: BufferedIOBase, allowed: Sequence[str], required: Sequence[str]
    ) -> Iterator[ColumnChunk]:
        feed = _Feed(_Blocks(stream, self.max_line_bytes, self.block_bytes))
        header = self._accept(
            csv.reader(feed, strict=True), feed.blocks.problems, allowed, required
        )
        shape = _Shape(header, [(i, c) for i, c in enumerate(header) if c in allowed])
        while feed.fill():
            first = feed.number + 1
            lines = feed.take()
            chunk = _one_line_rows(lines, first, shape, feed.blocks)
            if chunk is None:
                feed.give_back(lines)
                chunk = _row_by_row(feed, shape)
            if chunk or chunk.rejects:
                yield chunk


@dataclass(frozen=True)
class _Shape:
    """The header, and which of its columns the importer wants."""

    header: list[str]
    keep: list[tuple[int, str]]  # (index in the row, column name) of the allowed columns

    def columns(self, rows: list[list[str]]) -> dict[str, Sequence[str]]:
        # Every row has the header's width here, so nothing is cut off.
        transposed = list(zip(*rows, strict=True)) if rows else [()] * len(self.header)
        return {name: transposed[i] for i, name in self.keep}


def _one_line_rows(
    lines: list[str], first: int, shape: _Shape, blocks: _Blocks
) -> ColumnChunk | None:
    """The block parsed at once, or None when a row spans lines or the CSV is broken."""
    try:
        rows = list(csv.reader(lines, strict=True))
    except csv.Error:
        return None
    if len(rows) != len(lines):
        return None
    width = len(shape.header)
    problems = blocks.problems
    last = first + len(lines) - 1
    if not any(first <= n <= last for n in problems) and all(len(r) == width for r in rows):
        raws = [line.rstrip("\r") for line in lines] if any("\r" in x for x in lines) else lines
        return ColumnChunk(list(range(first, last + 1)), raws, shape.columns(rows))
    good: list[int] = []
    rejects: list[Reject] = []
    for i, fields in enumerate(rows):
        number = first + i
        problem = problems.pop(number, None)
        raw = blocks.shown.get(number) or lines[i].rstrip("\r\n")
        if problem is not None:
            rejects.append(Reject(number, _field_with(fields, shape.header), problem, raw))
        elif not fields:
            continue  # a blank line is not a row
        elif len(fields) != width:
            reason = f"{len(fields)} fields, but the header has {width}"
            rejects.append(Reject(number, None, reason, raw))
        else:
            good.append(i)
    return ColumnChunk(
        [first + i for i in good],
        [lines[i].rstrip("\r\n") for i in good],
        shape.columns([rows[i] for i in good]),
        rejects,
    )


def _row_by_row(feed: _Feed, shape: _Shape) -> ColumnChunk:
    """Rows until the current block is used up, each parsed on its own (as CsvSource does)."""
    reader = csv.reader(feed, strict=True)
    width = len(shape.header)
    positions: list[int] = []
    raws: list[str] = []
    rows: list[list[str]] = []
    rejects: list[Reject] = []
    while feed.waiting:
        start = feed.number + 1
        feed.consumed.clear()
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            feed.problem_between(start)
            rejects.append(Reject(start, None, f"bad CSV: {exc}", "".join(feed.consumed)))
            continue
        raw = "".join(feed.consumed).rstrip("\r\n")
        problem = feed.problem_between(start)
        if problem is not None:
            rejects.append(Reject(start, _field_with(fields, shape.header), problem, raw))
        elif not fields:
            continue
        elif len(fields) != width:
            reason = f"{len(fields)} fields, but the header has {width}"
            rejects.append(Reject(start, None, reason, raw))
        else:
            positions.append(start)
            raws.append(raw)
            rows.append(fields)
    return ColumnChunk(positions, raws, shape.columns(rows), rejects)
