"""What the offers route reads per request besides the SaaS state: the customer's flags,
their recent offer events, and what the other departments of their account use.

Why per request: an opt-out, a dismissal or an impression a minute ago must count in
the next answer (the guardrails are only as good as their freshness). Every read is
bounded to one customer (or one account) through an index, written once per dialect
as driver SQL like `app.serving.subscriber.Reads`.
"""

from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.serving.subscriber import Cursor, Reads
from app.training.lines import epoch
from models.guardrails import Event

HISTORY_DAYS = 365  # events this old still say which channel a customer answers on


@dataclass(frozen=True)
class Customer:
    """The customer row's facts the offers need."""

    pk: int
    opted_out: bool
    account_id: str | None


@dataclass
class Peers:
    """What the other departments of the customer's account buy and subscribe to."""

    departments: int = 0
    items: dict[int, int] = field(default_factory=dict)  # item primary key -> departments
    plans: dict[int, int] = field(default_factory=dict)  # plan primary key -> departments


class OfferReads:
    """The driver SQL of the offers route's own reads."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect.name
        mark = "?" if dialect == "sqlite" else "%s"
        at = epoch("occurred_at", dialect)
        self.customer = (
            f"SELECT id, marketing_opt_out, account_id FROM customer WHERE customer_id = {mark}"
        )
        self.events = (
            f"SELECT offer_id, event, channel, {at} FROM offer_event "
            f"WHERE customer_id = {mark} AND occurred_at > {mark}"
        )
        self.departments = (
            f"SELECT COUNT(*) FROM customer WHERE account_id = {mark} AND id <> {mark}"
        )
        self.peer_items = (
            "SELECT p.item_id, COUNT(DISTINCT p.customer_id) FROM purchase p "
            f"JOIN customer c ON c.id = p.customer_id WHERE c.account_id = {mark} "
            f"AND c.id <> {mark} AND p.kind = 'sale' GROUP BY p.item_id"
        )
        self.peer_plans = (
            "SELECT s.plan_id, COUNT(DISTINCT s.customer_id) FROM subscription s "
            f"JOIN customer c ON c.id = s.customer_id WHERE c.account_id = {mark} "
            f"AND c.id <> {mark} AND s.status <> 'cancelled' GROUP BY s.plan_id"
        )


def read_customer(cursor: Cursor, reads: OfferReads, customer_id: str) -> Customer | None:
    cursor.execute(reads.customer, (customer_id,))
    row = cursor.fetchone()
    return None if row is None else Customer(int(row[0]), bool(row[1]), row[2])


def read_events(
    cursor: Cursor, reads: OfferReads, moments: Reads, customer: int, now: int
) -> list[tuple[Event, str]]:
    """The customer's offer events of the last year, each with its channel."""
    since = moments.moment(now - HISTORY_DAYS * 86_400)
    cursor.execute(reads.events, (customer, since))
    return [(Event(r[0], r[1], int(r[3])), r[2]) for r in cursor.fetchall()]


def read_peers(cursor: Cursor, reads: OfferReads, customer: Customer) -> Peers:
    """The other departments of the account, and their items and plans (none without one)."""
    if customer.account_id is None:
        return Peers()
    key = (customer.account_id, customer.pk)
    cursor.execute(reads.departments, key)
    departments = int(cursor.fetchone()[0])
    if not departments:
        return Peers()
    cursor.execute(reads.peer_items, key)
    items = {int(item): int(n) for item, n in cursor.fetchall()}
    cursor.execute(reads.peer_plans, key)
    plans = {int(plan): int(n) for plan, n in cursor.fetchall()}
    return Peers(departments, items, plans)
