"""`GET /v1/kpis`: what the offers earned in a period, measured against the holdout.

The route parses the period, picks the segments when asked to group by them, and
returns the report of `app.reporting.kpis` in the schema below (the README's "KPIs"
section defines every number).
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EngineDep, SettingsDep
from app.api.routes import IsoTimestamp
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.reporting.kpis import GroupBy, Holdout, SegmentLabels, kpi_report, period_of

router = APIRouter(prefix="/v1", tags=["kpis"])


class KpiComparison(BaseModel):
    """One KPI for the treated customers and the holdout, and the uplift between them."""

    treated: float | None = Field(description="Over the customers not in the holdout.")
    holdout: float | None = Field(description="Over the holdout (null: nobody in it).")
    uplift: float | None = Field(description="treated - holdout.")
    relative_uplift: float | None = Field(
        description="uplift / holdout; null when the holdout's value is not positive."
    )
    ci95: tuple[float, float] | None = Field(
        description="95 % interval of the uplift (normal approximation); null when a side "
        "is too small or shows no variation to estimate the noise from."
    )
    p_value: float | None = Field(description="Two-sided, against no uplift.")


class KpiSplit(BaseModel):
    """A count on each side."""

    treated: int
    holdout: int


class KpiOutcomes(BaseModel):
    """What customers did in the period, treated against holdout (intent-to-treat)."""

    customers: KpiSplit
    holdout_shown_offers: int = Field(
        description="Holdout customers with an impression in the period: should be 0; "
        "more means offers reach the holdout and the uplift is understated."
    )
    orders: KpiSplit
    upsell_rate: KpiComparison
    cross_sell_rate: KpiComparison
    average_order_value: KpiComparison
    revenue_per_customer: KpiComparison
    ltv_change: KpiComparison = Field(
        description="Revenue per customer minus that of the period of the same length "
        "before; the uplift is the difference in differences."
    )


class KpiOffers(BaseModel):
    """What the offers did in the period and the conversions owed to them."""

    customers_shown: int
    impressions: int
    clicks: int
    accepts: int
    dismissals: int
    acceptance_rate: float | None = Field(description="accepts / impressions")
    click_rate: float | None = Field(description="clicks / impressions")
    dismissal_rate: float | None = Field(description="dismissals / impressions")
    average_days_to_accept: float | None = Field(
        description="From a customer's first impression of an offer to its acceptance."
    )
    accepts_timed: int = Field(description="Acceptances with an impression before them.")
    attributed_purchases: int
    attributed_revenue: float
    attributed_plan_changes: int
    attributed_monthly_revenue: float = Field(
        description="Plan changes owed to offers: monthly price moved to minus the one left."
    )


class KpiGroup(BaseModel):
    """The KPIs of everyone (group null) or of one group."""

    group: str | None = Field(description="The offer kind, channel or segment; null: all.")
    outcomes: KpiOutcomes | None = Field(
        description="null in kind and channel groups: the holdout has no offers to split by."
    )
    offers: KpiOffers


class KpiAnswer(BaseModel):
    """The KPIs of one period, overall and per group."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from", description="ISO 8601 UTC, inclusive.")
    end: str = Field(alias="to", description="ISO 8601 UTC, exclusive.")
    group_by: GroupBy | None
    attribution_days: float
    holdout_share: float
    overall: KpiGroup
    groups: list[KpiGroup]


From = Annotated[
    IsoTimestamp | None,
    Query(
        alias="from",
        description="Start of the period, inclusive (ISO 8601; no offset: UTC). "
        "Default: 30 days before `to`.",
    ),
]
To = Annotated[
    IsoTimestamp | None, Query(description="End of the period, exclusive. Default: now.")
]
Grouping = Annotated[
    GroupBy | None,
    Query(description="Split by offer kind, channel or customer segment."),
]


@router.get(
    "/kpis",
    operation_id="kpis",
    response_model=KpiAnswer,
    response_model_by_alias=True,
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorResponse, "description": "The database cannot be read"},
    },
)
def kpis(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    start: From = None,
    to: To = None,
    group_by: Grouping = None,
) -> KpiAnswer:
    """Upsell and cross-sell rates, order value, revenue per customer and its change,
    treated against the holdout with the uplift, its 95 % interval and p-value; and the
    offers' impressions, clicks, acceptances, dismissals, time to accept and the
    purchases and plan changes owed to them.

    `from` must be before `to`, at most 366 days apart. `group_by=segment` needs a model
    trained with segments.
    """
    period = period_of(start, to, datetime.now(UTC))
    source: SegmentLabels = request.app.state.segments
    segments = source() if group_by == "segment" else None
    holdout = Holdout(settings.holdout_share, settings.holdout_salt)
    report = kpi_report(engine, period, group_by, holdout, settings.attribution_days, segments)
    return KpiAnswer.model_validate(report)
