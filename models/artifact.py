"""Fitted models on disk: one `.npz` of arrays (no pickle) and a JSON manifest.

Why no pickle: an artifact is data, and loading one must never run code. Dataclasses
are flattened into named arrays (`cross_sell.ease.weights`, a sparse matrix as its
`.data/.indices/.indptr/.shape`) and rebuilt from their type hints; scalars go into the
manifest. The manifest's sha256 of the arrays file is checked on every load.
"""

import dataclasses
import hashlib
import json
import typing
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

ARRAYS, MANIFEST = "model.npz", "manifest.json"
T = TypeVar("T")


class ArtifactError(ValueError):
    """An artifact that is incomplete, altered or of another format."""


def pack(obj: Any, prefix: str = "") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Flatten a dataclass into (arrays, scalars) keyed by dotted field paths."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        key, value = prefix + f.name, getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            more, extra = pack(value, key + ".")
            arrays.update(more)
            scalars.update(extra)
        elif sp.issparse(value):
            csr = sp.csr_matrix(value)
            arrays.update(
                {
                    f"{key}.data": csr.data,
                    f"{key}.indices": csr.indices,
                    f"{key}.indptr": csr.indptr,
                    f"{key}.shape": np.array(csr.shape, dtype=np.int64),
                }
            )
        elif isinstance(value, np.ndarray):
            arrays[key] = value
        elif isinstance(value, list):
            arrays[key] = np.array(value, dtype=str)
        else:
            scalars[key] = value
    return arrays, scalars


def unpack(cls: type[T], arrays: Any, scalars: dict[str, Any], prefix: str = "") -> T:
    """Rebuild a dataclass of type `cls` from what `pack` produced."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key, hint = prefix + f.name, hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = unpack(hint, arrays, scalars, key + ".")  # type: ignore[arg-type]
        elif hint is sp.csr_matrix:
            shape = tuple(int(n) for n in arrays[f"{key}.shape"])
            parts = (arrays[f"{key}.data"], arrays[f"{key}.indices"], arrays[f"{key}.indptr"])
            values[f.name] = sp.csr_matrix(parts, shape=shape)
        elif hint is np.ndarray:
            values[f.name] = arrays[key]
        elif typing.get_origin(hint) is list:
            values[f.name] = arrays[key].tolist()
        else:
            values[f.name] = scalars[key]
    return cls(**values)


def save(directory: Path, arrays: dict[str, np.ndarray], manifest: dict[str, Any]) -> Path:
    """Write the arrays and the manifest (with their sha256) into a new directory."""
    directory.mkdir(parents=True, exist_ok=False)
    path = directory / ARRAYS
    np.savez(path, allow_pickle=False, **arrays)
    manifest = {**manifest, "sha256": _sha256(path), "arrays": ARRAYS}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return directory


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an artifact (not checked against the arrays)."""
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
        manifest["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{directory}: no readable {MANIFEST} ({exc})") from exc
    return manifest


def load(directory: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and manifest of an artifact, after checking the arrays' sha256."""
    manifest = read_manifest(directory)
    expected = manifest["sha256"]
    path = directory / ARRAYS
    if not path.is_file() or _sha256(path) != expected:
        raise ArtifactError(f"{path}: missing or its sha256 does not match the manifest")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return arrays, manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
