"""The outcome of the last training run, for the server's /metrics.

Why a file next to the artifacts: training runs in another process (`nextbest train`,
often a cron job), and a run that fails writes no model version; the file records
every outcome, activated, rejected or failed, where every server already looks. When
there is no file (models trained before it existed, or by code calling
`app.training.train` directly), the newest row of the model registry says what it can;
the app hands that row in, as observability imports none of the service's layers.
"""

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

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


class Registered(Protocol):
    """A row of the model registry, as far as this module reads it."""

    @property
    def version(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def training_seconds(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...


def finished(model_dir: Path, version: Registered, seconds: float) -> None:
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


def last(model_dir: Path, newest: Callable[[], Registered | None]) -> Training | None:
    """The newest training run known, from the file or else from the registry's newest
    row (`newest`, which the app wires to the registry table)."""
    try:
        data = json.loads((model_dir / FILE).read_text(encoding="utf-8"))
        found = Training(**data)
        if found.outcome in OUTCOMES:
            return found
    except (OSError, ValueError, TypeError):
        pass
    row = newest()
    if row is None:
        return None
    return Training(
        outcome=outcome(row.status),
        seconds=row.training_seconds or 0.0,
        finished_at=row.created_at.timestamp(),
        version=row.version,
    )
