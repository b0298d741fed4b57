"""The schema: purchase history, the SaaS plan ladder, and the import log.

Tables use SQLAlchemy Core (no ORM classes): training reads whole columns into
numpy and ingestion writes in batches, so per-row objects would only cost time.
Every table keeps the caller's own string id (``customer_id``, ``item_id``...)
as a unique natural key next to a compact integer primary key that foreign keys
and training matrices use. Change the schema only through an Alembic migration.
"""

from typing import Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from app.db.types import MYSQL_TABLE_OPTIONS, BigId, LongText, UTCDateTime, external_id, money

# Explicit names keep migrations identical on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

PURCHASE_KINDS = ("sale", "return")
BILLING_PERIODS = ("monthly", "annual")
SUBSCRIPTION_STATUSES = ("trial", "active", "past_due", "cancelled")
OfferKind = Literal[
    "upgrade",
    "billing",
    "retention",
    "cross_sell",
    "bundle",
    "replenishment",
    "premium",
    "expansion",
]
OFFER_KINDS: tuple[str, ...] = get_args(OfferKind)  # one list for the API, rows and checks
EVENTS = ("impression", "click", "accept", "dismiss")
CHANNELS = ("email", "in_app", "call", "visit", "web")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _customer_fk(nullable: bool = False) -> Column[int]:
    return Column(
        "customer_id",
        Integer,
        ForeignKey("customer.id", ondelete="CASCADE"),
        nullable=nullable,
    )


customer = Table(
    "customer",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", external_id(), nullable=False, unique=True),
    Column("account_id", external_id(), nullable=True, index=True),
    Column("country", String(64), nullable=True),
    Column("attributes", JSON, nullable=False),
    Column("marketing_opt_out", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False, server_default=func.now()),
    **MYSQL_TABLE_OPTIONS,
)

item = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", external_id(), nullable=False, unique=True),
    Column("name", String(512), nullable=True),
    Column("category", String(255), nullable=True, index=True),
    Column("price", money(), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("attributes", JSON, nullable=False),
    CheckConstraint("price >= 0", name="price_not_negative"),
    **MYSQL_TABLE_OPTIONS,
)

# The biggest table carries no foreign keys: the ingestion writer resolves every
# customer and item itself, and per-row reference triggers would halve import speed on
# PostgreSQL. Erasing a customer deletes their purchases explicitly.
purchase = Table(
    "purchase",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("order_id", external_id(), nullable=False),
    Column("customer_id", Integer, nullable=True),  # NULL: an anonymous order, still a basket
    Column("item_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False, default="sale"),
    Column("quantity", money(), nullable=False),
    Column("unit_price", money(), nullable=False),
    Column("purchased_at", UTCDateTime, nullable=False),
    UniqueConstraint("order_id", "item_id", "kind"),
    Index(None, "customer_id", "purchased_at"),
    CheckConstraint(_in("kind", PURCHASE_KINDS), name="kind"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    **MYSQL_TABLE_OPTIONS,
)

plan = Table(
    "plan",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", external_id(), nullable=False, unique=True),
    Column("name", String(255), nullable=True),
    Column("ladder", external_id(), nullable=False),
    Column("tier_rank", Integer, nullable=False),
    Column("monthly_price", money(), nullable=False),
    Column("annual_price", money(), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("limits", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("ladder", "tier_rank"),
    CheckConstraint("monthly_price >= 0", name="monthly_price_not_negative"),
    CheckConstraint("annual_price >= 0", name="annual_price_not_negative"),
    **MYSQL_TABLE_OPTIONS,
)

subscription = Table(
    "subscription",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", external_id(), nullable=False, unique=True),
    _customer_fk(),
    Column("plan_id", Integer, ForeignKey("plan.id"), nullable=False),
    Column("billing_period", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("renews_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Index(None, "customer_id"),
    CheckConstraint(_in("billing_period", BILLING_PERIODS), name="billing_period"),
    CheckConstraint(_in("status", SUBSCRIPTION_STATUSES), name="status"),
    **MYSQL_TABLE_OPTIONS,
)

plan_change = Table(
    "plan_change",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer_fk(),
    Column("from_plan_id", Integer, ForeignKey("plan.id"), nullable=True),
    Column("to_plan_id", Integer, ForeignKey("plan.id"), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    # the billing this change switched to; NULL: the billing stayed as it was
    Column("billing_period", String(8), nullable=True),
    UniqueConstraint("customer_id", "changed_at"),
    CheckConstraint(_in("billing_period", BILLING_PERIODS), name="billing_period"),
    **MYSQL_TABLE_OPTIONS,
)

usage = Table(
    "usage",
    metadata,
    Column("id", BigId, primary_key=True),
    _customer_fk(),
    Column("metric", String(64), nullable=False),
    Column("value", money(), nullable=False),
    Column("measured_at", UTCDateTime, nullable=False),
    UniqueConstraint("customer_id", "metric", "measured_at"),
    **MYSQL_TABLE_OPTIONS,
)

ticket = Table(
    "ticket",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", external_id(), nullable=False, unique=True),
    _customer_fk(),
    Column("kind", String(32), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Index(None, "customer_id", "closed_at"),
    **MYSQL_TABLE_OPTIONS,
)

# What happened to the offers: shown, clicked, accepted, dismissed. The guardrails read
# a customer's recent events on every offers request, the KPIs read ranges of time.
offer_event = Table(
    "offer_event",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("event_id", external_id(), nullable=False, unique=True),  # the idempotency key
    _customer_fk(),
    Column("offer_id", external_id(512), nullable=False),
    Column("offer_kind", String(16), nullable=False),
    Column("event", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False, server_default=func.now()),
    Index(None, "customer_id", "occurred_at"),
    Index(None, "occurred_at"),
    CheckConstraint(_in("offer_kind", OFFER_KINDS), name="offer_kind"),
    CheckConstraint(_in("event", EVENTS), name="event"),
    CheckConstraint(_in("channel", CHANNELS), name="channel"),
    **MYSQL_TABLE_OPTIONS,
)

# API keys: the secret is stored as its sha256 only; the key id is public (it names the
# key in lists and logs), the secret part is shown once, when the key is created.
api_key = Table(
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("scopes", String(64), nullable=False),  # comma-separated: read, write, admin
    Column("name", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, server_default=func.now()),
    Column("revoked_at", UTCDateTime, nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

MODEL_STATUSES = ("candidate", "active", "retired", "rejected")

# Every trained model: where its artifact is, its offline metric, and whether it serves.
# Exactly one row is `active`; servers poll for it and swap to it (app.serving.registry).
model_version = Table(
    "model_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(64), nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("metric", String(32), nullable=True),  # the metric activation compared on
    Column("metric_value", money(), nullable=True),
    Column("metrics", JSON, nullable=False),
    Column("training_seconds", money(), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("activated_at", UTCDateTime, nullable=True),
    Column("note", Text, nullable=True),  # why it was rejected, or forced
    CheckConstraint(_in("status", MODEL_STATUSES), name="status"),
    **MYSQL_TABLE_OPTIONS,
)

# Customers erased on request, as a hash of their id only: enough to keep them out of
# answers until the next model, and to refuse re-imports, without keeping the id.
erased_customer = Table(
    "erased_customer",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_sha256", String(64), nullable=False, unique=True),
    Column("erased_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

import_run = Table(
    "import_run",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(32), nullable=False),
    Column("source", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("submitted", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("notes", JSON, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

import_reject = Table(
    "import_reject",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("run_id", Integer, ForeignKey("import_run.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # file line, or index in a JSON array
    Column("field", String(255), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", LongText, nullable=False),
    Index(None, "run_id", "position"),
    **MYSQL_TABLE_OPTIONS,
)
