"""What the recommendation routes take: their query parameters and bodies, validated
by pydantic in one step each; what they answer is in `app.serving.answers`.
"""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.db.tables import OfferKind
from app.serving.answers import Channel
from app.serving.filters import Filters


class CrossSellQuery(BaseModel):
    """Filters of a personal cross-sell request (query parameters; lists repeat the name)."""

    limit: int = Field(default=10, ge=1, le=100, description="How many items to return")
    exclude: list[str] = Field(default=[], max_length=1000, description="Item ids never to return")
    category: list[str] = Field(default=[], max_length=100, description="Only these categories")
    exclude_category: list[str] = Field(
        default=[], max_length=100, description="Not these categories"
    )
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)
    only_active: bool = True

    def filters(self) -> Filters:
        """The request's filters."""
        return Filters(
            self.limit,
            tuple(self.exclude),
            tuple(self.category),
            tuple(self.exclude_category),
            self.min_price,
            self.max_price,
            self.only_active,
        )


def _whole(value: Any) -> Any:
    """10.0 is the integer 10 in JSON (JSON Schema agrees); 10.5 and "10" are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


class BasketRequest(BaseModel):
    """A basket to complete, for a known customer or an anonymous shopper.

    Strict: a JSON body says what it means (0 is not false, "10" is not 10), and the
    contract's types are the ones enforced.
    """

    model_config = ConfigDict(strict=True)

    customer_id: str | None = Field(default=None, max_length=255)
    items: list[str] = Field(min_length=1, max_length=500, description="Item ids in the basket.")
    limit: WholeNumber = Field(default=10, ge=1, le=100)
    exclude: list[str] = Field(default=[], max_length=1000)
    categories: list[str] = Field(default=[], max_length=100)
    exclude_categories: list[str] = Field(default=[], max_length=100)
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)
    only_active: bool = True

    def filters(self) -> Filters:
        """The request's filters."""
        return Filters(
            self.limit,
            tuple(self.exclude),
            tuple(self.categories),
            tuple(self.exclude_categories),
            self.min_price,
            self.max_price,
            self.only_active,
        )


class OffersQuery(BaseModel):
    """Parameters of an offers request (lists repeat the name)."""

    limit: int = Field(default=5, ge=1, le=20, description="How many offers at most")
    kinds: list[OfferKind] = Field(default=[], max_length=8, description="Only these kinds")
    channel: Channel | None = Field(
        default=None, description="The channel the offers will go out on (default: the best)"
    )
    explain: bool = Field(default=False, description="Also list what was held back, and why")
