"""One customer's live SaaS state, read from the database at request time.

Why read at request time rather than from the training snapshot: an upgrade prompt
must not follow a complaint opened an hour ago, and a plan changed this morning is the
plan to talk about. Five indexed reads per request (the customer, their subscriptions,
recent usage, open complaints, a year's sales), each bounded to one customer; the
features then come from `models.upgrades.one_state`, the one-row form of the `state`
that training uses, held equal to it by a property test so the two cannot drift apart.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar, cast

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.db.sql import epoch
from app.errors import ErrorDetail, NotFound, Unavailable
from models.ladder import Ladder
from models.upgrades import (
    ANNUAL,
    DAY,
    MONTHLY,
    NEVER,
    READING_DAYS,
    TROUBLE_DAYS,
    TROUBLE_KINDS,
    UNCHANGED,
    SaasHistory,
    annual_at,
    next_anniversary,
    one_state,
    plan_at,
)
from models.upsell import Subscriber
from models.vocab import Plans, index_of

log = logging.getLogger("nextbest")
USAGE_DAYS = READING_DAYS  # readings this old still give "usage 90 days ago"
YEAR = 365 * DAY
TRIAL = 14  # days: a subscription this young was in its trial (as training takes it)


class Cursor(Protocol):
    """The DB-API cursor methods the reads use."""

    def execute(self, sql: str, params: Any = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


@dataclass(frozen=True)
class LiveState:
    """A customer's live subscription as the upsell decision needs it."""

    subscription_id: str
    billing_period: str
    subscriber: Subscriber
    complaint_opened: int | None  # the oldest open complaint's opening time
    year_sales: float  # shop sales over the last 365 days


class Reads:
    """The per-request reads as driver SQL, written once per database dialect.

    Why driver SQL on the driver's own cursor, not SQLAlchemy statements: building,
    compiling and wrapping five statements per request cost more than the rest of the
    answer (bench/upsell.py). Every read is bounded to one customer through an index.
    The annual term's start (for "renewal within 90 days") comes from the plan changes,
    as training takes it: the recorded `renews_at` is what the answer shows. As of a
    past moment, the plan and the billing come from the plan changes too.
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect.name
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"

        def e(column: str) -> str:
            return epoch(column, dialect)

        usage = engine.dialect.identifier_preparer.quote("usage")  # reserved in MySQL
        self.customer = f"SELECT id FROM customer WHERE customer_id = {mark}"
        self.subscriptions = (
            f"SELECT subscription_id, plan_id, billing_period, status, {e('started_at')}, "
            f"{e('renews_at')}, {e('ended_at')} FROM subscription WHERE customer_id = {mark}"
        )
        self.changes = (
            f"SELECT COALESCE(from_plan_id, -1), to_plan_id, COALESCE(billing_period, ''), "
            f"{e('changed_at')} FROM plan_change WHERE customer_id = {mark} ORDER BY changed_at"
        )
        self.usage = (
            f"SELECT metric, value, {e('measured_at')} FROM {usage} "
            f"WHERE customer_id = {mark} AND measured_at > {mark}"
        )
        # as of a past moment: not the readings since (a backtest asks far back)
        self.usage_until = f"{self.usage} AND measured_at <= {mark}"
        kinds = ", ".join(f"'{k}'" for k in TROUBLE_KINDS)
        self.tickets = (  # open complaints, and billing tickets that may be payment trouble
            f"SELECT kind, {e('opened_at')} FROM ticket WHERE customer_id = {mark} AND "
            f"((kind = 'complaint' AND (closed_at IS NULL OR closed_at > {mark})) "
            f"OR (kind IN ({kinds}) AND opened_at > {mark}))"
        )
        self.sales = (
            f"SELECT SUM(quantity * unit_price) FROM purchase WHERE customer_id = {mark} "
            f"AND kind = 'sale' AND purchased_at > {mark} AND purchased_at <= {mark}"
        )

    def moment(self, seconds: int) -> object:
        """A timestamp parameter as the driver compares it with a stored UTC datetime."""
        return _moment(seconds, self.sqlite)


@lru_cache(maxsize=256)
def _moment(seconds: int, sqlite: bool) -> object:
    """Remembered: every request of the same second asks for the same few moments."""
    naive = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive


R = TypeVar("R", bound=Reads)
_READS: dict[tuple[type[Reads], str], Reads] = {}


def reads_for(engine: Engine, kind: type[R]) -> R:
    """The reads of `kind` (`Reads` or a route's own, which extend it) for the engine's
    dialect, written once per process."""
    key = (kind, engine.dialect.name)
    reads = _READS.get(key)
    if reads is None:
        reads = _READS[key] = kind(engine)
    return cast(R, reads)


@contextmanager
def driver_cursor(engine: Engine) -> Iterator[Cursor]:
    """A DB-API cursor on a pooled connection; a database that fails (or a pool with no
    connection free in time) is a 503, not a 500.

    The driver's own errors arrive unwrapped from its cursor, so both kinds are caught.
    """
    try:
        connection = engine.raw_connection()  # the pool's, without the Connection wrapper
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, rolled back
    except (DBAPIError, PoolTimeout, engine.dialect.loaded_dbapi.Error) as exc:
        log.warning("live reads: the database could not be read: %s", exc)
        raise Unavailable("the database could not be read; retry shortly") from exc


def unknown_customer(customer_id: str) -> NotFound:
    """The 404 for a customer id the database does not hold."""
    return NotFound(
        f"customer {customer_id!r} does not exist",
        [ErrorDetail(field="customer_id", message=f"unknown customer {customer_id!r}")],
    )


def customer_row(cursor: Cursor, reads: Reads, customer_id: str) -> int | None:
    """The customer's primary key, or None for an id the database does not know."""
    cursor.execute(reads.customer, (customer_id,))
    row = cursor.fetchone()
    return None if row is None else int(row[0])


def _rows(cursor: Cursor, sql: str, *params: object) -> list[Any]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def read_state(
    cursor: Cursor,
    reads: Reads,
    customer: int,
    plans: Plans,
    ladder: Ladder,
    loyal_min_sales: float,
    now: int,
    as_of: bool = False,
) -> LiveState | str | None:
    """The live subscription's state at `now`; "unknown_plan" when its plan is newer
    than the model; None without a live subscription.

    `as_of`: `now` is a moment asked for, maybe past. The plan, the billing and the
    renewal are then those of that moment (`models.upgrades.plan_at`, `annual_at`), the
    status is trial or active (a payment past due is known only for today), and nothing
    recorded after it is read. Several live subscriptions: the most recently started one.
    """
    found = _subscription_at(cursor, reads, customer, plans, now)
    if found is None:
        return None
    (sub_id, _, billing, status, started, renews, _), history = found
    started = int(started)
    annual_then, term = (int(v[0]) for v in annual_at(history, np.zeros(1, np.int64), now))
    if as_of:
        index = int(plan_at(history, np.zeros(1, np.int64), now)[0])
        annual, status = bool(annual_then), "trial" if now < started + TRIAL * DAY else "active"
        renews = int(next_anniversary(term, now)) if annual else None
    else:
        index, annual = int(history.sub_plan[0]), billing == "annual"
        renews = None if renews is None else int(renews)
    if index < 0:
        return "unknown_plan"
    readings = _usage(cursor, reads, customer, ladder, now, as_of)
    opened, trouble = tickets(cursor, reads, customer, now)
    since, until = reads.moment(now - YEAR), reads.moment(now)
    sales = float(_rows(cursor, reads.sales, customer, since, until)[0][0] or 0.0)
    loyal = sales >= loyal_min_sales
    usage, before, features = one_state(
        ladder,
        index,
        readings,
        started=started,
        renews=term,  # the annual term's start, as training takes it
        annual=annual,
        complaint=bool(opened),
        loyal=loyal,
        at=now,
        trouble=trouble,
    )
    subscriber = Subscriber(
        plan=index,
        annual=annual,
        status=str(status),
        started=started,
        renews=renews,
        usage=usage,
        before=before,
        features=features,
        open_complaint=bool(opened),
        loyal=loyal,
    )
    first_complaint = min(opened) if opened else None
    period = "annual" if annual else "monthly"
    return LiveState(str(sub_id), period, subscriber, first_complaint, sales)


def plan_then(cursor: Cursor, reads: Reads, customer: int, plans: Plans, now: int) -> int | None:
    """The index of the plan the customer was on at `now` (-1: a plan newer than the
    model), from their subscriptions and plan changes; None without a live subscription."""
    found = _subscription_at(cursor, reads, customer, plans, now)
    return None if found is None else int(plan_at(found[1], np.zeros(1, np.int64), now)[0])


def _subscription_at(
    cursor: Cursor, reads: Reads, customer: int, plans: Plans, now: int
) -> tuple[Any, SaasHistory] | None:
    """The subscription live at `now` (the most recently started of several) and its
    history with the customer's plan changes; None without one."""
    live = [r for r in _rows(cursor, reads.subscriptions, customer) if _live(r, now)]
    if not live:
        return None
    row = max(live, key=lambda r: (r[4], r[0]))
    changes = _rows(cursor, reads.changes, customer)
    return row, _one_history(changes, plans, (row[1], row[2] == "annual", int(row[4])))


def _live(row: Any, now: int) -> bool:
    """Started by `now` and not ended then (a cancelled row without an end: ended)."""
    started, ended = row[4], row[6]
    return bool(started <= now and (ended > now if ended is not None else row[3] != "cancelled"))


def _one_history(
    changes: list[Any], plans: Plans, subscription: tuple[int, bool, int]
) -> SaasHistory:
    """The one subscription (plan's key, annual, start) and the customer's plan changes,
    as training's arrays."""
    plan_db, annual, started = subscription

    def plan(db_ids: list[int]) -> np.ndarray:
        index, found = index_of(plans.db_ids, np.array(db_ids, dtype=np.int64))
        return np.where(found, index, -1).astype(np.int64)

    billing = {"annual": ANNUAL, "monthly": MONTHLY}
    one, none = np.zeros(1, np.int64), np.zeros(0, np.int64)
    n = len(changes)
    return SaasHistory(
        sub_customer=one,
        sub_plan=plan([plan_db]),
        sub_started=np.array([started], np.int64),
        sub_ended=np.array([NEVER], np.int64),
        sub_annual=np.array([annual]),
        change_customer=np.zeros(n, np.int64),
        change_from=plan([r[0] for r in changes]),  # -1 (none recorded) is no plan's key
        change_plan=plan([r[1] for r in changes]),
        change_annual=np.array([billing.get(r[2], UNCHANGED) for r in changes], np.int64),
        change_at=np.array([int(r[3]) for r in changes], np.int64),
        usage_customer=none,
        usage_metric=none,
        usage_value=none.astype(np.float64),
        usage_at=none,
        ticket_customer=none,
        ticket_opened=none,
        ticket_closed=none,
        loyal=np.zeros(1, bool),
    )


def open_complaints(cursor: Cursor, reads: Reads, customer: int, now: int) -> list[int]:
    """Opening times of the customer's complaints that are open now."""
    return tickets(cursor, reads, customer, now)[0]


def tickets(cursor: Cursor, reads: Reads, customer: int, now: int) -> tuple[list[int], bool]:
    """(opening times of the complaints open at `now`, whether a billing ticket opened in
    the TROUBLE_DAYS up to it: payment trouble), in one read."""
    recent = reads.moment(now - TROUBLE_DAYS * DAY)
    rows = _rows(cursor, reads.tickets, customer, reads.moment(now), recent)
    opened = [int(at) for kind, at in rows if kind == "complaint" and at <= now]
    trouble = any(kind != "complaint" and at <= now for kind, at in rows)
    return opened, trouble


def _usage(
    cursor: Cursor, reads: Reads, customer: int, ladder: Ladder, now: int, as_of: bool = False
) -> list[tuple[int, float, int]]:
    """Recent readings of the ladder's metrics as (metric column, value, time); as of a
    past moment, none after it (now, a reading stamped a little ahead counts)."""
    since = reads.moment(now - USAGE_DAYS * DAY)
    if as_of:
        rows = _rows(cursor, reads.usage_until, customer, since, reads.moment(now))
    else:
        rows = _rows(cursor, reads.usage, customer, since)
    position = {name: i for i, name in enumerate(ladder.metrics)}
    return [(position[r[0]], float(r[1]), int(r[2])) for r in rows if r[0] in position]
