"""Product-page recommendations for one item: bought together, similar, a step up, or
a larger pack cheaper per unit."""

import numpy as np
import scipy.sparse as sp

from app.errors import ErrorDetail, InvalidInput
from app.serving.answers import Reason, RelatedAnswer, RelatedKind, Suggestion
from app.serving.catalog import Catalog
from app.serving.filters import Filters
from app.serving.premium import PremiumOffers
from app.serving.suggestions import Suggestions
from models.baskets import Baskets
from models.premium import Band
from models.ranking import top_k
from models.sparse import row_sum


class RelatedAnswers:
    """The related-items answers of one loaded model."""

    def __init__(
        self,
        baskets: Baskets,
        content: sp.csr_matrix,
        unit: np.ndarray,
        catalog: Catalog,
        suggestions: Suggestions,
        premium: PremiumOffers,
    ) -> None:
        self.baskets, self.content, self.unit = baskets, content, unit
        self.catalog, self.suggestions, self.premium = catalog, suggestions, premium
        self.unsold = suggestions.buyers == 0

    def answer(
        self,
        item_id: str,
        kind: RelatedKind,
        filters: Filters,
        min_ratio: float | None = None,
        max_ratio: float | None = None,
    ) -> RelatedAnswer:
        """Bought together (`complement`), nearest in taste (`similar`), a step up
        (`premium`) or a larger pack cheaper per unit (`volume`).

        `min_ratio` and `max_ratio` narrow or widen the premium price band for this request.
        """
        item = self.catalog.index(item_id)
        allowed = self.catalog.mask(filters)
        allowed[item] = False
        if kind == "complement":
            items = self._complements(item, allowed, filters.limit)
        elif kind == "premium":
            items = self._premium(item, allowed, filters.limit, self._band(min_ratio, max_ratio))
        elif kind == "volume":
            items = self._volume(item, allowed, filters.limit)
        else:
            items = self._similar(item, allowed, filters.limit)
        return {
            "item_id": item_id,
            "kind": kind,
            "model_version": self.suggestions.version,
            "items": items,
        }

    def _complements(self, item: int, allowed: np.ndarray, limit: int) -> list[Suggestion]:
        others, support, confidence, lift = self.baskets.rules(item)
        keep = allowed[others]
        orders = int(self.baskets.item_orders[item])
        name = self.suggestions.reasons.name(item)
        chosen = []
        for j, s, c, lf in list(
            zip(others[keep], support[keep], confidence[keep], lift[keep], strict=True)
        )[:limit]:
            reason: Reason = {
                "kind": "bought_together",
                "text": f"in {c:.0%} of the {orders:,} orders with {name}",
                "evidence": {
                    "orders_with_both": int(s),
                    "orders_with_item": orders,
                    "confidence": round(float(c), 4),
                    "lift": round(float(lf), 2),
                },
            }
            entry = self.suggestions.item(int(j), float(c), "bought_together", [reason])
            entry["support"] = int(s)
            entry["confidence"] = round(float(c), 4)
            entry["lift"] = round(float(lf), 2)
            chosen.append(entry)
        return chosen

    def _similar(self, item: int, allowed: np.ndarray, limit: int) -> list[Suggestion]:
        if self.unsold[item]:
            scores, how = row_sum(self.content, np.array([item])), "name"
            allowed &= scores > 0
        else:
            scores, how = self.unit @ self.unit[item], "collaborative"
            allowed &= ~self.unsold
        s = self.suggestions
        return [
            s.item(
                int(j),
                float(scores[j]),
                "similar",
                [s.reasons.similar(int(j), item, float(scores[j]), how)],
            )
            for j in top_k(scores, allowed, limit)
        ]

    def _band(self, low: float | None, high: float | None) -> Band:
        """The configured band, with the request's bounds where it gives them."""
        default = self.premium.band
        band = Band(default.low if low is None else low, default.high if high is None else high)
        if band.high < band.low:
            raise InvalidInput(
                f"max_ratio {band.high} is below min_ratio {band.low}",
                [ErrorDetail(field="query.max_ratio", message="must be at least min_ratio")],
            )
        return band

    def _premium(self, item: int, allowed: np.ndarray, limit: int, band: Band) -> list[Suggestion]:
        picks, scores = self.premium.alternatives(item, allowed, limit, band)
        return [
            self.premium.suggestion(self.suggestions, j, item, score)
            for j, score in zip(picks.tolist(), scores.tolist(), strict=True)
        ]

    def _volume(self, item: int, allowed: np.ndarray, limit: int) -> list[Suggestion]:
        picks, scores = self.premium.larger_packs(item, allowed, limit)
        return [
            self.suggestions.item(j, score, "volume", [self.premium.volume_reason(j, item)])
            for j, score in zip(picks.tolist(), scores.tolist(), strict=True)
        ]
