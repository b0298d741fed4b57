"""Profile routes for a CRM console: one customer's profile, and the segments overview."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.api.profile_answers import CustomerProfile, SegmentsAnswer
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.ingest.ids import ExternalId
from app.serving.registry import Registry

router = APIRouter(prefix="/v1", tags=["profiles"])

CustomerId = Annotated[ExternalId, Path()]
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "No trained model yet, or the database is down"},
}


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _json(answer: dict[str, Any]) -> Response:
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get(
    "/customers/{customer_id}/profile",
    operation_id="customer_profile",
    response_model=None,
    responses={
        200: {"model": CustomerProfile},
        404: {"model": ErrorResponse, "description": "Unknown customer"},
        **ERROR_RESPONSES,
        **UNAVAILABLE,
    },
)
def customer_profile(request: Request, customer_id: CustomerId) -> Response:
    """Who the customer is (account, country, marketing opt-out), their RFM scores and
    segment as of the model's training, the live subscription with usage against its
    limits and renewal date, open tickets, and the latest 20 purchase lines.

    The subscription, tickets and purchases are read live. A customer added after
    training has no RFM scores yet (`rfm` is null and `notes` says why).
    """
    # A plain `def`: the per-customer reads wait on the database, so they run in the
    # threadpool rather than holding up the event loop.
    registry = _registry(request)
    return _json(registry.for_customer(customer_id).profiles.answer(registry.engine, customer_id))


@router.get(
    "/segments",
    operation_id="segments",
    response_model=None,
    responses={200: {"model": SegmentsAnswer}, **ERROR_RESPONSES, **UNAVAILABLE},
)
async def segments(request: Request) -> Response:
    """Every RFM segment of the current model: customers, share, sales in the last 365
    days and per customer, the rule in words, and the facts each score starts at."""
    return _json(_registry(request).get().segments)
