"""The model registry as an operator meets it: versions gated by their metric, activation
and rollback, and a running server that swaps only to a model that loads and is sane.

A broken artifact (truncated, altered, NaN factors with a valid checksum) is refused
and the model that was serving keeps serving.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.settings import Settings
from app.training import versions
from app.training.train import Activation, train
from models import artifact

from ..api.conftest import keyed_client
from ..api.test_cross_sell_api import load_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """A demo shop with one trained, active version: (database url, model dir, version)."""
    directory = tmp_path_factory.mktemp("registry")
    url = f"sqlite:///{directory / 'shop.db'}"
    upgrade(url)
    load_demo(url, directory, 300)
    engine = make_engine(url)
    result = train(engine, directory / "models")
    engine.dispose()
    yield url, directory / "models", result.manifest["version"]


def served_version(client: TestClient) -> str:
    answer = client.get("/v1/customers/C000010/cross-sell").json()
    return str(answer["model_version"])


def copy_version(models: Path, source: str, name: str, change: Any = None) -> Path:
    """A copy of an artifact under a new version name, arrays changed by `change`."""
    arrays, manifest = artifact.load(models / source)
    if change is not None:
        change(arrays)
    return artifact.save(models / name, arrays, {**manifest, "version": name})


def register_as_active(url: str, models: Path, name: str) -> None:
    engine = make_engine(url)
    manifest = json.loads((models / name / artifact.MANIFEST).read_text())
    versions.register(engine, models / name, manifest, 1.0, "NDCG@10", force=True)
    engine.dispose()


def test_a_worse_version_is_kept_but_not_activated(tmp_path: Path, database_url: str) -> None:
    engine = make_engine(database_url)
    base = {"format": "x", "created_at": "now"}
    first = versions.register(
        engine,
        tmp_path / "a",
        {**base, "version": "a", "metrics": {"NDCG@10": 0.12}},
        1.0,
        "NDCG@10",
    )
    assert first.status == "active" and first.note == "the first version"
    worse = versions.register(
        engine,
        tmp_path / "b",
        {**base, "version": "b", "metrics": {"NDCG@10": 0.10}},
        1.0,
        "NDCG@10",
    )
    assert worse.status == "rejected" and "worse than 0.1200 of the active a" in (worse.note or "")
    assert versions.active(engine).version == "a"  # type: ignore[union-attr]
    close = versions.register(
        engine,
        tmp_path / "c",
        {**base, "version": "c", "metrics": {"NDCG@10": 0.119}},
        1.0,
        "NDCG@10",
        tolerance=0.05,
    )
    assert close.status == "active"
    forced = versions.register(
        engine,
        tmp_path / "d",
        {**base, "version": "d", "metrics": {"NDCG@10": 0.01}},
        1.0,
        "NDCG@10",
        force=True,
    )
    assert forced.status == "active" and "forced" in (forced.note or "")
    unmeasured = versions.register(
        engine, tmp_path / "e", {**base, "version": "e", "metrics": {}}, 1.0, "NDCG@10"
    )
    assert unmeasured.status == "active" and "not compared" in (unmeasured.note or "")
    assert versions.rollback(engine).version == "d"
    assert versions.activate(engine, "b", "by hand").status == "active"
    statuses = {v.version: v.status for v in versions.listed(engine)}
    assert statuses == {
        "a": "retired",
        "b": "active",
        "c": "retired",
        "d": "retired",
        "e": "retired",
    }
    engine.dispose()


def test_a_running_server_switches_to_the_activated_version(
    trained: tuple[str, Path, str],
) -> None:
    url, models, first = trained
    settings = Settings(database_url=url, model_dir=models, refresh_seconds=0)
    with keyed_client(settings) as client:
        assert served_version(client) == first
        copy_version(models, first, "20990101T000000000000Z")
        register_as_active(url, models, "20990101T000000000000Z")
        client.app.state.registry.refresh()  # what the refresh thread does every interval
        assert served_version(client) == "20990101T000000000000Z"
        result = runner.invoke(cli, ["--database-url", url, "models", "rollback"])
        assert result.exit_code == 0 and first in result.output
        client.app.state.registry.refresh()
        assert served_version(client) == first


def truncated(models: Path, name: str) -> None:
    path = models / name / artifact.ARRAYS
    path.write_bytes(path.read_bytes()[:1000])


def altered_checksum(models: Path, name: str) -> None:
    manifest_path = models / name / artifact.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "sha256": "0" * 64}))


def nan_factors(arrays: dict[str, np.ndarray]) -> None:
    factors = arrays["engine.cross_sell.als.user_factors"].copy()
    factors[3, :] = np.nan
    arrays["engine.cross_sell.als.user_factors"] = factors


@pytest.mark.parametrize("damage", ["truncated", "altered checksum", "NaN factors"])
def test_a_broken_artifact_is_refused_and_the_old_model_keeps_serving(
    trained: tuple[str, Path, str], damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    url, models, first = trained
    name = f"20990202T00000000000{['truncated', 'altered checksum', 'NaN factors'].index(damage)}Z"
    shutil.rmtree(models / name, ignore_errors=True)
    copy_version(models, first, name, nan_factors if damage == "NaN factors" else None)
    if damage == "truncated":
        truncated(models, name)
    elif damage == "altered checksum":
        altered_checksum(models, name)
    settings = Settings(database_url=url, model_dir=models, refresh_seconds=0)
    with keyed_client(settings) as client:
        assert served_version(client) == first
        register_as_active(url, models, name)
        client.app.state.registry.refresh()
        assert served_version(client) == first  # still serving, not broken
        assert f"cannot load model {models / name}" in caplog.text
    engine = make_engine(url)
    versions.activate(engine, first, "back to the good one")
    engine.dispose()


def test_training_registers_every_version_and_the_cli_lists_them(
    trained: tuple[str, Path, str],
) -> None:
    url, models, _ = trained
    engine = make_engine(url)
    strict = Activation(metric="NDCG@10", tolerance=0.0)
    result = train(engine, models, holdout_days=30, activation=strict)
    engine.dispose()
    assert result.version.metric_value is not None
    listed = runner.invoke(cli, ["--database-url", url, "models", "list"])
    assert listed.exit_code == 0 and result.manifest["version"] in listed.output
    missing = runner.invoke(cli, ["--database-url", url, "models", "activate", "no-such"])
    assert missing.exit_code == 1 and "no model version 'no-such'" in missing.output
