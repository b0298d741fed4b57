"""Reasons with evidence: why an item is offered, in words a salesperson can say.

Each builder looks only at the handful of items being returned, never the catalog:
a reason costs a few array lookups per suggestion.
"""

import time
from typing import Any

import numpy as np

from app.training.train import Model
from models.sparse import row_entries

DAY = 86_400
NEW_DAYS = 60  # an item first sold this recently is "new"
UNSOLD = np.iinfo(np.int64).max  # first_sold of an item never sold (np.iinfo is slow per call)

Reason = dict[str, Any]
SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥"}


def iso(seconds: int) -> str:
    """Epoch seconds as an ISO 8601 UTC timestamp, as every answer writes times."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def money(amount: float, currency: str) -> str:
    """An amount as a customer reads it: "£1.25", "12.50 CHF", or "12.50" without currency."""
    symbol = SYMBOLS.get(currency)
    if symbol:
        return f"{symbol}{amount:,.2f}"
    return f"{amount:,.2f} {currency}" if currency else f"{amount:,.2f}"


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

    def bought_together(self, items: np.ndarray, anchors: np.ndarray) -> list[Reason | None]:
        """Per item, the anchor most often in the same order with it (support, confidence).

        `anchors` is a boolean mask over the catalog (the customer's items or the basket).
        One gather over the rules of all items at once, not a loop over rules.
        """
        offsets, which = row_entries(self.rules_in, items)
        antecedents = self.rules_in.indices[offsets]
        mine = anchors[antecedents]
        antecedents, which = antecedents[mine], which[mine]
        support = self.rules_in.data[offsets][mine]
        orders = np.maximum(self.item_orders[antecedents], 1)
        confidence = support / orders
        ranked = np.lexsort((-confidence, which))
        first = (
            ranked[np.concatenate(([True], which[ranked][1:] != which[ranked][:-1]))]
            if len(ranked)
            else ranked
        )
        found: list[Reason | None] = [None] * len(items)
        for best in first.tolist():
            anchor, share = int(antecedents[best]), float(confidence[best])
            found[int(which[best])] = {
                "kind": "bought_together",
                "text": f"bought together with {self.name(anchor)} in {share:.0%} "
                f"of the {int(orders[best]):,} orders that contain it",
                "evidence": {
                    "item_id": self.vocab.item_ids[anchor],
                    "orders_with_both": int(support[best]),
                    "orders_with_item": int(orders[best]),
                    "confidence": round(share, 4),
                },
            }
        return found

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

    def new(self, items: np.ndarray) -> list[Reason | None]:
        """Per item: first sold recently, relative to the newest purchase the model saw."""
        first = self.engine.first_sold[items]
        sold = first < UNSOLD
        days = np.where(sold, (self.engine.trained_until - first) // DAY, NEW_DAYS + 1)
        return [
            {
                "kind": "new",
                "text": f"new in the range: first sold {d} days ago",
                "evidence": {"days_since_first_sale": d},
            }
            if d <= NEW_DAYS
            else None
            for d in days.tolist()
        ]

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
        category = self.category(item)
        text = (
            f"new in {category}, which customers like you buy"
            if category
            else "new in the range: not sold yet"
        )
        return {"kind": "category", "text": text, "evidence": {"category": category}}

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
