"""Liveness and readiness, outside /v1 and without authentication."""

from typing import Literal

from fastapi import APIRouter
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
    """Whether the service can answer, and what is missing if not."""

    status: Literal["ready", "not_ready"]
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
def readyz(engine: EngineDep) -> Readiness | JSONResponse:
    """Ready when the database answers and its schema is at the newest migration."""
    checks = {"database": _database(engine)}
    ready = all(c.ok for c in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    if ready:
        return body
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
