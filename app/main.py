"""The application factory: one settings object, one engine, routes, the error shape."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool

import app as package
from app import errors
from app.api import campaigns, health, ingest, kpis, offers, profile, recommend, upsell
from app.api.answers import CrossSellAnswer, OffersAnswer, UpsellAnswer
from app.db.engine import make_engine
from app.errors import ErrorResponse
from app.reporting.segments import model_segments
from app.serving.offers import OfferPolicy
from app.serving.registry import Refresher, Registry
from app.settings import Settings, get_settings
from models.guardrails import Guardrails
from models.premium import Band
from models.upsell import Policy

PLAIN_ROUTES = (recommend.CROSS_SELL_ROUTE, upsell.UPSELL_ROUTE, offers.OFFERS_ROUTE)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A NextBest app for `settings` (default: from the environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry: Registry = app.state.registry
        await run_in_threadpool(registry.refresh)
        refresher = Refresher(registry, settings.refresh_seconds)
        if settings.refresh_seconds > 0:
            refresher.start()
        yield
        if settings.refresh_seconds > 0:
            refresher.stop()
        app.state.engine.dispose()

    app = FastAPI(
        title="NextBest",
        version=package.__version__,
        summary="Cross-sell and upsell recommendations with reasons, from purchase history.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    band = Band(settings.premium_min_ratio, settings.premium_max_ratio)
    policy = Policy(
        min_probability=settings.upsell_min_probability,
        max_price_multiple=settings.upsell_max_price_multiple,
        renewal_window_days=settings.upsell_renewal_window_days,
        trial_grace_days=settings.upsell_trial_grace_days,
    )
    offer_policy = OfferPolicy(
        guardrails=Guardrails(
            cap=settings.offer_cap,
            window_days=settings.offer_window_days,
            cooldown_days=settings.offer_cooldown_days,
        ),
        holdout_share=settings.holdout_share,
        holdout_salt=settings.holdout_salt,
        bundle_discount=settings.bundle_discount,
    )
    app.state.registry = Registry(settings.model_dir, app.state.engine, band, policy, offer_policy)
    app.state.segments = partial(model_segments, app.state.registry)  # for group_by=segment
    errors.install(app)
    for plain in PLAIN_ROUTES:  # the hottest routes first
        app.router.routes.insert(0, plain.route())
    app.include_router(recommend.router)
    app.include_router(campaigns.router)
    app.include_router(profile.router)
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(kpis.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated contract, plus the row schemas the bulk routes refer to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(ingest.row_schemas())
        answers = _model_schemas(CrossSellAnswer, UpsellAnswer, OffersAnswer, ErrorResponse)
        for name, model_schema in answers.items():
            components.setdefault(name, model_schema)
        for plain in PLAIN_ROUTES:
            schema["paths"][plain.path] = {"get": plain.operation()}
        app.openapi_schema = schema
    return app.openapi_schema


def _model_schemas(*models: type[BaseModel]) -> dict[str, Any]:
    """JSON schemas of models and the models they use, as OpenAPI components."""
    _, defs = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = defs.get("$defs", {})
    return schemas
