"""Customer profiles and the segments overview, for CRM consoles."""

from typing import Any

from fastapi import APIRouter

from app.api.deps import AsOf, CustomerPath, RegistryDep, seconds, serving
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.serving.answers import CustomerProfile, SegmentsAnswer

router = APIRouter(prefix="/v1", tags=["profiles"])
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "No trained model yet, or no database"}
}


@router.get(
    "/customers/{customer_id}/profile",
    operation_id="customer_profile",
    responses={
        404: {"model": ErrorResponse, "description": "Unknown customer"},
        **ERROR_RESPONSES,
        **UNAVAILABLE,
    },
)
def customer_profile(
    customer_id: CustomerPath, registry: RegistryDep, as_of: AsOf = None
) -> CustomerProfile:
    """Who the customer is (account, country, marketing opt-out), their RFM scores and
    segment as of the model's training, the live subscription with usage against its
    limits and renewal date, open tickets, and the latest 20 purchase lines.

    The subscription, tickets and purchases are read live (in a thread: `def`). A
    customer added after training has no RFM scores yet (`rfm` is null and `notes`
    says why). With `as_of`, the profile is the one of that moment: the subscription
    then, the tickets open then and the lines up to it (the RFM scores stay training's).
    """
    profiles = registry.for_customer(customer_id).profiles
    return profiles.answer(registry.engine, customer_id, seconds(as_of))


@router.get("/segments", operation_id="segments", responses={**ERROR_RESPONSES, **UNAVAILABLE})
async def segments(registry: RegistryDep) -> SegmentsAnswer:
    """Every RFM segment of the current model: customers, share, sales in the last 365
    days and per customer, the rule in words, and the facts each score starts at."""
    return (await serving(registry)).segments
