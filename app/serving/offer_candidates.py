"""Candidate offers of every kind for one customer, each with probability and value.

Each builder turns one engine's answer into offers of the one shape (`Offer`): the
upsell decision into an upgrade, billing or retention offer; the cross-sell answer into
cross-sell, replenishment and premium offers; the strongest bought-together set into a
bundle; what other departments of the account use into expansion offers. Candidates
carry unrounded probabilities and the kind's default channel; ranking, channels and
guardrails come after (`app.serving.offers`).
"""

from typing import Any

import numpy as np
import scipy.sparse as sp

from app.db.tables import OfferKind
from app.serving.answers import (
    CrossSellAnswer,
    Offer,
    OfferItem,
    OfferReason,
    OfferTiming,
    PlanOffer,
    Suggestion,
    UpsellAnswer,
)
from app.serving.catalog import Catalog
from app.serving.customers import Customer, Customers
from app.serving.offer_reads import Peers
from app.serving.reasons import money
from app.serving.upsell import UpsellAnswers
from models.baskets import Baskets
from models.offers import DEFAULT_CHANNEL, PRIOR, bundle_for, regular_rebuy
from models.replenish import Cycles
from models.sparse import row_entries
from models.vocab import index_of

ITEM_KINDS: dict[str, OfferKind] = {"replenishment": "replenishment", "premium": "premium"}
EXPANSION_ITEMS = 3  # at most this many expansion items per answer
NOW: OfferTiming = {"when": "now", "at": None}


def offer(
    offer_id: str,
    kind: OfferKind,
    probability: float,
    value: float,
    reasons: list[OfferReason],
    source: str,
    version: str,
    *,
    items: list[OfferItem] | None = None,
    plan: PlanOffer | None = None,
    timing: OfferTiming = NOW,
    currency: str | None = None,
    discount: float | None = None,
) -> Offer:
    """A candidate: the kind's default channel until the ranking chooses one."""
    return {
        "offer_id": offer_id,
        "kind": kind,
        "items": items or [],
        "plan": plan,
        "probability": probability,
        "value": value,
        "expected_value": probability * value,
        "currency": currency,
        "discount": discount,
        "timing": timing,
        "channel": DEFAULT_CHANNEL[kind],  # type: ignore[typeddict-item]
        "channel_evidence": {"impressions": 0, "responses": 0, "learned": False},
        "reasons": reasons,
        "source": source,
        "model_version": version,
    }


def item_of(suggestion: Suggestion | OfferItem) -> OfferItem:
    """What an offer says of an item."""
    return {
        "item_id": suggestion["item_id"],
        "name": suggestion["name"],
        "category": suggestion["category"],
        "price": suggestion["price"],
    }


class Candidates:
    """The builders of every kind of candidate, over one loaded model."""

    def __init__(
        self,
        catalog: Catalog,
        customers: Customers,
        buyers: np.ndarray,
        cycles: Cycles,
        baskets: Baskets,
        upsell: UpsellAnswers,
        names: list[str],
        version: str,
    ) -> None:
        self.catalog, self.customers, self.buyers, self.cycles = catalog, customers, buyers, cycles
        self.baskets, self.upsell, self.names, self.version = baskets, upsell, names, version

    def from_upsell(self, answer: UpsellAnswer) -> Offer | None:
        """The upsell decision as an offer; None for "not now"."""
        kinds: dict[str, OfferKind] = {
            "upgrade": "upgrade",
            "billing": "billing",
            "retain": "retention",
        }
        kind = kinds.get(answer["decision"])
        target = answer["target"]
        if kind is None or target is None:
            return None
        monthly = float(target["monthly_price"])
        annual = target["billing_period"] == "annual" and kind != "upgrade"
        if kind == "upgrade":
            value = 12 * float(answer["price_difference"] or 0.0)
            probability = answer["probability"]
            if probability is None:  # under rules: the upgrade rate of the usage band
                probability = _band_rate(answer["reasons"])
        else:
            value = float(target["annual_price"] or 12 * monthly) if annual else 12 * monthly
            probability = PRIOR[kind]
        suffix = ":annual" if kind == "retention" and annual else ""
        timing = answer["timing"]
        return offer(
            f"{kind}:{target['plan_id']}{suffix}",
            kind,
            float(probability),
            round(value, 2),
            list(answer["reasons"]),  # type: ignore[arg-type]
            "upsell",
            self.version,
            plan=target,
            timing=NOW if timing is None else {"when": timing["when"], "at": timing["at"]},
            currency=target["currency"],
        )

    def from_cross_sell(self, customer: Customer, answer: CrossSellAnswer) -> list[Offer]:
        """Cross-sell, replenishment and premium offers from the personal cross-sell answer."""
        offers = []
        n_customers = max(len(self.customers.ids), 1)
        for item in answer["items"]:
            kind = ITEM_KINDS.get(item["source"], "cross_sell")
            index = self.catalog.item_index[item["item_id"]]
            price = float(item["price"] or 0.0)
            timing: OfferTiming
            if kind == "replenishment":
                probability, value = regular_rebuy(self._purchases(customer, index)), price
                timing = {"when": "due", "at": item.get("due_at")}
            elif kind == "premium":
                evidence = item["reasons"][0]["evidence"]
                probability, value = (
                    float(evidence["share"]),
                    float(item.get("price_difference") or 0),
                )
                due = item.get("due_at")
                timing = {"when": "due" if due else "now", "at": due}
            else:
                together = [
                    r["evidence"]["confidence"]
                    for r in item["reasons"]
                    if "confidence" in r["evidence"]
                ]
                popular = float(self.buyers[index]) / n_customers
                probability, value, timing = max([popular, *together]), price, NOW
            offers.append(
                offer(
                    f"{kind}:{item['item_id']}",
                    kind,
                    round(probability, 4),
                    round(value, 2),
                    list(item["reasons"]),  # type: ignore[arg-type]
                    item["source"],
                    self.version,
                    items=[item_of(item)],
                    timing=timing,
                    currency=self.catalog.currency[index] or None,
                )
            )
        return offers

    def _purchases(self, customer: Customer, item: int) -> int:
        """How many days the customer bought the item on, by the repurchase cycles."""
        if customer.row is None:
            return 1
        part = self.cycles.of(customer.row)
        found = np.flatnonzero(self.cycles.item[part] == item)
        return int(self.cycles.count[part][found[0]]) if len(found) else 1

    def bundle(self, owned: np.ndarray, allowed: np.ndarray, discount: float) -> Offer | None:
        """The set of two new items most often bought together with one the customer owns."""
        baskets, catalog = self.baskets, self.catalog
        allowed = allowed.copy()
        allowed[owned] = False
        found = bundle_for(owned, baskets.support, baskets.item_orders, allowed)
        if found is None:
            return None
        items = [item_of(catalog.facts[i]) for i in found.items.tolist()]
        total = float(np.nansum(catalog.price[found.items]))
        currency = catalog.currency[int(found.items[0])] or ""
        anchor = self.names[found.anchor]
        orders = int(baskets.item_orders[found.anchor])
        shares = " and ".join(f"{c:.0%}" for c in found.confidence.tolist())
        text = (
            f"bought together with {anchor}, which you have, in {shares} of its {orders:,} "
            f"orders; together for {money(total * (1 - discount), currency)} instead of "
            f"{money(total, currency)}"
        )
        reason: OfferReason = {
            "kind": "bundle",
            "text": text,
            "evidence": {
                "item_id": catalog.item_ids[found.anchor],
                "orders_with_item": orders,
                "confidence": [round(c, 4) for c in found.confidence.tolist()],
                "orders_with_both": found.support.tolist(),
                "total_price": round(total, 2),
                "discount": discount,
            },
        }
        ids = "+".join(i["item_id"] for i in items)
        return offer(
            f"bundle:{ids}",
            "bundle",
            round(float(found.confidence.min()), 4),
            round(total * (1 - discount), 2),
            [reason],
            "bought_together",
            self.version,
            items=items,
            currency=currency or None,
            discount=discount,
        )

    def expansion(
        self, peers: Peers, owned: np.ndarray, allowed: np.ndarray, account_id: str | None
    ) -> list[Offer]:
        """Items other departments of the account buy and this one does not."""
        if not peers.departments:
            return []
        found = peer_items(self.customers, peers.members) if peers.items is None else peers.items
        index, using = found
        keep = allowed.copy()
        keep[owned] = False  # a mask, not np.isin: that sorts, at 40 µs a call
        keep = keep[index]
        index, using = index[keep], using[keep]
        order = np.lexsort((-self.buyers[index], -using))[:EXPANSION_ITEMS]
        offers = []
        for i, n in zip(index[order].tolist(), using[order].tolist(), strict=True):
            item = self.catalog.facts[i]
            reason: OfferReason = {
                "kind": "expansion",
                "text": f"{n} of the {peers.departments} other departments of your account "
                f"buy {item['name']}",
                "evidence": {
                    "account_id": account_id,
                    "departments": peers.departments,
                    "using": n,
                },
            }
            offers.append(
                offer(
                    f"expansion:item:{item['item_id']}",
                    "expansion",
                    round(n / peers.departments, 4),
                    float(item["price"] or 0.0),
                    [reason],
                    "account",
                    self.version,
                    items=[item_of(item)],
                    currency=self.catalog.currency[i] or None,
                )
            )
        return offers

    def expansion_plan(
        self, peers: Peers, current: int | None, account_id: str | None
    ) -> Offer | None:
        """The plan most departments of the account are on, when it is above this one's.

        A department without a subscription is offered the plan itself; one on a lower
        plan of the same ladder, the step up, within the upsell price cap.
        """
        upsell = self.upsell
        plans, ladder = upsell.plans, upsell.model.ladder
        if not peers.plans or not len(plans.db_ids):
            return None
        db_ids = np.array(list(peers.plans), dtype=np.int64)
        using = np.array(list(peers.plans.values()), dtype=np.int64)
        index, known = index_of(plans.db_ids, db_ids)
        index, using = index[known], using[known]
        if current is not None:
            higher = (ladder.ladder[index] == ladder.ladder[current]) & (
                ladder.rank[index] > ladder.rank[current]
            )
            paying = float(ladder.monthly[current])
            cap = upsell.policy.max_price_multiple * max(paying, 1e-9)
            keep = higher & ((ladder.monthly[index] <= cap) | (paying <= 0))
            index, using = index[keep], using[keep]
        if not len(index):
            return None
        best = int(np.lexsort((ladder.rank[index], -using))[0])
        plan, n = int(index[best]), int(using[best])
        paying = float(ladder.monthly[current]) if current is not None else 0.0
        name = plans.names[plan] or plans.ids[plan]
        reason: OfferReason = {
            "kind": "expansion",
            "text": f"{n} of the {peers.departments} other departments of your account "
            f"are on {name}",
            "evidence": {"account_id": account_id, "departments": peers.departments, "using": n},
        }
        return offer(
            f"expansion:plan:{plans.ids[plan]}",
            "expansion",
            round(n / peers.departments, 4),
            round(12 * (float(ladder.monthly[plan]) - paying), 2),
            [reason],
            "account",
            self.version,
            plan=upsell.plan_answer(plan, annual=False),
            currency=plans.currency[plan] or None,
        )


def _band_rate(reasons: list[Any]) -> float:
    for reason in reasons:
        if reason["kind"] == "propensity":
            return float(reason["evidence"]["band_upgrade_rate"])
    return 0.0


def peer_items(customers: Customers, members: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(item indexes, how many of `members` bought each): what the model saw them buy
    (sales not returned), plus their purchases since training, each department counted
    once per item."""
    rows, known = customers.rows(members)
    owned: sp.csr_matrix = customers.owned
    offsets, which = row_entries(owned, rows)
    member, items = which.astype(np.int64), owned.indices[offsets].astype(np.int64)
    live = [customers.live.recent(m) for m in members]
    if any(r and r.lines for r in live):  # bought since training: may repeat an item
        member = np.flatnonzero(known)[member]
        extra = [(n, item) for n, r in enumerate(live) if r for item, _ in list(r.lines)]
        more = np.array(extra, dtype=np.int64).reshape(-1, 2)
        pairs = np.unique(np.c_[np.r_[member, more[:, 0]], np.r_[items, more[:, 1]]], axis=0)
        items = pairs[:, 1]
    found, using = np.unique(items, return_counts=True)
    return found, using
