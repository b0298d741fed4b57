"""Response schemas of the recommendation routes: the documented contract.

The routes serialise plain dicts straight to JSON for speed (no per-request model
validation); `tests/app/api/test_cross_sell_api.py` validates real answers against
these schemas, so the contract and the answers cannot drift apart.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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


class Reason(BaseModel):
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
    text: str = Field(
        examples=[
            "bought together with Alder Basic Cameras 123 in 23% of the 410 orders that contain it",
            "£1.25 more than WHITE HANGING HEART T-LIGHT HOLDER (1.5x); "
            "chosen by 8% of the 1,120 customers who buy holders",
        ]
    )
    evidence: dict[str, Any]


class Suggestion(BaseModel):
    """One item to offer."""

    item_id: str
    name: str | None
    category: str | None
    price: float | None
    score: float = Field(description="Higher is better; comparable within one answer only.")
    source: Source = Field(description="Which part of the engine produced this item.")
    reasons: list[Reason]
    due_at: str | None = Field(
        default=None,
        description="Replenishment and the premium alternative offered after it: when the "
        "next purchase is expected.",
    )
    price_difference: float | None = Field(
        default=None,
        description="Premium only: how much more this item costs than the item it is a step "
        "up from (the reason names that item).",
    )
    support: int | None = Field(default=None, description="Complements: orders with both.")
    confidence: float | None = Field(default=None, description="Complements: P(this | item).")
    lift: float | None = Field(default=None, description="Complements: confidence / base rate.")


class CrossSellAnswer(BaseModel):
    """Suggestions for one customer (or a basket)."""

    customer_id: str | None
    source: Literal["personal", "popular", "popular_similar", "basket"] = Field(
        description="personal: from the customer's history; popular_similar: popular among "
        "customers of the same group (country, segment); popular: overall (cold start)."
    )
    model_version: str
    items: list[Suggestion]


class BasketAnswer(CrossSellAnswer):
    """Cart suggestions; basket item ids the model does not know are listed, not fatal."""

    unknown_items: list[str]


class RelatedAnswer(BaseModel):
    """Items related to one item."""

    item_id: str
    kind: Literal["complement", "similar", "premium", "volume"]
    model_version: str
    items: list[Suggestion]


class CrossSellQuery(BaseModel):
    """Filters of a personal cross-sell request (query parameters; lists repeat the name).

    One model validates all of them in one step, which is measurably cheaper per request
    than nine separate parameters.
    """

    limit: int = Field(default=10, ge=1, le=100, description="How many items to return")
    exclude: list[str] = Field(default=[], max_length=1000, description="Item ids never to return")
    category: list[str] = Field(default=[], max_length=100, description="Only these categories")
    exclude_category: list[str] = Field(
        default=[], max_length=100, description="Not these categories"
    )
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)
    only_active: bool = True


def _whole(value: Any) -> Any:
    """10.0 is the integer 10 in JSON (JSON Schema agrees); 10.5 and "10" are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


class BasketRequest(BaseModel):
    """A basket to complete, for a known customer or an anonymous shopper.

    Strict: a JSON body says what it means (0 is not false, "10" is not 10), and the
    contract's types are the ones enforced.
    """

    model_config = ConfigDict(strict=True)

    customer_id: str | None = Field(default=None, max_length=255)
    items: list[str] = Field(min_length=1, max_length=500, description="Item ids in the basket.")
    limit: WholeNumber = Field(default=10, ge=1, le=100)
    exclude: list[str] = Field(default=[], max_length=1000)
    categories: list[str] = Field(default=[], max_length=100)
    exclude_categories: list[str] = Field(default=[], max_length=100)
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)
    only_active: bool = True


WhyNot = Literal[
    "no_plan",
    "unknown_plan",
    "open_complaint",
    "trial_started",
    "top_tier",
    "price_cap",
    "low_loyalty",
    "no_need",
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
    WhyNot,  # each "not now" carries its reason, of the same kind
]


class UpsellReason(BaseModel):
    """Why this answer, in words, with the numbers behind them."""

    kind: UpsellReasonKind
    text: str = Field(
        examples=[
            "Seats: 9 of 10 used (90%), up from 6 three months ago",
            "Renews on 2026-12-04 (in 10 days)",
            "Subscribers at 80-95% of a limit upgraded within 90 days 3.2x as often as "
            "average (31% against 10%)",
        ]
    )
    evidence: dict[str, Any]


class PlanOffer(BaseModel):
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
    status: Literal["trial", "active", "past_due"]
    renews_at: str | None


class Timing(BaseModel):
    """When to show the offer."""

    when: Literal["now", "at_renewal", "at_trial_end"]
    at: str | None = Field(description="ISO 8601 UTC; null for now")


class UsageLine(BaseModel):
    """One measured metric against the current plan's limit."""

    metric: str
    used: float
    limit: float | None = Field(description="null: the plan sets no limit on this metric")
    ratio: float | None


class UpsellAnswer(BaseModel):
    """One plan-ladder suggestion for a customer, or "not now" with why."""

    customer_id: str
    model_version: str
    source: Literal["model", "rules"] = Field(
        description="model: the learned upgrade propensity decided; rules: too little "
        "history to learn from, the documented rules decided."
    )
    decision: Literal["upgrade", "billing", "retain", "not_now"] = Field(
        description="upgrade: a higher plan; billing: monthly to annual on the same plan; "
        "retain: a cheaper plan or an annual discount for a customer at risk; not_now: "
        "nothing to offer (why_not says why)."
    )
    why_not: WhyNot | None
    current: CurrentPlan | None
    target: PlanOffer | None
    timing: Timing | None
    probability: float | None = Field(
        description="Learned probability of upgrading within 90 days (null under rules)."
    )
    price_difference: float | None = Field(
        description="Target minus current monthly price (negative for a cheaper plan)."
    )
    yearly_saving: float | None = Field(
        description="Annual billing offers: 12 monthly payments minus the annual price."
    )
    at_risk: list[Literal["past_due", "usage_drop"]]
    usage: list[UsageLine]
    reasons: list[UpsellReason]
    degraded: bool = Field(
        description="true: the database could not be read, so nothing is suggested "
        "(why_not is unavailable)"
    )


Channel = Literal["email", "in_app", "call", "visit", "web"]


class OfferReason(BaseModel):
    """Why this offer: the engine's own reason (its kinds are those of the engine)."""

    kind: str
    text: str
    evidence: dict[str, Any]


class OfferItem(BaseModel):
    """An item an offer is about."""

    item_id: str
    name: str | None
    category: str | None
    price: float | None


class OfferTiming(BaseModel):
    """When to make the offer."""

    when: Literal["now", "at_renewal", "at_trial_end", "due"]
    at: str | None = Field(description="ISO 8601 UTC; null for now")


class ChannelEvidence(BaseModel):
    """The customer's past offers on the chosen channel."""

    impressions: int
    responses: int = Field(description="Clicks and acceptances")
    learned: bool = Field(description="false: the kind's default channel, nothing learned yet")


class Offer(BaseModel):
    """One next best offer."""

    offer_id: str = Field(
        description="Stable for this customer and target; send it back with events.",
        examples=["upgrade:pro", "cross_sell:I00042", "bundle:I00042+I00077"],
    )
    kind: OfferKind
    items: list[OfferItem] = Field(description="The item(s) offered; empty for plan offers.")
    plan: PlanOffer | None = Field(description="The plan offered, for plan offers.")
    probability: float = Field(description="Estimated chance the customer takes it (README).")
    value: float = Field(description="What it is worth if taken, in money (README).")
    expected_value: float = Field(description="probability x value; offers are ranked by it")
    currency: str | None
    discount: float | None = Field(description="Bundles: the suggested discount (share).")
    timing: OfferTiming
    channel: Channel
    channel_evidence: ChannelEvidence
    reasons: list[OfferReason]
    source: str = Field(description="Which part of which engine produced it.")
    model_version: str


class HeldBack(BaseModel):
    """An offer the guardrails (or the upsell decision) held back, with the rule."""

    offer_id: str | None
    kind: str
    rule: str = Field(
        description="holdout, opt_out, open_complaint, cooldown, one_upsell, frequency_cap, "
        "limit, or upsell:<why_not> for the upsell route's not now."
    )
    expected_value: float
    text: str | None = None


class GuardrailState(BaseModel):
    """The frequency cap as it stands for this customer."""

    cap: int
    window_days: float
    shown_in_window: int | None = Field(
        description="Impressions reported in the window so far (null when unknown)"
    )


class OffersAnswer(BaseModel):
    """Next best offers of every kind for one customer, best expected value first."""

    customer_id: str
    model_version: str
    holdout: bool = Field(description="In the holdout group: no offers, by design.")
    offers: list[Offer]
    guardrails: GuardrailState
    degraded: bool = Field(
        description="true: the database could not be read, so the guardrails cannot be "
        "checked and no offer is made"
    )
    held_back: list[HeldBack] | None = Field(
        default=None, description="With explain=true: what was held back and why."
    )


class OffersQuery(BaseModel):
    """Parameters of an offers request (lists repeat the name)."""

    limit: int = Field(default=5, ge=1, le=20, description="How many offers at most")
    kinds: list[OfferKind] = Field(default=[], max_length=8, description="Only these kinds")
    channel: Channel | None = Field(
        default=None, description="The channel the offers will go out on (default: the best)"
    )
    explain: bool = Field(default=False, description="Also list what was held back, and why")


class CampaignTarget(BaseModel):
    """One customer of a campaign list."""

    rank: int
    customer_id: str
    offer_id: str
    probability: float
    value: float
    expected_value: float
    channel: Channel
    reason: str


class CampaignAnswer(BaseModel):
    """The customers most worth contacting about one offer, best expected value first."""

    kind: Literal["upgrade", "cross_sell"]
    plan_id: str | None
    item_id: str | None
    model_version: str
    ranked_as_of: str | None = Field(description="When the model that ranked them was trained")
    considered: int = Field(description="Prospects looked at to fill the list")
    excluded: dict[str, int] = Field(
        description="Prospects left out, by guardrail: holdout, opt_out, open_complaint, "
        "cooldown, frequency_cap, erased"
    )
    currency: str | None
    targets: list[CampaignTarget]
