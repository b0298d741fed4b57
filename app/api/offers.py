"""The offers route: the next best offers of every kind for one customer."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.deps import (
    CUSTOMER_RESPONSES,
    AsOf,
    CustomerPath,
    RegistryDep,
    in_answer_thread,
    seconds,
    serving,
)
from app.api.schemas import OffersQuery
from app.observability.metrics import offers_served
from app.serving.answers import OffersAnswer
from app.serving.offers import OfferRequest

router = APIRouter(prefix="/v1", tags=["offers"])
ROUTE = "/v1/customers/{customer_id}/offers"


@router.get(ROUTE.removeprefix("/v1"), operation_id="offers", responses=CUSTOMER_RESPONSES)
async def offers(
    customer_id: CustomerPath,
    query: Annotated[OffersQuery, Query()],
    registry: RegistryDep,
    request: Request,
    as_of: AsOf = None,
) -> OffersAnswer:
    """Next best offers of every kind (upgrade, billing, retention, cross-sell, bundle,
    replenishment, premium, expansion), ranked by expected value, each with its
    probability, value, reasons, timing and channel.

    The guardrails hold back offers to customers in the holdout, who opted out or have
    an open complaint (retention offers excepted), offers dismissed within the
    cool-down, a second upsell, and anything over the frequency cap counted from the
    customer's impressions. `explain=true` lists what was held back and by which rule.
    The customer's flags, events and subscription are read per request (in the
    worker's answer thread, off the event loop).

    With `as_of`, the answer is the one of that moment: the events, the subscription,
    the tickets and the purchases (the customer's and their account's) recorded after
    it do not exist for it. The marketing opt-out and the account's membership are
    today's: neither has a history.
    """
    asked = OfferRequest(
        customer_id, query.limit, tuple(query.kinds), query.channel, query.explain, seconds(as_of)
    )
    services = await serving(registry, customer_id)
    answer = await in_answer_thread(request, services.offers.answer, registry.engine, asked)
    offers_served(ROUTE, answer["offers"])
    return answer
