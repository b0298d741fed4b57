"""One customer's profile for a CRM console: who they are, their RFM segment, their
live subscription, open tickets and latest purchase lines.

Why live reads next to the model's segment: a console must show the ticket opened a
minute ago and this morning's order, while the RFM scores compare the customer with
everyone else and so come from training. Every read is bounded to the one customer
through an index (customer_id; ticket's customer_id, closed_at; purchase's
customer_id, purchased_at), on the driver's own cursor as the upsell route does.
"""

import time
from typing import Any

from sqlalchemy import Engine

from app.db.sql import epoch
from app.serving.answers import CustomerProfile, LiveSubscription, OpenTicket, PurchaseLine
from app.serving.customers import Customers
from app.serving.reasons import iso
from app.serving.segments import rfm_of
from app.serving.subscriber import (
    Cursor,
    LiveState,
    Reads,
    driver_cursor,
    reads_for,
    unknown_customer,
)
from app.serving.upsell import UpsellAnswers
from models.segments import Segments

RECENT_LINES = 20  # purchase lines a profile shows, newest first


class ProfileReads(Reads):
    """The upsell route's reads, plus the customer's row, open tickets and latest lines."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        dialect = engine.dialect.name
        mark = "?" if self.sqlite else "%s"

        def e(column: str) -> str:
            return epoch(column, dialect)

        self.person = (
            f"SELECT id, account_id, country, marketing_opt_out, {e('created_at')} "
            f"FROM customer WHERE customer_id = {mark}"
        )
        self.open_tickets = (
            f"SELECT ticket_id, kind, {e('opened_at')} FROM ticket WHERE customer_id = {mark} "
            f"AND (closed_at IS NULL OR closed_at > {mark}) AND opened_at <= {mark} "
            "ORDER BY opened_at, id"
        )
        lines = (
            f"SELECT p.order_id, i.item_id, i.name, p.kind, p.quantity, p.unit_price, "
            f"i.currency, {e('p.purchased_at')} FROM purchase p JOIN item i ON i.id = p.item_id "
            f"WHERE p.customer_id = {mark}"
        )
        latest = f"ORDER BY p.purchased_at DESC, p.id DESC LIMIT {RECENT_LINES}"
        self.latest_lines = f"{lines} {latest}"  # now: a line stamped a little ahead too
        self.lines_until = f"{lines} AND p.purchased_at <= {mark} {latest}"


class Profiles:
    """Profiles of customers, from one loaded model and the live database."""

    def __init__(
        self,
        segments: Segments,
        customers: Customers,
        upsell: UpsellAnswers,
        version: str,
    ) -> None:
        self.segments, self.customers = segments, customers
        self.upsell, self.version = upsell, version

    def answer(self, engine: Engine, customer_id: str, as_of: int | None = None) -> CustomerProfile:
        """The profile of `customer_id` now, or as of a past moment (nothing recorded
        after it is read); 404 for a customer the database lacks."""
        now = int(time.time()) if as_of is None else as_of
        reads = reads_for(engine, ProfileReads)
        with driver_cursor(engine) as cursor:
            return self._answer(cursor, reads, customer_id, now, as_of is not None)

    def _answer(
        self, cursor: Cursor, reads: ProfileReads, customer_id: str, now: int, as_of: bool
    ) -> CustomerProfile:
        cursor.execute(reads.person, (customer_id,))
        person = cursor.fetchone()
        if person is None:
            raise unknown_customer(customer_id)
        customer, account_id, country, opt_out, created = person
        notes: list[str] = []
        row = self.customers.row(customer_id)
        if row is None:
            notes.append(
                f"Not in the model trained on purchases up to {iso(self.segments.as_of)[:10]} "
                "(a customer added since): no RFM scores until the next training"
            )
        elif as_of and now < self.segments.as_of:  # the scores know what came after
            row = None
            notes.append(
                f"No RFM scores as of this moment: the model's scores are of "
                f"{iso(self.segments.as_of)[:10]} and rank customers on purchases made since"
            )
        elif as_of and now > self.segments.as_of:
            notes.append(
                f"RFM scores are as of the model's newest purchase, "
                f"{iso(self.segments.as_of)[:10]}, not of as_of"
            )
        live = self._subscription(cursor, reads, customer, now, notes, as_of)
        cursor.execute(reads.open_tickets, (customer, reads.moment(now), reads.moment(now)))
        tickets: list[OpenTicket] = [
            {"ticket_id": t, "kind": k, "opened_at": iso(int(at))} for t, k, at in _all(cursor)
        ]
        if as_of:
            cursor.execute(reads.lines_until, (customer, reads.moment(now)))
        else:
            cursor.execute(reads.latest_lines, (customer,))
        return {
            "customer_id": customer_id,
            "model_version": self.version,
            "account_id": account_id,
            "country": country,
            "marketing_opt_out": bool(opt_out),
            "created_at": iso(int(created)),
            "rfm": None if row is None else rfm_of(self.segments, row),
            "subscription": live,
            "open_tickets": tickets,
            "recent_purchases": [_line(line) for line in _all(cursor)],
            "notes": notes,
        }

    def _subscription(
        self,
        cursor: Cursor,
        reads: ProfileReads,
        customer: int,
        now: int,
        notes: list[str],
        as_of: bool,
    ) -> LiveSubscription | None:
        """The live subscription with usage against its plan's limits, if there is one
        (as of a past moment: the plan, billing and renewal of then, `read_state`)."""
        live = self.upsell.read(cursor, reads, customer, now, as_of)
        if live == "unknown_plan":
            notes.append("The live subscription's plan is newer than the model: retrain to show it")
        return self.upsell.subscription(live) if isinstance(live, LiveState) else None


def _line(line: Any) -> PurchaseLine:
    order_id, item_id, name, kind, quantity, unit_price, currency, at = line
    return {
        "order_id": order_id,
        "item_id": item_id,
        "name": name,
        "kind": kind,
        "quantity": float(quantity),
        "unit_price": float(unit_price),
        "currency": currency,
        "purchased_at": iso(int(at)),
    }


def _all(cursor: Cursor) -> list[Any]:
    return list(cursor.fetchall())
