"""The catalog as one loaded model knows it: each item's facts by index, the lookups
from the caller's ids, and the filters of a request as one mask over the items.

Why a mask: every filter is then one vectorised operation over the item arrays, and
ranking takes the best of what is left, so a filter never shortens an answer while
eligible items remain.
"""

from dataclasses import dataclass

import numpy as np

from app.errors import ErrorDetail, NotFound
from app.serving.answers import OfferItem
from app.serving.filters import Filters
from models.vocab import Vocab


@dataclass(frozen=True)
class Catalog:
    """Item facts by index, and the mask a request's filters make of them."""

    item_ids: list[str]
    item_index: dict[str, int]
    category_index: dict[str, int]
    category: np.ndarray  # int32, -1 for none
    price: np.ndarray  # float64, NaN for unknown
    active: np.ndarray  # bool
    currency: list[str]  # "" where unknown
    facts: list[OfferItem]  # what every answer says of an item, built once

    @classmethod
    def of(cls, vocab: Vocab) -> "Catalog":
        """The catalog of a model's vocabulary."""
        categories = vocab.categories
        facts: list[OfferItem] = [
            {
                "item_id": item_id,
                "name": name,
                "category": categories[code] if code >= 0 else None,
                "price": None if np.isnan(price) else price,
            }
            for item_id, name, code, price in zip(
                vocab.item_ids,
                vocab.items.names,
                vocab.items.category.tolist(),
                vocab.price.tolist(),
                strict=True,
            )
        ]
        return cls(
            item_ids=vocab.item_ids,
            item_index={c: i for i, c in enumerate(vocab.item_ids)},
            category_index={c: i for i, c in enumerate(categories)},
            category=vocab.items.category,
            price=vocab.price,
            active=vocab.active,
            currency=vocab.currency,
            facts=facts,
        )

    def index(self, item_id: str) -> int:
        """The index of `item_id`; 404 for an item the model does not know."""
        index = self.item_index.get(item_id)
        if index is None:
            raise NotFound(
                f"item {item_id!r} is not in the model (unknown, or added after training)",
                [ErrorDetail(field="item_id", message=f"unknown item {item_id!r}")],
            )
        return index

    def mask(self, filters: Filters) -> np.ndarray:
        """True where an item may be offered under `filters`."""
        allowed = self.active.copy() if filters.only_active else np.ones_like(self.active)
        excluded = [self.item_index[i] for i in filters.exclude if i in self.item_index]
        allowed[excluded] = False
        if filters.categories:
            allowed &= np.isin(self.category, self._codes(filters.categories))
        if filters.exclude_categories:
            allowed &= ~np.isin(self.category, self._codes(filters.exclude_categories))
        if filters.min_price is not None:
            allowed &= self.price >= filters.min_price
        if filters.max_price is not None:
            allowed &= self.price <= filters.max_price
        return allowed

    def _codes(self, names: tuple[str, ...]) -> list[int]:
        return [self.category_index[n] for n in names if n in self.category_index]
