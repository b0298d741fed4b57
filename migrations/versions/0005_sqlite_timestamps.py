"""SQLite: every stored timestamp in the one text format SQLAlchemy binds.

Bulk imports used to bind timestamps through the generic DateTime type, so the
sqlite3 driver wrote whole seconds as 'YYYY-MM-DD HH:MM:SS', while every statement
SQLAlchemy compiles binds 'YYYY-MM-DD HH:MM:SS.ffffff'. SQLite compares that text as
text: a re-import found none of its (customer, metric, measured_at) keys and was
refused by the unique constraints. This rewrites the short form; other databases
store real timestamps and are left alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHOLE_SECOND = 19  # len('YYYY-MM-DD HH:MM:SS')


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    inspector = sa.inspect(bind)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.DateTime):
                name = bind.dialect.identifier_preparer.quote(column["name"])
                op.execute(
                    f"UPDATE \"{table}\" SET {name} = {name} || '.000000' "
                    f"WHERE length({name}) = {WHOLE_SECOND}"
                )


def downgrade() -> None:
    """Nothing to undo: the long form is what SQLAlchemy reads and writes anyway."""
