"""`nextbest keys ...`, `nextbest models ...`, `nextbest customers ...`: the operator's
commands.

"""

from enum import StrEnum
from typing import Annotated

import typer

from app.cli.common import database
from app.settings import get_settings

keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
models_cli = typer.Typer(help="Model versions: list, activate, roll back.", no_args_is_help=True)


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

    with database() as engine:
        key, text = create_key(engine, {s.value for s in scope}, name or "unnamed")
    typer.echo(text)
    scopes = ", ".join(sorted(key.scopes))
    typer.echo(f"key {key.key_id} ({scopes}): keep it now, it is not shown again", err=True)


@keys_cli.command("list")
def keys_list() -> None:
    """Every key with its scopes (never the secret)."""
    from app.auth.keys import list_keys

    with database() as engine:
        for key in list_keys(engine):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
            scopes = ",".join(sorted(key.scopes))
            typer.echo(f"{key.key_id}  {scopes:<16} {state:<18} {key.name}")


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (nb_<id>_...)")]) -> None:
    """Revoke a key; servers stop accepting it within NEXTBEST_KEY_CACHE_SECONDS."""
    from app.auth.keys import revoke_key

    with database() as engine:
        if not revoke_key(engine, key_id):
            typer.echo(f"error: no live key {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@models_cli.command("list")
def models_list() -> None:
    """Every trained version, newest first, with its status and metric."""
    from app.training import versions

    with database() as engine:
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

    with database() as engine:
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

    with database() as engine:
        try:
            row = versions.rollback(engine)
        except LookupError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"active: {row.version} ({row.note})")


customers_cli = typer.Typer(help="Privacy requests: export, erase.", no_args_is_help=True)


@customers_cli.command("erase")
def customers_erase(customer_id: Annotated[str, typer.Argument(help="The customer's id")]) -> None:
    """Erase everything stored about a customer (as DELETE /v1/customers/ID does);
    servers sharing the model directory answer 404 for them at once."""
    from app.db.erase import erase
    from app.serving.erasure import STAMP, announce

    settings = get_settings()
    with database() as engine:
        deleted = erase(engine, customer_id)
    if deleted is None:
        typer.echo(f"error: no customer {customer_id!r} (unknown, or erased already)", err=True)
        raise typer.Exit(1)
    announce(settings.model_dir / STAMP)
    rows = ", ".join(f"{table} {n}" for table, n in deleted.items() if n)
    typer.echo(f"erased {customer_id}: {rows}")


@customers_cli.command("export")
def customers_export(customer_id: Annotated[str, typer.Argument(help="The customer's id")]) -> None:
    """Print everything stored about a customer as JSON (as GET .../export answers),
    including what the active model holds."""
    from app.db.export import chunks, customer_row
    from app.serving.export import export_head
    from app.serving.registry import Registry

    settings = get_settings()
    with database() as engine:
        registry = Registry(settings.model_dir, engine)
        registry.refresh()
        with engine.connect() as conn:
            found = customer_row(conn, customer_id)
        registry.erased.follow()
        if found is None or registry.erased.erased(customer_id):
            typer.echo(f"error: no customer {customer_id!r}", err=True)
            raise typer.Exit(1)
        pk, row = found
        current = registry.current
        head = export_head(current.holdings if current else None, customer_id, row)
        for chunk in chunks(engine, customer_id, pk, head):
            typer.echo(chunk.decode(), nl=False)
        typer.echo()
