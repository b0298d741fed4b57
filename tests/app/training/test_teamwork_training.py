"""Training on the Teamwork data set, a subscription business whose mechanics are not the
demo's: engagement (a metric no plan limits) is read and learned from, not dropped."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.teamwork import TABLES, generate_teamwork
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.training.saas import SaasData, load_saas
from models.upgrade_eval import fit_upgrades
from models.upgrades import FEATURES, snapshot

END = date(2026, 11, 1)
CUTOFF = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())


def load_teamwork(directory: Path, customers: int, seed: int = 3) -> str:
    """A SQLite database holding a generated Teamwork data set; its URL."""
    url = f"sqlite:///{directory / 'teamwork.db'}"
    upgrade(url)
    files = generate_teamwork(directory / "data", customers, seed=seed, as_of=END)
    engine = make_engine(url)
    for table in TABLES:
        report = run_import(engine, TARGETS[table], CsvSource(files[table]))
        assert report.rejected == 0, report.rejects
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def teamwork_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """4,000 Teamwork customers in SQLite, loaded once for the module."""
    return load_teamwork(tmp_path_factory.mktemp("teamwork"), 4000)


@pytest.fixture(scope="module")
def teamwork(teamwork_url: str) -> Iterator[SaasData]:
    engine = make_engine(teamwork_url)
    yield load_saas(engine)
    engine.dispose()


def test_a_metric_no_plan_limits_is_read_as_engagement(teamwork: SaasData) -> None:
    ladder = teamwork.ladder
    assert "active_days" in ladder.metrics
    assert ladder.engagement.tolist() == [m == "active_days" for m in ladder.metrics]
    snap = snapshot(teamwork.history, ladder, CUTOFF)
    level = snap.features[:, FEATURES.index("engagement level (log)")]
    unread = snap.features[:, FEATURES.index("no engagement reading")] == 1
    assert 0.15 < unread.mean() < 0.4  # a quarter of accounts send no reading at all
    assert level[unread].max() == 0 and np.log1p(5) < np.median(level[~unread]) < np.log1p(29)


def test_engagement_is_learned_as_a_driver_of_upgrades(teamwork: SaasData) -> None:
    """Teamwork's engaged accounts upgrade more (docs/demo-data.md): the model says so."""
    odds = fit_upgrades(teamwork.history, teamwork.ladder, CUTOFF).odds_ratios()
    assert odds["engagement level (log)"] > 1.5


def test_evaluate_churn_finds_who_leaves(teamwork_url: str) -> None:
    """`nextbest evaluate --churn` on Teamwork, whose accounts leave as engagement fades
    or after payment trouble: the learned risk ranks churners first, far above the
    rules, and the accounts it flags churn at least twice as often as the base rate."""
    args = ["--database-url", teamwork_url, "evaluate", "--churn"]
    args += ["--cutoff", "2026-07-01", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output, parse_constant=pytest.fail)  # strict: no NaN
    assert report["results"]["usage-drop rule"]["Brier"] is None  # not a probability
    learned = report["results"]["learned churn risk"]
    assert report["churners"] > 150
    assert learned["ROC AUC"] > 0.62
    assert learned["ROC AUC"] > report["results"]["usage-drop rule"]["ROC AUC"] + 0.1
    assert report["churn rate among flagged"] > 2 * report["base rate"]
    assert learned["Brier"] < report["base rate"] * (1 - report["base rate"])
    late = CliRunner().invoke(cli, [*args[:-3], "--cutoff", "2026-10-01"])
    assert late.exit_code == 1 and "horizon" in late.stderr
    both = CliRunner().invoke(cli, [*args, "--upsell"])
    assert both.exit_code == 2 and "ask for one" in both.stderr
    early = CliRunner().invoke(cli, [*args[:-3], "--cutoff", "2025-01-15"])
    assert early.exit_code == 1 and "cancellations" in early.stderr
