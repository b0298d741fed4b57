"""Campaign lists: the customers most worth contacting about one offer, for a CRM.

The ranking is the model's (`models.campaigns`: upgrade prospects as of training, or
every customer's chance of buying one item); the guardrails are those of the moment
asked for (now by default): the list walks down the ranking in batches, reads each
batch's opt-outs, open complaints and offer events, and keeps the customers the offers
route itself would make the offer to (the holdout excluded), until it has `limit`.

An upgrade list is made of `/upsell`'s own decisions: each prospect's live state is
read and decided by `UpsellAnswers.decision`, the function the route and the offers
answer from, and only a customer answered `upgrade` (to the list's plan) stays, with
that answer's probability and plan; the list is then ordered by that expected value.
Training's prospects are a superset of the customers the decision can answer
`upgrade` at the moment of training (they pass the same target and usage gates), so
at that moment the list holds exactly them. At another moment the pool and the walk's
order are still training's (docs/offers.md says what that leaves out).
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Engine

from app.errors import ErrorDetail, InvalidInput, NotFound
from app.serving.answers import CampaignAnswer, CampaignTarget
from app.serving.campaign_reads import Facts, read_facts
from app.serving.catalog import Catalog
from app.serving.offers import OfferPolicy
from app.serving.subscriber import LiveState, Reads, driver_cursor, reads_for
from app.serving.upsell import UpsellAnswers
from models.als import Als
from models.campaigns import MONTHS, Prospects, cross_sell_prospects, rank_upgrades
from models.guardrails import Standing, screen
from models.holdout import in_holdout
from models.offers import best_channel, channel_history

BATCH = 500  # prospects whose guardrail facts are read at once
About = tuple[str | None, str | None]  # the plan or the item a list is about
Decide = Callable[[list["Prospect"], dict[str, Facts]], Iterator["Prospect | str"]]


@dataclass(frozen=True)
class Prospect:
    """One ranked candidate before the guardrails."""

    customer_id: str
    offer_id: str
    probability: float
    value: float
    reason: str


@dataclass(frozen=True)
class Ranked:
    """What ranks the prospects of a list: the training's upgrade prospects, and what
    every customer owns and likes for an item's list."""

    prospects: Prospects
    customer_ids: list[str]
    owned: sp.csr_matrix
    rules: sp.csr_matrix  # bought-together confidence, item x item
    als: Als
    buyers: np.ndarray
    names: list[str]


class CampaignLists:
    """Campaign lists from one loaded model."""

    def __init__(
        self,
        ranked: Ranked,
        upsell: UpsellAnswers,
        catalog: Catalog,
        policy: OfferPolicy,
        version: str,
        ranked_as_of: dict[str, str | None],
    ) -> None:
        self.ranked, self.upsell, self.catalog, self.policy = ranked, upsell, catalog, policy
        self.version, self.ranked_as_of = version, ranked_as_of

    def targets(
        self,
        engine: Engine,
        kind: Literal["upgrade", "cross_sell"],
        plan_id: str | None,
        item_id: str | None,
        limit: int,
        as_of: int | None = None,
    ) -> CampaignAnswer:
        """Up to `limit` customers for the offer, best expected value first, now or as
        of a moment (guardrails and upgrade decisions from what was recorded by then)."""
        now = int(time.time()) if as_of is None else as_of
        if kind == "upgrade":
            ranked, currency, about = self._upgrades(plan_id)
        else:
            if item_id is None:
                raise InvalidInput(
                    "kind=cross_sell needs the item to offer",
                    [ErrorDetail(field="query.item", message="required with kind=cross_sell")],
                )
            ranked, currency, about = self._cross_sells(item_id)
        decide = None
        if kind == "upgrade":
            decide = partial(self._decided, engine, plan_id, now, as_of is not None)
        chosen, excluded, considered = self._screen(engine, kind, ranked, limit, now, decide)
        return {
            "kind": kind,
            "plan_id": about[0],
            "item_id": about[1],
            "model_version": self.version,
            "ranked_as_of": self.ranked_as_of[kind],
            "considered": considered,
            "excluded": dict(excluded),
            "currency": currency,
            "targets": chosen,
        }

    def _upgrades(self, plan_id: str | None) -> tuple[list[Prospect], str | None, About]:
        upsell = self.upsell
        plans, ladder = upsell.plans, upsell.model.ladder
        plan = None
        if plan_id is not None:
            if plan_id not in plans.ids:
                raise NotFound(
                    f"plan {plan_id!r} is not in the model",
                    [ErrorDetail(field="query.plan", message=f"unknown plan {plan_id!r}")],
                )
            plan = plans.ids.index(plan_id)
        prospects = self.ranked.prospects
        order = rank_upgrades(prospects, plan)
        cap = upsell.policy.max_price_multiple
        paying = ladder.monthly[prospects.plan[order]]
        order = order[(ladder.monthly[prospects.target[order]] <= cap * paying) | (paying <= 0)]
        customer_ids = self.ranked.customer_ids
        learned = upsell.model.learned
        ranked = [
            Prospect(
                customer_ids[int(prospects.customer[i])],
                f"upgrade:{plans.ids[int(prospects.target[i])]}",
                float(prospects.probability[i]),
                float(prospects.value[i]),
                _upgrade_reason(
                    float(prospects.probability[i]),
                    plans.names[int(prospects.target[i])] or plans.ids[int(prospects.target[i])],
                    learned,
                ),
            )
            for i in order.tolist()
            if not prospects.open_complaint[i]
        ]
        currency = plans.currency[plan] if plan is not None else (plans.currency or [""])[0]
        return ranked, currency or None, (plan_id, None)

    def _cross_sells(self, item_id: str) -> tuple[list[Prospect], str | None, About]:
        r = self.ranked
        item = self.catalog.index(item_id)
        base = float(r.buyers[item]) / max(len(r.customer_ids), 1)
        taste = r.als.user_factors @ r.als.item_factors[item]
        customers, probability, anchor = cross_sell_prospects(r.owned, r.rules, item, base, taste)
        price = float(np.nan_to_num(self.catalog.price[item]))
        names = r.names
        ranked = [
            Prospect(
                r.customer_ids[c],
                f"cross_sell:{item_id}",
                p,
                price,
                f"bought together with {names[a]} in {p:.0%} of its orders"
                if a >= 0
                else f"bought by {p:.1%} of customers",
            )
            for c, p, a in zip(
                customers[: 20 * BATCH].tolist(),
                probability[: 20 * BATCH].tolist(),
                anchor[: 20 * BATCH].tolist(),
                strict=True,
            )
        ]
        currency = self.catalog.currency[item] or None
        return ranked, currency, (None, item_id)

    def _screen(
        self,
        engine: Engine,
        kind: str,
        ranked: list[Prospect],
        limit: int,
        now: int,
        decide: "Decide | None",
    ) -> tuple[list[CampaignTarget], Counter[str], int]:
        """Walk down the ranking until `limit` customers pass the guardrails (and, for an
        upgrade, are answered `upgrade` by the upsell decision)."""
        kept: list[tuple[Prospect, str]] = []
        excluded: Counter[str] = Counter()
        considered = 0
        with engine.connect() as conn:
            for start in range(0, len(ranked), BATCH):
                batch = ranked[start : start + BATCH]
                facts = read_facts(conn, [p.customer_id for p in batch], now)
                for found in batch if decide is None else decide(batch, facts):
                    considered += 1
                    if isinstance(found, str):
                        excluded[found] += 1
                        continue
                    rule, channel = self._check(kind, found, facts.get(found.customer_id), now)
                    if rule is not None:
                        excluded[rule] += 1
                        continue
                    kept.append((found, channel))
                    if len(kept) >= limit:
                        return _listed(kept), excluded, considered
        return _listed(kept), excluded, considered

    def _decided(
        self,
        engine: Engine,
        plan_id: str | None,
        now: int,
        past: bool,
        batch: list[Prospect],
        facts: dict[str, Facts],
    ) -> Iterator[Prospect | str]:
        """Each prospect as `/upsell` answers it at `now`: the upgrade it is answered,
        with that answer's probability and value, or why it is left out: "erased",
        "open_complaint" (the route's own gate), or "no_upgrade" when the answer is not
        an upgrade to the list's plan. Read as the list walks on: a list of 10 reads
        about 10 customers, not the whole batch."""
        upsell, plans = self.upsell, self.upsell.plans
        monthly, learned = upsell.model.ladder.monthly, upsell.model.learned
        reads = reads_for(engine, Reads)
        with driver_cursor(engine) as cursor:
            for prospect in batch:
                known = facts.get(prospect.customer_id)
                if known is None:
                    yield "erased"
                    continue
                live = upsell.read(cursor, reads, known.pk, now, past)
                decision = upsell.decision(live, now)
                target = decision.target
                wanted = plan_id is None or (target is not None and plans.ids[target] == plan_id)
                if decision.kind != "upgrade" or not wanted or not isinstance(live, LiveState):
                    complaint = decision.why_not == "open_complaint"  # the guardrail's name
                    yield "open_complaint" if complaint else "no_upgrade"
                    continue
                assert decision.facts is not None and target is not None
                probability = decision.facts.probability
                if probability is None:  # rules: today's usage ratio ranks, as in training
                    probability = min(max(decision.facts.ratio, 0.0), 1.0)
                plan = live.subscriber.plan
                offer = f"upgrade:{plans.ids[target]}"
                value = MONTHS * float(monthly[target] - monthly[plan])
                name = plans.names[target] or plans.ids[target]
                reason = _upgrade_reason(probability, name, learned)
                yield Prospect(prospect.customer_id, offer, probability, value, reason)

    def _check(
        self, kind: str, prospect: Prospect, facts: Facts | None, now: int
    ) -> tuple[str | None, str]:
        """The guardrail that excludes the prospect, or the channel to reach it on."""
        if facts is None:
            return "erased", ""
        policy = self.policy
        held = in_holdout(prospect.customer_id, policy.holdout_share, policy.holdout_salt)
        standing = Standing(
            held, facts.opted_out, facts.complaint, tuple(e for e, _ in facts.events)
        )
        result = screen([kind], [prospect.offer_id], standing, now, policy.guardrails, 1)
        if result.held:
            return result.held[0][1], ""
        return None, best_channel(kind, *channel_history(facts.events)).channel


def _listed(kept: list[tuple[Prospect, str]]) -> list[CampaignTarget]:
    """The kept prospects as list rows, best expected value first."""
    kept = sorted(kept, key=lambda k: -k[0].probability * k[0].value)
    return [_target(rank, prospect, channel) for rank, (prospect, channel) in enumerate(kept, 1)]


def _target(rank: int, prospect: Prospect, channel: str) -> CampaignTarget:
    """A prospect's row in the list."""
    return {
        "rank": rank,
        "customer_id": prospect.customer_id,
        "offer_id": prospect.offer_id,
        "probability": round(prospect.probability, 4),
        "value": round(prospect.value, 2),
        "expected_value": round(prospect.probability * prospect.value, 2),
        "channel": channel,  # type: ignore[typeddict-item]
        "reason": prospect.reason,
    }


def _upgrade_reason(probability: float, plan: str, learned: bool) -> str:
    if learned:
        return (
            f"estimated {probability:.0%} chance of upgrading within 90 days; "
            f"usage calls for {plan}"
        )
    return f"usage at {probability:.0%} of the plan's tightest limit; {plan} covers it"
