"""The upsell route: should this customer see an upgrade prompt, for which plan, when."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.api.answers import UpsellAnswer
from app.api.params import ID_MAX, ID_PATTERN
from app.api.recommend import RESPONSES
from app.errors import ErrorResponse
from app.serving.registry import Registry

router = APIRouter(prefix="/v1", tags=["upsell"])

CustomerId = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


@router.get(
    "/customers/{customer_id}/upsell",
    operation_id="upsell",
    response_model=None,
    responses={200: {"model": UpsellAnswer}, 404: {"model": ErrorResponse}, **RESPONSES},
)
async def upsell(request: Request, customer_id: CustomerId) -> Response:
    """A plan-ladder suggestion: upgrade (now, at renewal or at the trial's end),
    monthly to annual billing with the yearly saving, a retention offer for a customer
    at risk, or "not now" with why (no plan, open complaint, trial just started, top
    tier, price over the limit, low loyalty, no need).

    Reads the customer's live subscription, usage and tickets, so a complaint opened a
    minute ago already counts. An unknown customer is a 404.
    """
    # The five indexed reads and the decision take well under a millisecond, so they run
    # on the event loop: a threadpool hop per request made the GIL the bottleneck and
    # doubled the p99 latency under load (bench/upsell.py).
    registry: Registry = request.app.state.registry
    answer = registry.get().upsell.answer(registry.engine, customer_id)
    return Response(orjson.dumps(answer), media_type="application/json")
