"""`/v1/models`: the model registry over HTTP, as `nextbest models` does it from a shell.

Why the same functions as the CLI (`app.training.versions`): an activation or a rollback
only changes which row is active; every worker of every server switches on its own
next refresh (NEXTBEST_REFRESH_SECONDS), so the HTTP route and the CLI cannot behave
differently. Every route here needs the `admin` scope (app.auth.scopes).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app.api.deps import EngineDep
from app.errors import ERROR_RESPONSES, ErrorResponse, NextBestError, NotFound
from app.serving.registry import Registry
from app.training import versions

router = APIRouter(prefix="/v1", tags=["models"])

VERSION_PATTERN = r"^[0-9A-Za-z._-]+$"
Version = Annotated[str, Path(min_length=1, max_length=64, pattern=VERSION_PATTERN)]


class NothingToRollBack(NextBestError):
    """No version was active before the current one."""

    status = 409
    code = "conflict"


class ModelVersion(BaseModel):
    """One trained version: its status, the metric activation compared on, all metrics."""

    version: str
    status: Literal["candidate", "active", "retired", "rejected"]
    metric: str | None = Field(description="The metric activation compared on")
    metric_value: float | None
    metrics: dict[str, Any] = Field(
        description="The holdout metrics of training (empty without --holdout-days)"
    )
    training_seconds: float | None
    created_at: datetime
    activated_at: datetime | None = Field(description="When it last became active")
    note: str | None = Field(description="Why it was activated, rejected or rolled back")


class ModelsAnswer(BaseModel):
    """Every version, newest first."""

    active: str | None = Field(description="The version servers switch to")
    serving: str | None = Field(
        description="The version the worker that answered serves now; it follows `active` "
        "within NEXTBEST_REFRESH_SECONDS"
    )
    versions: list[ModelVersion]


class Activation(BaseModel):
    """The version now active, and when servers pick it up."""

    active: ModelVersion
    message: str


def version_answer(v: versions.Version) -> ModelVersion:
    return ModelVersion(
        version=v.version,
        status=v.status,  # the table's check constraint keeps it to the four
        metric=v.metric,
        metric_value=v.metric_value,
        metrics=v.metrics,
        training_seconds=v.training_seconds,
        created_at=v.created_at,
        activated_at=v.activated_at,
        note=v.note,
    )


def _activation(v: versions.Version, request: Request) -> Activation:
    seconds = request.app.state.settings.refresh_seconds
    when = f"within {seconds:g} s" if seconds > 0 else "when they restart (refresh is off)"
    return Activation(
        active=version_answer(v), message=f"{v.version} is active; servers switch to it {when}"
    )


@router.get(
    "/models",
    operation_id="list_models",
    response_model=ModelsAnswer,
    responses=ERROR_RESPONSES,
)
def list_models(request: Request, engine: EngineDep) -> ModelsAnswer:
    """Every trained version, newest first, with its status, metrics and note; which one
    is active, and which one this server answers from."""
    rows = versions.listed(engine)
    registry: Registry = request.app.state.registry
    current = registry.current
    return ModelsAnswer(
        active=next((v.version for v in rows if v.status == "active"), None),
        serving=None if current is None else current.version,
        versions=[version_answer(v) for v in rows],
    )


@router.post(
    "/models/{version}/activate",
    operation_id="activate_model",
    response_model=Activation,
    responses={404: {"model": ErrorResponse, "description": "Unknown version"}, **ERROR_RESPONSES},
)
async def activate_model(request: Request, engine: EngineDep, version: Version) -> Activation:
    """Make a version the active one, as `nextbest models activate` does (a rejected one
    too: that is the operator's call). Servers switch to it on their next refresh."""
    try:
        row = await run_in_threadpool(versions.activate, engine, version, "activated over HTTP")
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    return _activation(row, request)


@router.post(
    "/models/rollback",
    operation_id="rollback_model",
    response_model=Activation,
    responses={
        409: {"model": ErrorResponse, "description": "No earlier active version"},
        **ERROR_RESPONSES,
    },
)
async def rollback_model(request: Request, engine: EngineDep) -> Activation:
    """Activate the version that was active before the current one, as `nextbest models
    rollback` does."""
    try:
        row = await run_in_threadpool(versions.rollback, engine)
    except LookupError as exc:
        raise NothingToRollBack(str(exc)) from exc
    return _activation(row, request)
