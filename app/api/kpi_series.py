"""`GET /v1/kpis/series`: the KPIs of `GET /v1/kpis`, bucket by bucket, for charts.

Why a second route rather than a parameter of the first: a series is a list of reports
(each bucket one `KpiGroup` overall plus its groups), a different answer from one
report, and a chart should not have to ask thirteen times. Each bucket is exactly the
report `GET /v1/kpis?from=<bucket start>&to=<bucket end>` gives, so the two cannot
disagree; the cost is one report per bucket, hence the cap on buckets.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EngineDep, SettingsDep
from app.api.kpis import From, Grouping, KpiGroup, To
from app.errors import ERROR_RESPONSES, ErrorDetail, ErrorResponse, InvalidInput
from app.reporting.kpis import GroupBy, Holdout, SegmentLabels, kpi_report, period_of
from models.kpis import Period

router = APIRouter(prefix="/v1", tags=["kpis"])

Interval = Literal["day", "week", "month"]
MAX_BUCKETS = 120


class KpiBucket(BaseModel):
    """One bucket: the report of [from, to)."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from", description="ISO 8601 UTC, inclusive.")
    end: str = Field(alias="to", description="ISO 8601 UTC, exclusive.")
    overall: KpiGroup
    groups: list[KpiGroup]


class KpiSeries(BaseModel):
    """The KPIs of consecutive buckets of a period, oldest first."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    interval: Interval
    group_by: GroupBy | None
    buckets: list[KpiBucket]


@router.get(
    "/kpis/series",
    operation_id="kpi_series",
    response_model=KpiSeries,
    response_model_by_alias=True,
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorResponse, "description": "The database cannot be read"},
    },
)
async def kpi_series(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    start: From = None,
    to: To = None,
    interval: Annotated[
        Interval, Query(description="Bucket length; buckets start at `from`")
    ] = "week",
    group_by: Grouping = None,
) -> KpiSeries:
    """The period cut into days, weeks or calendar months from `from` (the last one
    ends at `to`), each with the same report `GET /v1/kpis` gives for it.

    The period follows the rules of `GET /v1/kpis`; at most 120 buckets (422 naming
    `query.interval` otherwise).
    """
    period = period_of(start, to, datetime.now(UTC))
    edges = bucket_edges(period, interval)
    source: SegmentLabels = request.app.state.segments
    segments = source() if group_by == "segment" else None
    holdout = Holdout(settings.holdout_share, settings.holdout_salt)

    def report(bucket: Period) -> KpiBucket:
        found = kpi_report(engine, bucket, group_by, holdout, settings.attribution_days, segments)
        return KpiBucket.model_validate(found)

    buckets = [await run_in_threadpool(report, bucket) for bucket in edges]
    return KpiSeries.model_validate(
        {
            "from": buckets[0].start,
            "to": buckets[-1].end,
            "interval": interval,
            "group_by": group_by,
            "buckets": buckets,
        }
    )


def bucket_edges(period: Period, interval: Interval) -> list[Period]:
    """Consecutive [start, end) buckets covering the period, the last one cut at its end."""
    edges: list[Period] = []
    at = datetime.fromtimestamp(period.start, UTC)
    while int(at.timestamp()) < period.end:
        following = _next(at, interval)
        edges.append(Period(int(at.timestamp()), min(int(following.timestamp()), period.end)))
        if len(edges) > MAX_BUCKETS:
            message = (
                f"the period holds more than {MAX_BUCKETS} {interval}s: "
                "choose a longer interval or a shorter period"
            )
            raise InvalidInput(message, [ErrorDetail(field="query.interval", message=message)])
        at = following
    return edges


def _next(at: datetime, interval: Interval) -> datetime:
    if interval == "day":
        return at + timedelta(days=1)
    if interval == "week":
        return at + timedelta(days=7)
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    day = min(at.day, 28)  # the 29th-31st do not exist in every month
    return at.replace(year=year, month=month, day=day)
