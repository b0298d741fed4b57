"""The model registry (every trained version, which one is active) and erased customers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.types import MYSQL_TABLE_OPTIONS as OPTS
from app.db.types import UTCDateTime, money

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(32), nullable=True),
        sa.Column("metric_value", money(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("training_seconds", money(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('candidate', 'active', 'retired', 'rejected')",
            name=op.f("ck_model_version_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version")),
        sa.UniqueConstraint("version", name=op.f("uq_model_version_version")),
        **OPTS,
    )
    op.create_table(
        "erased_customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_sha256", sa.String(64), nullable=False),
        sa.Column("erased_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_customer")),
        sa.UniqueConstraint("customer_sha256", name=op.f("uq_erased_customer_customer_sha256")),
        **OPTS,
    )


def downgrade() -> None:
    op.drop_table("erased_customer")
    op.drop_table("model_version")
