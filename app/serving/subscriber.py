"""One customer's live SaaS state, read from the database at request time.

Why read at request time rather than from the training snapshot: an upgrade prompt
must not follow a complaint opened an hour ago, and a plan changed this morning is the
plan to talk about. Five indexed reads per request (the customer, their subscriptions,
recent usage, open complaints, a year's sales), each bounded to one customer; the
features then come from the same `models.upgrades.state` that training used, so the
two cannot drift apart.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, func, or_, select

from app.db import tables
from app.training.saas import Plans
from models.ladder import Ladder
from models.upgrades import DAY, NEVER, TREND_DAYS, SaasHistory, state
from models.upsell import Subscriber

USAGE_DAYS = TREND_DAYS + 120  # readings this old still give "usage 90 days ago"
YEAR = 365 * DAY


@dataclass(frozen=True)
class LiveState:
    """A customer's live subscription as the upsell decision needs it."""

    subscription_id: str
    billing_period: str
    subscriber: Subscriber
    complaint_opened: int | None  # the oldest open complaint's opening time
    year_sales: float  # shop sales over the last 365 days


def customer_row(conn: Connection, customer_id: str) -> int | None:
    """The customer's primary key, or None for an id the database does not know."""
    c = tables.customer
    row = conn.execute(select(c.c.id).where(c.c.customer_id == customer_id)).first()
    return None if row is None else int(row[0])


def read_state(
    conn: Connection,
    customer: int,
    plans: Plans,
    ladder: Ladder,
    loyal_min_sales: float,
    now: int,
) -> LiveState | str | None:
    """The live subscription's state; "unknown_plan" when its plan is newer than the
    model; None without a live subscription.

    Several live subscriptions: the most recently started one counts.
    """
    s = tables.subscription
    rows = conn.execute(
        select(
            s.c.subscription_id,
            s.c.plan_id,
            s.c.billing_period,
            s.c.status,
            s.c.started_at,
            s.c.renews_at,
            s.c.ended_at,
        ).where(s.c.customer_id == customer, s.c.status != "cancelled")
    ).all()
    live = [r for r in rows if r.ended_at is None or _epoch(r.ended_at) > now]
    if not live:
        return None
    sub = max(live, key=lambda r: (r.started_at, r.subscription_id))
    index = int(np.searchsorted(plans.db_ids, sub.plan_id))
    if index >= len(plans.db_ids) or plans.db_ids[index] != sub.plan_id:
        return "unknown_plan"
    metric, value, at = _usage(conn, customer, ladder, now)
    opened = _open_complaints(conn, customer, now)
    sales = _year_sales(conn, customer, now)
    started = _epoch(sub.started_at)
    renews = None if sub.renews_at is None else _epoch(sub.renews_at)
    annual = sub.billing_period == "annual"
    a = np.array
    history = SaasHistory(
        sub_customer=a([0]),
        sub_started=a([started]),
        sub_ended=a([NEVER]),
        sub_annual=a([annual]),
        sub_renews=a([renews if renews is not None else started]),
        change_customer=a([], dtype=np.int64),
        change_plan=a([], dtype=np.int64),
        change_at=a([], dtype=np.int64),
        usage_customer=np.zeros(len(metric), dtype=np.int64),
        usage_metric=metric,
        usage_value=value,
        usage_at=at,
        ticket_customer=np.zeros(len(opened), dtype=np.int64),
        ticket_opened=a(opened, dtype=np.int64),
        ticket_closed=np.full(len(opened), NEVER),
        loyal=a([sales >= loyal_min_sales]),
    )
    snap = state(history, ladder, a([0]), a([index]), now)
    subscriber = Subscriber(
        plan=index,
        annual=annual,
        status=str(sub.status),
        started=started,
        renews=renews,
        usage=snap.usage[0],
        before=snap.before[0],
        features=snap.features[0],
        open_complaint=bool(opened),
        loyal=bool(history.loyal[0]),
    )
    first_complaint = min(opened) if opened else None
    return LiveState(sub.subscription_id, sub.billing_period, subscriber, first_complaint, sales)


def _usage(
    conn: Connection, customer: int, ladder: Ladder, now: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recent readings of the ladder's metrics, sorted by (metric, time) as `state` needs."""
    u = tables.usage
    since = _datetime(now - USAGE_DAYS * DAY)
    rows = conn.execute(
        select(u.c.metric, u.c.value, u.c.measured_at).where(
            u.c.customer_id == customer, u.c.measured_at > since
        )
    ).all()
    position = {name: i for i, name in enumerate(ladder.metrics)}
    kept = [(position[r[0]], float(r[1]), _epoch(r[2])) for r in rows if r[0] in position]
    block = np.array(kept, dtype=np.float64).reshape(len(kept), 3)
    order = np.lexsort((block[:, 2], block[:, 0]))
    block = block[order]
    return block[:, 0].astype(np.int64), block[:, 1], block[:, 2].astype(np.int64)


def _open_complaints(conn: Connection, customer: int, now: int) -> list[int]:
    """Opening times of the customer's complaints that are open now."""
    t = tables.ticket
    rows = conn.execute(
        select(t.c.opened_at).where(
            t.c.customer_id == customer,
            t.c.kind == "complaint",
            or_(t.c.closed_at.is_(None), t.c.closed_at > _datetime(now)),
        )
    ).all()
    return [_epoch(r[0]) for r in rows if _epoch(r[0]) <= now]


def _year_sales(conn: Connection, customer: int, now: int) -> float:
    """The customer's shop sales over the last year (loyalty, as training measured it)."""
    p = tables.purchase
    total = conn.execute(
        select(func.sum(p.c.quantity * p.c.unit_price)).where(
            p.c.customer_id == customer,
            p.c.purchased_at > _datetime(now - YEAR),
            p.c.kind == "sale",
        )
    ).scalar()
    return float(total or 0.0)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
