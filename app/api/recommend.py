"""Cross-sell routes: personal suggestions, related items, cart suggestions.

Routes are thin: parse and validate, ask the current model, send its answer. Answers
are dicts serialised once to JSON (the schemas in `app.api.answers` document them).
The handlers are `async` on purpose: an answer is under a millisecond of numpy work
holding the GIL, so a threadpool hop would cost more than it frees; one worker process
per core gives the parallelism.
"""

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.api.answers import (
    BasketAnswer,
    BasketRequest,
    CrossSellQuery,
    RelatedAnswer,
)
from app.api.params import (
    CUSTOMER_ID,
    parse_query,
    path_id,
    query_parameters,
)
from app.api.plain import PlainRoute
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.ingest.ids import ExternalId
from app.serving.filters import Filters
from app.serving.registry import Registry

router = APIRouter(prefix="/v1", tags=["cross-sell"])

ItemId = Annotated[ExternalId, Path()]
Limit = Annotated[int, Query(ge=1, le=100, description="How many items to return")]
Ids = Annotated[list[str], Query(max_length=1000, description="Item ids never to return")]
Names = Annotated[list[str], Query(max_length=100)]
Price = Annotated[float | None, Query(ge=0)]
Ratio = Annotated[float | None, Query(ge=1)]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    503: {"model": ErrorResponse, "description": "No trained model yet"},
}


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _json(answer: dict[str, Any]) -> Response:
    return Response(orjson.dumps(answer), media_type="application/json")


CROSS_SELL = "/v1/customers/{customer_id}/cross-sell"


async def cross_sell(request: Request) -> Response:
    """Items this customer does not have yet and is likely to want next, with reasons.

    Consumables bought on a regular cycle come first when due. A customer without
    history gets what is popular among similar customers (`source` says which). An
    erased customer is a 404.
    """
    customer_id = path_id(request, "customer_id")
    query = parse_query(request, CrossSellQuery)
    filters = Filters(
        query.limit,
        tuple(query.exclude),
        tuple(query.category),
        tuple(query.exclude_category),
        query.min_price,
        query.max_price,
        query.only_active,
    )
    return _json(_registry(request).for_customer(customer_id).cross_sell(customer_id, filters))


@router.get(
    "/items/{item_id}/related",
    operation_id="related_items",
    response_model=None,
    responses={200: {"model": RelatedAnswer}, 404: {"model": ErrorResponse}, **RESPONSES},
)
async def related(
    request: Request,
    item_id: ItemId,
    kind: Annotated[
        Literal["complement", "similar", "premium", "volume"],
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
) -> Response:
    """Product-page recommendations for one item.

    `premium` answers items of the same kind (its category; for an item without one,
    the product noun of its name) priced within a band above it, each with the price
    difference in its reason. An item without a price has no premium alternatives: the
    list is empty.
    """
    filters = Filters(limit, tuple(exclude), (), (), min_price, max_price, only_active)
    recommender = _registry(request).get()
    return _json(recommender.related(item_id, kind, filters, min_ratio, max_ratio))


@router.post(
    "/baskets/recommendations",
    operation_id="basket_recommendations",
    response_model=None,
    responses={
        200: {"model": BasketAnswer},
        404: {"model": ErrorResponse, "description": "An erased customer"},
        **RESPONSES,
    },
)
async def basket(request: Request, body: BasketRequest) -> Response:
    """Items to add to a basket, computed from its contents at request time (and the
    customer's history, for a known `customer_id`; an erased one is a 404)."""
    filters = Filters(
        body.limit,
        tuple(body.exclude),
        tuple(body.categories),
        tuple(body.exclude_categories),
        body.min_price,
        body.max_price,
        body.only_active,
    )
    recommender = _registry(request).for_customer(body.customer_id)
    answer = recommender.basket(body.customer_id, body.items, filters)
    return _json(answer)


CROSS_SELL_ROUTE = PlainRoute(
    path=CROSS_SELL,
    handler=cross_sell,
    operation_id="cross_sell",
    tag="cross-sell",
    answer="CrossSellAnswer",
    parameters=[CUSTOMER_ID, *query_parameters(CrossSellQuery)],
    errors=("404", "422", "500", "503"),
)
