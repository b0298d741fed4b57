"""What every `nextbest` command shares: the Typer app, the options of every command,
the tables in the order they import, and the database migrated to the newest schema.

Each command module imports what it needs itself, inside the command: `nextbest train`
must not pay for loading ingestion, the HTTP stack or Alembic at start.
"""

import os
from contextlib import AbstractContextManager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from app.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

TABLES = (
    "customers",
    "items",
    "purchases",
    "plans",
    "subscriptions",
    "plan-changes",
    "usage",
    "tickets",
    "events",
)

cli = typer.Typer(
    help="NextBest: cross-sell and upsell recommendations from purchase history.",
    no_args_is_help=True,
    add_completion=False,
)

IMPORT_ORDER = (
    "customers",
    "items",
    "plans",
    "purchases",
    "subscriptions",
    "plan-changes",
    "usage",
    "tickets",
)


class Weighting(StrEnum):
    """How purchases weigh in the customer x item matrix (README: measured per data set)."""

    binary = "binary"
    orders = "orders"
    recency = "recency"


@cli.callback()
def main_options(
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL; default $NEXTBEST_DATABASE_URL or sqlite:///nextbest.db"
        ),
    ] = None,
) -> None:
    """Options that apply to every command."""
    if database_url:
        os.environ["NEXTBEST_DATABASE_URL"] = database_url
        get_settings.cache_clear()


def database() -> AbstractContextManager["Engine"]:
    """The configured database, migrated to the newest schema; closed afterwards."""
    from app.db.migrate import migrated

    return migrated(get_settings().database_url)
