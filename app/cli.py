"""The `nextbest` command: database setup, imports, demo data, serving, the demo."""

import atexit
import csv
import json
import os
import shlex
import sys
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer

from app.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.ingest.report import ImportReport

# Each command imports what it needs itself: `nextbest train` must not pay for loading
# ingestion, the HTTP stack or Alembic at start (test_cli holds this list to TARGETS).
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


def _database() -> AbstractContextManager["Engine"]:
    """The configured database, migrated to the newest schema; closed afterwards."""
    from app.db.migrate import migrated

    return migrated(get_settings().database_url)


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
    with _database() as engine:
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


@cli.command()
def train(
    model_dir: Annotated[
        Path | None, typer.Option(help="Where artifacts go; default $NEXTBEST_MODEL_DIR")
    ] = None,
    weighting: Annotated[Weighting, typer.Option(help="Confidence weights")] = Weighting.binary,
    holdout_days: Annotated[
        int,
        typer.Option(min=0, help="Also score a fit without the last N days; metrics to manifest"),
    ] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Activate even if worse than the active model")
    ] = False,
) -> None:
    """Train the cross-sell and upsell engines on the database; save and register a new
    model version, active unless it is worse than the active one (see `nextbest models`)."""
    from app.training.lines import SaleLines

    settings = get_settings()
    directory = model_dir or settings.model_dir
    start = time.perf_counter()
    try:  # every outcome is recorded for the servers' /metrics
        with _database() as engine, SaleLines(engine) as reading:
            # The sale lines are being read from here on: the models import meanwhile.
            from app.training.train import Activation
            from app.training.train import train as run_training
            from models.engine import Params

            params = Params(weighting=weighting.value)
            activation = Activation(settings.model_metric, settings.model_tolerance, force)
            result = run_training(engine, directory, params, holdout_days, activation, reading)
    except Exception as exc:
        from app.observability import training
        from app.training.train import NothingToLearn

        training.failed(directory, time.perf_counter() - start)
        if not isinstance(exc, NothingToLearn):
            raise
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    from app.observability import training
    from models.segments import NAMES

    training.finished(directory, result.version, result.timings["total"])
    data = result.manifest["data"]
    typer.echo(
        f"trained on {data['purchase_lines']:,} purchase lines, {data['customers']:,} "
        f"customers, {data['items']:,} items"
    )
    upsell = result.manifest["upsell"]
    if upsell["source"] == "model":
        typer.echo(
            f"upsell: propensity learned from {upsell['training_rows']:,} subscriber-months "
            f"({upsell['training_upgrades']:,} upgrades) over {upsell['plans']} plans"
        )
    else:
        typer.echo(
            f"upsell: {upsell['plans']} plans, too little upgrade history to learn from "
            f"({upsell['training_upgrades']} upgrades): the documented rules decide"
        )
    segments = result.manifest["segments"]
    counts = ", ".join(f"{name} {segments['counts'][name]:,}" for name in NAMES)
    typer.echo(f"segments as of {segments['as_of'][:10]}: {counts}")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    if result.manifest["metrics"]:
        metrics = result.manifest["metrics"]
        typer.echo(
            f"holdout of {metrics['holdout_days']} days, {metrics['customers']:,} customers: "
            + ", ".join(f"{k} {metrics[k]:.4f}" for k in ("HR@10", "NDCG@10", "coverage"))
        )
    typer.echo(f"model {result.manifest['version']} saved to {result.path} ({steps})")
    version = result.version
    typer.echo(f"{version.status}: {version.note}")
    _finished.append("train")


@cli.command()
def evaluate(
    cutoff: Annotated[
        datetime,
        typer.Option(formats=["%Y-%m-%d"], help="Train before this day, score what came after"),
    ],
    k: Annotated[
        int | None, typer.Option(min=1, help="List length (default 10; 100 with --upsell)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    weighting: Annotated[Weighting, typer.Option(help="Confidence weights")] = Weighting.binary,
    upsell: Annotated[
        bool, typer.Option("--upsell", help="Evaluate upgrade propensity on the plan ladder")
    ] = False,
    horizon_days: Annotated[
        int, typer.Option(min=1, help="--upsell: upgrades within this many days count")
    ] = 90,
) -> None:
    """Offline evaluation of the engine against baselines on a time split."""
    from datetime import UTC

    if upsell:
        _evaluate_upsell(cutoff.replace(tzinfo=UTC), k or 100, horizon_days, as_json)
        return
    k = k or 10
    from app.training.data import load_snapshot
    from app.training.evaluation import run_evaluation
    from models.engine import Params

    with _database() as engine:
        snapshot = load_snapshot(engine)
    params = Params(weighting=weighting.value)
    results, sizes = run_evaluation(snapshot, cutoff.replace(tzinfo=UTC), k, params)
    if as_json:
        typer.echo(
            json.dumps(
                {"cutoff": cutoff.date().isoformat(), "k": k, **sizes, "results": results}, indent=2
            )
        )
        return
    typer.echo(", ".join(f"{name}: {value:,}" for name, value in sizes.items()))
    _table(results)


def _evaluate_upsell(cutoff: datetime, k: int, horizon_days: int, as_json: bool) -> None:
    """Who upgrades after the cutoff: the learned propensity against simple rules."""
    from app.training.saas import load_saas
    from models.upgrade_eval import evaluate_upgrades

    at = int(cutoff.timestamp())
    with _database() as engine:
        data = load_saas(engine, loyal_as_of=at)
    results, sizes = evaluate_upgrades(data.history, data.ladder, at, horizon_days, k)
    if as_json:
        payload = {"cutoff": cutoff.date().isoformat(), "horizon_days": horizon_days, "k": k}
        typer.echo(json.dumps({**payload, **sizes, "results": results}, indent=2))
        return
    typer.echo(", ".join(f"{name}: {value:,}" for name, value in sizes.items()))
    _table(results)


def _table(results: dict[str, dict[str, float]]) -> None:
    """One Markdown table: a row per scorer, a column per metric."""
    metrics = list(next(iter(results.values())))
    typer.echo("| scorer | " + " | ".join(metrics) + " |")
    typer.echo("|---|" + "---:|" * len(metrics))
    for name, values in results.items():
        typer.echo(f"| {name} | " + " | ".join(f"{values[m]:.4f}" for m in metrics) + " |")


@cli.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Directory for the CSV files")] = Path("nextbest-data"),
    customers: Annotated[int, typer.Option(min=10, help="Number of customers")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same data")] = 7,
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of history")
    ] = None,
) -> None:
    """Write a generated shop + SaaS data set as CSV files (see docs/demo-data.md)."""
    from app.demo.generate import generate

    files = generate(out, customers=customers, seed=seed, as_of=as_of.date() if as_of else None)
    for table, path in files.items():
        typer.echo(f"{table:>14}  {path}")
    typer.echo(f"import them in this order with: nextbest import <table> {out}/<table>.csv")


@cli.command()
def demo(
    customers: Annotated[int, typer.Option(min=10, help="Size of the generated data set")] = 2000,
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files")] = Path(
        "nextbest-demo"
    ),
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server")
    ] = True,
) -> None:
    """Generate data, import it into SQLite, train, and serve the API on localhost."""
    from app.auth.keys import create_key
    from app.demo.generate import generate
    from app.ingest.importer import run_import
    from app.ingest.sources import CsvSource
    from app.ingest.targets import TARGETS
    from app.observability import training
    from app.training.train import train as run_training

    directory = directory.resolve()  # the commands it prints work from anywhere
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NEXTBEST_DATABASE_URL", f"sqlite:///{directory / 'nextbest.db'}")
    os.environ.setdefault("NEXTBEST_MODEL_DIR", str(directory / "models"))
    get_settings.cache_clear()
    typer.echo(f"generating {customers:,} customers into {directory / 'data'} ...")
    files = generate(directory / "data", customers=customers)
    with _database() as engine:
        for table in IMPORT_ORDER:
            report = run_import(engine, TARGETS[table], CsvSource(files[table]))
            typer.echo(
                f"  imported {table:<14} {report.accepted:>9,} rows "
                f"({report.inserted:,} new, {report.rejected:,} rejected)"
            )
        _demo_events(engine, files)
        result = run_training(engine, get_settings().model_dir, holdout_days=30)
        training.finished(get_settings().model_dir, result.version, result.timings["total"])
        typer.echo(
            f"  trained model {result.manifest['version']} in {result.timings['total']:.1f} s"
        )
        _, key = create_key(engine, {"admin"}, "demo")
    _demo_guide(files, key, port, serve_after)
    if serve_after:
        serve(port=port)


def _demo_guide(files: dict[str, Path], key: str, port: int, serving: bool) -> None:
    """What to try, as commands that work when pasted: the demo's own database and
    model directory are spelled out, since a bare `nextbest` uses ./nextbest.db."""
    settings = get_settings()
    env = (
        f"NEXTBEST_DATABASE_URL={shlex.quote(settings.database_url)} "
        f"NEXTBEST_MODEL_DIR={shlex.quote(str(settings.model_dir))}"
    )
    called = Path(sys.argv[0])
    program = shlex.quote(str(called.absolute())) if called.is_file() else "nextbest"
    typer.echo(f"\nAPI key for the demo (admin scope):\n  {key}")
    typer.echo(
        f"More keys, for this demo's database:\n  {env} {program} keys create "
        "--scope read --name shop"
    )
    if not serving:
        typer.echo(f"Serve the demo:\n  {env} {program} serve --port {port}")
    auth = f"-H 'Authorization: Bearer {key}' "
    base = f"http://127.0.0.1:{port}"
    typer.echo(f"\nWeb console: {base}/ui/ (paste the key when it asks)")
    camera = _first_camera(files["items"], files["purchases"])
    paths = _demo_requests(
        files["purchases"], camera, files["subscriptions"], files["usage"], files["plans"]
    )
    typer.echo("\n".join(["", "Try:", *(f"  curl -s {auth}'{base}{path}'" for path in paths), ""]))
    typer.echo(
        f"  curl -s -X POST {base}/v1/baskets/recommendations {auth}"
        "-H 'content-type: application/json' "
        f"""-d '{{"items": ["{camera}"], "limit": 3}}'\n"""
    )


def _demo_events(engine: "Engine", files: dict[str, Path]) -> None:
    """Offer events planted before some of the real purchases, so the KPIs show some."""
    from app.demo.events import offer_events
    from app.ingest.importer import import_records
    from app.ingest.targets import TARGETS

    settings = get_settings()
    events: list[object] = list(offer_events(files, settings.holdout_share, settings.holdout_salt))
    report = import_records(engine, TARGETS["events"], events)
    typer.echo(
        f"  imported {'events':<14} {report.accepted:>9,} rows "
        f"({report.inserted:,} new, {report.rejected:,} rejected)"
    )


def _demo_requests(
    purchases: Path, camera: str, subscriptions: Path, usage: Path, plans: Path
) -> list[str]:
    """Example requests for a customer with history, for `camera` and for a subscriber."""
    with purchases.open(encoding="utf-8") as f:
        customer = next(r["customer_id"] for r in csv.DictReader(f) if r["customer_id"])
    subscriber = _pressed_subscriber(subscriptions, usage, plans) or customer
    return [
        "/healthz",
        f"/v1/customers/{customer}/cross-sell?limit=5",
        "/v1/customers/someone-new/cross-sell?limit=3",
        f"/v1/items/{camera}/related?kind=complement&limit=5",
        f"/v1/items/{camera}/related?kind=similar&limit=5",
        f"/v1/items/{camera}/related?kind=premium&limit=3",
        f"/v1/customers/{subscriber}/upsell",
        f"/v1/customers/{subscriber}/profile",
        f"/v1/customers/{subscriber}/offers?explain=true",
        "/v1/campaigns/targets?kind=upgrade&limit=10",
        "/v1/segments",
        "/v1/kpis?group_by=kind",
        "/metrics",
    ]


def _pressed_subscriber(subscriptions: Path, usage: Path, plans: Path) -> str | None:
    """An active subscriber below the top plan whose tightest limit is 90-110 % used
    (newest readings): one the upsell route has an upgrade for."""
    with plans.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    limits = {r["plan_id"]: json.loads(r["limits"]) for r in rows}
    top = max((int(r["tier_rank"]) for r in rows), default=0)
    below_top = {r["plan_id"] for r in rows if int(r["tier_rank"]) < top}
    with subscriptions.open(encoding="utf-8") as f:
        plan = {
            r["customer_id"]: r["plan_id"]
            for r in csv.DictReader(f)
            if r["status"] == "active" and r["plan_id"] in below_top
        }
    newest: dict[tuple[str, str], float] = {}
    with usage.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):  # in time order: the last reading wins
            if r["customer_id"] in plan:
                newest[r["customer_id"], r["metric"]] = float(r["value"])
    ratio: dict[str, float] = {}
    for (customer, metric), value in newest.items():
        limit = limits.get(plan[customer], {}).get(metric)
        if limit:
            ratio[customer] = max(ratio.get(customer, 0.0), value / float(limit))
    pressed = [c for c, r in ratio.items() if 0.9 <= r <= 1.1]
    return min(pressed) if pressed else None


def _first_camera(items: Path, purchases: Path) -> str:
    """The camera in the most order lines: the one with bought-together rules to show."""
    with items.open(encoding="utf-8") as f:
        cameras = {r["item_id"] for r in csv.DictReader(f) if r["category"] == "cameras"}
    with purchases.open(encoding="utf-8") as f:
        sold = Counter(r["item_id"] for r in csv.DictReader(f) if r["item_id"] in cameras)
    return sold.most_common(1)[0][0] if sold else min(cameras)


@cli.command()
def openapi() -> None:
    """Print the OpenAPI contract (the committed copy is openapi/openapi.json)."""
    from app.main import create_app

    typer.echo(json.dumps(create_app().openapi(), indent=2, sort_keys=True))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes; default $NEXTBEST_WORKERS, else 1"),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request")
    ] = False,
) -> None:
    """Serve the HTTP API (uvicorn); each worker loads the newest model at start."""
    from app.server import serve as run_server

    run_server(host, port, workers or get_settings().workers, access_log)


def _admin() -> None:
    """The keys, models and customers sub-commands (app.admin_cli), registered on first use."""
    from app.admin_cli import customers_cli, keys_cli, models_cli

    cli.add_typer(keys_cli, name="keys")
    cli.add_typer(models_cli, name="models")
    cli.add_typer(customers_cli, name="customers")


_admin()


_finished: list[str] = []  # commands after which the process may skip its teardown


def main() -> None:
    """Entry point of the console script.

    After a successful `nextbest train` the process ends without the interpreter's
    teardown: unloading numpy, scipy, implicit, SQLAlchemy and pydantic takes a fifth
    of a second or more, and by then the artifact, the registry row and the output are
    all written. The exit handlers still run; in-process callers (the tests) never get
    here.
    """
    try:
        cli(prog_name="nextbest")
    except SystemExit as done:
        if done.code not in (None, 0) or not _finished:
            raise
    if _finished and threading.active_count() == 1:  # no thread left to wait for
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
