"""The application factory: one settings object, one engine, routes, the error shape."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import app as package
from app import errors
from app.api import (
    campaigns,
    contract,
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
from app.api.fast_lane import FastLane
from app.api.limits import UrlLimit
from app.auth import key_copy
from app.auth.keys import KeyStore
from app.auth.middleware import ApiKeys
from app.db.engine import make_engine
from app.observability import scrape
from app.reporting.segments import model_segments
from app.serving.offers import OfferPolicy
from app.serving.registry import Refresher, Registry
from app.settings import Settings, get_settings
from app.ui import Console
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
        await run_in_threadpool(keys.sync)  # the copy a restart during an outage checks with
        refresher = Refresher((registry.refresh, keys.sync), settings.refresh_seconds)
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
        docs_url=None,  # app.api.docs serves /docs and /redoc with their files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    band, policy, offer_policy = _policies(settings)
    app.state.registry = Registry(settings.model_dir, app.state.engine, band, policy, offer_policy)
    app.state.segments = partial(model_segments, app.state.registry)  # for group_by=segment
    errors.install(app)
    keys = KeyStore(
        app.state.engine, settings.key_cache_seconds, settings.model_dir / key_copy.FILE
    )
    app.add_middleware(ApiKeys, keys=keys)
    hottest = [plain.route() for plain in PLAIN_ROUTES]
    app.router.routes[:0] = hottest  # first in the router too, for HEAD and the contract
    # /metrics; every request counted, timed and given an id, the hottest served first
    scrape.install(app, lambda stack: UrlLimit(FastLane(stack, app, hottest, keys)))
    app.include_router(recommend.router)
    app.include_router(campaigns.router)
    app.include_router(profile.router)
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(kpis.router)
    app.include_router(privacy.router)
    for console_api in (overview, models_routes, imports, purchases, kpi_series):
        app.include_router(console_api.router)  # the routes the web console calls, for all
    docs.install(app)
    app.mount("/ui", Console(), name="ui")
    app.openapi = lambda: contract.openapi(app, PLAIN_ROUTES)  # type: ignore[method-assign]
    return app


def _policies(settings: Settings) -> tuple[Band, Policy, OfferPolicy]:
    """The premium band, the upsell rules and the offer guardrails, from the settings."""
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
    return band, policy, offer_policy
