"""What a request allows: the filters `app.serving.catalog.Catalog.mask` applies."""

from dataclasses import dataclass


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
