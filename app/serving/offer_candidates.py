"""Candidate offers of every kind for one customer, each with probability and value.

Each builder turns one engine's answer into offers of one shape (`Offer`): the upsell
decision into an upgrade, billing or retention offer; the cross-sell answer into
cross-sell, replenishment and premium offers; the strongest bought-together set into
a bundle; what other departments of the account use into expansion offers. Ranking,
channels and guardrails come after (`app.serving.offers`).
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from app.serving.offer_reads import Peers
from app.serving.reasons import money
from models.offers import PRIOR, bundle_for, regular_rebuy
from models.sparse import row_entries
from models.vocab import index_of

if TYPE_CHECKING:
    from app.serving.recommender import Recommender

Answer = dict[str, Any]
ITEM_KINDS = {"replenishment": "replenishment", "premium": "premium"}  # else cross_sell
EXPANSION_ITEMS = 3  # at most this many expansion items per answer


@dataclass
class Offer:
    """One offer before ranking: what, for how much, how likely, and why."""

    offer_id: str
    kind: str
    probability: float
    value: float  # money the offer is worth if accepted (see models.offers)
    reasons: list[Answer]
    items: list[Answer] = field(default_factory=list)
    plan: Answer | None = None
    timing: Answer = field(default_factory=lambda: {"when": "now", "at": None})
    currency: str | None = None
    discount: float | None = None
    source: str = ""

    @property
    def expected_value(self) -> float:
        return self.probability * self.value


def from_upsell(answer: Answer) -> Offer | None:
    """The upsell decision as an offer; None for "not now"."""
    kind = {"upgrade": "upgrade", "billing": "billing", "retain": "retention"}.get(
        answer["decision"]
    )
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
    return Offer(
        offer_id=f"{kind}:{target['plan_id']}{suffix}",
        kind=kind,
        probability=float(probability),
        value=round(value, 2),
        reasons=answer["reasons"],
        plan=target,
        timing=answer["timing"] or {"when": "now", "at": None},
        currency=target["currency"],
        source="upsell",
    )


def _band_rate(reasons: list[Answer]) -> float:
    for reason in reasons:
        if reason["kind"] == "propensity":
            return float(reason["evidence"]["band_upgrade_rate"])
    return 0.0


def from_cross_sell(recommender: "Recommender", customer_id: str, answer: Answer) -> list[Offer]:
    """Cross-sell, replenishment and premium offers from the personal cross-sell answer."""
    offers = []
    engine = recommender.engine
    n_customers = max(len(recommender.vocab.customer_ids), 1)
    for item in answer["items"]:
        kind = ITEM_KINDS.get(item["source"], "cross_sell")
        index = recommender.facts.item_index[item["item_id"]]
        price = float(item["price"] or 0.0)
        if kind == "replenishment":
            probability, value = regular_rebuy(_purchases(recommender, customer_id, index)), price
            timing = {"when": "due", "at": item.get("due_at")}
        elif kind == "premium":
            evidence = item["reasons"][0]["evidence"]
            probability, value = float(evidence["share"]), float(item["price_difference"] or 0)
            timing = {"when": "due" if item.get("due_at") else "now", "at": item.get("due_at")}
        else:
            together = [
                r["evidence"]["confidence"]
                for r in item["reasons"]
                if "confidence" in r["evidence"]
            ]
            popular = float(engine.buyers[index]) / n_customers
            probability, value = max([popular, *together]), price
            timing = {"when": "now", "at": None}
        offers.append(
            Offer(
                offer_id=f"{kind}:{item['item_id']}",
                kind=kind,
                probability=round(probability, 4),
                value=round(value, 2),
                reasons=item["reasons"],
                items=[_item(item)],
                timing=timing,
                currency=recommender.vocab.currency[index] or None,
                source=item["source"],
            )
        )
    return offers


def _purchases(recommender: "Recommender", customer_id: str, item: int) -> int:
    """How many days the customer bought the item on, by the repurchase cycles."""
    row = recommender.customer_index.get(customer_id)
    if row is None:
        return 1
    cycles = recommender.engine.cycles
    part = cycles.of(row)
    found = np.flatnonzero(cycles.item[part] == item)
    return int(cycles.count[part][found[0]]) if len(found) else 1


def _item(item: Answer) -> Answer:
    return {k: item[k] for k in ("item_id", "name", "category", "price")}


def bundle(
    recommender: "Recommender", owned: np.ndarray, allowed: np.ndarray, discount: float
) -> Offer | None:
    """The set of two new items most often bought together with one the customer owns."""
    baskets = recommender.engine.baskets
    allowed = allowed.copy()
    allowed[owned] = False
    found = bundle_for(owned, baskets.support, baskets.item_orders, allowed)
    if found is None:
        return None
    vocab, facts = recommender.vocab, recommender.facts_of
    items = [_item(facts[i]) for i in found.items.tolist()]
    total = float(np.nansum(vocab.price[found.items]))
    currency = vocab.currency[int(found.items[0])] or ""
    anchor = vocab.items.names[found.anchor]
    orders = int(baskets.item_orders[found.anchor])
    shares = " and ".join(f"{c:.0%}" for c in found.confidence.tolist())
    text = (
        f"bought together with {anchor}, which you have, in {shares} of its {orders:,} "
        f"orders; together for {money(total * (1 - discount), currency)} instead of "
        f"{money(total, currency)}"
    )
    reason = {
        "kind": "bundle",
        "text": text,
        "evidence": {
            "item_id": vocab.item_ids[found.anchor],
            "orders_with_item": orders,
            "confidence": [round(c, 4) for c in found.confidence.tolist()],
            "orders_with_both": found.support.tolist(),
            "total_price": round(total, 2),
            "discount": discount,
        },
    }
    ids = "+".join(i["item_id"] for i in items)
    return Offer(
        offer_id=f"bundle:{ids}",
        kind="bundle",
        probability=round(float(found.confidence.min()), 4),
        value=round(total * (1 - discount), 2),
        reasons=[reason],
        items=items,
        currency=currency or None,
        discount=discount,
        source="bought_together",
    )


def expansion(
    recommender: "Recommender",
    peers: Peers,
    owned: np.ndarray,
    allowed: np.ndarray,
    account_id: str | None,
) -> list[Offer]:
    """Items other departments of the account buy and this one does not."""
    if not peers.departments:
        return []
    vocab = recommender.vocab
    index, using = peer_items(recommender, peers.members)
    keep = allowed.copy()
    keep[owned] = False  # a mask, not np.isin: that sorts, at 40 µs a call
    keep = keep[index]
    index, using = index[keep], using[keep]
    order = np.lexsort((-recommender.engine.buyers[index], -using))[:EXPANSION_ITEMS]
    offers = []
    for i, n in zip(index[order].tolist(), using[order].tolist(), strict=True):
        item = recommender.facts_of[i]
        reason = {
            "kind": "expansion",
            "text": f"{n} of the {peers.departments} other departments of your account "
            f"buy {item['name']}",
            "evidence": {"account_id": account_id, "departments": peers.departments, "using": n},
        }
        offers.append(
            Offer(
                offer_id=f"expansion:item:{item['item_id']}",
                kind="expansion",
                probability=round(n / peers.departments, 4),
                value=float(item["price"] or 0.0),
                reasons=[reason],
                items=[_item(item)],
                currency=vocab.currency[i] or None,
                source="account",
            )
        )
    return offers


def peer_items(recommender: "Recommender", members: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(item indexes, how many of `members` bought each): what the model saw them buy
    (sales not returned), plus their purchases since training, each department counted
    once per item."""
    index = recommender.customer_index
    rows = np.array([index[m] for m in members if m in index], dtype=np.int64)
    owned = recommender.engine.owned
    offsets, which = row_entries(owned, rows)
    member, items = which.astype(np.int64), owned.indices[offsets].astype(np.int64)
    live = [recommender.live.recent(m) for m in members]
    if any(r and r.lines for r in live):  # bought since training: may repeat an item
        code = {m: n for n, m in enumerate(members)}
        member = np.array([code[m] for m in members if m in index], dtype=np.int64)[member]
        extra = [(n, item) for n, r in enumerate(live) if r for item, _ in list(r.lines)]
        more = np.array(extra, dtype=np.int64).reshape(-1, 2)
        pairs = np.unique(np.c_[np.r_[member, more[:, 0]], np.r_[items, more[:, 1]]], axis=0)
        items = pairs[:, 1]
    found, using = np.unique(items, return_counts=True)
    return found, using


def expansion_plan(
    recommender: "Recommender", peers: Peers, current: int | None, account_id: str | None
) -> Offer | None:
    """The plan most departments of the account are on, when it is above this one's.

    A department without a subscription is offered the plan itself; one on a lower
    plan of the same ladder, the step up, within the upsell price cap.
    """
    upsell = recommender.upsell
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
        affordable = ladder.monthly[index] <= upsell.policy.max_price_multiple * max(paying, 1e-9)
        keep = higher & (affordable | (paying <= 0))
        index, using = index[keep], using[keep]
    if not len(index):
        return None
    best = int(np.lexsort((ladder.rank[index], -using))[0])
    plan, n = int(index[best]), int(using[best])
    paying = float(ladder.monthly[current]) if current is not None else 0.0
    name = plans.names[plan] or plans.ids[plan]
    reason = {
        "kind": "expansion",
        "text": f"{n} of the {peers.departments} other departments of your account are on {name}",
        "evidence": {"account_id": account_id, "departments": peers.departments, "using": n},
    }
    target = upsell.plan_answer(plan, annual=False)
    return Offer(
        offer_id=f"expansion:plan:{plans.ids[plan]}",
        kind="expansion",
        probability=round(n / peers.departments, 4),
        value=round(12 * (float(ladder.monthly[plan]) - paying), 2),
        reasons=[reason],
        plan=target,
        currency=plans.currency[plan] or None,
        source="account",
    )
