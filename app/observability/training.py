"""The outcome of the last training run, for the server's /metrics.

Why a file next to the artifacts: training runs in another process (`nextbest train`,
often a cron job), and a run that fails writes no model version; the file records
every outcome, activated, rejected or failed, where every server already looks. When
there is no file (models trained before it existed, or by code calling
`app.training.train` directly), the newest row of the model registry says what it can.
"""

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine

from app.training import versions

FILE = "last-training.json"
OUTCOMES = ("activated", "rejected", "failed")


@dataclass(frozen=True)
class Training:
    """One training run: how it ended, how long it took, when it finished."""

    outcome: str  # one of OUTCOMES
    seconds: float
    finished_at: float  # epoch seconds
    version: str | None = None


def record(model_dir: Path, training: Training) -> None:
    """Write the run's outcome to model_dir (atomically: a reader never sees half)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    partial = model_dir / f".{FILE}.{os.getpid()}"
    partial.write_text(json.dumps(asdict(training)), encoding="utf-8")
    partial.replace(model_dir / FILE)


def finished(model_dir: Path, version: versions.Version, seconds: float) -> None:
    """Record a run that registered `version` (active or rejected)."""
    record(model_dir, Training(outcome(version.status), seconds, time.time(), version.version))


def failed(model_dir: Path, seconds: float) -> None:
    """Record a run that ended in an error, if there are models to serve: a first run
    that fails leaves no trace on disk."""
    if model_dir.is_dir():
        record(model_dir, Training("failed", seconds, time.time()))


def outcome(status: str) -> str:
    """A registry status as a training outcome: rejected, or activated."""
    return "rejected" if status == "rejected" else "activated"


def last(model_dir: Path, engine: Engine) -> Training | None:
    """The newest training run known, from the file or else from the registry."""
    try:
        data = json.loads((model_dir / FILE).read_text(encoding="utf-8"))
        found = Training(**data)
        if found.outcome in OUTCOMES:
            return found
    except (OSError, ValueError, TypeError):
        pass
    newest = next(iter(versions.listed(engine)), None)
    if newest is None:
        return None
    return Training(
        outcome=outcome(newest.status),
        seconds=newest.training_seconds or 0.0,
        finished_at=newest.created_at.timestamp(),
        version=newest.version,
    )
