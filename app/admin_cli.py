"""`nextbest keys ...` and `nextbest models ...`: the operator's commands.

Kept apart from app.cli, which holds the data and serving commands, so each module
stays readable in one sitting.
"""

from contextlib import AbstractContextManager
from enum import StrEnum
from typing import Annotated

import typer
from sqlalchemy import Engine

from app.db.migrate import migrated
from app.settings import get_settings

keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
models_cli = typer.Typer(help="Model versions: list, activate, roll back.", no_args_is_help=True)


def _database() -> AbstractContextManager[Engine]:
    return migrated(get_settings().database_url)


class Scope(StrEnum):
    """What a key may do: read (recommendations, reports), write (ingestion, events),
    admin (training, models, erasure, exports; includes the others)."""

    read = "read"
    write = "write"
    admin = "admin"


@keys_cli.command("create")
def keys_create(
    scope: Annotated[list[Scope], typer.Option(help="Repeat for several scopes")],
    name: Annotated[str, typer.Option(help="Who or what uses the key")] = "",
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    from app.auth.keys import create_key

    with _database() as engine:
        key, text = create_key(engine, {s.value for s in scope}, name or "unnamed")
    typer.echo(text)
    scopes = ", ".join(sorted(key.scopes))
    typer.echo(f"key {key.key_id} ({scopes}): keep it now, it is not shown again", err=True)


@keys_cli.command("list")
def keys_list() -> None:
    """Every key with its scopes (never the secret)."""
    from app.auth.keys import list_keys

    with _database() as engine:
        for key in list_keys(engine):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
            scopes = ",".join(sorted(key.scopes))
            typer.echo(f"{key.key_id}  {scopes:<16} {state:<18} {key.name}")


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (nb_<id>_...)")]) -> None:
    """Revoke a key; servers stop accepting it within NEXTBEST_KEY_CACHE_SECONDS."""
    from app.auth.keys import revoke_key

    with _database() as engine:
        if not revoke_key(engine, key_id):
            typer.echo(f"error: no live key {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@models_cli.command("list")
def models_list() -> None:
    """Every trained version, newest first, with its status and metric."""
    from app.training import versions

    with _database() as engine:
        rows = versions.listed(engine)
    for v in rows:
        value = "" if v.metric_value is None else f"{v.metric} {v.metric_value:.4f}"
        typer.echo(f"{v.version}  {v.status:<9} {value:<16} {v.note or ''}")
    if not rows:
        typer.echo("no model versions yet: run `nextbest train`")


@models_cli.command("activate")
def models_activate(version: Annotated[str, typer.Argument(help="A version from `list`")]) -> None:
    """Make a version the active one; servers switch to it within their refresh interval."""
    from app.training import versions

    with _database() as engine:
        try:
            row = versions.activate(engine, version, "activated by hand")
        except LookupError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"active: {row.version}")


@models_cli.command("rollback")
def models_rollback() -> None:
    """Activate the version that was active before the current one."""
    from app.training import versions

    with _database() as engine:
        try:
            row = versions.rollback(engine)
        except LookupError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"active: {row.version} ({row.note})")
