"""Answers from one loaded model: personal cross-sell, related items, cart suggestions
(and, through `upsell`, the plan-ladder answers of `app.serving.upsell`; through
`profiles` and `segments`, the customer profiles and segment overview).

Every request does O(items) numpy work at most: one blended score vector, one mask,
one partial sort. Python only loops over the suggestions being returned.
"""

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import ErrorDetail, InvalidInput, NotFound
from app.serving.campaigns import Campaigns
from app.serving.filters import CatalogFacts, Filters
from app.serving.live import LivePurchases
from app.serving.offers import OfferPolicy, Offers
from app.serving.premium import PremiumOffers
from app.serving.profile import Profiles
from app.serving.reasons import Reasons, iso
from app.serving.segments import overview
from app.serving.upsell import UpsellAnswers
from models.premium import Band, unit_rows
from models.replenish import due_windows
from models.sparse import row_sum
from models.trained import Model
from models.upsell import Policy

MIN_GROUP = 20  # customers a group needs before its popularity stands for a newcomer
DUE_EARLY = 0.15  # a cycle item is due from 85 % of its cycle after the last purchase
LAPSED = 1.0  # ...until one more cycle has passed: then the habit is gone
BASKET_RULES = 1.0  # weight of the basket's own bought-together rules in cart answers
TOP_BLOCKS = 64  # at least this many blocks, whose maxima bound the k-th best score (`top_k`)

Answer = dict[str, Any]


@dataclass(frozen=True)
class Customer:
    """What the model and the live state know of one customer at request time."""

    row: int | None  # index in the model, None if unknown to it
    owned: np.ndarray  # item indexes bought, training and since
    recent: bool  # bought something since training


class Recommender:
    """The serving side of one artifact."""

    def __init__(
        self,
        model: Model,
        manifest: dict[str, Any],
        live: LivePurchases,
        band: Band | None = None,
        policy: Policy | None = None,
        offer_policy: OfferPolicy | None = None,
    ) -> None:
        self.model, self.manifest, self.live = model, manifest, live
        self.version = str(manifest["version"])
        self.upsell = UpsellAnswers(model.upsell, model.plans, policy or Policy(), self.version)
        self.offers = Offers(self, offer_policy or OfferPolicy())
        self.campaigns = Campaigns(self, offer_policy or OfferPolicy())
        engine, vocab = model.engine, model.vocab
        self.engine, self.vocab = engine, vocab
        self.customer_index = {c: i for i, c in enumerate(vocab.customer_ids)}
        self.segments = overview(model.segments, self.version)
        self.profiles = Profiles(model.segments, self.customer_index, self.upsell, self.version)
        item_index = {c: i for i, c in enumerate(vocab.item_ids)}
        self.facts = CatalogFacts(
            item_index=item_index,
            category_index={c: i for i, c in enumerate(vocab.categories)},
            category=vocab.items.category,
            price=vocab.price,
            active=vocab.active,
        )
        self.reasons = Reasons(model)
        self.facts_of = [  # the static part of every suggestion, built once
            {
                "item_id": item_id,
                "name": name,
                "category": vocab.categories[code] if code >= 0 else None,
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
        self.by_buyers = np.argsort(-engine.buyers, kind="stable")
        self.windows = due_windows(engine.cycles.last, engine.cycles.cycle, DUE_EARLY, LAPSED)
        self.cold = engine.buyers == 0
        self.unit = unit_rows(engine.cross_sell.als.item_factors)
        self.premium = PremiumOffers(model, self.unit, band or Band())
        self.rules_conf = engine.baskets.confidence().tocsr()
        pool_category = engine.cross_sell.pool_category
        cold = self.cold[engine.cross_sell.pool]
        self.cold_pos = np.flatnonzero(cold & (pool_category >= 0))
        self.warm_pos = np.flatnonzero(~cold & (pool_category >= 0))
        self.warm_count = np.bincount(pool_category[self.warm_pos], minlength=len(vocab.categories))

    # ---- lookups -------------------------------------------------------------------------

    def item(self, item_id: str) -> int:
        index = self.facts.item_index.get(item_id)
        if index is None:
            raise NotFound(
                f"item {item_id!r} is not in the model (unknown, or added after training)",
                [ErrorDetail(field="item_id", message=f"unknown item {item_id!r}")],
            )
        return index

    def customer(self, customer_id: str | None) -> Customer:
        row = self.customer_index.get(customer_id) if customer_id else None
        owned = np.empty(0, dtype=np.int64)
        if row is not None:
            owned = self.engine.owned.indices[
                self.engine.owned.indptr[row] : self.engine.owned.indptr[row + 1]
            ].astype(np.int64)
        recent = self.live.recent(customer_id) if customer_id else None
        lines = list(recent.lines) if recent else []
        if lines:
            owned = np.union1d(owned, np.array([item for item, _ in lines], dtype=np.int64))
        return Customer(row, owned, bool(lines))

    # ---- personal cross-sell -------------------------------------------------------------

    def cross_sell(
        self,
        customer_id: str,
        filters: Filters,
        now: int | None = None,
        customer: Customer | None = None,
    ) -> Answer:
        """Personal suggestions: due repurchases first, then the blend; cold start if no history.

        `customer` is `self.customer(customer_id)` when the caller has it already.
        """
        now = int(time.time()) if now is None else now
        customer = self.customer(customer_id) if customer is None else customer
        allowed = self.facts.mask(filters)
        if not len(customer.owned):
            return self._cold_start(customer_id, customer.row, allowed, filters.limit)
        due = self._due(customer_id, customer, allowed, now)[: filters.limit]
        scores = self._personal_scores(customer)
        allowed[customer.owned] = False
        allowed[[d["index"] for d in due]] = False
        items = self._due_items(due, allowed, now)[: filters.limit]
        pool = self.engine.cross_sell.pool
        top = top_k(scores, allowed[pool], filters.limit - len(items))
        items += self._personal_items(pool[top], scores[top], customer.owned)
        return self._answer(customer_id, "personal", items)

    def _personal_scores(self, customer: Customer) -> np.ndarray:
        """The blend over the pool; new items borrow the mean of their category's sold items."""
        cross_sell = self.engine.cross_sell
        factors = None
        if customer.row is not None and not customer.recent:
            factors = cross_sell.als.user_factors[customer.row]
        scores = cross_sell.score_pool(customer.owned, factors)
        if len(self.cold_pos):
            category = cross_sell.pool_category
            warm = self.warm_pos
            total = np.bincount(category[warm], scores[warm], minlength=len(self.warm_count))
            mean = np.where(self.warm_count > 0, total / np.maximum(self.warm_count, 1), -np.inf)
            scores[self.cold_pos] = mean[category[self.cold_pos]] - 1e-3
        return scores

    def _due(
        self, customer_id: str, customer: Customer, allowed: np.ndarray, now: int
    ) -> list[dict[str, Any]]:
        """Repurchase-cycle items due now, the most overdue first."""
        cycles = self.engine.cycles
        row = customer.row
        part = cycles.of(row) if row is not None else slice(0, 0)
        items, cycle, last = cycles.item[part], cycles.cycle[part], cycles.last[part]
        recent = self.live.recent(customer_id)
        if recent and recent.lines:
            items, cycle, last = _with_recent(items, cycle, last, recent, cycles.item_cycle)
            windows = due_windows(last, cycle, DUE_EARLY, LAPSED)
            due_at, opens, closes = windows.due, windows.opens, windows.closes
        else:  # the windows computed at load, as they were at training
            w = self.windows
            due_at, opens, closes = w.due[part], w.opens[part], w.closes[part]
        if not len(items):
            return []
        is_due = (now >= opens) & (now <= closes)
        is_due &= allowed[items]
        if not is_due.any():  # the usual answer: skip the sort
            return []
        order = np.argsort(due_at[is_due], kind="stable")
        pick = np.flatnonzero(is_due)[order]
        return [
            {
                "index": int(items[i]),
                "cycle": float(cycle[i]),
                "last": int(last[i]),
                "due": int(due_at[i]),
            }
            for i in pick
        ]

    # ---- cold start ----------------------------------------------------------------------

    def _cold_start(
        self, customer_id: str | None, row: int | None, allowed: np.ndarray, limit: int
    ) -> Answer:
        """Popular among the customer's group if it is big enough, else overall."""
        popular = self.engine.popular
        group = int(self.vocab.group[row]) if row is not None else -1
        if group >= 0 and popular.members[group] >= MIN_GROUP:
            items, buyers = popular.items(group)
            keep = allowed[items]
            items, buyers = items[keep][:limit], buyers[keep][:limit]
            if len(items):
                label, members = self.vocab.groups[group], int(popular.members[group])
                chosen = [
                    self._item(
                        i,
                        float(b),
                        "popular_similar",
                        [self.reasons.popular(i, int(b), label, members)],
                    )
                    for i, b in zip(items.tolist(), buyers.tolist(), strict=True)
                ]
                return self._answer(customer_id, "popular_similar", chosen)
        ranked = self.by_buyers[allowed[self.by_buyers]][:limit]
        chosen = [
            self._item(
                i,
                float(self.engine.buyers[i]),
                "popular",
                [self.reasons.popular(i, int(self.engine.buyers[i]), None, 0)],
            )
            for i in ranked.tolist()
        ]
        return self._answer(customer_id, "popular", chosen)

    # ---- related items -------------------------------------------------------------------

    def related(
        self,
        item_id: str,
        kind: str,
        filters: Filters,
        min_ratio: float | None = None,
        max_ratio: float | None = None,
    ) -> Answer:
        """Bought together (`complement`), nearest in taste (`similar`), a step up
        (`premium`) or a larger pack cheaper per unit (`volume`).

        `min_ratio` and `max_ratio` narrow or widen the premium price band for this request.
        """
        item = self.item(item_id)
        allowed = self.facts.mask(filters)
        allowed[item] = False
        if kind == "complement":
            items = self._complements(item, allowed, filters.limit)
        elif kind == "premium":
            band = self._band(min_ratio, max_ratio)
            items = self._premium(item, allowed, filters.limit, band)
        elif kind == "volume":
            items = self._volume(item, allowed, filters.limit)
        else:
            items = self._similar(item, allowed, filters.limit)
        return {"item_id": item_id, "kind": kind, "model_version": self.version, "items": items}

    def _complements(self, item: int, allowed: np.ndarray, limit: int) -> list[Answer]:
        others, support, confidence, lift = self.engine.baskets.rules(item)
        keep = allowed[others]
        chosen = []
        orders = int(self.engine.baskets.item_orders[item])
        for j, s, c, lf in list(
            zip(others[keep], support[keep], confidence[keep], lift[keep], strict=True)
        )[:limit]:
            reason = {
                "kind": "bought_together",
                "text": f"in {c:.0%} of the {orders:,} orders with {self.reasons.name(item)}",
                "evidence": {
                    "orders_with_both": int(s),
                    "orders_with_item": orders,
                    "confidence": round(float(c), 4),
                    "lift": round(float(lf), 2),
                },
            }
            entry = self._item(int(j), float(c), "bought_together", [reason])
            entry.update(support=int(s), confidence=round(float(c), 4), lift=round(float(lf), 2))
            chosen.append(entry)
        return chosen

    def _similar(self, item: int, allowed: np.ndarray, limit: int) -> list[Answer]:
        if self.cold[item]:
            scores, how = row_sum(self.engine.cross_sell.content, np.array([item])), "name"
            allowed &= scores > 0
        else:
            scores, how = self.unit @ self.unit[item], "collaborative"
            allowed &= ~self.cold
        picks = top_k(scores, allowed, limit)
        return [
            self._item(
                int(j),
                float(scores[j]),
                "similar",
                [self.reasons.similar(int(j), item, float(scores[j]), how)],
            )
            for j in picks
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

    def _premium(self, item: int, allowed: np.ndarray, limit: int, band: Band) -> list[Answer]:
        picks, scores = self.premium.alternatives(item, allowed, limit, band)
        return [
            self._premium_item(j, item, score)
            for j, score in zip(picks.tolist(), scores.tolist(), strict=True)
        ]

    def _volume(self, item: int, allowed: np.ndarray, limit: int) -> list[Answer]:
        picks, scores = self.premium.larger_packs(item, allowed, limit)
        return [
            self._item(j, score, "volume", [self.premium.volume_reason(j, item)])
            for j, score in zip(picks.tolist(), scores.tolist(), strict=True)
        ]

    def _premium_item(self, item: int, anchor: int, score: float, due: bool = False) -> Answer:
        reason = self.premium.reason(item, anchor, due)
        entry = self._item(item, score, "premium", [reason])
        entry["price_difference"] = reason["evidence"]["price_difference"]
        return entry

    # ---- baskets -------------------------------------------------------------------------

    def basket(
        self, customer_id: str | None, item_ids: list[str], filters: Filters, now: int | None = None
    ) -> Answer:
        """Items to add to a basket: the blend folded in from basket + history, plus rules."""
        if not item_ids:
            raise InvalidInput(
                "the basket is empty: send at least one item id",
                [ErrorDetail(field="items", message="at least one item id is required")],
            )
        known = [self.facts.item_index[i] for i in item_ids if i in self.facts.item_index]
        unknown = [i for i in item_ids if i not in self.facts.item_index]
        customer = self.customer(customer_id)
        basket = np.unique(np.array(known, dtype=np.int64))
        owned = np.union1d(customer.owned, basket)
        allowed = self.facts.mask(filters)
        allowed[owned] = False
        if not len(owned):
            answer = self._cold_start(customer_id, customer.row, allowed, filters.limit)
            answer.update(unknown_items=unknown)
            return answer
        scores = self.engine.cross_sell.score(owned)
        outside = np.isinf(scores)
        if outside.any() and not outside.all():
            scores[outside] = scores[~outside].min()  # rules may still reach the long tail
        if len(basket):
            rules = row_sum(self.rules_conf, basket).astype(np.float32)
            if rules.std() > 0:
                scores = scores + BASKET_RULES * (rules - rules.mean()) / rules.std()
        picks = top_k(scores, allowed, filters.limit)
        in_basket = np.zeros(len(self.cold), dtype=bool)
        in_basket[basket] = True
        reasons = self._personal_reasons(picks, owned, in_basket)
        items = [
            self._item(i, float(scores[i]), "basket", found)
            for i, found in zip(picks.tolist(), reasons, strict=True)
        ]
        answer = self._answer(customer_id, "basket", items)
        answer["unknown_items"] = unknown
        return answer

    # ---- building answers ----------------------------------------------------------------

    def _personal_items(
        self, picks: np.ndarray, scores: np.ndarray, owned: np.ndarray
    ) -> list[Answer]:
        """Suggestions with reasons; new items (no sales yet) came through their category."""
        reasons = self._personal_reasons(picks, owned)
        return [
            self._item(i, score, "category", [self.reasons.in_category(i)])
            if self.cold[i]
            else self._item(i, score, "personal", found)
            for i, score, found in zip(picks.tolist(), scores.tolist(), reasons, strict=True)
        ]

    def _personal_reasons(
        self, picks: np.ndarray, owned: np.ndarray, anchors: np.ndarray | None = None
    ) -> list[list[Answer]]:
        """Up to two reasons per item: bought together, also bought, new, else popular."""
        if anchors is None:
            anchors = np.zeros(len(self.cold), dtype=bool)
            anchors[owned] = True
        together = self.reasons.bought_together(picks, anchors)
        also = self.reasons.also_bought(picks, owned)
        new = self.reasons.new(picks)
        found = []
        for item, *candidates in zip(picks.tolist(), together, also, new, strict=True):
            reasons = [r for r in candidates if r]
            if not reasons:
                buyers = int(self.engine.buyers[item])
                reasons.append(self.reasons.popular(item, buyers, None, 0))
            found.append(reasons[:2])
        return found

    def _due_items(self, due: list[dict[str, Any]], allowed: np.ndarray, now: int) -> list[Answer]:
        """Due items, each followed by its better version when there is one to offer.

        The better version is taken out of `allowed`, so the blend does not offer it again.
        """
        items = []
        for d in due:
            items.append(self._due_item(d, now))
            better = self.premium.upgrade(d["index"], allowed)
            if better is not None:
                allowed[better] = False
                upgrade = self._premium_item(better, d["index"], 0.0, due=True)
                upgrade["due_at"] = items[-1]["due_at"]
                items.append(upgrade)
        return items

    def _due_item(self, due: dict[str, Any], now: int) -> Answer:
        reason = self.reasons.cycle(due["cycle"], due["last"], due["due"], now)
        entry = self._item(due["index"], 0.0, "replenishment", [reason])
        entry["due_at"] = iso(due["due"])
        return entry

    def _item(self, item: int, score: float, source: str, reasons: list[Answer]) -> Answer:
        return {
            **self.facts_of[item],
            "score": round(score, 4),
            "source": source,
            "reasons": reasons,
        }

    def _answer(self, customer_id: str | None, source: str, items: list[Answer]) -> Answer:
        return {
            "customer_id": customer_id,
            "source": source,
            "model_version": self.version,
            "items": items,
        }


def top_k(scores: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the k best allowed scores, best first, equal scores by index; items
    without a score never.

    Why not one np.argpartition: on the 4,000-item pool with the disallowed items at
    -inf (a run of equal values, its slow case) it took 40-180 µs, more than the blend
    itself. Only the scores at or above a lower bound of the k-th best are sorted,
    usually a few dozen.
    """
    allowed = allowed & np.isfinite(scores)
    k = min(k, int(np.count_nonzero(allowed)))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    masked = np.where(allowed, scores, -np.inf)
    bound = _kth_bound(masked, k)
    # no bound (a short vector, or fewer than k blocks with an allowed score): every
    # allowed one is a candidate
    candidates = np.flatnonzero(masked >= bound if bound > -np.inf else allowed)
    return candidates[np.argsort(-masked[candidates], kind="stable")[:k]]


def _kth_bound(values: np.ndarray, k: int) -> float:
    """A value the k-th largest of `values` is at least: the k-th largest of the maxima
    of max(TOP_BLOCKS, 4k) consecutive blocks (those k maxima are k values at least that
    high); -inf for a vector too short to split."""
    blocks = max(TOP_BLOCKS, 4 * k)
    if len(values) < 2 * blocks:
        return -np.inf
    step = -(-len(values) // blocks)
    maxima = np.maximum.reduceat(values, np.arange(0, len(values), step))
    return float(np.partition(maxima, len(maxima) - k)[len(maxima) - k])


def _with_recent(
    items: np.ndarray, cycle: np.ndarray, last: np.ndarray, recent: Any, item_cycle: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cycles with purchases since training: newer `last`, and new cycle items."""
    items, cycle, last = items.copy(), cycle.copy(), last.copy()
    lines = list(recent.lines)  # a copy: the poller may append meanwhile
    new_items = np.array([item for item, _ in lines], dtype=np.int64)
    new_times = np.array([when for _, when in lines], dtype=np.int64)
    position = {int(i): n for n, i in enumerate(items)}
    newest: dict[int, int] = {}
    for item, when in zip(new_items.tolist(), new_times.tolist(), strict=True):
        newest[item] = max(newest.get(item, when), when)
    extra = []
    for item, when in newest.items():
        if item in position:
            last[position[item]] = max(last[position[item]], when)
        elif item_cycle[item] > 0:
            extra.append((item, float(item_cycle[item]), when))
    if extra:
        more = np.array(extra, dtype=np.float64)
        items = np.r_[items, more[:, 0].astype(items.dtype)]
        cycle = np.r_[cycle, more[:, 1].astype(cycle.dtype)]
        last = np.r_[last, more[:, 2].astype(last.dtype)]
    return items, cycle, last
