"""Cross-sell routes: personal suggestions, related items, cart suggestions.

Routes are thin: parse and validate, ask the serving model, return its answer. They are
`async` on purpose: an answer is well under a millisecond of numpy work on memory and
reads nothing from the database, so a thread per request would cost more than it frees;
one worker process per core gives the parallelism.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from app.api.deps import AsOf, CustomerPath, RegistryDep, in_answer_thread, serving
from app.api.schemas import BasketRequest, CrossSellQuery
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.ingest.ids import ExternalId
from app.serving.answers import BasketAnswer, CrossSellAnswer, RelatedAnswer, RelatedKind
from app.serving.filters import Filters

router = APIRouter(prefix="/v1", tags=["cross-sell"])

ItemId = Annotated[ExternalId, Path()]
Limit = Annotated[int, Query(ge=1, le=100, description="How many items to return")]
Ids = Annotated[list[str], Query(max_length=1000, description="Item ids never to return")]
Price = Annotated[float | None, Query(ge=0)]
Ratio = Annotated[float | None, Query(ge=1)]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorResponse, "description": "Unknown (or erased) id"},
    503: {"model": ErrorResponse, "description": "No trained model yet"},
}


@router.get("/customers/{customer_id}/cross-sell", operation_id="cross_sell", responses=RESPONSES)
async def cross_sell(
    customer_id: CustomerPath,
    query: Annotated[CrossSellQuery, Query()],
    registry: RegistryDep,
    request: Request,
    as_of: AsOf = None,
) -> CrossSellAnswer:
    """Items this customer does not have yet and is likely to want next, with reasons.

    Consumables bought on a regular cycle come first when due. A customer without
    history gets what is popular among similar customers (`source` says which). An
    erased customer is a 404. With `as_of`, the answer is the one of that moment: only
    the purchases up to it count (read from the database when the moment is before
    the model's newest purchase, then folded into the model in service).
    """
    services = await serving(registry, customer_id)
    if as_of is None:
        return services.cross_sell.answer(customer_id, query.filters())
    moment, filters = int(as_of.timestamp()), query.filters()
    answer_at = services.cross_sell.answer_at
    return await in_answer_thread(request, answer_at, registry.engine, customer_id, filters, moment)


@router.get("/items/{item_id}/related", operation_id="related_items", responses=RESPONSES)
async def related(
    item_id: ItemId,
    registry: RegistryDep,
    kind: Annotated[
        RelatedKind,
        Query(
            description="complement: bought together; similar: bought by the same customers; "
            "premium: the same kind of item, priced higher within a band; volume: the same "
            "kind in a larger pack, cheaper per unit"
        ),
    ] = "complement",
    limit: Limit = 10,
    exclude: Ids = [],  # noqa: B006
    min_price: Price = None,
    max_price: Price = None,
    only_active: bool = True,
    min_ratio: Annotated[
        Ratio,
        Query(
            ge=1,
            description="premium only: the lowest price as a multiple of the item's "
            "(default NEXTBEST_PREMIUM_MIN_RATIO, 1.1)",
        ),
    ] = None,
    max_ratio: Annotated[
        Ratio,
        Query(
            ge=1,
            description="premium only: the highest price as a multiple of the item's "
            "(default NEXTBEST_PREMIUM_MAX_RATIO, 2.5)",
        ),
    ] = None,
) -> RelatedAnswer:
    """Product-page recommendations for one item.

    `premium` answers items of the same kind (its category; for an item without one,
    the product noun of its name) priced within a band above it, each with the price
    difference in its reason. An item without a price has no premium alternatives: the
    list is empty.
    """
    filters = Filters(limit, tuple(exclude), (), (), min_price, max_price, only_active)
    services = await serving(registry)
    return services.related.answer(item_id, kind, filters, min_ratio, max_ratio)


@router.post("/baskets/recommendations", operation_id="basket_recommendations", responses=RESPONSES)
async def basket(
    body: BasketRequest, registry: RegistryDep, request: Request, as_of: AsOf = None
) -> BasketAnswer:
    """Items to add to a basket, computed from its contents at request time (and the
    customer's history, for a known `customer_id`; an erased one is a 404). With
    `as_of`, the customer's history is the one of that moment (as for cross-sell)."""
    services = await serving(registry, body.customer_id)
    if as_of is None:
        return services.baskets.answer(body.customer_id, body.items, body.filters())
    answer_at, moment = services.baskets.answer_at, int(as_of.timestamp())
    return await in_answer_thread(
        request, answer_at, registry.engine, body.customer_id, body.items, body.filters(), moment
    )
