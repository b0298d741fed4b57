"""What a valid row of each table looks like: the ingestion contract, one model per table.

The same models validate CSV lines, SQL result rows and JSON bulk requests, and
document the bulk endpoints in the OpenAPI contract. Field names are the caller's:
``customer_id`` is the caller's customer id, resolved to NextBest's internal key
by the writer.
"""

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.ingest.ids import ExternalId
from app.ingest.offer_ids import named

# Clock skew and time zones aside, history cannot be in the future.
FUTURE_TOLERANCE = timedelta(days=1)
# Offer events are reported as they happen: only clock skew is tolerated.
EVENT_TOLERANCE = timedelta(minutes=5)
# Nothing this service learns from happened before the epoch; a year 0001 is a default
# value of some system, not a date (and the models count time in epoch seconds).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _not_before_epoch(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError(f"{value.isoformat()} is before 1970-01-01, not a date of this history")
    return value


def _to_utc(value: datetime) -> datetime:
    """Naive timestamps are taken as UTC; aware ones are converted to it."""
    if value.tzinfo is None:
        return _not_before_epoch(value.replace(tzinfo=UTC))
    return _not_before_epoch(value.astimezone(UTC))


class _Clock:
    """Now plus the tolerance, refreshed each second: reading the clock per row costs."""

    tick = -1.0
    latest = datetime.now(UTC)

    @classmethod
    def latest_allowed(cls) -> datetime:
        tick = time.monotonic()
        if tick - cls.tick >= 1.0:
            cls.tick, cls.latest = tick, datetime.now(UTC) + FUTURE_TOLERANCE
        return cls.latest


def _past_utc(value: datetime) -> datetime:
    """UTC, and not in the future (one validator: this runs for every imported row)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value > _Clock.latest_allowed():
        raise ValueError(f"{value.isoformat()} is in the future")
    return _not_before_epoch(value)


def _recent_utc(value: datetime) -> datetime:
    """UTC, and not more than a few minutes ahead of this server's clock."""
    value = _to_utc(value)
    if value > datetime.now(UTC) + EVENT_TOLERANCE:
        raise ValueError(
            f"{value.isoformat()} is in the future (an event is sent once it happened)"
        )
    return value


def _offer_id(value: str) -> str:
    """An offer id as the offers route gives it (app.ingest.offer_ids)."""
    named(value)
    return value


# A JSON cell (attributes, limits, features) is a small description, not a document:
# bounded in depth and size, so that storing, exporting and showing it is cheap and
# safe, and with no NaN or Infinity, which JSON lacks and PostgreSQL refuses.
JSON_MAX_DEPTH = 8
JSON_MAX_BYTES = 16 * 1024


def _json_text(value: Any) -> Any:
    """CSV cells carry JSON as text; SQL and JSON sources already carry objects."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from exc
    return value


def _plain_json(value: Any, depth: int = 1) -> None:
    """Raise ValueError unless `value` is JSON within the bounds above."""
    if depth > JSON_MAX_DEPTH:
        raise ValueError(f"nested deeper than {JSON_MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"holds {value}, which JSON cannot carry")
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise ValueError(f"has a key that is not text ({key!r})")
            _plain_json(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _plain_json(inner, depth + 1)


def _bounded_json(value: Any) -> Any:
    """The JSON cell itself, once it is known to be small, shallow and finite."""
    _plain_json(value)
    size = len(orjson.dumps(value))
    if size > JSON_MAX_BYTES:
        raise ValueError(f"is {size:,} bytes as JSON; at most {JSON_MAX_BYTES:,}")
    return value


def _after(start: str) -> Callable[[Any, datetime | None, ValidationInfo], datetime | None]:
    """A validator that an end timestamp is not before the `start` field."""

    def check(cls: Any, value: datetime | None, info: ValidationInfo) -> datetime | None:
        begun = info.data.get(start)
        if value is not None and begun is not None and value < begun:
            raise ValueError(f"is before {start} ({begun.isoformat()})")
        return value

    return check


Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=512)]
Currency = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]
# Stored with four decimals: rounding here keeps re-imports from looking like changes.
# Money columns hold 14 digits, 4 after the point: anything larger is refused here, with
# its field, rather than by the database.
MONEY_MAX = 9_999_999_999.0
Money = Annotated[
    float,
    Field(ge=0, le=MONEY_MAX, allow_inf_nan=False),
    AfterValidator(lambda v: round(v, 4)),
]
Amount = Annotated[
    float,
    Field(gt=0, le=MONEY_MAX, allow_inf_nan=False),
    AfterValidator(lambda v: round(v, 4)),
]
Timestamp = Annotated[datetime, AfterValidator(_to_utc)]
PastTimestamp = Annotated[datetime, AfterValidator(_past_utc)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_text), AfterValidator(_bounded_json)]
Limits = Annotated[
    dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]],
    BeforeValidator(_json_text),
    AfterValidator(_bounded_json),
]
Features = Annotated[list[str], BeforeValidator(_json_text), AfterValidator(_bounded_json)]
RecentTimestamp = Annotated[datetime, AfterValidator(_recent_utc)]
OfferId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
    AfterValidator(_offer_id),
]
Metric = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9_.-]{1,64}$")
]


def _holds_nul(value: Any) -> bool:
    """Whether a text, or any key or text inside a JSON cell, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class Row(BaseModel):
    """Base of every ingestion row: unknown fields are errors, IDs may arrive as numbers."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL stores no NUL character in text or JSON: refused on every database,
        in every field, so a row means the same wherever it is stored."""
        if _holds_nul(value):
            raise ValueError("holds a NUL character (\\u0000), which cannot be stored")
        return value


class CustomerRow(Row):
    """A customer; `account_id` groups the departments of one B2B company."""

    customer_id: ExternalId
    account_id: ExternalId | None = None
    country: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    attributes: JsonObject = Field(default_factory=dict)
    marketing_opt_out: bool = False
    created_at: PastTimestamp | None = None


class ItemRow(Row):
    """A catalog item; inactive items are never recommended."""

    item_id: ExternalId
    name: Name | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    price: Money | None = None
    currency: Currency | None = None
    active: bool = True
    attributes: JsonObject = Field(default_factory=dict)


class PurchaseRow(Row):
    """One order line; a return is its own line with `kind` = return and a positive quantity."""

    order_id: ExternalId
    customer_id: ExternalId | None = Field(
        default=None, description="Empty for an anonymous order."
    )
    item_id: ExternalId
    kind: Literal["sale", "return"] = "sale"
    quantity: Amount = 1.0
    unit_price: Money
    purchased_at: PastTimestamp


class PlanRow(Row):
    """A rung of a plan ladder: a higher `tier_rank` is a higher grade in the same `ladder`."""

    plan_id: ExternalId
    name: Name | None = None
    ladder: ExternalId
    tier_rank: Annotated[int, Field(ge=0, le=1_000_000)]
    monthly_price: Money
    annual_price: Money | None = None
    currency: Currency | None = None
    limits: Limits = Field(default_factory=dict)
    features: Features = Field(default_factory=list)
    active: bool = True


class SubscriptionRow(Row):
    """A customer's subscription to a plan."""

    subscription_id: ExternalId
    customer_id: ExternalId
    plan_id: ExternalId
    billing_period: Literal["monthly", "annual"]
    status: Literal["trial", "active", "past_due", "cancelled"]
    started_at: PastTimestamp
    renews_at: Timestamp | None = None
    ended_at: PastTimestamp | None = None

    _ended_after_start = field_validator("ended_at")(_after("started_at"))


class PlanChangeRow(Row):
    """A move between plans; no `from_plan_id` means a first subscription. A switch of
    billing alone is a change to the same plan with `billing_period` set."""

    customer_id: ExternalId
    from_plan_id: ExternalId | None = None
    to_plan_id: ExternalId
    changed_at: PastTimestamp
    billing_period: Literal["monthly", "annual"] | None = Field(
        default=None,
        description="The billing this change switched to; empty when the billing stayed "
        "as it was. Training reads the billing of past months from it.",
    )


class UsageRow(Row):
    """A measurement of a limited metric (seats, storage_gb, api_calls...) at a time."""

    customer_id: ExternalId
    metric: Metric
    value: Money
    measured_at: PastTimestamp


class TicketRow(Row):
    """A support ticket; an open complaint holds sales offers back."""

    ticket_id: ExternalId
    customer_id: ExternalId
    kind: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32)
    ]
    opened_at: PastTimestamp
    closed_at: PastTimestamp | None = None

    _closed_after_open = field_validator("closed_at")(_after("opened_at"))


class EventRow(Row):
    """What a customer did with an offer; `event_id` makes re-sending a batch harmless."""

    event_id: ExternalId = Field(description="Idempotency key: an event sent twice counts once.")
    customer_id: ExternalId
    offer_id: OfferId = Field(description="As the offers route gave it, e.g. 'upgrade:pro'.")
    event: Literal["impression", "click", "accept", "dismiss"]
    channel: Literal["email", "in_app", "call", "visit", "web"]
    occurred_at: RecentTimestamp
    offer_kind: str = Field(default="", description="Derived from offer_id; not to be sent.")

    @model_validator(mode="before")
    @classmethod
    def _kind_of_offer(cls, data: Any) -> Any:
        """The offer's kind, for the KPIs to group by: the part of the id before ':'."""
        if isinstance(data, dict) and isinstance(data.get("offer_id"), str):
            data = {**data, "offer_kind": data["offer_id"].strip().partition(":")[0]}
        return data
