"""`GET /v1/imports`: the import log, every recent run with the rows it refused.

Why `admin`: a refused row is kept verbatim (`raw`), and the rows are customers,
orders and tickets: names of people, their ids, what they bought. That is personal
data, so it is shown to the keys that may export and erase customers, not to every
`read` key a shop frontend or a CRM plugin holds. The counts and the reasons with their
values blanked are in `GET /v1/overview` for everyone with `read`.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from app.api.deps import EngineDep
from app.api.overview import ImportSummary
from app.db import tables
from app.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["imports"])


class RefusedRow(BaseModel):
    """A row that was not imported: where, which field, why, and the row as it came."""

    position: int = Field(description="The file's line, or the index in a JSON array")
    field: str | None
    reason: str
    raw: str = Field(description="The row as submitted (personal data: admin only)")


class ImportRun(ImportSummary):
    """One run, with its first refused rows."""

    source: str = Field(description="The file, query or HTTP route the rows came from")
    started_at: datetime
    rejects: list[RefusedRow] = Field(description="The first `rejects` refused rows, in order")


class ImportsAnswer(BaseModel):
    """The latest runs, newest first."""

    runs: list[ImportRun]


@router.get(
    "/imports", operation_id="list_imports", response_model=ImportsAnswer, responses=ERROR_RESPONSES
)
def list_imports(
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many runs")] = 10,
    rejects: Annotated[int, Query(ge=0, le=1000, description="Refused rows per run")] = 20,
    target: Annotated[
        str | None,
        Query(min_length=1, max_length=32, pattern=r"^[a-z-]+$", description="Only this table"),
    ] = None,
) -> ImportsAnswer:
    """The latest import runs (files, SQL and the bulk HTTP routes), newest first: their
    counts, and the rows they refused with position, field, reason and the row itself."""
    run, reject = tables.import_run, tables.import_reject
    query = select(run).order_by(run.c.finished_at.desc(), run.c.id.desc()).limit(limit)
    if target is not None:
        query = query.where(run.c.target == target)
    with engine.connect() as conn:
        runs = conn.execute(query).all()
        found: dict[int, list[RefusedRow]] = {r.id: [] for r in runs}
        if runs and rejects:
            ranked = (
                select(
                    reject.c.run_id,
                    reject.c.position,
                    reject.c.field,
                    reject.c.reason,
                    reject.c.raw,
                    func.row_number()
                    .over(partition_by=reject.c.run_id, order_by=(reject.c.position, reject.c.id))
                    .label("n"),
                )
                .where(reject.c.run_id.in_(list(found)))
                .subquery()
            )
            first = select(ranked).where(ranked.c.n <= rejects).order_by(ranked.c.run_id, "n")
            for row in conn.execute(first):
                found[row.run_id].append(
                    RefusedRow(
                        position=row.position, field=row.field, reason=row.reason, raw=row.raw
                    )
                )
    return ImportsAnswer(runs=[_run(r, found[r.id]) for r in runs])


def _run(r: Any, rejected: list[RefusedRow]) -> ImportRun:
    return ImportRun.of(r, source=r.source, started_at=r.started_at, rejects=rejected)
