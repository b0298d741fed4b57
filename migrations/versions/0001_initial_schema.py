"""Initial schema: customers, items, purchases, the plan ladder, and the import log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from app.db.types import MYSQL_TABLE_OPTIONS as OPTS
from app.db.types import BigId, LongText, UTCDateTime, external_id, money

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id", big: bool = False) -> sa.Column[int]:
    return sa.Column(name, BigId if big else sa.Integer(), nullable=False)


def _customer_fk(table: str, nullable: bool = False) -> list[Any]:
    return [
        sa.Column("customer_id", sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f(f"fk_{table}_customer_id_customer"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "customer",
        _id(),
        sa.Column("customer_id", external_id(), nullable=False),
        sa.Column("account_id", external_id(), nullable=True),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("marketing_opt_out", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customer_customer_id")),
        **OPTS,
    )
    op.create_index(op.f("ix_customer_account_id"), "customer", ["account_id"])

    op.create_table(
        "item",
        _id(),
        sa.Column("item_id", external_id(), nullable=False),
        sa.Column("name", sa.String(512), nullable=True),
        sa.Column("category", sa.String(255), nullable=True),
        sa.Column("price", money(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_item_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item")),
        sa.UniqueConstraint("item_id", name=op.f("uq_item_item_id")),
        **OPTS,
    )
    op.create_index(op.f("ix_item_category"), "item", ["category"])

    op.create_table(
        "purchase",
        _id(big=True),
        sa.Column("order_id", external_id(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("quantity", money(), nullable=False),
        sa.Column("unit_price", money(), nullable=False),
        sa.Column("purchased_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('sale', 'return')", name=op.f("ck_purchase_kind")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_purchase_unit_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase")),
        sa.UniqueConstraint(
            "order_id", "item_id", "kind", name=op.f("uq_purchase_order_id_item_id_kind")
        ),
        **OPTS,
    )
    op.create_index(
        op.f("ix_purchase_customer_id_purchased_at"), "purchase", ["customer_id", "purchased_at"]
    )

    op.create_table(
        "plan",
        _id(),
        sa.Column("plan_id", external_id(), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("ladder", external_id(), nullable=False),
        sa.Column("tier_rank", sa.Integer(), nullable=False),
        sa.Column("monthly_price", money(), nullable=False),
        sa.Column("annual_price", money(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("monthly_price >= 0", name=op.f("ck_plan_monthly_price_not_negative")),
        sa.CheckConstraint("annual_price >= 0", name=op.f("ck_plan_annual_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("ladder", "tier_rank", name=op.f("uq_plan_ladder_tier_rank")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_plan_plan_id")),
        **OPTS,
    )

    op.create_table(
        "subscription",
        _id(),
        sa.Column("subscription_id", external_id(), nullable=False),
        *_customer_fk("subscription"),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("billing_period", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("renews_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "billing_period IN ('monthly', 'annual')",
            name=op.f("ck_subscription_billing_period"),
        ),
        sa.CheckConstraint(
            "status IN ('trial', 'active', 'past_due', 'cancelled')",
            name=op.f("ck_subscription_status"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_subscription_plan_id_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("subscription_id", name=op.f("uq_subscription_subscription_id")),
        **OPTS,
    )
    op.create_index(op.f("ix_subscription_customer_id"), "subscription", ["customer_id"])

    op.create_table(
        "plan_change",
        _id(),
        *_customer_fk("plan_change"),
        sa.Column("from_plan_id", sa.Integer(), nullable=True),
        sa.Column("to_plan_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_plan_id"], ["plan.id"], name=op.f("fk_plan_change_from_plan_id_plan")
        ),
        sa.ForeignKeyConstraint(
            ["to_plan_id"], ["plan.id"], name=op.f("fk_plan_change_to_plan_id_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_change")),
        sa.UniqueConstraint(
            "customer_id", "changed_at", name=op.f("uq_plan_change_customer_id_changed_at")
        ),
        **OPTS,
    )

    op.create_table(
        "usage",
        _id(big=True),
        *_customer_fk("usage"),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("value", money(), nullable=False),
        sa.Column("measured_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage")),
        sa.UniqueConstraint(
            "customer_id",
            "metric",
            "measured_at",
            name=op.f("uq_usage_customer_id_metric_measured_at"),
        ),
        **OPTS,
    )

    op.create_table(
        "ticket",
        _id(),
        sa.Column("ticket_id", external_id(), nullable=False),
        *_customer_fk("ticket"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_ticket_ticket_id")),
        **OPTS,
    )
    op.create_index(op.f("ix_ticket_customer_id_closed_at"), "ticket", ["customer_id", "closed_at"])

    op.create_table(
        "import_run",
        _id(),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("submitted", "accepted", "rejected", "inserted", "updated", "unchanged")
        ),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
        **OPTS,
    )

    op.create_table(
        "import_reject",
        _id(big=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", LongText, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_run.id"],
            name=op.f("fk_import_reject_run_id_import_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_reject")),
        **OPTS,
    )
    op.create_index(
        op.f("ix_import_reject_run_id_position"), "import_reject", ["run_id", "position"]
    )


def downgrade() -> None:
    for table in (
        "import_reject",
        "import_run",
        "ticket",
        "usage",
        "plan_change",
        "subscription",
        "plan",
        "purchase",
        "item",
        "customer",
    ):
        op.drop_table(table)
