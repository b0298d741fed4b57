"""Suggested items as the answers give them: the item's facts, its score and source,
and its reasons; shared by the routes that answer items (cross-sell, the cart, related
items, the cold start).
"""

import numpy as np

from app.serving.answers import AnswerSource, CrossSellAnswer, Reason, Source, Suggestion
from app.serving.catalog import Catalog
from app.serving.reasons import Reasons
from models.foldin import popular_pick
from models.popularity import Popular


class Suggestions:
    """Builds suggestion entries and answers from one loaded model."""

    def __init__(self, catalog: Catalog, reasons: Reasons, buyers: np.ndarray, version: str):
        self.catalog, self.reasons, self.buyers, self.version = catalog, reasons, buyers, version
        self.anchor_slots = len(buyers)

    def item(self, item: int, score: float, source: Source, reasons: list[Reason]) -> Suggestion:
        """One entry: the item's facts, then its score, source and reasons."""
        facts = self.catalog.facts[item]
        return {
            "item_id": facts["item_id"],
            "name": facts["name"],
            "category": facts["category"],
            "price": facts["price"],
            "score": round(score, 4),
            "source": source,
            "reasons": reasons,
        }

    def answer(
        self, customer_id: str | None, source: AnswerSource, items: list[Suggestion]
    ) -> CrossSellAnswer:
        """A cross-sell answer of `items`."""
        return {
            "customer_id": customer_id,
            "source": source,
            "model_version": self.version,
            "items": items,
        }

    def personal_reasons(
        self, picks: np.ndarray, owned: np.ndarray, anchors: np.ndarray | None = None
    ) -> list[list[Reason]]:
        """Up to two reasons per item: bought together (with an owned item, or one of
        `anchors`), also bought, new; else popular."""
        if anchors is None:
            anchors = np.zeros(self.anchor_slots, dtype=bool)
            anchors[owned] = True
        together = self.reasons.bought_together(picks, anchors)
        also = self.reasons.also_bought(picks, owned)
        new = self.reasons.new(picks)
        found = []
        for item, *candidates in zip(picks.tolist(), together, also, new, strict=True):
            reasons = [r for r in candidates if r]
            if not reasons:
                reasons.append(self.reasons.popular(item, int(self.buyers[item]), None, 0))
            found.append(reasons[:2])
        return found


class ColdStart:
    """What a customer without history is offered: the most bought among customers of
    their group when it is big enough, else overall."""

    def __init__(
        self, suggestions: Suggestions, popular: Popular, group: np.ndarray, groups: list[str]
    ) -> None:
        self.suggestions, self.popular, self.group, self.groups = (
            suggestions,
            popular,
            group,
            groups,
        )
        self.by_buyers = np.argsort(-suggestions.buyers, kind="stable")

    def answer(
        self, customer_id: str | None, row: int | None, allowed: np.ndarray, limit: int
    ) -> CrossSellAnswer:
        """The popular items allowed, with the reason who bought them."""
        group = int(self.group[row]) if row is not None else -1
        s = self.suggestions
        items, buyers, of_group = popular_pick(
            self.popular, self.by_buyers, s.buyers, group, allowed, limit
        )
        label = self.groups[group] if of_group else None
        members = int(self.popular.members[group]) if of_group else 0
        source: AnswerSource = "popular_similar" if of_group else "popular"
        chosen = [
            s.item(i, float(b), source, [s.reasons.popular(i, int(b), label, members)])
            for i, b in zip(items.tolist(), buyers.tolist(), strict=True)
        ]
        return s.answer(customer_id, source, chosen)
