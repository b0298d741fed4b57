"""What the offers route reads per request besides the SaaS state: the customer's flags,
their recent offer events, and who the other departments of their account are and which
plans they are on (what they buy comes from the model and the live purchases:
`app.serving.offer_candidates.peer_items`).

Why per request: an opt-out, a dismissal or an impression a minute ago must count in
the next answer (the guardrails are only as good as their freshness). Every read is
bounded to one customer (or one account) through an index, written once per dialect
as driver SQL like `app.serving.subscriber.Reads`.
"""

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine

from app.db.sql import epoch
from app.serving.subscriber import Cursor, Reads, plan_then
from models.guardrails import Event
from models.vocab import Plans

HISTORY_DAYS = 365  # events this old still say which channel a customer answers on


@dataclass(frozen=True)
class Customer:
    """The customer row's facts the offers need."""

    pk: int
    opted_out: bool
    account_id: str | None


@dataclass
class Peers:
    """The other departments of the customer's account, and the plans they are on."""

    members: list[str] = field(default_factory=list)  # their customer ids
    plans: dict[int, int] = field(default_factory=dict)  # plan primary key -> departments
    # as of a past moment: (item indexes, departments buying each) up to it; None: now
    items: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def departments(self) -> int:
        return len(self.members)


class OfferReads:
    """The driver SQL of the offers route's own reads."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect.name
        mark = "?" if dialect == "sqlite" else "%s"
        # the customer and their events in one round trip (no events: one row of NULLs);
        # now, every event since (one stamped a little ahead, or this very second,
        # counts); as of a moment, none after it
        select = (
            f"SELECT c.id, c.marketing_opt_out, c.account_id, e.offer_id, e.event, e.channel, "
            f"{epoch('e.occurred_at', dialect)} FROM customer c LEFT JOIN offer_event e "
            f"ON e.customer_id = c.id AND e.occurred_at > {mark}"
        )
        self.customer = f"{select} WHERE c.customer_id = {mark}"
        self.customer_at = f"{select} AND e.occurred_at <= {mark} WHERE c.customer_id = {mark}"
        self.members = (
            f"SELECT id, customer_id FROM customer WHERE account_id = {mark} AND id <> {mark}"
        )
        self.peer_plans = (
            "SELECT s.plan_id, COUNT(DISTINCT s.customer_id) FROM subscription s "
            f"JOIN customer c ON c.id = s.customer_id WHERE c.account_id = {mark} "
            f"AND c.id <> {mark} AND s.status <> 'cancelled' GROUP BY s.plan_id"
        )


def read_customer(
    cursor: Cursor,
    reads: OfferReads,
    moments: Reads,
    customer_id: str,
    now: int,
    as_of: bool = False,
) -> tuple[Customer, list[tuple[Event, str]]] | None:
    """The customer's flags and their offer events of the last year (`as_of`: of the
    year up to `now`, none after it), each with its channel; None for an unknown
    customer."""
    since = moments.moment(now - HISTORY_DAYS * 86_400)
    if as_of:
        cursor.execute(reads.customer_at, (since, moments.moment(now), customer_id))
    else:
        cursor.execute(reads.customer, (since, customer_id))
    rows = cursor.fetchall()
    if not rows:
        return None
    pk, opted_out, account_id = rows[0][:3]
    events = [(Event(r[3], r[4], int(r[6])), r[5]) for r in rows if r[3] is not None]
    return Customer(int(pk), bool(opted_out), account_id), events


def read_peers(cursor: Cursor, reads: OfferReads, customer: Customer) -> Peers:
    """The other departments of the account and their plans (none without an account).

    Why not their purchases too: a GROUP BY over the departments' purchase rows was the
    route's dearest read (bench/offers.py), and the model and the live purchases already
    hold what every customer bought.
    """
    if customer.account_id is None:
        return Peers()
    key = (customer.account_id, customer.pk)
    members = _members(cursor, reads, key)
    if not members:
        return Peers()
    cursor.execute(reads.peer_plans, key)
    plans = {int(plan): int(n) for plan, n in cursor.fetchall()}
    return Peers(list(members.values()), plans)


def peers_then(
    cursor: Cursor,
    reads: OfferReads,
    moments: Reads,
    customer: Customer,
    plans: Plans,
    now: int,
) -> Peers:
    """The other departments as of a past moment: the plan each was on then (from
    their subscriptions and plan changes, one department at a time: an account has a
    few). Their purchases up to it come from `app.serving.past.peer_items_until`.
    Who belongs to the account is today's (membership has no history)."""
    if customer.account_id is None:
        return Peers()
    members = _members(cursor, reads, (customer.account_id, customer.pk))
    on: dict[int, int] = {}
    for pk in members:
        plan = plan_then(cursor, moments, pk, plans, now)
        if plan is not None and plan >= 0:
            key = int(plans.db_ids[plan])
            on[key] = on.get(key, 0) + 1
    return Peers(list(members.values()), on)


def _members(cursor: Cursor, reads: OfferReads, key: tuple[str, int]) -> dict[int, str]:
    """The account's other departments: primary key -> customer id."""
    cursor.execute(reads.members, key)
    return {int(pk): str(m) for pk, m in cursor.fetchall()}
