"""The last-known active version, kept in the model directory beside the artifacts.

Why: the registry's table says which version serves, but a server started while the
database cannot be reached cannot read it. Whoever reads or sets the active row leaves
a copy here (training and `nextbest models activate|rollback` through
app.training.versions, each server's refresh when the active version changes), so such
a server loads the version that was active, not merely the newest artifact, which may
have been rejected or rolled back. The copy names a version; the artifact itself is
loaded and validated as usual.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

from app.state_files import read_json, write_json

log = logging.getLogger("nextbest")

FILE = ".active-version.json"  # in the model directory; not an artifact (no manifest)


def remember(model_dir: Path, version: str) -> bool:
    """Record `version` as the active one, unless the copy already says so; False when
    the directory does not exist (nothing trained here yet: nothing is written).

    Best effort: a directory that cannot be written is logged; serving does not depend
    on the copy while the database answers.
    """
    if not model_dir.is_dir():
        return False
    if _read(model_dir / FILE) == version:
        return True
    record = {"version": version, "recorded_at": datetime.now(UTC).isoformat()}
    try:
        write_json(model_dir / FILE, record, 0o644)
    except OSError as exc:
        log.warning("cannot record the active version in %s: %s", model_dir, exc)
    return True


def recall(model_dir: Path) -> str | None:
    """The version last recorded as active; None when there is no copy, or (logged)
    when it cannot be read or does not name a version."""
    path = model_dir / FILE
    try:
        return _checked(read_json(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("the copy of the active version %s is unusable, ignoring it: %s", path, exc)
        return None


def _read(path: Path) -> str | None:
    try:
        return _checked(read_json(path))
    except (OSError, ValueError):
        return None


def _checked(record: object) -> str:
    """The version in a record, which must be one directory name under the model dir."""
    version = record.get("version") if isinstance(record, dict) else None
    if not isinstance(version, str) or not version or version.startswith(".") or "/" in version:
        raise ValueError(f"no version name in {record!r:.80}")
    return version
