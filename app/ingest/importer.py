"""Run one import: read a source, validate each row, write in batches, log the run.

The whole import is one transaction. If the input turns out to be unreadable part
way through (a truncated gzip, a dropped connection), everything is rolled back and
the database is as it was; otherwise good rows are committed together with the
rejects and the run's counts.
"""

import reprlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Protocol

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import Connection, Engine, insert, update

from app.db import tables
from app.ingest.report import ImportReport, Reject
from app.ingest.sources import SourceRow
from app.ingest.targets import Target
from app.ingest.writer import BackgroundWriter, Batch, BatchWriter, in_background

BATCH_SIZE = 2000
# How a rejected value is shown: a few levels and characters of it, whatever its size
# or depth (repr() of a value nested a thousand deep would raise RecursionError).
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlist, _SHOWN.maxdict = 3, 60, 60, 6, 6


class Source(Protocol):
    """Anything that yields rows for a set of allowed and required fields."""

    name: str
    unit: str
    columns: list[str]
    warnings: list[str]

    def rows(self, allowed: Sequence[str], required: Sequence[str]) -> Iterator[SourceRow]: ...


def describe_error(exc: ValidationError) -> tuple[str | None, str]:
    """The first failing field and a reason naming every failing field."""
    errors = exc.errors(include_url=False)
    field = str(errors[0]["loc"][0]) if errors and errors[0]["loc"] else None
    return field, "; ".join(_one_error(e) for e in errors)


def _one_error(error: ErrorDetails) -> str:
    name = ".".join(str(p) for p in error["loc"]) or "row"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{name}: required, but missing or empty"
    if error["type"] == "extra_forbidden":
        return f"{name}: not a field of this table"
    shown = _SHOWN.repr(error["input"])
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{name}: {message} (got {shown})"


def start_run(conn: Connection, report: ImportReport) -> int:
    """Open the import log entry that rejects point to."""
    now = datetime.now(UTC)
    counts = dict.fromkeys(("submitted", "accepted", "rejected", "inserted", "updated"), 0)
    result = conn.execute(
        insert(tables.import_run).values(
            target=report.target,
            source=report.source,
            started_at=now,
            finished_at=now,
            unchanged=0,
            notes={},
            **counts,
        )
    )
    run_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    assert run_id is not None
    report.run_id = int(run_id)
    return report.run_id


def finish_run(conn: Connection, report: ImportReport) -> None:
    """Record the final counts of the run."""
    conn.execute(
        update(tables.import_run)
        .where(tables.import_run.c.id == report.run_id)
        .values(
            finished_at=datetime.now(UTC),
            submitted=report.submitted,
            accepted=report.accepted,
            rejected=report.rejected,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            notes=report.notes(),
        )
    )


def validate_into(
    writer: BatchWriter | BackgroundWriter,
    target: Target,
    rows: Iterable[SourceRow],
    fields: frozenset[str] | None,
    report: ImportReport,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Validate each row and hand valid rows and rejects to `writer` in batches.

    `fields` are the columns the source supplied for every row (a CSV header); None
    means each row says for itself (a JSON object's keys), and a batch then ends where
    the set of supplied fields changes.
    """
    batch = Batch.empty(target, fields or ())
    for item in rows:
        report.submitted += 1
        if item.values is None:
            field, reason = item.problem or (None, "unreadable row")
            batch.rejects.append(Reject(item.position, field, reason, item.raw))
            continue
        try:
            row = target.row.model_validate(item.values)
        except ValidationError as exc:
            batch.rejects.append(Reject(item.position, *describe_error(exc), item.raw))
            continue
        if fields is None and row.model_fields_set != batch.fields:
            if batch or batch.rejects:
                writer.write(batch)
            batch = Batch.empty(target, row.model_fields_set)
        batch.add(item.position, item.raw, row.__dict__)
        if len(batch) + len(batch.rejects) >= batch_size:
            writer.write(batch)
            batch = Batch.empty(target, batch.fields)
    writer.write(batch)


def run_import(
    engine: Engine,
    target: Target,
    source: Source,
    *,
    create_missing: bool = False,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import every row of `source` into `target`; raises SourceUnreadable, changing nothing."""
    report = ImportReport(target.name, source.name, unit=source.unit)
    with engine.begin() as conn:
        writer = BatchWriter(conn, target, report, start_run(conn, report), create_missing)
        rows = source.rows(target.columns, target.required)
        first = next(rows, None)  # reads the header, so the supplied columns are known
        report.warnings.extend(source.warnings)
        if first is not None:
            supplied = frozenset(source.columns)
            with in_background(writer) as background:
                validate_into(
                    background, target, chain([first], rows), supplied, report, batch_size
                )
        finish_run(conn, report)
    return report


def raw_json(record: object) -> str:
    """A posted row as JSON text, for its reject; a row too deep to write is named so."""
    try:
        return orjson.dumps(record, default=str).decode()
    except orjson.JSONEncodeError:
        return "(a JSON value nested too deep to show)"


def _record(index: int, record: object) -> SourceRow:
    raw = raw_json(record)
    if isinstance(record, dict):
        return SourceRow(index, raw, record)
    kind = type(record).__name__ if record is not None else "null"
    return SourceRow(index, raw, None, (None, f"expected a JSON object, got {kind}"))


def import_records(
    engine: Engine, target: Target, records: list[object], *, create_missing: bool = False
) -> ImportReport:
    """Import a JSON array posted to the API; positions are 0-based array indexes.

    An empty array is answered with an empty report and leaves no import run behind.
    """
    report = ImportReport(target.name, "api", unit="index", keep_rejects=len(records))
    if not records:
        return report
    with engine.begin() as conn:
        writer = BatchWriter(conn, target, report, start_run(conn, report), create_missing)
        rows = (_record(i, r) for i, r in enumerate(records))
        validate_into(writer, target, rows, None, report)
        finish_run(conn, report)
    return report
