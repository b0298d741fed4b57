"""`nextbest train` and `nextbest evaluate`: fitting the engines and measuring them."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import Weighting, cli, database
from app.settings import get_settings


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
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            help="Learn only from what was recorded by this moment (UTC), for a backtest",
        ),
    ] = None,
) -> None:
    """Train the cross-sell and upsell engines on the database; save and register a new
    model version, active unless it is worse than the active one (see `nextbest models`).

    With --as-of, the model knows what a model trained at that moment would have known:
    ask the routes `as_of` the same moment to see the answers it would have given."""
    from app.training.lines import SaleLines

    settings = get_settings()
    directory = model_dir or settings.model_dir
    start = time.perf_counter()
    try:  # every outcome is recorded for the servers' /metrics
        with database() as engine, SaleLines(engine) as reading:
            # The sale lines are being read from here on: the models import meanwhile.
            from app.training.train import Activation
            from app.training.train import train as run_training
            from models.engine import Params

            params = Params(weighting=weighting.value)
            activation = Activation(settings.model_metric, settings.model_tolerance, force)
            moment = None if as_of is None else int(as_of.replace(tzinfo=UTC).timestamp())
            result = run_training(
                engine, directory, params, holdout_days, activation, reading, moment
            )
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
    coverage = upsell.get("coverage", {})
    if coverage.get("subscriptions"):
        left = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in coverage["left_out"].items())
        typer.echo(
            f"upsell: {coverage['counted']:,} of {coverage['subscriptions']:,} subscriptions "
            f"learned from; left out: {left}"
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
    churn: Annotated[
        bool, typer.Option("--churn", help="Evaluate the learned churn risk of subscribers")
    ] = False,
    horizon_days: Annotated[
        int,
        typer.Option(min=1, help="--upsell, --churn: events within this many days count"),
    ] = 90,
) -> None:
    """Offline evaluation of the engine against baselines on a time split."""
    from datetime import UTC

    if upsell and churn:
        typer.echo("error: --upsell and --churn are two evaluations: ask for one", err=True)
        raise typer.Exit(2)
    if upsell or churn:
        scored = _evaluate_churn if churn else _evaluate_upsell
        scored(cutoff.replace(tzinfo=UTC), k or 100, horizon_days, as_json)
        return
    k = k or 10
    from app.training.data import load_snapshot
    from app.training.evaluation import run_evaluation
    from models.engine import Params

    with database() as engine:
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
    from models.upgrade_eval import evaluate_upgrades

    _print_saas(evaluate_upgrades, cutoff, k, horizon_days, as_json)


def _evaluate_churn(cutoff: datetime, k: int, horizon_days: int, as_json: bool) -> None:
    """Who cancels after the cutoff: the learned churn risk against simple rules."""
    from models.churn import evaluate_churn

    _print_saas(evaluate_churn, cutoff, k, horizon_days, as_json)


def _print_saas(
    evaluation: Any, cutoff: datetime, k: int, horizon_days: int, as_json: bool
) -> None:
    """Run a subscription evaluation at the cutoff and print its table and deciles."""
    from app.training.saas import load_saas

    at = int(cutoff.timestamp())
    with database() as engine:
        data = load_saas(engine, loyal_as_of=at)
    try:
        results, sizes, reliability = evaluation(data.history, data.ladder, at, horizon_days, k)
    except ValueError as exc:  # a horizon past the data: nothing to score against
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        payload = {"cutoff": cutoff.date().isoformat(), "horizon_days": horizon_days, "k": k}
        rows = [dict(zip(("predicted", "observed", "rows"), r, strict=True)) for r in reliability]
        report = {**payload, **sizes, "results": results, "reliability": rows}
        typer.echo(json.dumps(_no_nan(report), indent=2, allow_nan=False))
        return
    typer.echo(", ".join(f"{name}: {value:,}" for name, value in sizes.items()))
    _table(results)
    _reliability(reliability)


def _no_nan(value: Any) -> Any:
    """NaN (a metric that does not apply) as null: strict JSON parsers reject NaN."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def _reliability(rows: list[tuple[float, float, int]]) -> None:
    """The learned model's reliability: predicted against observed, by decile."""
    typer.echo("\nthe learned model by decile of predicted probability:")
    typer.echo("| decile | mean predicted | observed | subscribers |")
    typer.echo("|---:|---:|---:|---:|")
    for decile, (predicted, observed, count) in enumerate(rows, 1):
        typer.echo(f"| {decile} | {predicted:.4f} | {observed:.4f} | {count:,} |")


def _table(results: dict[str, dict[str, float]]) -> None:
    """One Markdown table: a row per scorer, a column per metric."""
    metrics = list(next(iter(results.values())))
    typer.echo("| scorer | " + " | ".join(metrics) + " |")
    typer.echo("|---|" + "---:|" * len(metrics))
    for name, values in results.items():
        cells = ("—" if values[m] != values[m] else f"{values[m]:.4f}" for m in metrics)
        typer.echo(f"| {name} | " + " | ".join(cells) + " |")
