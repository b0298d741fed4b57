"""The upsell route: should this customer see an upgrade prompt, for which plan, when."""

from fastapi import APIRouter, Request

from app.api.deps import (
    CUSTOMER_RESPONSES,
    AsOf,
    CustomerPath,
    RegistryDep,
    in_answer_thread,
    seconds,
    serving,
)
from app.observability.metrics import upsell_served
from app.serving.answers import UpsellAnswer

router = APIRouter(prefix="/v1", tags=["upsell"])
ROUTE = "/v1/customers/{customer_id}/upsell"


@router.get(ROUTE.removeprefix("/v1"), operation_id="upsell", responses=CUSTOMER_RESPONSES)
async def upsell(
    customer_id: CustomerPath, registry: RegistryDep, request: Request, as_of: AsOf = None
) -> UpsellAnswer:
    """A plan-ladder suggestion: upgrade (now, at renewal or at the trial's end),
    monthly to annual billing with the yearly saving, a retention offer for a customer
    at risk, or "not now" with why (no plan, open complaint, trial just started, top
    tier, price over the limit, low loyalty, no need).

    Reads the customer's live subscription, usage and tickets (in the worker's answer
    thread, off the event loop), so a complaint opened a minute ago already counts. An
    unknown customer is a 404. With `as_of`, the answer is the one of that moment,
    from what was recorded up to it (the model in service answers: train with `--as-of`
    for a model that knew no more).
    """
    services = await serving(registry, customer_id)
    answer = await in_answer_thread(
        request, services.upsell.answer, registry.engine, customer_id, seconds(as_of)
    )
    upsell_served(ROUTE, answer["decision"])
    return answer
