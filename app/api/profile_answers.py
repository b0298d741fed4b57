"""Response schemas of the customer profile and the segments overview: the contract.

As for the recommendation routes, answers are plain dicts serialised once;
`tests/app/api/test_profile_api.py` validates real answers against these schemas.
"""

from typing import Literal

from pydantic import BaseModel, Field

from app.api.answers import CurrentPlan, UsageLine

SegmentName = Literal[
    "champions",
    "loyal",
    "promising",
    "new",
    "at_risk",
    "hibernating",
    "others",
    "no_purchases",
]


class Rfm(BaseModel):
    """Recency, frequency and monetary value as of the model's training, scored 1-5
    by quintile among customers with purchases, and the named segment."""

    as_of: str = Field(description="The newest purchase the model was trained on (ISO 8601 UTC)")
    segment: SegmentName
    rule: str = Field(examples=["R >= 4, F >= 4 and M >= 4"])
    meaning: str = Field(examples=["bought recently, often and a lot"])
    recency_days: float | None = Field(description="Days from the last purchase to as_of")
    frequency: int = Field(description="Distinct orders in the 365 days before as_of")
    monetary: float = Field(description="Sales in those 365 days (returns not subtracted)")
    tenure_days: float | None = Field(description="Days from the first purchase to as_of")
    last_purchase_at: str | None
    first_purchase_at: str | None
    r: int | None = Field(ge=1, le=5, description="Recency score: 5 is the most recent fifth")
    f: int | None = Field(ge=1, le=5)
    m: int | None = Field(ge=1, le=5)


class LiveSubscription(CurrentPlan):
    """The live subscription, with usage against its plan's limits."""

    started_at: str
    usage: list[UsageLine]


class OpenTicket(BaseModel):
    """A support ticket not closed yet."""

    ticket_id: str
    kind: str = Field(examples=["complaint", "question"])
    opened_at: str


class PurchaseLine(BaseModel):
    """One order line, newest first."""

    order_id: str
    item_id: str
    name: str | None
    kind: Literal["sale", "return"]
    quantity: float
    unit_price: float
    currency: str | None
    purchased_at: str


class CustomerProfile(BaseModel):
    """What a CRM console shows of one customer."""

    customer_id: str
    model_version: str
    account_id: str | None
    country: str | None
    marketing_opt_out: bool
    created_at: str
    rfm: Rfm | None = Field(
        description="null for a customer added after the model was trained (notes say so)"
    )
    subscription: LiveSubscription | None = Field(description="null: no live subscription")
    open_tickets: list[OpenTicket]
    recent_purchases: list[PurchaseLine] = Field(description="The latest 20 lines, newest first")
    notes: list[str] = Field(
        description="What the profile cannot show, and why",
        examples=[
            [
                "Not in the model trained on purchases up to 2026-11-30 (a customer added "
                "since): no RFM scores until the next training"
            ]
        ],
    )


class SegmentSummary(BaseModel):
    """One segment: how many customers, and what they bought in the last 365 days."""

    segment: SegmentName
    customers: int
    share: float = Field(description="Of all customers the model knows")
    sales: float = Field(description="Sales of its customers in the 365 days before as_of")
    sales_share: float
    average_sales: float | None = Field(description="Per customer; null for an empty segment")
    rule: str
    meaning: str


class ScoreEdges(BaseModel):
    """The facts from which a score is reached (null: no customer reaches it)."""

    score: int = Field(ge=2, le=5)
    recency_days_at_most: float | None
    frequency_at_least: int | None
    monetary_at_least: float | None


class SegmentsAnswer(BaseModel):
    """Every segment of the current model, in a fixed order, empty ones included."""

    model_version: str
    as_of: str
    window_days: int = Field(description="Frequency and sales cover this many days")
    customers: int
    sales: float
    segments: list[SegmentSummary]
    scores: list[ScoreEdges]
