"""Dependencies shared by routes: the settings, the database engine and the model
registry; and `serving`, the services a route answers with.

The dependencies are `async` and read memory only, so FastAPI runs them on the event
loop without a thread each; `serving`, which a route calls itself, reads the database
(the erasures another worker announced) in a thread.
"""

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy import Engine

from app.errors import ERROR_RESPONSES, ErrorResponse
from app.ingest.ids import ExternalId
from app.ingest.rows import PastTimestamp
from app.serving.registry import Registry
from app.serving.services import Services
from app.settings import Settings


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The app's database engine (one pool per process)."""
    engine: Engine = request.app.state.engine
    return engine


async def get_registry(request: Request) -> Registry:
    """The app's model registry."""
    registry: Registry = request.app.state.registry
    return registry


P = ParamSpec("P")
T = TypeVar("T")


async def in_answer_thread(
    request: Request, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`work` (an answer that reads the database) in the worker's answer thread.

    Why one thread per worker and not FastAPI's pool of forty (a `def` route): the
    answer is mostly Python holding the GIL, and sixteen threads taking turns at it
    spent three times the CPU per answer of one (bench/offers.py); the event loop
    stays free for every other request meanwhile, /healthz included. Why asyncio's
    executor and not anyio's worker threads: a hop cost 28 µs of CPU there against 80
    µs (16 concurrent hops, uvloop), and one is paid per answer.
    """
    executor: ThreadPoolExecutor = request.app.state.answers
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, partial(work, *args, **kwargs))


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RegistryDep = Annotated[Registry, Depends(get_registry)]


CustomerPath = Annotated[ExternalId, Path()]


def _iso_moment(value: Any) -> Any:
    """A moment written as ISO 8601, as the contract says, with one message for every
    other spelling: pydantic would take a number as epoch seconds ("0.5") and word each
    wrong spelling its own way ("input is too short", "unexpected extra characters")."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"{value!r} is not an ISO 8601 moment (e.g. 2026-07-01T00:00:00Z)")
    return value


def _not_ahead(value: datetime) -> datetime:
    """Not after now: rows may be stamped a little ahead (clocks differ), a moment asked
    for may not, or the guardrails' windows would slide past what was shown."""
    if value.timestamp() > time.time():
        raise ValueError(f"{value.isoformat()} is in the future")
    return value


AsOf = Annotated[
    Annotated[PastTimestamp, BeforeValidator(_iso_moment), AfterValidator(_not_ahead)] | None,
    Query(
        description="Answer as of this moment (ISO 8601, default now): subscriptions, plan "
        "changes, readings, tickets and purchases recorded after it do not exist for the "
        "answer. Not in the future, nor before 1970."
    ),
]


def seconds(moment: datetime | None) -> int | None:
    """Epoch seconds of an `AsOf` moment; None stays None (now)."""
    return None if moment is None else int(moment.timestamp())


# What a route answering from `serving` about one customer documents besides a 200.
CUSTOMER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorResponse, "description": "Unknown (or erased) customer"},
    503: {"model": ErrorResponse, "description": "No trained model yet"},
}


async def serving(registry: Registry, customer_id: str | None = None) -> Services:
    """The services of the model serving now, to answer about `customer_id` (None: an
    anonymous caller): 404 for an erased customer, whichever worker erased them (as for
    one that never existed), 503 before any model is trained.

    Called from the route, not as a dependency, so that a request's parameters are
    validated (422) before anything is looked up; the database read, when another
    worker announced an erasure, runs in a thread.
    """
    erased = registry.erased
    if erased.moved():
        await run_in_threadpool(erased.follow)
    erased.check(customer_id)
    return registry.get()
