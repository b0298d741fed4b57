"""Personal cross-sell: due repurchases first, then the blend over the pool, each item
with its reasons; the cold start for a customer without history.

Every request does O(items) numpy work at most: one blended score vector, one mask,
one partial sort (`models.ranking.top_k`). Python only loops over the suggestions being
returned.
"""

import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from app.serving.answers import CrossSellAnswer, Suggestion
from app.serving.catalog import Catalog
from app.serving.customers import Customer, Customers
from app.serving.filters import Filters
from app.serving.past import customer_at
from app.serving.premium import PremiumOffers
from app.serving.reasons import iso
from app.serving.suggestions import ColdStart, Suggestions
from models.crosssell import CrossSell
from models.foldin import NewItems, personal_scores
from models.ranking import top_k
from models.replenish import (
    DUE_EARLY,
    LAPSED,
    Cycles,
    Windows,
    due_now,
    due_windows,
    with_purchases_since,
)


@dataclass(frozen=True)
class Due:
    """A repurchase due now: the item, its cycle in days, the last purchase and when due."""

    item: int
    cycle: float
    last: int
    at: int


class CrossSellAnswers:
    """The personal cross-sell answers of one loaded model."""

    def __init__(
        self,
        cross_sell: CrossSell,
        cycles: Cycles,
        catalog: Catalog,
        customers: Customers,
        suggestions: Suggestions,
        cold_start: ColdStart,
        premium: PremiumOffers,
    ) -> None:
        self.blend, self.cycles, self.catalog = cross_sell, cycles, catalog
        self.customers, self.suggestions, self.cold_start = customers, suggestions, cold_start
        self.premium = premium
        self.new_items = NewItems.of(cross_sell, suggestions.buyers)
        self.windows = due_windows(cycles.last, cycles.cycle, DUE_EARLY, LAPSED)
        self.unsold = suggestions.buyers == 0

    def answer(
        self,
        customer_id: str,
        filters: Filters,
        now: int | None = None,
        customer: Customer | None = None,
    ) -> CrossSellAnswer:
        """Suggestions for `customer_id`; `customer` when the caller has read it already."""
        now = int(time.time()) if now is None else now
        customer = self.customers.of(customer_id) if customer is None else customer
        allowed = self.catalog.mask(filters)
        if not len(customer.owned):  # the group is the customer's own, as of any moment
            group_row = self.customers.row(customer_id)
            return self.cold_start.answer(customer_id, group_row, allowed, filters.limit)
        due = self._due(customer, allowed, now)[: filters.limit]
        scores = personal_scores(
            self.blend, self.new_items, customer.owned, customer.row, customer.recent
        )
        allowed[customer.owned] = False
        allowed[[d.item for d in due]] = False
        items = self._due_items(due, allowed, now)[: filters.limit]
        pool = self.blend.pool
        top = top_k(scores, allowed[pool], filters.limit - len(items))
        items += self._personal_items(pool[top], scores[top], customer.owned)
        return self.suggestions.answer(customer_id, "personal", items)

    def answer_at(
        self, engine: Engine, customer_id: str, filters: Filters, moment: int
    ) -> CrossSellAnswer:
        """Suggestions as of a past `moment`: from what the customer had bought by then,
        due items counted at it (blocking: reads the database for a moment before the
        model's newest purchase)."""
        customer = customer_at(engine, self.customers, customer_id, moment)
        return self.answer(customer_id, filters, moment, customer)

    def _due(self, customer: Customer, allowed: np.ndarray, now: int) -> list[Due]:
        """Repurchase-cycle items due now, the most overdue first."""
        cycles, row = self.cycles, customer.row
        part = cycles.of(row) if row is not None else slice(0, 0)
        items, cycle, last = cycles.item[part], cycles.cycle[part], cycles.last[part]
        if customer.recent:
            items, cycle, last = with_purchases_since(
                items, cycle, last, cycles.item_cycle, customer.bought, customer.bought_at
            )
            windows = due_windows(last, cycle, DUE_EARLY, LAPSED)
        else:  # the windows computed at load, as they were at training
            w = self.windows
            windows = Windows(w.due[part], w.opens[part], w.closes[part])
        return [
            Due(int(items[i]), float(cycle[i]), int(last[i]), int(windows.due[i]))
            for i in due_now(items, windows, allowed, now).tolist()
        ]

    def _personal_items(
        self, picks: np.ndarray, scores: np.ndarray, owned: np.ndarray
    ) -> list[Suggestion]:
        """Suggestions with reasons; new items (no sales yet) came through their category."""
        s = self.suggestions
        reasons = s.personal_reasons(picks, owned)
        return [
            s.item(i, score, "category", [s.reasons.in_category(i)])
            if self.unsold[i]
            else s.item(i, score, "personal", found)
            for i, score, found in zip(picks.tolist(), scores.tolist(), reasons, strict=True)
        ]

    def _due_items(self, due: list[Due], allowed: np.ndarray, now: int) -> list[Suggestion]:
        """Due items, each followed by its better version when there is one to offer.

        The better version is taken out of `allowed`, so the blend does not offer it again.
        """
        s = self.suggestions
        items = []
        for d in due:
            entry = s.item(
                d.item, 0.0, "replenishment", [s.reasons.cycle(d.cycle, d.last, d.at, now)]
            )
            entry["due_at"] = iso(d.at)
            items.append(entry)
            better = self.premium.upgrade(d.item, allowed)
            if better is not None:
                allowed[better] = False
                upgrade = self.premium.suggestion(s, better, d.item, 0.0, due=True)
                upgrade["due_at"] = entry["due_at"]
                items.append(upgrade)
        return items
