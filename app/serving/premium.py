"""Premium alternatives of one loaded model: for product pages and after due items.

Why the best alternative of every item is chosen at load time: the personal cross-sell
route is the hottest path, and offering the better version of a due consumable must
cost it one array lookup, not a ranking.
"""

import numpy as np
import scipy.sparse as sp

from app.serving.answers import Reason, Suggestion
from app.serving.reasons import money
from app.serving.suggestions import Suggestions
from models.kinds import plural
from models.premium import Band, Premium, group_buyers, groups
from models.vocab import Vocab
from models.volume import Volume


class PremiumOffers:
    """The model's premium facts, the configured band and each item's best alternative."""

    def __init__(
        self,
        vocab: Vocab,
        buyers: np.ndarray,
        owned: sp.csr_matrix,
        unit: np.ndarray,
        band: Band,
    ) -> None:
        group, n_groups = groups(vocab.kind, vocab.pack)
        self.premium = Premium(
            group, vocab.price, unit, buyers, group_buyers(owned, group, n_groups)
        )
        self.band = band
        self.best = self.premium.best(band, vocab.active)
        self.volume = Volume(vocab.kind, np.maximum(vocab.pack, 1), vocab.price)
        self.vocab = vocab

    def alternatives(
        self, item: int, allowed: np.ndarray, limit: int, band: Band | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(items, scores): `item`'s best alternatives in `band` (default: the configured one)."""
        return self.premium.alternatives(item, band or self.band, allowed, limit)

    def upgrade(self, item: int, allowed: np.ndarray) -> int | None:
        """The configured band's best alternative of `item`, if the filters allow it."""
        better = int(self.best[item])
        return better if better >= 0 and allowed[better] else None

    def difference(self, item: int, anchor: int) -> float:
        """How much more `item` costs than `anchor`."""
        return round(float(self.vocab.price[item] - self.vocab.price[anchor]), 2)

    def suggestion(
        self, suggestions: Suggestions, item: int, anchor: int, score: float, due: bool = False
    ) -> Suggestion:
        """`item` as the step up from `anchor`, with its reason and price difference."""
        reason = self.reason(item, anchor, due)
        entry = suggestions.item(item, score, "premium", [reason])
        entry["price_difference"] = reason["evidence"]["price_difference"]
        return entry

    def reason(self, item: int, anchor: int, due: bool = False) -> Reason:
        """The price step in money and as a multiple, and how often the kind's buyers chose it."""
        vocab, premium = self.vocab, self.premium
        ratio = float(vocab.price[item] / vocab.price[anchor])
        more = money(self.difference(item, anchor), vocab.currency[item])
        name = vocab.items.names[anchor]
        share = premium.share(item)
        total = int(premium.group_buyers[premium.group[item]])
        chosen = _chosen(int(premium.buyers[item]), share, total, self.kind_words(item))
        if due:
            text = (
                f"a step up from {name}, which is due again: {more} more ({ratio:.1f}x); {chosen}"
            )
        else:
            text = f"{more} more than {name} ({ratio:.1f}x); {chosen}"
        return {
            "kind": "premium",
            "text": text,
            "evidence": {
                "item_id": vocab.item_ids[anchor],
                "price_difference": self.difference(item, anchor),
                "currency": vocab.currency[item] or None,
                "price_ratio": round(ratio, 2),
                "kind": vocab.kinds[int(vocab.kind[item])],
                "kind_buyers": total,
                "buyers": int(premium.buyers[item]),
                "share": round(share, 4),
                "similarity": round(float(premium.unit[item] @ premium.unit[anchor]), 4),
            },
        }

    def larger_packs(
        self, item: int, allowed: np.ndarray, limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(items, scores): `item`'s kind in larger packs, cheaper per unit, best first."""
        return self.volume.larger_packs(item, allowed, limit, self.premium)

    def volume_reason(self, item: int, anchor: int) -> Reason:
        """The pack, its price, and the price per unit against the smaller pack's."""
        vocab, volume = self.vocab, self.volume
        currency = vocab.currency[item]
        unit, was = volume.unit_price(item), volume.unit_price(anchor)
        pack, anchor_pack = int(volume.pack[item]), int(volume.pack[anchor])
        saving = 1 - unit / was
        text = (
            f"{pack} units for {money(float(vocab.price[item]), currency)}: "
            f"{money(unit, currency)} a unit instead of {money(was, currency)} for "
            f"{vocab.items.names[anchor]} ({saving:.0%} less per unit)"
        )
        return {
            "kind": "volume",
            "text": text,
            "evidence": {
                "item_id": vocab.item_ids[anchor],
                "pack_size": pack,
                "item_pack_size": anchor_pack,
                "unit_price": round(unit, 4),
                "item_unit_price": round(was, 4),
                "unit_saving": round(saving, 4),
                "currency": currency or None,
            },
        }

    def kind_words(self, item: int) -> str:
        """The item's kind as a buyer would say it: "coffee beans in 3-packs", "holders"."""
        code = int(self.vocab.kind[item])
        label = self.vocab.kinds[code]
        words = plural(label) if code >= len(self.vocab.categories) else label
        pack = int(self.vocab.pack[item])
        return f"{words} in {pack}-packs" if pack > 1 else words


def _chosen(buyers: int, share: float, total: int, kind: str) -> str:
    """How often the kind's buyers chose the item, in words a salesperson can say."""
    who = f"the {total:,} customers who buy {kind}"
    if not buyers:
        return f"not bought yet by any of {who}"
    return f"chosen by {share:.0%} of {who}" if share >= 0.005 else f"chosen by {buyers:,} of {who}"
