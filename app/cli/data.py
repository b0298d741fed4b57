"""`nextbest init-db`, `nextbest import` and `nextbest demo-data`: the data commands."""

import csv
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import TABLES, cli, database
from app.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.ingest.report import ImportReport


class DataSet(StrEnum):
    """The generated data sets (docs/demo-data.md)."""

    demo = "demo"
    teamwork = "teamwork"


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from app.db.migrate import HEAD, revision_of, upgrade

    url = get_settings().database_url
    before = revision_of(url)
    if before != HEAD:
        upgrade(url)
    if before is None:
        done = f"created the schema (revision {HEAD})"
    elif before != HEAD:
        done = f"upgraded the schema from revision {before} to {HEAD}"
    else:
        done = f"the schema is already at the newest revision ({HEAD})"
    typer.echo(f"{done} in {_shown(url)}")


def _shown(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@cli.command("import")
def import_(
    table: Annotated[
        str,
        typer.Argument(help=f"One of: {', '.join(TABLES)}, or online-retail"),
    ],
    file: Annotated[Path | None, typer.Argument(help="CSV file, plain or .gz")] = None,
    from_sql: Annotated[
        tuple[str, str] | None,
        typer.Option(metavar="URL QUERY", help="Read rows from another database instead"),
    ] = None,
    create_missing: Annotated[
        bool, typer.Option(help="Create unknown customers/items instead of rejecting rows")
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Also write every rejected row to this CSV file")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import a table; every row is accepted or rejected with its line and reason.

    Exit status: 0 when the input was read (see the report for rejected rows),
    1 when it could not be read at all (nothing was imported).
    """
    if (file is None) == (from_sql is None):
        raise typer.BadParameter("give either FILE or --from-sql URL QUERY")
    from app.ingest.targets import TARGETS, find_target

    if table != "online-retail" and find_target(table) is None:
        raise typer.BadParameter(f"unknown table {table!r}; one of {', '.join(TARGETS)}")
    if table == "online-retail" and file is None:
        raise typer.BadParameter("online-retail reads a file")
    with database() as engine:
        report = _import(engine, table, file, from_sql, create_missing)
        _show(report, as_json)
        if rejects is not None:
            _write_rejects(engine, report, rejects)


def _import(
    engine: "Engine",
    table: str,
    file: Path | None,
    from_sql: tuple[str, str] | None,
    create_missing: bool,
) -> "ImportReport":
    from app.ingest.importer import Source, run_import
    from app.ingest.online_retail import import_online_retail
    from app.ingest.sources import CsvSource, SourceUnreadable, SqlSource
    from app.ingest.targets import find_target

    try:
        if table == "online-retail" and file is not None:
            return import_online_retail(engine, file)
        target = find_target(table)
        assert target is not None
        source: Source = CsvSource(file) if file else SqlSource(*(from_sql or ("", "")))
        return run_import(engine, target, source, create_missing=create_missing)
    except SourceUnreadable as exc:
        typer.echo(f"error: {exc}", err=True)
        typer.echo("nothing was imported", err=True)
        raise typer.Exit(1) from exc


def _show(report: "ImportReport", as_json: bool) -> None:
    from app.ingest.report import summary

    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo("\n".join(summary(report)))


def _write_rejects(engine: "Engine", report: "ImportReport", path: Path) -> None:
    from sqlalchemy import select

    from app.db import tables

    reject = tables.import_reject
    query = (
        select(reject.c.position, reject.c.field, reject.c.reason, reject.c.raw)
        .where(reject.c.run_id == report.run_id)
        .order_by(reject.c.position)
    )
    with engine.connect() as conn, path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([report.unit, "field", "reason", "raw"])
        writer.writerows(conn.execute(query))
    typer.echo(f"rejected rows written to {path}", err=True)


@cli.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Directory for the CSV files")] = Path("nextbest-data"),
    customers: Annotated[int, typer.Option(min=10, help="Number of customers")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same data")] = 7,
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of history")
    ] = None,
    kind: Annotated[
        DataSet,
        typer.Option(help="demo: the shop + SaaS demo; teamwork: a subscription-only business"),
    ] = DataSet.demo,
) -> None:
    """Write a generated data set as CSV files (see docs/demo-data.md)."""
    from app.demo.generate import generate
    from app.demo.teamwork import generate_teamwork

    make = generate if kind is DataSet.demo else generate_teamwork
    files = make(out, customers=customers, seed=seed, as_of=as_of.date() if as_of else None)
    for table, path in files.items():
        typer.echo(f"{table:>14}  {path}")
    typer.echo(f"import them in this order with: nextbest import <table> {out}/<table>.csv")
