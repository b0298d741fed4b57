"""The upsell route: should this customer see an upgrade prompt, for which plan, when."""

import orjson
from fastapi import Request
from fastapi.responses import Response

from app.api.params import CUSTOMER_ID, path_id
from app.api.plain import PlainRoute
from app.observability.metrics import upsell_served
from app.serving.registry import Registry


async def upsell(request: Request) -> Response:
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
    customer_id = path_id(request, "customer_id")
    registry: Registry = request.app.state.registry
    answer = registry.for_customer(customer_id).upsell.answer(registry.engine, customer_id)
    upsell_served(UPSELL_ROUTE.path, answer["decision"])
    return Response(orjson.dumps(answer), media_type="application/json")


UPSELL_ROUTE = PlainRoute(
    path="/v1/customers/{customer_id}/upsell",
    handler=upsell,
    operation_id="upsell",
    tag="upsell",
    answer="UpsellAnswer",
    parameters=[CUSTOMER_ID],
    errors=("404", "422", "500", "503"),
)
