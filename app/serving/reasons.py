"""Reasons with evidence: why an item is offered, in words a salesperson can say.

Each builder looks only at the handful of items being returned, never the catalog:
a reason costs a few array lookups per suggestion.
"""

import time

import numpy as np
import scipy.sparse as sp

from app.serving.answers import Reason
from models.baskets import Baskets
from models.engine import Engine
from models.sparse import row_entries
from models.vocab import Vocab

DAY = 86_400
NEW_DAYS = 60  # an item first sold this recently is "new"
UNSOLD = np.iinfo(np.int64).max  # first_sold of an item never sold (np.iinfo is slow per call)

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

    def __init__(self, engine: Engine, vocab: Vocab) -> None:
        self.engine, self.vocab = engine, vocab
        self.names = vocab.items.names
        # per item, what an "also bought" reason names: its category, else the item itself
        self.category_of = [
            vocab.categories[c] if c >= 0 else None for c in vocab.items.category.tolist()
        ]
        self.subject = [c or str(n) for c, n in zip(self.category_of, self.names, strict=True)]
        self.rules_in = _strongest_first(engine.baskets.support.T.tocsr(), engine.baskets)
        self.item_orders = engine.baskets.item_orders
        self.ease = engine.cross_sell.ease
        self.ease_flat = self.ease.weights.reshape(-1)  # a view: one gather per answer

    def name(self, item: int) -> str:
        return str(self.names[item])

    def category(self, item: int) -> str | None:
        return self.category_of[item]

    def bought_together(self, items: np.ndarray, anchors: np.ndarray) -> list[Reason | None]:
        """Per item, the anchor most often in the same order with it (support, confidence).

        `anchors` is a boolean mask over the catalog (the customer's items or the basket).
        Each item's antecedents are sorted by confidence at load, so the first anchor
        among them is the one: one gather over the rules of all items, no sort.
        """
        offsets, which = row_entries(self.rules_in, items)
        antecedents = self.rules_in.indices[offsets]
        hits = np.flatnonzero(anchors[antecedents])
        found: list[Reason | None] = [None] * len(items)
        if not len(hits):
            return found
        rows = which[hits]  # non-decreasing: the entries come row after row
        first = hits[np.concatenate(([True], rows[1:] != rows[:-1]))]
        for position in first.tolist():
            anchor = int(antecedents[position])
            support = int(self.rules_in.data[offsets[position]])
            orders = max(int(self.item_orders[anchor]), 1)
            share = support / orders
            found[int(which[position])] = {
                "kind": "bought_together",
                "text": f"bought together with {self.name(anchor)} in {share:.0%} "
                f"of the {orders:,} orders that contain it",
                "evidence": {
                    "item_id": self.vocab.item_ids[anchor],
                    "orders_with_both": support,
                    "orders_with_item": orders,
                    "confidence": round(share, 4),
                },
            }
        return found

    def also_bought(self, items: np.ndarray, owned: np.ndarray) -> list[Reason | None]:
        """Per item, the owned item whose buyers most distinctly buy it too (EASE weight)."""
        columns = self.ease.position[items]
        rows = self.ease.position[owned]
        covered = rows >= 0
        anchors, rows = owned[covered], rows[covered]
        if not len(rows):
            return [None] * len(items)
        flat = np.add.outer(rows * len(self.ease.items), np.maximum(columns, 0))
        weights = self.ease_flat[flat]  # weights[rows x columns], one gather
        best = weights.argmax(axis=0)
        found: list[Reason | None] = []
        for n, column in enumerate(columns.tolist()):
            if column < 0 or weights[best[n], n] <= 0:
                found.append(None)
                continue
            anchor = int(anchors[best[n]])
            found.append(
                {
                    "kind": "also_bought",
                    "text": f"customers who buy {self.subject[anchor]} also buy this",
                    "evidence": {
                        "item_id": self.vocab.item_ids[anchor],
                        "category": self.category_of[anchor],
                    },
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


def _strongest_first(rules_in: sp.csr_matrix, baskets: Baskets) -> sp.csr_matrix:
    """Each consequent's antecedents by confidence (support / the antecedent's orders),
    highest first; ties keep the antecedents' order."""
    rows = np.repeat(np.arange(rules_in.shape[0]), np.diff(rules_in.indptr))
    orders = np.maximum(baskets.item_orders[rules_in.indices], 1)
    order = np.lexsort((-(rules_in.data / orders), rows))
    return sp.csr_matrix(
        (rules_in.data[order], rules_in.indices[order], rules_in.indptr), shape=rules_in.shape
    )
