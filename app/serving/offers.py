"""Next best offers for one customer: every kind, ranked by expected value, screened by
the guardrails, each with its channel, timing and reasons.

Why everything is read per request (flags, events, the SaaS state, the account's
departments): the guardrails must see an opt-out, a dismissal or an impression of a
minute ago. The engines' answers are the same ones their own routes give
(`CrossSellAnswers.answer`, `UpsellAnswers.respond`), so an offer never says something
the cross-sell or upsell route would not.
"""

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.errors import Unavailable
from app.serving.answers import HeldBack, Offer, OffersAnswer, UpsellAnswer
from app.serving.catalog import Catalog
from app.serving.cross_sell import CrossSellAnswers
from app.serving.customers import Customer, Customers
from app.serving.filters import Filters
from app.serving.offer_candidates import Candidates
from app.serving.offer_reads import Customer as Flags
from app.serving.offer_reads import OfferReads, Peers, peers_then, read_customer, read_peers
from app.serving.past import PastReads, customer_read, peer_items_until
from app.serving.subscriber import (
    Cursor,
    LiveState,
    Reads,
    driver_cursor,
    open_complaints,
    reads_for,
    unknown_customer,
)
from app.serving.upsell import UpsellAnswers
from models.guardrails import Event, Guardrails, Screened, Standing, room, screen
from models.holdout import in_holdout
from models.offers import best_channel, channel_history

POOL = 10  # cross-sell items considered per answer at most (all of them when explaining)
SPARE = 4  # ...else this many more than can be shown, for the guardrails to skip some


@dataclass(frozen=True)
class OfferPolicy:
    """The deployment's offer settings (NEXTBEST_OFFER_*, _HOLDOUT_*, _BUNDLE_DISCOUNT)."""

    guardrails: Guardrails = field(default_factory=Guardrails)
    holdout_share: float = 0.1
    holdout_salt: str = ""
    bundle_discount: float = 0.1


@dataclass(frozen=True)
class OfferRequest:
    """What the caller asked for."""

    customer_id: str
    limit: int = 5
    kinds: tuple[str, ...] = ()  # empty: every kind
    channel: str | None = None  # given: every offer goes out on it
    explain: bool = False
    as_of: int | None = None  # epoch seconds of a past moment to answer as of; None: now


@dataclass
class Situation:
    """What was read of the customer for this answer."""

    customer_pk: int
    opted_out: bool
    account_id: str | None
    events: list[tuple[Event, str]]
    live: LiveState | str | None
    complaint: bool
    peers: Peers
    customer: Customer  # what they bought, up to the answer's moment


class OfferAnswers:
    """The offers route's answers from one loaded model."""

    def __init__(
        self,
        cross_sell: CrossSellAnswers,
        upsell: UpsellAnswers,
        candidates: Candidates,
        catalog: Catalog,
        customers: Customers,
        policy: OfferPolicy,
        version: str,
    ) -> None:
        self.cross_sell, self.upsell, self.candidates = cross_sell, upsell, candidates
        self.catalog, self.customers, self.policy, self.version = (
            catalog,
            customers,
            policy,
            version,
        )
        self.reads: dict[str, OfferReads] = {}

    def answer(self, engine: Engine, request: OfferRequest) -> OffersAnswer:
        """The ranked, screened offers for one customer, now or as of `request.as_of`;
        404 for an unknown one (`read`, then `respond`: blocking)."""
        now = int(time.time()) if request.as_of is None else request.as_of
        situation = self.read(engine, request.customer_id, now, request.as_of is not None)
        return self.respond(request, situation, now)

    def read(
        self, engine: Engine, customer_id: str, now: int, as_of: bool = False
    ) -> "Situation | None":
        """What the answer needs from the database: the customer's flags and events,
        their live subscription and the account's departments; None when the database
        cannot be read (the answer is then the degraded one); 404 for an unknown customer.

        The request's only blocking step: an event loop runs it in a thread, and
        `respond` on the loop. `as_of`: `now` is a moment asked for, maybe past, and
        nothing recorded after it is read (purchases included: `app.serving.past`).
        """
        try:
            return self._read(engine, customer_id, now, as_of)
        except Unavailable:
            return None

    def respond(
        self, request: OfferRequest, situation: "Situation | None", now: int
    ) -> OffersAnswer:
        """The ranked, screened offers from what `read` found (memory and numpy only)."""
        if situation is None:
            return self._degraded(request)
        policy = self.policy
        standing = Standing(
            holdout=in_holdout(request.customer_id, policy.holdout_share, policy.holdout_salt),
            opted_out=situation.opted_out,
            open_complaint=situation.complaint,
            events=tuple(e for e, _ in situation.events),
        )
        space = room(standing, now, policy.guardrails, request.limit)
        found: list[Offer] = []
        not_now = None
        if space or request.explain:  # else nothing can be shown: nothing to compute
            only_service = standing.open_complaint and not request.explain
            found, not_now = self._candidates(request, situation, now, space, only_service)
        found.sort(key=lambda o: -o["expected_value"])
        screened = screen(
            [o["kind"] for o in found],
            [o["offer_id"] for o in found],
            standing,
            now,
            policy.guardrails,
            request.limit,
        )
        answer = self._answer(request, situation, found, screened, standing)
        held = answer.get("held_back")
        if held is not None and not_now is not None:
            held.append(_not_now(not_now))
        return answer

    def _degraded(self, request: OfferRequest) -> OffersAnswer:
        """No offers while the database cannot be read: the opt-out, the complaints and
        the frequency cap cannot be checked, and an offer that breaks them is worse than
        none."""
        policy = self.policy
        answer: OffersAnswer = {
            "customer_id": request.customer_id,
            "model_version": self.version,
            "holdout": in_holdout(request.customer_id, policy.holdout_share, policy.holdout_salt),
            "offers": [],
            "guardrails": {
                "cap": policy.guardrails.cap,
                "window_days": policy.guardrails.window_days,
                "shown_in_window": None,
            },
            "degraded": True,
        }
        if request.explain:
            text = "the database is unreachable: the guardrails cannot be checked"
            answer["held_back"] = [
                {
                    "offer_id": None,
                    "kind": "all",
                    "rule": "degraded",
                    "expected_value": 0.0,
                    "text": text,
                }
            ]
        return answer

    def _read(self, engine: Engine, customer_id: str, now: int, as_of: bool) -> Situation:
        reads = self.reads.get(engine.dialect.name)
        if reads is None:
            reads = self.reads[engine.dialect.name] = OfferReads(engine)
        moments = reads_for(engine, Reads)
        with driver_cursor(engine) as cursor:
            found = read_customer(cursor, reads, moments, customer_id, now, as_of)
            if found is None:
                raise unknown_customer(customer_id)
            customer, events = found
            live = self.upsell.read(cursor, moments, customer.pk, now, as_of)
            if isinstance(live, LiveState):
                complaint = live.subscriber.open_complaint
            else:
                complaint = bool(open_complaints(cursor, moments, customer.pk, now))
            if as_of:
                peers = self._peers_then(cursor, engine, customer, now)
                bought = customer_read(cursor, engine, self.customers, customer_id, now)
            else:
                peers = read_peers(cursor, reads, customer)
                bought = self.customers.of(customer_id)
        return Situation(
            customer.pk,
            customer.opted_out,
            customer.account_id,
            events,
            live,
            complaint,
            peers,
            bought,
        )

    def _peers_then(self, cursor: Cursor, engine: Engine, customer: Flags, now: int) -> Peers:
        """The account's other departments as of a past moment: their plans then and
        what they had bought by then (the model holds later purchases of theirs)."""
        past = reads_for(engine, PastReads)
        peers = peers_then(
            cursor, self.reads[engine.dialect.name], past, customer, self.upsell.plans, now
        )
        if peers.departments:
            key = (str(customer.account_id), customer.pk)
            peers.items = peer_items_until(cursor, past, self.customers.live.item_db_ids, key, now)
        return peers

    def _candidates(
        self, request: OfferRequest, situation: Situation, now: int, space: int, only_service: bool
    ) -> tuple[list[Offer], UpsellAnswer | None]:
        """Every candidate of the kinds asked for, before ranking and guardrails, and the
        upsell answer when it was "not now" (explain mode says why).

        `space` offers at most can be shown, so a few more than that are enough from
        the cross-sell engine; with `only_service` (an open complaint) only the upsell
        route can give one (a retention offer).
        """
        make = self.candidates
        customer_id = request.customer_id
        found: list[Offer] = []
        upsell = self.upsell.respond(customer_id, situation.live, now)
        offer = make.from_upsell(upsell)
        if offer is not None:
            found.append(offer)
        upsell_kinds = {"upgrade", "billing", "retention"}
        asked = not request.kinds or bool(upsell_kinds & set(request.kinds))
        not_now = upsell if upsell["decision"] == "not_now" and asked else None
        if only_service:
            return [o for o in found if o["kind"] == "retention"], not_now
        pool = POOL if request.explain else min(POOL, space + SPARE)
        filters = Filters(pool, (), (), (), None, None, True)
        customer = situation.customer
        cross_sell = self.cross_sell.answer(customer_id, filters, now, customer)
        found += make.from_cross_sell(customer, cross_sell)
        owned = customer.owned
        allowed = self.catalog.mask(filters)
        offered = [i["item_id"] for o in found for i in o["items"]]
        allowed[[self.catalog.item_index[i] for i in offered]] = False
        bundle = make.bundle(owned, allowed, self.policy.bundle_discount)
        if bundle is not None:
            found.append(bundle)
        peers = situation.peers
        found += make.expansion(peers, owned, allowed, situation.account_id)
        live = situation.live
        current = live.subscriber.plan if isinstance(live, LiveState) else None
        plan = make.expansion_plan(peers, current, situation.account_id)
        if plan is not None and plan["offer_id"].rpartition(":")[2] != _upsell_plan(offer):
            found.append(plan)
        if request.kinds:
            found = [o for o in found if o["kind"] in request.kinds]
        return found, not_now

    def _answer(
        self,
        request: OfferRequest,
        situation: Situation,
        found: list[Offer],
        screened: Screened,
        standing: Standing,
    ) -> OffersAnswer:
        impressions, responses = channel_history(situation.events)
        offers = [_shown(found[i], request.channel, impressions, responses) for i in screened.kept]
        answer: OffersAnswer = {
            "customer_id": request.customer_id,
            "model_version": self.version,
            "holdout": standing.holdout,
            "offers": offers,
            "guardrails": {
                "cap": self.policy.guardrails.cap,
                "window_days": self.policy.guardrails.window_days,
                "shown_in_window": screened.shown_in_window,
            },
            "degraded": False,
        }
        if request.explain:
            answer["held_back"] = [
                {
                    "offer_id": found[i]["offer_id"],
                    "kind": found[i]["kind"],
                    "rule": rule,
                    "expected_value": round(found[i]["expected_value"], 2),
                }
                for i, rule in screened.held
            ]
        return answer


def _shown(
    offer: Offer, channel: str | None, impressions: dict[str, int], responses: dict[str, int]
) -> Offer:
    """A ranked candidate as the answer shows it: rounded, on its channel."""
    choice = best_channel(offer["kind"], impressions, responses)
    chosen = channel or choice.channel
    return {
        **offer,
        "probability": round(offer["probability"], 4),
        "expected_value": round(offer["expected_value"], 2),
        "channel": chosen,  # type: ignore[typeddict-item]
        "channel_evidence": {
            "impressions": impressions.get(chosen, 0),
            "responses": responses.get(chosen, 0),
            "learned": channel is None and choice.learned,
        },
    }


def _upsell_plan(offer: Offer | None) -> str | None:
    """The plan id the upsell offer is about, if there is one."""
    return offer["plan"]["plan_id"] if offer is not None and offer["plan"] else None


def _not_now(upsell: UpsellAnswer) -> HeldBack:
    """The upsell route's "not now", as a held-back line of an explain answer."""
    reasons = upsell["reasons"]
    return {
        "offer_id": None,
        "kind": "upgrade",
        "rule": f"upsell:{upsell['why_not']}",
        "expected_value": 0.0,
        "text": reasons[0]["text"] if reasons else None,
    }
