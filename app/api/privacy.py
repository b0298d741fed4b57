"""Privacy routes: erase a customer, export everything stored about one (admin scope).

Erasure answers 200 with a receipt (rows deleted per table) rather than a bare 204:
the caller's records of the request then show what went. An erased customer is a
404 everywhere at once (`app.serving.erasure`), the erasure included: erasing twice
finds nothing the second time.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.api.deps import CustomerPath, RegistryDep
from app.db.erase import erase
from app.db.export import chunks, customer_row
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.serving.answers import Rfm
from app.serving.export import export_head
from app.serving.subscriber import unknown_customer

router = APIRouter(prefix="/v1", tags=["privacy"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Unknown (or already erased) customer"},
    **ERROR_RESPONSES,
    503: {"model": ErrorResponse, "description": "The database is down; retry later"},
}


class ErasureReceipt(BaseModel):
    """What an erasure deleted."""

    customer_id: str
    erased_at: datetime
    deleted: dict[str, int] = Field(
        description="Rows deleted per table (customer, purchase, subscription, plan_change, "
        "usage, ticket, offer_event, import_reject)"
    )


class ModelFacts(BaseModel):
    """What the model serving now holds about the customer."""

    version: str
    in_model: bool = Field(description="false: added after this model was trained")
    rfm: Rfm | None
    group: str | None = Field(description="The (country, segment) group cold start uses")
    items: list[str] = Field(description="Items the model counts as bought, from training")
    items_since_training: list[str] = Field(description="Items bought since, held in memory")


class CustomerExport(BaseModel):
    """Everything stored about one customer: their row, every row about them in every
    table, rejected import rows carrying their id, and what the model holds."""

    customer_id: str
    exported_at: datetime
    model: ModelFacts | None = Field(description="null: no model trained yet")
    customer: dict[str, Any] = Field(description="The customer row, as imported")
    tables: dict[str, list[dict[str, Any]]] = Field(
        description="Rows by table (purchase, subscription, plan_change, usage, ticket, "
        "offer_event), oldest first; references by the caller's ids"
    )
    import_rejects: list[dict[str, Any]] = Field(
        description="Rejected import rows that carry the customer's id"
    )


@router.delete(
    "/customers/{customer_id}",
    operation_id="erase_customer",
    response_model=ErasureReceipt,
    responses=RESPONSES,
)
def erase_customer(registry: RegistryDep, customer_id: CustomerPath) -> ErasureReceipt:
    """Erase the customer: their row, purchases, subscriptions, plan changes, usage,
    tickets, offer events and rejected import rows, in one transaction.

    Every worker answers 404 for the customer from the moment this returns, although
    the loaded model still holds them; the next `nextbest train` leaves them out. The
    id is kept only as a SHA-256 hash, and importing it again is refused.
    """
    registry.erased.follow()
    registry.erased.check(customer_id)
    deleted = erase(registry.engine, customer_id)
    if deleted is None:
        raise unknown_customer(customer_id)
    registry.erased.add(customer_id)
    current = registry.current
    if current is not None:  # the lines bought since training, held in memory
        current.live.forget(registry.erased.drain())
    return ErasureReceipt(customer_id=customer_id, erased_at=datetime.now(UTC), deleted=deleted)


@router.get(
    "/customers/{customer_id}/export",
    operation_id="export_customer",
    response_model=None,
    responses={200: {"model": CustomerExport}, **RESPONSES},
)
def export_customer(registry: RegistryDep, customer_id: CustomerPath) -> StreamingResponse:
    """Everything stored about the customer, as one JSON document: the customer row,
    every row about them (purchases, subscriptions, plan changes, usage, tickets,
    offer events), rejected import rows carrying their id, and what the serving model
    holds (segment, group, items). Streamed: a long history is not held in memory.
    """
    registry.erased.follow()
    registry.erased.check(customer_id)
    with registry.engine.connect() as conn:
        found = customer_row(conn, customer_id)
    if found is None:
        raise unknown_customer(customer_id)
    pk, row = found
    current = registry.current
    head = export_head(current.holdings if current else None, customer_id, row)
    return StreamingResponse(
        chunks(registry.engine, customer_id, pk, head), media_type="application/json"
    )
