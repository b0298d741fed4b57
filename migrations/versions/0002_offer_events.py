"""Offer events: impressions, clicks, acceptances and dismissals of the offers served.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.types import MYSQL_TABLE_OPTIONS as OPTS
from app.db.types import BigId, UTCDateTime, external_id

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As of this revision (a later one that adds a kind changes its own copy).
OFFER_KINDS = (
    "upgrade",
    "billing",
    "retention",
    "cross_sell",
    "bundle",
    "replenishment",
    "premium",
    "expansion",
)
EVENTS = ("impression", "click", "accept", "dismiss")
CHANNELS = ("email", "in_app", "call", "visit", "web")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "offer_event",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", external_id(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", external_id(512), nullable=False),
        sa.Column("offer_kind", sa.String(16), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(_in("offer_kind", OFFER_KINDS), name=op.f("ck_offer_event_offer_kind")),
        sa.CheckConstraint(_in("event", EVENTS), name=op.f("ck_offer_event_event")),
        sa.CheckConstraint(_in("channel", CHANNELS), name=op.f("ck_offer_event_channel")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_offer_event_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_offer_event_event_id")),
        **OPTS,
    )
    op.create_index(
        op.f("ix_offer_event_customer_id_occurred_at"),
        "offer_event",
        ["customer_id", "occurred_at"],
    )
    op.create_index(op.f("ix_offer_event_occurred_at"), "offer_event", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("offer_event")
