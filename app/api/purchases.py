"""`GET /v1/customers/{customer_id}/purchases`: one customer's purchase history, by page.

Why a route of its own next to the profile's latest 20 lines: a salesperson scrolling a
customer's history, or a CRM syncing it, needs all of it, a page at a time. Read live
from the database through the (customer_id, purchased_at) index, so today's order is
there; newest first, with a total for the pager.
"""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from app.api.deps import CustomerPath, EngineDep
from app.db import tables
from app.errors import ERROR_RESPONSES, ErrorResponse, NotFound
from app.serving.answers import PurchaseLine
from app.serving.reasons import iso

router = APIRouter(prefix="/v1", tags=["profiles"])


class PurchaseHistory(BaseModel):
    """A page of a customer's purchase lines, newest first."""

    customer_id: str
    total: int = Field(description="Lines in the whole history")
    limit: int
    offset: int
    purchases: list[PurchaseLine]


@router.get(
    "/customers/{customer_id}/purchases",
    operation_id="customer_purchases",
    response_model=PurchaseHistory,
    responses={404: {"model": ErrorResponse, "description": "Unknown customer"}, **ERROR_RESPONSES},
)
def customer_purchases(
    engine: EngineDep,
    customer_id: CustomerPath,
    limit: Annotated[int, Query(ge=1, le=500, description="Lines per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Lines to skip")] = 0,
) -> PurchaseHistory:
    """Every purchase line of the customer (sales and returns), newest first, a page at
    a time: order, item with its name, quantity, unit price and time."""
    c, p, i = tables.customer, tables.purchase, tables.item
    with engine.connect() as conn:
        key = conn.execute(select(c.c.id).where(c.c.customer_id == customer_id)).scalar()
        if key is None:
            raise NotFound(f"no customer {customer_id!r}")
        total = conn.execute(select(func.count()).where(p.c.customer_id == key)).scalar() or 0
        lines = conn.execute(
            select(
                p.c.order_id,
                i.c.item_id,
                i.c.name,
                p.c.kind,
                p.c.quantity,
                p.c.unit_price,
                i.c.currency,
                p.c.purchased_at,
            )
            .join(i, i.c.id == p.c.item_id)
            .where(p.c.customer_id == key)
            .order_by(p.c.purchased_at.desc(), p.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return PurchaseHistory(
        customer_id=customer_id,
        total=total,
        limit=limit,
        offset=offset,
        purchases=[
            PurchaseLine(
                order_id=line.order_id,
                item_id=line.item_id,
                name=line.name,
                kind=line.kind,
                quantity=float(line.quantity),
                unit_price=float(line.unit_price),
                currency=line.currency,
                purchased_at=iso(int(line.purchased_at.timestamp())),
            )
            for line in lines
        ],
    )
