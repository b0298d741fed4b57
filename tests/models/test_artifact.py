"""Artifacts round-trip without pickle and refuse altered files."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from models import artifact
from models.engine import Engine, Items, Params, fit_engine
from models.history import History


def test_an_engine_round_trips_and_answers_the_same(
    blocks: tuple[History, Items, dict[int, int]], tmp_path: Path
) -> None:
    history, items, _ = blocks
    engine = fit_engine(history, items, np.zeros(history.n_customers, int), 1, Params(factors=8))
    arrays, scalars = artifact.pack(engine)
    path = artifact.save(tmp_path / "v1", arrays, {"scalars": scalars})
    loaded_arrays, manifest = artifact.load(path)
    loaded = artifact.unpack(Engine, loaded_arrays, manifest["scalars"])
    owned = np.array([0, 1, 2])
    assert np.array_equal(loaded.cross_sell.score(owned), engine.cross_sell.score(owned))
    assert loaded.cross_sell.weights == engine.cross_sell.weights
    assert (loaded.baskets.support != engine.baskets.support).nnz == 0
    assert len(manifest["sha256"]) == 64


def test_an_altered_or_incomplete_artifact_is_refused(tmp_path: Path) -> None:
    path = artifact.save(tmp_path / "v1", {"x": np.arange(3)}, {})
    with (path / artifact.ARRAYS).open("ab") as f:
        f.write(b"tampered")
    with pytest.raises(artifact.ArtifactError, match="sha256"):
        artifact.load(path)
    (path / artifact.MANIFEST).unlink()
    with pytest.raises(artifact.ArtifactError, match="manifest"):
        artifact.load(path)


def test_object_arrays_are_never_loaded(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        artifact.save(tmp_path / "v1", {"x": np.array([{"a": 1}], dtype=object)}, {})


def test_an_artifact_holding_pickled_objects_is_refused_even_with_a_valid_checksum(
    tmp_path: Path,
) -> None:
    """Loading never unpickles: an object array planted in the file stays unread."""
    path = artifact.save(tmp_path / "v1", {"x": np.arange(3)}, {})
    np.savez(path / artifact.ARRAYS, x=np.array([{"run": "code"}], dtype=object))
    manifest = json.loads((path / artifact.MANIFEST).read_text())
    manifest["sha256"] = hashlib.sha256((path / artifact.ARRAYS).read_bytes()).hexdigest()
    (path / artifact.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="allow_pickle"):
        artifact.load(path)
