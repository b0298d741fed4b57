"""The last-known active version, recorded in the model directory by every activation
and by the server's refresh, and what a server started without its database loads:
that version, else (with a warning) the newest artifact that loads; a corrupt record is
a warning, and the log says what really happened.
"""

import json
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.serving.registry import Registry
from app.training import active_copy, versions
from app.training.train import train

from ..api.test_cross_sell_api import load_demo
from .test_registry import copy_version, nan_factors


def test_activation_is_recorded_beside_the_artifact(engine: Engine, tmp_path: Path) -> None:
    models = tmp_path / "models"
    for name in ("a", "b"):
        (models / name).mkdir(parents=True)
    manifest = {"format": "x", "created_at": "now", "metrics": {}}
    versions.register(engine, models / "a", {**manifest, "version": "a"}, 1.0, "NDCG@10")
    assert active_copy.recall(models) == "a"
    versions.register(engine, models / "b", {**manifest, "version": "b"}, 1.0, "NDCG@10")
    assert active_copy.recall(models) == "b"
    versions.rollback(engine)
    assert active_copy.recall(models) == "a"
    elsewhere = tmp_path / "another-host" / "c"  # an artifact this machine does not have
    versions.register(engine, elsewhere, {**manifest, "version": "c"}, 1.0, "NDCG@10")
    assert active_copy.recall(models) == "a" and not elsewhere.parent.exists()


@pytest.mark.parametrize(
    "content", [b"", b"[1, 2]", b'{"version": "../../etc"}', b'{"version": ".erasures"}']
)
def test_a_corrupt_active_copy_is_ignored_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    assert active_copy.recall(tmp_path) is None  # none yet: nothing to say
    (tmp_path / active_copy.FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="nextbest"):
        assert active_copy.recall(tmp_path) is None
    assert "unusable" in caplog.text
    active_copy.remember(tmp_path, "20240101T000000000000Z")  # and the next write mends it
    assert active_copy.recall(tmp_path) == "20240101T000000000000Z"


@pytest.fixture(scope="module")
def artifacts_on_disk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A model directory with one trained artifact: (directory, version)."""
    directory = tmp_path_factory.mktemp("on-disk")
    url = f"sqlite:///{directory / 'shop.db'}"
    upgrade(url)
    load_demo(url, directory, 300)
    engine = make_engine(url)
    version = str(train(engine, directory / "models").manifest["version"])
    engine.dispose()
    return directory / "models", version


@pytest.fixture
def models(artifacts_on_disk: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """A copy of it per test, with a newer good artifact and a newest broken one."""
    source, trained = artifacts_on_disk
    models = tmp_path / "models"
    shutil.copytree(source, models)
    copy_version(models, trained, "29990101T000000000000Z")
    copy_version(models, trained, "29991231T000000000000Z", nan_factors)
    return models, trained


def started_offline(models: Path, down: Engine, caplog: pytest.LogCaptureFixture) -> Registry:
    registry = Registry(models, down)
    with caplog.at_level(logging.INFO, logger="nextbest"):
        registry.refresh()
    assert "keeping the current model" not in caplog.text
    return registry


def test_a_start_without_the_database_loads_the_recorded_version(
    models: tuple[Path, str], down: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    directory, trained = models
    assert active_copy.recall(directory) == trained  # training recorded it
    registry = started_offline(directory, down, caplog)
    assert registry.current is not None and registry.current.version == trained
    assert f"serving {trained}, the active version last recorded" in caplog.text


@pytest.mark.parametrize("record", [None, "29991231T000000000000Z", "19990101T000000000000Z"])
def test_without_a_usable_record_the_newest_artifact_that_loads_serves(
    models: tuple[Path, str], down: Engine, caplog: pytest.LogCaptureFixture, record: str | None
) -> None:
    directory, _ = models
    (directory / active_copy.FILE).unlink()
    if record is not None:  # a broken artifact, or one that is gone
        (directory / active_copy.FILE).write_text(json.dumps({"version": record}))
    registry = started_offline(directory, down, caplog)
    assert registry.current is not None
    assert registry.current.version == "29990101T000000000000Z"  # the newest that loads
    assert "may not be the active one" in caplog.text


def test_with_no_model_on_disk_it_says_so(
    tmp_path: Path, down: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    registry = started_offline(tmp_path, down, caplog)
    assert registry.current is None
    assert "no model in" in caplog.text and "nothing to serve" in caplog.text
