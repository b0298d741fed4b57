"""The application factory: one settings object, one engine, routes, the error shape."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

import app as package
from app import errors
from app.api import health, ingest, recommend
from app.db.engine import make_engine
from app.serving.registry import Refresher, Registry
from app.settings import Settings, get_settings


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
    app.state.registry = Registry(settings.model_dir, app.state.engine)
    errors.install(app)
    app.include_router(recommend.router)  # first: the hot routes are matched first
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated contract, plus the row schemas the bulk routes refer to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(ingest.row_schemas())
        app.openapi_schema = schema
    return app.openapi_schema
