"""Bulk ingestion: POST a JSON array of rows to /v1/<table>; each row gets a verdict.

The body is read and validated row by row here instead of by FastAPI, because one bad
row must be rejected on its own, not fail the whole request.
"""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app.api.deps import EngineDep, SettingsDep
from app.errors import (
    ERROR_RESPONSES,
    ErrorDetail,
    ErrorResponse,
    InvalidInput,
    PayloadTooLarge,
)
from app.ingest.importer import import_records
from app.ingest.report import ImportReport
from app.ingest.targets import TARGETS, Target
from app.observability.metrics import rows_ingested

router = APIRouter(prefix="/v1", tags=["ingestion"])


class RejectedRow(BaseModel):
    """A row that was not stored, and why."""

    index: int = Field(description="0-based position in the posted array")
    field: str | None
    reason: str


class ImportResult(BaseModel):
    """The verdict on every posted row: accepted + rejected == submitted."""

    target: str
    run_id: int | None
    submitted: int
    accepted: int
    rejected: int
    inserted: int
    updated: int
    unchanged: int
    created: dict[str, int] = Field(description="Rows created for unknown references")
    rejects: list[RejectedRow]

    @classmethod
    def of(cls, report: ImportReport) -> "ImportResult":
        """The API view of an import report."""
        return cls(
            target=report.target,
            run_id=report.run_id,
            submitted=report.submitted,
            accepted=report.accepted,
            rejected=report.rejected,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            created=dict(report.created),
            rejects=[
                RejectedRow(index=r.position, field=r.field, reason=r.reason)
                for r in report.rejects
            ],
        )


async def _read_array(request: Request, max_bytes: int, max_rows: int) -> list[Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"body is {int(declared):,} bytes; at most {max_bytes:,} allowed")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"body is over {max_bytes:,} bytes; send fewer rows per request")
    try:  # orjson: bounded nesting (no RecursionError), strict UTF-8, no NaN
        records = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from exc
    if not isinstance(records, list):
        raise InvalidInput(f"body must be a JSON array of rows, got {type(records).__name__}")
    if len(records) > max_rows:
        raise PayloadTooLarge(
            f"{len(records):,} rows in one request; at most {max_rows:,} "
            "(NEXTBEST_MAX_BULK_ROWS); split the array"
        )
    return records


def _refuse(report: ImportReport) -> None:
    """422 naming every rejected row (they are kept in the import log all the same)."""
    details = [
        ErrorDetail(
            field=f"[{r.position}].{r.field}" if r.field else f"[{r.position}]", message=r.reason
        )
        for r in report.rejects[:100]
    ]
    first = report.rejects[0]
    raise InvalidInput(
        f"none of the {report.submitted} rows was accepted; row {first.position}: {first.reason}",
        details,
    )


def _route(target: Target) -> None:
    table = target.name

    async def ingest(
        request: Request,
        engine: EngineDep,
        settings: SettingsDep,
        create_missing: Annotated[
            bool, Query(description="Create unknown customers/items instead of rejecting rows")
        ] = False,
    ) -> ImportResult:
        records = await _read_array(request, settings.max_body_bytes, settings.max_bulk_rows)
        report = await run_in_threadpool(
            import_records, engine, target, records, create_missing=create_missing
        )
        rows_ingested(table, report.accepted, report.rejected)
        if table == "purchases" and report.inserted:
            await run_in_threadpool(request.app.state.registry.refresh)
        if table == "events" and report.rejected and not report.accepted:
            _refuse(report)  # events come from code: a batch with no valid event is a bug
        return ImportResult.of(report)

    ingest.__doc__ = (
        f"Insert or update {table} (natural key: {', '.join(target.key)}). "
        "Each row is accepted or rejected on its own; re-posting the same rows changes nothing."
    )
    router.add_api_route(
        f"/{table}",
        ingest,
        methods=["POST"],
        operation_id=f"import_{table.replace('-', '_')}",
        response_model=ImportResult,
        summary=f"Bulk insert or update {table}",
        responses={
            **ERROR_RESPONSES,
            413: {"model": ErrorResponse, "description": "Too many rows or bytes"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "array", "items": target.row.model_json_schema()}
                    }
                },
            }
        },
    )


for _target in TARGETS.values():
    _route(_target)
