"""`GET /v1/overview`: how much data there is, how fresh it is, which model serves.

Why one route: a console's first page, a monitoring probe and a person asking "is the
nightly import in?" need the same few facts, and five counts in one round trip are
cheaper than five. The recent imports are given as counts and reasons with their values
blanked (the import log's `reject_reasons`), so a `read` key sees why rows were refused
without seeing the rows; the rows themselves are `GET /v1/imports` (admin).
"""

from datetime import datetime
from typing import Any, Self

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from app.api.deps import EngineDep
from app.api.models_routes import ModelVersion, version_answer
from app.db import tables
from app.errors import ERROR_RESPONSES
from app.serving.registry import Registry
from app.training import versions

router = APIRouter(prefix="/v1", tags=["overview"])

RECENT_IMPORTS = 10


class Counts(BaseModel):
    """Rows in the database now."""

    customers: int
    items: int
    purchases: int = Field(description="Purchase lines (sales and returns)")
    subscriptions: int = Field(description="Every subscription, ended ones included")
    live_subscriptions: int = Field(description="Trial, active or past due")
    offer_events: int


class Freshness(BaseModel):
    """How recent the data and the model are (null: nothing yet)."""

    newest_purchase_at: datetime | None
    last_import_at: datetime | None = Field(description="The end of the newest import run")
    last_training_at: datetime | None = Field(description="When the newest version was trained")


class ImportSummary(BaseModel):
    """One import run: its counts and why rows were refused (values blanked)."""

    run_id: int
    target: str = Field(examples=["purchases", "events"])
    finished_at: datetime
    submitted: int
    accepted: int
    rejected: int
    inserted: int
    updated: int
    unchanged: int
    reject_reasons: dict[str, int] = Field(
        description="Refused rows by reason, quoted values blanked",
        examples=[{"customer_id: unknown customer '…'": 3}],
    )

    @classmethod
    def of(cls, run: Any, **more: Any) -> Self:
        """From an `import_run` row (its notes hold the reasons), plus a subclass's fields."""
        counts = {name: getattr(run, name) for name in RUN_FIELDS}
        reasons = (run.notes or {}).get("reject_reasons", {})
        return cls(run_id=run.id, reject_reasons=reasons, **counts, **more)


RUN_FIELDS = (
    *("target", "finished_at", "submitted", "accepted", "rejected"),
    *("inserted", "updated", "unchanged"),
)


class Overview(BaseModel):
    """Counts, freshness, the active model with its metrics, the latest imports."""

    counts: Counts
    freshness: Freshness
    active_model: ModelVersion | None = Field(description="null: nothing trained yet")
    serving: str | None = Field(description="The version the answering worker serves now")
    recent_imports: list[ImportSummary] = Field(description=f"The latest {RECENT_IMPORTS} runs")


@router.get(
    "/overview", operation_id="overview", response_model=Overview, responses=ERROR_RESPONSES
)
def overview(request: Request, engine: EngineDep) -> Overview:
    """Rows per table, the newest purchase, import and training, the active model
    version with its offline metrics, and the latest import runs with their reject
    counts by reason.

    Counts are exact (`COUNT(*)`): on tens of millions of purchase lines this takes a
    moment on PostgreSQL; it is a console's page, not a hot path.
    """
    registry: Registry = request.app.state.registry
    current = registry.current
    active = versions.active(engine)
    counts, freshness = _facts(engine)
    return Overview(
        counts=Counts(**counts),
        freshness=Freshness(**freshness),
        active_model=None if active is None else version_answer(active),
        serving=None if current is None else current.version,
        recent_imports=_recent_imports(engine),
    )


def _facts(engine: Engine) -> tuple[dict[str, Any], dict[str, Any]]:
    t = tables
    live = t.subscription.c.status.in_(("trial", "active", "past_due"))
    with engine.connect() as conn:

        def one(query: Any) -> Any:
            return conn.execute(query).scalar()

        counts = {
            "customers": one(select(func.count()).select_from(t.customer)),
            "items": one(select(func.count()).select_from(t.item)),
            "purchases": one(select(func.count()).select_from(t.purchase)),
            "subscriptions": one(select(func.count()).select_from(t.subscription)),
            "live_subscriptions": one(select(func.count()).where(live)),
            "offer_events": one(select(func.count()).select_from(t.offer_event)),
        }
        freshness = {
            "newest_purchase_at": one(select(func.max(t.purchase.c.purchased_at))),
            "last_import_at": one(select(func.max(t.import_run.c.finished_at))),
            "last_training_at": one(select(func.max(t.model_version.c.created_at))),
        }
    return counts, freshness


def _recent_imports(engine: Engine) -> list[ImportSummary]:
    run = tables.import_run
    query = select(run).order_by(run.c.finished_at.desc(), run.c.id.desc()).limit(RECENT_IMPORTS)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [ImportSummary.of(r) for r in rows]
