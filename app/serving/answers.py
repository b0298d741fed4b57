"""The answers the services give, as typed dicts: one definition, checked by mypy where
they are built and read, and the response models the routes declare (FastAPI writes the
OpenAPI contract from them and serialises the answers through them).

Why TypedDicts and not pydantic models: an answer is built once per request from a few
dozen values and written straight out; a dict literal costs a fraction of model
construction, and pydantic validates and serialises a TypedDict in its Rust core as it
does a model. Fields that only some answers carry are NotRequired.
"""

from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from app.db.tables import OfferKind

Source = Literal[
    "personal",
    "replenishment",
    "category",
    "popular",
    "popular_similar",
    "basket",
    "bought_together",
    "similar",
    "premium",
    "volume",
]


class Reason(TypedDict):
    """Why an item is offered, in words, with the numbers behind them."""

    kind: Literal[
        "bought_together",
        "also_bought",
        "new",
        "repurchase_cycle",
        "popular",
        "category",
        "similar",
        "premium",
        "volume",
    ]
    text: Annotated[
        str,
        Field(
            examples=[
                "bought together with Alder Basic Cameras 123 in 23% of the 410 orders that "
                "contain it",
                "£1.25 more than WHITE HANGING HEART T-LIGHT HOLDER (1.5x); "
                "chosen by 8% of the 1,120 customers who buy holders",
            ]
        ),
    ]
    evidence: dict[str, Any]


class Suggestion(TypedDict):
    """One item to offer."""

    item_id: str
    name: str | None
    category: str | None
    price: float | None
    score: Annotated[
        float, Field(description="Higher is better; comparable within one answer only.")
    ]
    source: Annotated[Source, Field(description="Which part of the engine produced this item.")]
    reasons: list[Reason]
    due_at: NotRequired[
        Annotated[
            str | None,
            Field(
                description="Replenishment and the premium alternative offered after it: when the "
                "next purchase is expected.",
            ),
        ]
    ]
    price_difference: NotRequired[
        Annotated[
            float | None,
            Field(
                description="Premium only: how much more this item costs than the item it is "
                "a step up from (the reason names that item).",
            ),
        ]
    ]
    support: NotRequired[Annotated[int | None, Field(description="Complements: orders with both.")]]
    confidence: NotRequired[
        Annotated[float | None, Field(description="Complements: P(this | item).")]
    ]
    lift: NotRequired[
        Annotated[float | None, Field(description="Complements: confidence / base rate.")]
    ]


AnswerSource = Literal["personal", "popular", "popular_similar", "basket"]


class CrossSellAnswer(TypedDict):
    """Suggestions for one customer (or a basket)."""

    customer_id: str | None
    source: Annotated[
        AnswerSource,
        Field(
            description="personal: from the customer's history; popular_similar: popular among "
            "customers of the same group (country, segment); popular: overall (cold start)."
        ),
    ]
    model_version: str
    items: list[Suggestion]


class BasketAnswer(CrossSellAnswer):
    """Cart suggestions; basket item ids the model does not know are listed, not fatal."""

    unknown_items: list[str]


RelatedKind = Literal["complement", "similar", "premium", "volume"]


class RelatedAnswer(TypedDict):
    """Items related to one item."""

    item_id: str
    kind: RelatedKind
    model_version: str
    items: list[Suggestion]


DecisionKind = Literal["upgrade", "billing", "retain", "not_now"]
LiveStatus = Literal["trial", "active", "past_due"]
When = Literal["now", "at_renewal", "at_trial_end"]
Risk = Literal["past_due", "usage_drop", "churn_risk"]
WhyNot = Literal[
    "no_plan",
    "unknown_plan",
    "open_complaint",
    "trial_started",
    "top_tier",
    "price_cap",
    "low_loyalty",
    "no_need",
    "no_usage",
    "at_risk",
    "unavailable",
]
UpsellReasonKind = Literal[
    "usage",
    "projection",
    "propensity",
    "renewal",
    "trial",
    "billing_saving",
    "loyalty",
    "cheaper_plan",
    "past_due",
    "usage_drop",
    "churn_risk",
    WhyNot,  # each "not now" carries its reason, of the same kind
]


class UpsellReason(TypedDict):
    """Why this answer, in words, with the numbers behind them."""

    kind: UpsellReasonKind
    text: Annotated[
        str,
        Field(
            examples=[
                "Seats: 9 of 10 used (90%), up from 6 three months ago",
                "Renews on 2026-12-04 (in 10 days)",
                "Subscribers at 80-95% of a limit upgraded within 90 days 3.2x as often as "
                "average (31% against 10%)",
            ]
        ),
    ]
    evidence: dict[str, Any]


class PlanOffer(TypedDict):
    """A plan as the answer names it."""

    plan_id: str
    name: str | None
    billing_period: Literal["monthly", "annual"]
    monthly_price: float
    annual_price: float | None
    currency: str | None


class CurrentPlan(PlanOffer):
    """The customer's live subscription."""

    subscription_id: str
    status: LiveStatus
    renews_at: str | None


class Timing(TypedDict):
    """When to show the offer."""

    when: When
    at: Annotated[str | None, Field(description="ISO 8601 UTC; null for now")]


class UsageLine(TypedDict):
    """One measured metric against the current plan's limit."""

    metric: str
    used: float
    limit: Annotated[float | None, Field(description="null: the plan sets no limit on this metric")]
    ratio: float | None


class UpsellAnswer(TypedDict):
    """One plan-ladder suggestion for a customer, or "not now" with why."""

    customer_id: str
    model_version: str
    source: Annotated[
        Literal["model", "rules"],
        Field(
            description="model: the learned upgrade propensity decided; rules: too little "
            "history to learn from, the documented rules decided."
        ),
    ]
    decision: Annotated[
        DecisionKind,
        Field(
            description="upgrade: a higher plan; billing: monthly to annual on the same plan; "
            "retain: a cheaper plan or an annual discount for a customer at risk; not_now: "
            "nothing to offer (why_not says why)."
        ),
    ]
    why_not: WhyNot | None
    current: CurrentPlan | None
    target: PlanOffer | None
    timing: Timing | None
    probability: Annotated[
        float | None,
        Field(description="Learned probability of upgrading within 90 days (null under rules)."),
    ]
    churn_probability: Annotated[
        float | None,
        Field(
            description="Learned probability of cancelling within 90 days (null without "
            "enough cancellations to learn from); at_risk has churn_risk when it is well "
            "above the usual (NEXTBEST_UPSELL_CHURN_LIFT and _FLOOR)."
        ),
    ]
    price_difference: Annotated[
        float | None,
        Field(description="Target minus current monthly price (negative for a cheaper plan)."),
    ]
    yearly_saving: Annotated[
        float | None,
        Field(description="Annual billing offers: 12 monthly payments minus the annual price."),
    ]
    at_risk: list[Risk]
    usage: list[UsageLine]
    reasons: list[UpsellReason]
    degraded: Annotated[
        bool,
        Field(
            description="true: the database could not be read, so nothing is suggested "
            "(why_not is unavailable)"
        ),
    ]


Channel = Literal["email", "in_app", "call", "visit", "web"]


class OfferReason(TypedDict):
    """Why this offer: the engine's own reason (its kinds are those of the engine)."""

    kind: str
    text: str
    evidence: dict[str, Any]


class OfferItem(TypedDict):
    """An item an offer is about."""

    item_id: str
    name: str | None
    category: str | None
    price: float | None


class OfferTiming(TypedDict):
    """When to make the offer."""

    when: Literal["now", "at_renewal", "at_trial_end", "due"]
    at: Annotated[str | None, Field(description="ISO 8601 UTC; null for now")]


class ChannelEvidence(TypedDict):
    """The customer's past offers on the chosen channel."""

    impressions: int
    responses: Annotated[int, Field(description="Clicks and acceptances")]
    learned: Annotated[
        bool, Field(description="false: the kind's default channel, nothing learned yet")
    ]


class Offer(TypedDict):
    """One next best offer."""

    offer_id: Annotated[
        str,
        Field(
            description="Stable for this customer and target; send it back with events.",
            examples=["upgrade:pro", "cross_sell:I00042", "bundle:I00042+I00077"],
        ),
    ]
    kind: OfferKind
    items: Annotated[
        list[OfferItem], Field(description="The item(s) offered; empty for plan offers.")
    ]
    plan: Annotated[PlanOffer | None, Field(description="The plan offered, for plan offers.")]
    probability: Annotated[
        float, Field(description="Estimated chance the customer takes it (README).")
    ]
    value: Annotated[float, Field(description="What it is worth if taken, in money (README).")]
    expected_value: Annotated[
        float, Field(description="probability x value; offers are ranked by it")
    ]
    currency: str | None
    discount: Annotated[float | None, Field(description="Bundles: the suggested discount (share).")]
    timing: OfferTiming
    channel: Channel
    channel_evidence: ChannelEvidence
    reasons: list[OfferReason]
    source: Annotated[str, Field(description="Which part of which engine produced it.")]
    model_version: str


class HeldBack(TypedDict):
    """An offer the guardrails (or the upsell decision) held back, with the rule."""

    offer_id: str | None
    kind: str
    rule: Annotated[
        str,
        Field(
            description="holdout, opt_out, open_complaint, cooldown, one_upsell, frequency_cap, "
            "limit, or upsell:<why_not> for the upsell route's not now."
        ),
    ]
    expected_value: float
    text: NotRequired[str | None]


class GuardrailState(TypedDict):
    """The frequency cap as it stands for this customer."""

    cap: int
    window_days: float
    shown_in_window: Annotated[
        int | None,
        Field(description="Impressions reported in the window so far (null when unknown)"),
    ]


class OffersAnswer(TypedDict):
    """Next best offers of every kind for one customer, best expected value first."""

    customer_id: str
    model_version: str
    holdout: Annotated[bool, Field(description="In the holdout group: no offers, by design.")]
    offers: list[Offer]
    guardrails: GuardrailState
    degraded: Annotated[
        bool,
        Field(
            description="true: the database could not be read, so the guardrails cannot be "
            "checked and no offer is made"
        ),
    ]
    held_back: NotRequired[
        Annotated[
            list[HeldBack] | None,
            Field(description="With explain=true: what was held back and why."),
        ]
    ]


class CampaignTarget(TypedDict):
    """One customer of a campaign list."""

    rank: int
    customer_id: str
    offer_id: str
    probability: float
    value: float
    expected_value: float
    channel: Channel
    reason: str


class CampaignAnswer(TypedDict):
    """The customers most worth contacting about one offer, best expected value first."""

    kind: Literal["upgrade", "cross_sell"]
    plan_id: str | None
    item_id: str | None
    model_version: str
    ranked_as_of: Annotated[
        str | None,
        Field(
            description="The moment the ranking stands for: for upgrade lists the newest "
            "subscription record training read, for item lists when the model was trained"
        ),
    ]
    considered: Annotated[int, Field(description="Prospects looked at to fill the list")]
    excluded: Annotated[
        dict[str, int],
        Field(
            description="Prospects left out, by guardrail: holdout, opt_out, open_complaint, "
            "cooldown, frequency_cap, erased; and no_upgrade, a prospect `/upsell` does not "
            "answer `upgrade` (to the list's plan) at the list's moment"
        ),
    ]
    currency: str | None
    targets: list[CampaignTarget]


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


class Rfm(TypedDict):
    """Recency, frequency and monetary value as of the model's training, scored 1-5
    by quintile among customers with purchases, and the named segment."""

    as_of: Annotated[
        str, Field(description="The newest purchase the model was trained on (ISO 8601 UTC)")
    ]
    segment: SegmentName
    rule: Annotated[str, Field(examples=["R >= 4, F >= 4 and M >= 4"])]
    meaning: Annotated[str, Field(examples=["bought recently, often and a lot"])]
    recency_days: Annotated[float | None, Field(description="Days from the last purchase to as_of")]
    frequency: Annotated[int, Field(description="Distinct orders in the 365 days before as_of")]
    monetary: Annotated[
        float, Field(description="Sales in those 365 days (returns not subtracted)")
    ]
    tenure_days: Annotated[float | None, Field(description="Days from the first purchase to as_of")]
    last_purchase_at: str | None
    first_purchase_at: str | None
    r: Annotated[
        int | None, Field(ge=1, le=5, description="Recency score: 5 is the most recent fifth")
    ]
    f: Annotated[int | None, Field(ge=1, le=5)]
    m: Annotated[int | None, Field(ge=1, le=5)]


class LiveSubscription(CurrentPlan):
    """The live subscription, with usage against its plan's limits."""

    started_at: str
    usage: list[UsageLine]


class OpenTicket(TypedDict):
    """A support ticket not closed yet."""

    ticket_id: str
    kind: Annotated[str, Field(examples=["complaint", "question"])]
    opened_at: str


class PurchaseLine(TypedDict):
    """One order line, newest first."""

    order_id: str
    item_id: str
    name: str | None
    kind: Literal["sale", "return"]
    quantity: float
    unit_price: float
    currency: str | None
    purchased_at: str


class CustomerProfile(TypedDict):
    """What a CRM console shows of one customer."""

    customer_id: str
    model_version: str
    account_id: str | None
    country: str | None
    marketing_opt_out: bool
    created_at: str
    rfm: Annotated[
        Rfm | None,
        Field(description="null for a customer added after the model was trained (notes say so)"),
    ]
    subscription: Annotated[
        LiveSubscription | None, Field(description="null: no live subscription")
    ]
    open_tickets: list[OpenTicket]
    recent_purchases: Annotated[
        list[PurchaseLine], Field(description="The latest 20 lines, newest first")
    ]
    notes: Annotated[
        list[str],
        Field(
            description="What the profile cannot show, and why",
            examples=[
                [
                    "Not in the model trained on purchases up to 2026-11-30 (a customer added "
                    "since): no RFM scores until the next training"
                ]
            ],
        ),
    ]


class SegmentSummary(TypedDict):
    """One segment: how many customers, and what they bought in the last 365 days."""

    segment: SegmentName
    customers: int
    share: Annotated[float, Field(description="Of all customers the model knows")]
    sales: Annotated[
        float, Field(description="Sales of its customers in the 365 days before as_of")
    ]
    sales_share: float
    average_sales: Annotated[
        float | None, Field(description="Per customer; null for an empty segment")
    ]
    rule: str
    meaning: str


class ScoreEdges(TypedDict):
    """The facts from which a score is reached (null: no customer reaches it)."""

    score: Annotated[int, Field(ge=2, le=5)]
    recency_days_at_most: float | None
    frequency_at_least: int | None
    monetary_at_least: float | None


class SegmentsAnswer(TypedDict):
    """Every segment of the current model, in a fixed order, empty ones included."""

    model_version: str
    as_of: str
    window_days: Annotated[int, Field(description="Frequency and sales cover this many days")]
    customers: int
    sales: float
    segments: list[SegmentSummary]
    scores: list[ScoreEdges]
