"""The `nextbest` command: one module per group of commands.

common    the Typer app, the options of every command, the database
data      init-db, import, demo-data
training  train, evaluate
serving   serve, openapi
demo      demo
admin     keys, models, customers
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from app.cli import admin, data, demo, serving, training
from app.cli.common import IMPORT_ORDER, TABLES, cli

cli.add_typer(admin.keys_cli, name="keys")
cli.add_typer(admin.models_cli, name="models")
cli.add_typer(admin.customers_cli, name="customers")

__all__ = ["IMPORT_ORDER", "TABLES", "cli", "data", "demo", "main", "serving", "training"]


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="nextbest")
