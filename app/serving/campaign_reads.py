"""Guardrail facts for many customers at once, for campaign lists.

Why batches: a campaign list walks down a ranking of thousands of prospects until it
has enough that pass the guardrails; one query per table per few hundred customers
keeps that to a handful of round trips.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, or_, select

from app.db import tables
from app.db.bulk import in_values
from models.guardrails import Event

HISTORY_DAYS = 365


@dataclass
class Facts:
    """One customer's guardrail facts."""

    pk: int
    opted_out: bool
    complaint: bool = False
    events: list[tuple[Event, str]] = field(default_factory=list)  # with the channel


def read_facts(conn: Connection, customer_ids: list[str], now: int) -> dict[str, Facts]:
    """Facts of the customers that exist, by customer id."""
    c, t, e = tables.customer, tables.ticket, tables.offer_event
    rows = conn.execute(
        select(c.c.customer_id, c.c.id, c.c.marketing_opt_out).where(
            in_values(conn, c.c.customer_id, customer_ids)
        )
    ).all()
    facts = {r[0]: Facts(int(r[1]), bool(r[2])) for r in rows}
    by_pk = {f.pk: f for f in facts.values()}
    if not by_pk:
        return facts
    moment = datetime.fromtimestamp(now, UTC)
    open_now = or_(t.c.closed_at.is_(None), t.c.closed_at > moment)
    complaints = select(t.c.customer_id).where(
        and_(in_values(conn, t.c.customer_id, list(by_pk)), t.c.kind == "complaint", open_now),
        t.c.opened_at <= moment,
    )
    for (pk,) in conn.execute(complaints):
        by_pk[int(pk)].complaint = True
    since = datetime.fromtimestamp(now - HISTORY_DAYS * 86_400, UTC)
    events = select(e.c.customer_id, e.c.offer_id, e.c.event, e.c.channel, e.c.occurred_at).where(
        in_values(conn, e.c.customer_id, list(by_pk)),
        e.c.occurred_at > since,
        e.c.occurred_at <= moment,  # a list as of a past moment knows nothing after it
    )
    grouped: dict[int, list[tuple[Event, str]]] = defaultdict(list)
    for pk, offer_id, event, channel, at in conn.execute(events):
        grouped[int(pk)].append((Event(offer_id, event, int(at.timestamp())), channel))
    for pk, found in grouped.items():
        by_pk[pk].events = found
    return facts
