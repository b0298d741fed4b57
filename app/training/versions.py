"""The model registry's table: every trained version, its metric, and the active one.

Why a table and not "the newest directory wins": a model that scores worse than the
one serving must not replace it just by being newer, an operator must be able to go
back to an earlier one, and every worker of every server must agree on which one
serves. Training writes a row and decides activation (`register`); servers poll the
active row (`active`); `nextbest models` lists, activates and rolls back.

Activation: a new version becomes active when no version is, when it is not worse
than the active one on the configured metric (within a tolerance), when either lacks
the metric (there is nothing to compare: train with --holdout-days to compare), or
when forced. Otherwise it is kept as `rejected`, with the comparison as its note.

Each activation here also records the version in the model directory that holds its
artifact (app.training.active_copy), for servers started while the database is down.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from app.db import tables
from app.training import active_copy

V = tables.model_version


@dataclass(frozen=True)
class Version:
    """One row of the registry."""

    version: str
    path: str
    status: str
    metric: str | None
    metric_value: float | None
    metrics: dict[str, Any]
    training_seconds: float | None
    created_at: datetime
    activated_at: datetime | None
    note: str | None


def register(
    engine: Engine,
    path: Path,
    manifest: dict[str, Any],
    seconds: float,
    metric: str,
    tolerance: float = 0.0,
    force: bool = False,
) -> Version:
    """Record a new version and activate it if the rules above allow; returns its row."""
    metrics = _finite(manifest.get("metrics") or {})
    value = metrics.get(metric)
    with engine.begin() as conn:
        current = _active(conn)
        status, note = _verdict(current, metric, value, tolerance, force)
        now = datetime.now(UTC)
        if status == "active":
            _retire(conn)
        conn.execute(
            insert(V).values(
                version=manifest["version"],
                path=str(path),
                status=status,
                metric=metric,
                metric_value=None if value is None else float(value),
                metrics=metrics,
                training_seconds=round(seconds, 3),
                created_at=now,
                activated_at=now if status == "active" else None,
                note=note,
            )
        )
    found = find(engine, manifest["version"])
    assert found is not None
    if found.status == "active":
        _remember(found)
    return found


def _verdict(
    current: Version | None, metric: str, value: Any, tolerance: float, force: bool
) -> tuple[str, str | None]:
    """(status, note) of a new version against the active one."""
    if current is None:
        return "active", "the first version"
    if force:
        return "active", f"forced over {current.version}"
    if value is None or current.metric_value is None:
        return "active", f"not compared: no {metric} for one of the two (train with --holdout-days)"
    floor = current.metric_value * (1 - tolerance)
    if float(value) >= floor:
        return (
            "active",
            f"{metric} {float(value):.4f} >= {current.metric_value:.4f} of {current.version}",
        )
    return "rejected", (
        f"{metric} {float(value):.4f} is worse than {current.metric_value:.4f} of the active "
        f"{current.version}; `nextbest models activate {current.version}` keeps it, "
        "--force activates anyway"
    )


def active(engine: Engine) -> Version | None:
    """The version servers should serve, if any."""
    with engine.connect() as conn:
        return _active(conn)


def listed(engine: Engine) -> list[Version]:
    """Every version, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(V).order_by(V.c.created_at.desc(), V.c.id.desc())).all()
    return [_version(r) for r in rows]


def find(engine: Engine, version: str) -> Version | None:
    with engine.connect() as conn:
        row = conn.execute(select(V).where(V.c.version == version)).first()
    return None if row is None else _version(row)


def activate(engine: Engine, version: str, note: str) -> Version:
    """Make `version` the active one (the others are retired or stay rejected)."""
    with engine.begin() as conn:
        row = conn.execute(select(V.c.id).where(V.c.version == version)).first()
        if row is None:
            raise LookupError(f"no model version {version!r}: see `nextbest models list`")
        _retire(conn)
        conn.execute(
            update(V)
            .where(V.c.version == version)
            .values(status="active", activated_at=datetime.now(UTC), note=note)
        )
    found = find(engine, version)
    assert found is not None
    _remember(found)
    return found


def rollback(engine: Engine) -> Version:
    """Activate the version that was active before the current one."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(V.c.version, V.c.status)
            .where(V.c.activated_at.is_not(None))
            .order_by(V.c.activated_at.desc(), V.c.id.desc())
        ).all()
    current = next((r[0] for r in rows if r[1] == "active"), None)
    earlier = [r[0] for r in rows if r[0] != current]
    if not earlier:
        raise LookupError("no earlier active version to roll back to")
    return activate(engine, earlier[0], f"rolled back from {current}")


def _finite(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics without NaN or infinities, which JSON columns refuse."""
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in metrics.items()
    }


def _active(conn: Connection) -> Version | None:
    row = conn.execute(select(V).where(V.c.status == "active").order_by(V.c.id.desc())).first()
    return None if row is None else _version(row)


def _remember(row: Version) -> None:
    """Copy the activation beside the artifact, when it is on this machine (the row's
    path is where training wrote it, which a server elsewhere may not share)."""
    artifact = Path(row.path)
    if artifact.is_dir():
        active_copy.remember(artifact.parent, row.version)


def _retire(conn: Connection) -> None:
    conn.execute(update(V).where(V.c.status == "active").values(status="retired"))


def _version(row: Any) -> Version:
    m = row._mapping
    return Version(
        version=m["version"],
        path=m["path"],
        status=m["status"],
        metric=m["metric"],
        metric_value=None if m["metric_value"] is None else float(m["metric_value"]),
        metrics=m["metrics"] or {},
        training_seconds=None if m["training_seconds"] is None else float(m["training_seconds"]),
        created_at=m["created_at"],
        activated_at=m["activated_at"],
        note=m["note"],
    )
