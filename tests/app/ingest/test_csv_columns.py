"""Reading CSV in chunks of columns: the same rows, line numbers and reasons as row by row."""

from pathlib import Path

import pytest

from app.ingest.csv_columns import CsvColumns
from app.ingest.sources import CsvSource

HEADER = b"a,b,c\n"
TRICKY = {
    "quoted value over lines": b'1,"x\ny",3\n4,5,6\n7,"p\n\nq",9\n',
    "unclosed quote": b'1,"x,3\n4,5,6\n',
    "quote inside a value": b'1,a"b,3\n4,"5\n",6\n',
    "not UTF-8": b"1,\xe9,3\n4,5,6\n",
    "not UTF-8 over lines": b'1,"\xe9\nz",3\n4,5,6\n',
    "wrong widths": b"1,2\n1,2,3,4\n4,5,6\n",
    "over the limit": b"1,2," + b"x" * 300 + b"\n4,5,6\n",
    "last line over the limit": b"4,5,6\n1,2," + b"x" * 300,
    "blank lines and CRLF": b"1,2,3\r\n\n\n4,5,6\r\n",
    "no newline at the end": b"1,2,3\n4,5,6",
}


def row_by_row(path: Path) -> list[tuple[object, ...]]:
    verdicts: list[tuple[object, ...]] = []
    for row in CsvSource(path, max_line_bytes=100).rows(["a", "b", "c"], ["a"]):
        if row.values is None:
            assert row.problem is not None
            verdicts.append((row.position, "reject", *row.problem, row.raw))
        else:
            verdicts.append((row.position, "row", row.raw, row.values))
    return verdicts


def in_chunks(path: Path, block_bytes: int) -> list[tuple[object, ...]]:
    verdicts: list[tuple[object, ...]] = []
    for chunk in CsvColumns(path, max_line_bytes=100, block_bytes=block_bytes).chunks(
        ["a", "b", "c"], ["a"]
    ):
        verdicts += [(r.position, "reject", r.field, r.reason, r.raw) for r in chunk.rejects]
        for i, position in enumerate(chunk.positions):
            values = {n: v[i] for n, v in chunk.columns.items() if v[i] != ""}
            verdicts.append((position, "row", chunk.raws[i], values))
    return sorted(verdicts, key=lambda v: v[0])  # type: ignore[return-value]


@pytest.mark.parametrize("case", TRICKY)
@pytest.mark.parametrize("block_bytes", [1, 7, 64, 4096])
def test_every_row_gets_the_verdict_row_by_row_reading_gives(
    tmp_path: Path, case: str, block_bytes: int
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER + TRICKY[case])
    assert in_chunks(path, block_bytes) == row_by_row(path)
