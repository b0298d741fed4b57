"""Liveness and readiness, outside /v1 and without authentication."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import EngineDep
from app.db.migrate import schema_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Check(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str


class Readiness(BaseModel):
    """Whether the service can answer, and what is missing or degraded if not."""

    status: Literal["ready", "degraded", "not_ready"]
    checks: dict[str, Check]


@router.get("/healthz", operation_id="health", response_model=Health)
def healthz() -> Health:
    """The process answers HTTP; says nothing about its dependencies."""
    return Health()


@router.get(
    "/readyz",
    operation_id="readiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
def readyz(request: Request, engine: EngineDep) -> Readiness | JSONResponse:
    """Ready when the database answers and its schema is at the newest migration.

    Degraded (still 200: the instance answers recommendation reads from its model) when
    the database cannot be reached but a model is loaded; writes answer 503 meanwhile.
    Not ready (503) when the database is behind on migrations, or down with no model.
    """
    current = request.app.state.registry.current
    model = Check(
        ok=current is not None,
        detail=f"serving {current.version}" if current else "no model loaded yet",
    )
    database = _database(engine)
    checks = {"database": database, "model": model}
    if database.ok:
        return Readiness(status="ready", checks=checks)
    if model.ok and database.detail.startswith("unreachable"):
        return Readiness(status="degraded", checks=checks)
    body = Readiness(status="not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})


def _database(engine: EngineDep) -> Check:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current, head = schema_revision(conn)
    except SQLAlchemyError as exc:
        return Check(ok=False, detail=f"unreachable: {type(exc).__name__}")
    if current != head:
        return Check(ok=False, detail=f"schema at {current}, needs {head}: run nextbest init-db")
    return Check(ok=True, detail=f"{engine.dialect.name}, schema {current}")
