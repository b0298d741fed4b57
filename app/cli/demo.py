"""`nextbest demo`: generated data imported into SQLite, trained and served, with the
commands to try printed so that they work when pasted."""

import csv
import json
import os
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import IMPORT_ORDER, cli, database
from app.cli.serving import serve
from app.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


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
    with database() as engine:
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
