"""The offers route: the next best offers of every kind for one customer."""

import orjson
from fastapi import Request
from fastapi.responses import Response

from app.api.answers import OffersQuery
from app.api.params import CUSTOMER_ID, parse_query, path_id, query_parameters
from app.api.plain import PlainRoute
from app.observability.metrics import offers_served
from app.serving.offers import OfferRequest
from app.serving.registry import Registry


async def offers(request: Request) -> Response:
    """Next best offers of every kind (upgrade, billing, retention, cross-sell, bundle,
    replenishment, premium, expansion), ranked by expected value, each with its
    probability, value, reasons, timing and channel.

    The guardrails hold back offers to customers in the holdout, who opted out or have
    an open complaint (retention offers excepted), offers dismissed within the
    cool-down, a second upsell, and anything over the frequency cap counted from the
    customer's impressions. `explain=true` lists what was held back and by which rule.
    """
    customer_id = path_id(request, "customer_id")
    query = parse_query(request, OffersQuery)
    registry: Registry = request.app.state.registry
    asked = OfferRequest(customer_id, query.limit, tuple(query.kinds), query.channel, query.explain)
    answer = registry.for_customer(customer_id).offers.answer(registry.engine, asked)
    offers_served(OFFERS_ROUTE.path, answer["offers"])
    return Response(orjson.dumps(answer), media_type="application/json")


OFFERS_ROUTE = PlainRoute(
    path="/v1/customers/{customer_id}/offers",
    handler=offers,
    operation_id="offers",
    tag="offers",
    answer="OffersAnswer",
    parameters=[CUSTOMER_ID, *query_parameters(OffersQuery)],
    errors=("404", "422", "500", "503"),
)
