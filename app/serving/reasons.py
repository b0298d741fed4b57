"""Reasons with evidence: why an item is offered, in words a salesperson can say.

Each builder looks only at the handful of items being returned, never the catalog:
a reason costs a few array lookups per suggestion.
"""

from typing import Any

import numpy as np

from app.training.train import Model

DAY = 86_400
NEW_DAYS = 60  # an item first sold this recently is "new"

Reason = dict[str, Any]


class Reasons:
    """Reason builders over one loaded model."""

    def __init__(self, model: Model) -> None:
        engine, vocab = model.engine, model.vocab
        self.engine, self.vocab = engine, vocab
        self.names = vocab.items.names
        self.rules_in = engine.baskets.support.T.tocsr()  # consequent → antecedents
        self.item_orders = engine.baskets.item_orders
        self.ease = engine.cross_sell.ease

    def name(self, item: int) -> str:
        return str(self.names[item])

    def category(self, item: int) -> str | None:
        code = int(self.vocab.items.category[item])
        return self.vocab.categories[code] if code >= 0 else None

    def bought_together(self, item: int, anchors: np.ndarray) -> Reason | None:
        """The anchor most often in the same order as `item`, with support and confidence.

        `anchors` is a boolean mask over the catalog (the customer's items or the basket).
        """
        start, end = self.rules_in.indptr[item], self.rules_in.indptr[item + 1]
        antecedents = self.rules_in.indices[start:end]
        mine = anchors[antecedents]
        if not mine.any():
            return None
        antecedents, support = antecedents[mine], self.rules_in.data[start:end][mine]
        confidence = support / np.maximum(self.item_orders[antecedents], 1)
        best = int(np.argmax(confidence))
        anchor, orders = int(antecedents[best]), int(self.item_orders[antecedents[best]])
        share = float(confidence[best])
        return {
            "kind": "bought_together",
            "text": f"bought together with {self.name(anchor)} in {share:.0%} "
            f"of the {orders:,} orders that contain it",
            "evidence": {
                "item_id": self.vocab.item_ids[anchor],
                "orders_with_both": int(support[best]),
                "orders_with_item": orders,
                "confidence": round(share, 4),
            },
        }

    def also_bought(self, items: np.ndarray, owned: np.ndarray) -> list[Reason | None]:
        """Per item, the owned item whose buyers most distinctly buy it too (EASE weight)."""
        columns = self.ease.position[items]
        rows = self.ease.position[owned]
        anchors, rows = owned[rows >= 0], rows[rows >= 0]
        if not len(rows):
            return [None] * len(items)
        weights = self.ease.weights[np.ix_(rows, np.maximum(columns, 0))]
        best = weights.argmax(axis=0)
        found: list[Reason | None] = []
        for n, column in enumerate(columns.tolist()):
            if column < 0 or weights[best[n], n] <= 0:
                found.append(None)
                continue
            anchor = int(anchors[best[n]])
            category = self.category(anchor)
            subject = category if category else self.name(anchor)
            found.append(
                {
                    "kind": "also_bought",
                    "text": f"customers who buy {subject} also buy this",
                    "evidence": {"item_id": self.vocab.item_ids[anchor], "category": category},
                }
            )
        return found

    def new(self, item: int) -> Reason | None:
        """First sold recently, relative to the newest purchase the model saw."""
        first = int(self.engine.first_sold[item])
        days = (self.engine.trained_until - first) // DAY
        if first == np.iinfo(np.int64).max or days > NEW_DAYS:
            return None
        return {
            "kind": "new",
            "text": f"new in the range: first sold {days} days ago",
            "evidence": {"days_since_first_sale": int(days)},
        }

    def cycle(self, cycle_days: float, last: int, due: int, now: int) -> Reason:
        since = max(now - last, 0) // DAY
        return {
            "kind": "repurchase_cycle",
            "text": f"you buy this about every {round(cycle_days)} days; "
            f"last bought {since} days ago",
            "evidence": {
                "cycle_days": round(float(cycle_days), 1),
                "last_bought_days_ago": int(since),
                "due_in_days": int((due - now) // DAY),
            },
        }

    def popular(self, item: int, buyers: int, group: str | None, members: int) -> Reason:
        if group:
            text = f"bought by {buyers:,} of {members:,} customers in {group}"
        else:
            text = f"bought by {buyers:,} customers"
        return {
            "kind": "popular",
            "text": text,
            "evidence": {"buyers": buyers, "group": group, "group_customers": members or None},
        }

    def in_category(self, item: int) -> Reason:
        category = self.category(item) or "its category"
        return {
            "kind": "category",
            "text": f"new in {category}, which customers like you buy",
            "evidence": {"category": self.category(item)},
        }

    def similar(self, item: int, anchor: int, similarity: float, how: str) -> Reason:
        text = (
            f"bought by the same customers as {self.name(anchor)}"
            if how == "collaborative"
            else f"named like {self.name(anchor)}"
        )
        return {
            "kind": "similar",
            "text": text,
            "evidence": {"similarity": round(similarity, 4), "basis": how},
        }
