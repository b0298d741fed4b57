"""Plan changes record the billing period they switched to.

Why: a subscription row holds only today's billing, so a training snapshot a year ago
could not tell monthly from annual billing then, nor when the annual term started; it
read today's, which a model then learned as if it had been known. NULL keeps the rows
already stored as they were: the billing did not change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_change") as batch:
        batch.add_column(sa.Column("billing_period", sa.String(8), nullable=True))
        batch.create_check_constraint(
            op.f("ck_plan_change_billing_period"), "billing_period IN ('monthly', 'annual')"
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_change") as batch:
        batch.drop_constraint(op.f("ck_plan_change_billing_period"), type_="check")
        batch.drop_column("billing_period")
