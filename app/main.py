"""The application factory: one settings object, one engine, the registry and the key
store, the routes, the middleware and the error shape, wired in one place.

Every /v1 router is included with the security dependency that checks the API key
(`app.api.security`), so a route added to one is protected; health, metrics, the docs
and the console's files answer without a key.
"""

import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Security
from starlette.concurrency import run_in_threadpool

import app as package
from app import errors
from app.api import (
    campaigns,
    docs,
    health,
    imports,
    ingest,
    kpi_series,
    kpis,
    models_routes,
    offers,
    overview,
    privacy,
    profile,
    purchases,
    recommend,
    upsell,
)
from app.api.limits import UrlLimit
from app.api.security import KEY_RESPONSES, api_key, unmatched
from app.auth import key_copy
from app.auth.keys import KeyStore
from app.db.engine import make_engine
from app.observability import scrape
from app.observability.middleware import Observed
from app.observability.training import Training, last
from app.reporting.segments import model_segments
from app.serving.memory import map_large_blocks
from app.serving.offers import OfferPolicy
from app.serving.registry import Refresher, Registry
from app.serving.services import Policies
from app.settings import Settings, get_settings
from app.training import versions
from app.ui import Console
from models.guardrails import Guardrails
from models.premium import Band
from models.upsell import Policy

SWITCH_SECONDS = 0.001  # how long a thread holds the GIL before it must offer it
V1_ROUTERS = (
    recommend,
    upsell,
    offers,
    profile,
    campaigns,
    ingest,
    kpis,
    kpi_series,
    privacy,
    overview,
    models_routes,
    imports,
    purchases,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A NextBest app for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    registry = Registry(settings.model_dir, engine, policies(settings))
    keys = KeyStore(engine, settings.key_cache_seconds, settings.model_dir / key_copy.FILE)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scrape.forget_gone_workers()
        # The event loop and the answer thread hand the GIL to each other on every
        # answer; at Python's default of 5 ms a finished answer waited that long for
        # the loop to send it (offers, 1 worker: 598 answers/s, 852 at 1 ms).
        sys.setswitchinterval(SWITCH_SECONDS)
        map_large_blocks()  # before the first model loads (app.serving.memory)
        await run_in_threadpool(registry.refresh)
        await run_in_threadpool(keys.sync)  # the copy a restart during an outage checks with
        refresher = Refresher((registry.refresh, keys.sync), settings.refresh_seconds)
        if settings.refresh_seconds > 0:
            refresher.start()
        yield
        if settings.refresh_seconds > 0:
            refresher.stop()
        answers.shutdown()
        engine.dispose()

    app = FastAPI(
        title="NextBest",
        version=package.__version__,
        summary="Cross-sell and upsell recommendations with reasons, from purchase history.",
        lifespan=lifespan,
        docs_url=None,  # app.api.docs serves the pages with their files (no CDN)
        redoc_url=None,
    )
    app.state.settings, app.state.engine = settings, engine
    app.state.registry, app.state.keys = registry, keys
    answers = ThreadPoolExecutor(1, "nextbest-answers")  # app.api.deps.in_answer_thread
    app.state.answers = answers
    app.state.segments = lambda: model_segments(registry.current)  # for group_by=segment
    errors.install(app)
    for status in (404, 405):  # a path or method no route serves, after the key
        app.add_exception_handler(status, unmatched)
    app.add_middleware(UrlLimit)
    app.add_middleware(Observed)  # outermost of ours: it sees every answer, a 414 too
    for module in V1_ROUTERS:  # every /v1 route: the API key, with the scope it needs
        app.include_router(module.router, dependencies=[Security(api_key)], responses=KEY_RESPONSES)
    app.include_router(health.router)
    scrape.install(app, lambda: _serving(registry), lambda: _last_training(registry))
    docs.install(app)
    app.mount("/ui", Console(), name="ui")
    return app


def _serving(registry: Registry) -> tuple[str, str | None] | None:
    current = registry.current
    return None if current is None else (current.version, current.manifest.get("created_at"))


def _last_training(registry: Registry) -> Training | None:
    return last(registry.model_dir, lambda: next(iter(versions.listed(registry.engine)), None))


def policies(settings: Settings) -> Policies:
    """The premium band, the upsell rules and the offer guardrails, from the settings."""
    return Policies(
        band=Band(settings.premium_min_ratio, settings.premium_max_ratio),
        upsell=Policy(
            min_probability=settings.upsell_min_probability,
            max_price_multiple=settings.upsell_max_price_multiple,
            renewal_window_days=settings.upsell_renewal_window_days,
            trial_grace_days=settings.upsell_trial_grace_days,
            min_billing_saving=settings.upsell_min_billing_saving,
            churn_lift=settings.upsell_churn_lift,
            churn_floor=settings.upsell_churn_floor,
        ),
        offers=OfferPolicy(
            guardrails=Guardrails(
                cap=settings.offer_cap,
                window_days=settings.offer_window_days,
                cooldown_days=settings.offer_cooldown_days,
            ),
            holdout_share=settings.holdout_share,
            holdout_salt=settings.holdout_salt,
            bundle_discount=settings.bundle_discount,
        ),
    )
