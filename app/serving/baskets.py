"""Cart suggestions: items to add to a basket, for a known customer or an anonymous
shopper, from the basket's contents at request time."""

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Engine

from app.errors import ErrorDetail, InvalidInput
from app.serving.answers import BasketAnswer
from app.serving.catalog import Catalog
from app.serving.customers import Customer, Customers
from app.serving.filters import Filters
from app.serving.past import customer_at
from app.serving.suggestions import ColdStart, Suggestions
from models.crosssell import CrossSell
from models.foldin import cart_scores
from models.ranking import top_k


class BasketAnswers:
    """The cart answers of one loaded model."""

    def __init__(
        self,
        cross_sell: CrossSell,
        rules: sp.csr_matrix,
        catalog: Catalog,
        customers: Customers,
        suggestions: Suggestions,
        cold_start: ColdStart,
    ) -> None:
        self.blend, self.rules, self.catalog, self.customers = cross_sell, rules, catalog, customers
        self.suggestions, self.cold_start = suggestions, cold_start

    def answer_at(
        self,
        engine: Engine,
        customer_id: str | None,
        item_ids: list[str],
        filters: Filters,
        moment: int,
    ) -> BasketAnswer:
        """The answer as of a past `moment`: the customer's history up to it (blocking:
        reads the database for a moment before the model's newest purchase)."""
        customer = None
        if customer_id:
            customer = customer_at(engine, self.customers, customer_id, moment)
        return self.answer(customer_id, item_ids, filters, customer)

    def answer(
        self,
        customer_id: str | None,
        item_ids: list[str],
        filters: Filters,
        customer: Customer | None = None,
    ) -> BasketAnswer:
        """Items to add: the blend folded in from the basket and the history, plus the
        basket's own rules; ids the model does not know are listed, not fatal.
        `customer`: as read already (`answer_at`); else as known now."""
        if not item_ids:
            raise InvalidInput(
                "the basket is empty: send at least one item id",
                [ErrorDetail(field="items", message="at least one item id is required")],
            )
        index = self.catalog.item_index
        known = [index[i] for i in item_ids if i in index]
        unknown = [i for i in item_ids if i not in index]
        customer = self.customers.of(customer_id) if customer is None else customer
        basket = np.unique(np.array(known, dtype=np.int64))
        owned = np.union1d(customer.owned, basket)
        allowed = self.catalog.mask(filters)
        allowed[owned] = False
        if not len(owned):
            group_row = self.customers.row(customer_id)  # their group, as of any moment
            cold = self.cold_start.answer(customer_id, group_row, allowed, filters.limit)
            return {**cold, "unknown_items": unknown}
        scores = cart_scores(self.blend, self.rules, owned, basket)
        picks = top_k(scores, allowed, filters.limit)
        in_basket = np.zeros(len(self.catalog.item_ids), dtype=bool)
        in_basket[basket] = True
        s = self.suggestions
        reasons = s.personal_reasons(picks, owned, in_basket)
        items = [
            s.item(i, float(scores[i]), "basket", found)
            for i, found in zip(picks.tolist(), reasons, strict=True)
        ]
        return {**s.answer(customer_id, "basket", items), "unknown_items": unknown}
