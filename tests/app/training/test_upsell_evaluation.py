"""`nextbest evaluate --upsell` on generated SaaS data, read from each database."""

import json
from datetime import date
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from app.cli import IMPORT_ORDER, cli
from app.db.engine import make_engine
from app.demo import saas
from app.demo.generate import generate
from app.training.saas import load_saas

runner = CliRunner()


def load(database_url: str, directory: Path) -> dict[str, Path]:
    files = generate(directory, customers=8000, seed=11, as_of=date(2026, 11, 1))
    for table in IMPORT_ORDER:
        result = runner.invoke(
            cli, ["--database-url", database_url, "import", table, str(files[table])]
        )
        assert result.exit_code == 0, result.output
    return files


def test_upsell_evaluation_ranks_upgraders_first(database_url: str, tmp_path: Path) -> None:
    files = load(database_url, tmp_path)
    result = runner.invoke(
        cli,
        [
            "--database-url",
            database_url,
            "evaluate",
            "--upsell",
            "--cutoff",
            "2026-08-01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["k"] == 100 and report["horizon_days"] == 90
    assert report["upgraders"] > 100
    scores = report["results"]
    learned = scores["learned propensity"]
    assert learned["ROC AUC"] > scores["random"]["ROC AUC"] + 0.2
    assert learned["ROC AUC"] > scores["tenure"]["ROC AUC"] + 0.2
    assert learned["precision@100"] > 2 * scores["random"]["precision@100"]
    assert learned["tier accuracy"] > 0.9
    saas_tables_arrive_as_written(database_url, files)
    horizon_past_the_data_is_an_error(database_url)


def horizon_past_the_data_is_an_error(database_url: str) -> None:
    """A horizon running past the newest record would score every model against days
    nobody could have upgraded on: refused, naming the dates, not a table of nan."""
    args = ["--database-url", database_url, "evaluate", "--upsell", "--json"]
    result = runner.invoke(cli, [*args, "--cutoff", "2026-10-01"])
    assert result.exit_code == 1 and not result.stdout
    message = result.stderr
    assert "90-day horizon after the cutoff 2026-10-01 ends on 2026-12-30" in message
    assert "the data ends on 2026-1" in message and "choose a cutoff on or before" in message
    earliest = message.split("on or before ")[1][:10]
    shorter = runner.invoke(cli, [*args, "--cutoff", earliest])
    assert shorter.exit_code == 0, shorter.output


def saas_tables_arrive_as_written(database_url: str, files: dict[str, Path]) -> None:
    """The loader's arrays hold what the files held (one import serves both checks)."""
    engine = make_engine(database_url)
    data = load_saas(engine)
    engine.dispose()
    ladder = data.ladder
    assert data.plans.ids == [p[0] for p in saas.PLANS]
    assert ladder.metrics == sorted(saas.METRICS)
    seats = ladder.metrics.index("seats")
    assert ladder.limits[:, seats].tolist() == [p[3][0] for p in saas.PLANS]
    assert ladder.rank.tolist() == [1, 2, 3, 4]
    history = data.history
    rows = {t: files[t].read_text().count("\n") - 1 for t in ("subscriptions", "usage")}
    assert len(history.sub_customer) == rows["subscriptions"]
    assert len(history.usage_customer) == rows["usage"]
    # Usage is sorted by (customer, metric, time), as the snapshots need.
    key = np.lexsort((history.usage_at, history.usage_metric, history.usage_customer))
    assert (key == np.arange(len(key))).all()
    assert 0.1 < history.loyal[np.unique(history.sub_customer)].mean() < 0.5
