"""Per-request filters, turned into one boolean mask over the catalog.

Why a mask: every filter is then one vectorised operation over the item arrays, and
ranking takes the best of what is left, so a filter never shortens the answer while
eligible items remain.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Filters:
    """What the caller allows; empty means no restriction."""

    limit: int = 10
    exclude: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    only_active: bool = True


@dataclass(frozen=True)
class CatalogFacts:
    """The item arrays filters look at, and the lookups from names to indexes."""

    item_index: dict[str, int]
    category_index: dict[str, int]
    category: np.ndarray  # int32, -1 for none
    price: np.ndarray  # float64, NaN for unknown
    active: np.ndarray  # bool

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
