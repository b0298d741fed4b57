"""The KPIs' inputs from the database, as the arrays `models.kpis` works on.

Why driver SQL into numpy, as for training: a year of a shop's order lines runs to
hundreds of thousands of rows, and the KPIs work on whole columns. Every query is
bounded by the period: purchases from the start of the previous period (the LTV
baseline), offer events from one attribution window before the period (an impression
on the 28th can earn a purchase on the 2nd), plan changes within it. Older history is
read only as the distinct items each of the period's buyers had bought before it (a
cross-sell is an item new to the customer). Timestamps become epoch seconds in SQL; the bounds are
whole seconds, so SQL and numpy agree on which side of a bound a row falls.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Engine, select

from app.db.sql import epoch, stream
from app.db.tables import item
from models.kpis import EVENTS, Events, Period, PlanChanges, Purchases, Targets
from models.vocab import index_of

CHUNK = 1000  # item ids per IN list
EARLIEST = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())  # no timestamp is older
LATEST = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class KpiData:
    """Everything a KPI answer is computed from, plus the labels behind the codes."""

    customer_ids: list[str]  # the caller's ids; index = customer position
    purchases: Purchases
    changes: PlanChanges
    events: Events  # `group` all zero: the answer chooses the grouping
    event_kind: np.ndarray  # str per event: the offer's kind
    event_channel: np.ndarray  # str per event
    targets: Targets


def read(engine: Engine, period: Period, window: int) -> KpiData:
    """The period's purchases, plan changes and offer events, and what the offers name."""
    with engine.connect() as conn:
        db_ids, customer_ids = _customers(conn)
        purchases = _purchases(conn, period, db_ids)
        plans = _plans(conn)
        changes = _changes(conn, period, db_ids, plans)
        events, kind, channel, offer_ids = _events(conn, period, window, db_ids)
        targets = _targets(conn, offer_ids, plans)
    return KpiData(customer_ids, purchases, changes, events, kind, channel, targets)


def at(seconds: int) -> str:
    """A SQL literal of a UTC time, as every backend compares its stored timestamps.

    A bound outside the years 1-9999 (a long attribution window before an early
    period) is the same as no bound, and Python cannot spell it: it is clamped.
    """
    moment = datetime.fromtimestamp(min(max(seconds, EARLIEST), LATEST), UTC)
    stamp = moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return f"'{stamp}'"


def _block(conn: Connection, sql: str, columns: int) -> np.ndarray:
    """All rows of `sql` as one 2-D object array (tuples from the driver, not Rows)."""
    chunks = [np.array(chunk, dtype=object) for chunk in stream(conn, sql)]
    return np.concatenate(chunks) if chunks else np.zeros((0, columns), dtype=object)


def _customers(conn: Connection) -> tuple[np.ndarray, list[str]]:
    rows = _block(conn, "SELECT id, customer_id FROM customer ORDER BY id", 2)
    return rows[:, 0].astype(np.int64), [str(c) for c in rows[:, 1]]


def _purchases(conn: Connection, period: Period, db_ids: np.ndarray) -> Purchases:
    dialect = conn.dialect.name
    sql = (
        "SELECT customer_id, item_id, order_id, kind, quantity * unit_price, "
        f"{epoch('purchased_at', dialect)} FROM purchase WHERE customer_id IS NOT NULL "
        f"AND purchased_at >= {at(period.previous().start)} AND purchased_at < {at(period.end)}"
    )
    rows = _block(conn, sql, 6)
    customer, known = index_of(db_ids, rows[:, 0].astype(np.int64))
    rows, customer = rows[known], customer[known]  # a customer erased meanwhile
    customer_db, item_db = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
    earlier = _earlier_pairs(conn, period)
    sale = (rows[:, 3] == "sale").astype(bool)
    return Purchases(
        customer=customer.astype(np.int64),
        order=np.fromiter(map(hash, rows[:, 2]), dtype=np.int64, count=len(rows)),
        item=item_db,
        value=rows[:, 4].astype(np.float64) * np.where(sale, 1.0, -1.0),
        sale=sale,
        time=rows[:, 5].astype(np.int64),
        seen=np.isin(_pair_key(customer_db, item_db), _pair_key(earlier[:, 0], earlier[:, 1])),
        returning=np.isin(customer_db, earlier[:, 0]),
    )


def _earlier_pairs(conn: Connection, period: Period) -> np.ndarray:
    """(customer, item) pairs bought before the period by the customers who buy in it.

    One grouped read of those customers' history: asking per line whether the customer
    had bought the item before walked that history once per line, several times slower.
    """
    start, end = at(period.start), at(period.end)
    buyers = (
        "SELECT customer_id FROM purchase WHERE kind = 'sale' "
        f"AND purchased_at >= {start} AND purchased_at < {end}"
    )
    sql = (
        "SELECT DISTINCT customer_id, item_id FROM purchase WHERE kind = 'sale' "
        f"AND purchased_at < {start} AND customer_id IN ({buyers})"
    )
    return _block(conn, sql, 2).astype(np.int64)


def _pair_key(customer: np.ndarray, item: np.ndarray) -> np.ndarray:
    """One int64 per (customer, item) primary-key pair (both are 32-bit)."""
    key: np.ndarray = (customer.astype(np.int64) << 32) | item.astype(np.int64)
    return key


@dataclass(frozen=True)
class _Plans:
    """The plan table by primary key: ids, ladder codes, ranks and prices."""

    db_ids: np.ndarray  # int64, sorted
    plan_ids: list[str]
    ladder: np.ndarray  # int64 code
    rank: np.ndarray  # int64
    monthly: np.ndarray  # float64


def _plans(conn: Connection) -> _Plans:
    rows = _block(
        conn, "SELECT id, plan_id, ladder, tier_rank, monthly_price FROM plan ORDER BY id", 5
    )
    ladder = np.unique(rows[:, 2].astype(str), return_inverse=True)[1].reshape(-1)
    return _Plans(
        db_ids=rows[:, 0].astype(np.int64),
        plan_ids=[str(p) for p in rows[:, 1]],
        ladder=ladder.astype(np.int64),
        rank=rows[:, 3].astype(np.int64),
        monthly=rows[:, 4].astype(np.float64),
    )


def _changes(conn: Connection, period: Period, db_ids: np.ndarray, plans: _Plans) -> PlanChanges:
    sql = (
        f"SELECT customer_id, COALESCE(from_plan_id, -1), to_plan_id, "
        f"{epoch('changed_at', conn.dialect.name)} FROM plan_change "
        f"WHERE changed_at >= {at(period.start)} AND changed_at < {at(period.end)}"
    )
    rows = _block(conn, sql, 4)
    customer, known = index_of(db_ids, rows[:, 0].astype(np.int64))
    rows, customer = rows[known], customer[known]
    source, target = rows[:, 1].astype(np.int64), rows[:, 2].astype(np.int64)
    first = source < 0  # a first subscription: no plan left
    left = index_of(plans.db_ids, source)[0]  # the foreign keys guarantee a match
    moved = index_of(plans.db_ids, target)[0]
    return PlanChanges(
        customer=customer.astype(np.int64),
        plan=target,
        time=rows[:, 3].astype(np.int64),
        from_ladder=np.where(first, -1, plans.ladder[left]),
        from_rank=np.where(first, -1, plans.rank[left]),
        to_ladder=plans.ladder[moved],
        to_rank=plans.rank[moved],
        price_change=plans.monthly[moved] - np.where(first, 0.0, plans.monthly[left]),
    )


def _events(
    conn: Connection, period: Period, window: int, db_ids: np.ndarray
) -> tuple[Events, np.ndarray, np.ndarray, list[str]]:
    """Events from a window before the period to its end, the first impression of each
    offer accepted in the period, and the distinct offer ids (the codes index them)."""
    dialect = conn.dialect.name
    sql = (
        "SELECT customer_id, offer_id, offer_kind, event, channel, "
        f"{epoch('occurred_at', dialect)} FROM offer_event "
        f"WHERE occurred_at >= {at(period.start - window)} AND occurred_at < {at(period.end)}"
    )
    rows = _block(conn, sql, 6)
    customer, known = index_of(db_ids, rows[:, 0].astype(np.int64))
    rows, customer = rows[known], customer[known]
    offer_ids, offer = np.unique(rows[:, 1].astype(str), return_inverse=True)
    event = np.array([EVENTS.index(e) for e in rows[:, 3]], dtype=np.int64)
    first = _first_impressions(conn, period)
    accept = event == EVENTS.index("accept")
    shown = np.full(len(rows), -1, dtype=np.int64)
    shown[accept] = [first.get((int(c), str(o)), -1) for c, o in rows[accept][:, :2]]
    events = Events(
        customer=customer.astype(np.int64),
        offer=offer.reshape(-1).astype(np.int64),
        event=event,
        group=np.zeros(len(rows), dtype=np.int64),
        time=rows[:, 5].astype(np.int64),
        first_impression=shown,
    )
    return events, rows[:, 2].astype(str), rows[:, 4].astype(str), offer_ids.tolist()


def _first_impressions(conn: Connection, period: Period) -> dict[tuple[int, str], int]:
    """(customer, offer) -> the first impression, for the offers accepted in the period.

    The first impression may be long before the period, so it is looked up for these
    pairs only. A subquery per pair keeps every planner on the (customer, occurred_at)
    index: as a join, MariaDB scanned all events on freshly imported tables (100x
    slower).
    """
    end = at(period.end)
    accepted = (
        "SELECT DISTINCT customer_id, offer_id FROM offer_event WHERE event = 'accept' "
        f"AND occurred_at >= {at(period.start)} AND occurred_at < {end}"
    )
    first = (
        "(SELECT MIN(i.occurred_at) FROM offer_event i WHERE i.customer_id = a.customer_id "
        f"AND i.occurred_at < {end} AND i.offer_id = a.offer_id AND i.event = 'impression')"
    )
    sql = (
        f"SELECT a.customer_id, a.offer_id, COALESCE({epoch(first, conn.dialect.name)}, -1) "
        f"FROM ({accepted}) a"
    )
    return {(int(c), str(o)): int(t) for c, o, t in _block(conn, sql, 3) if int(t) >= 0}


def _targets(conn: Connection, offer_ids: list[str], plans: _Plans) -> Targets:
    """What each offer names after its kind: item ids (a bundle's joined by '+') and plan
    ids, as the primary keys purchases and plan changes carry."""
    named = [
        (code, part) for code, o in enumerate(offer_ids) for part in o.partition(":")[2].split("+")
    ]
    items = _item_keys(conn, sorted({name for _, name in named}))
    plan_key = dict(zip(plans.plan_ids, plans.db_ids.tolist(), strict=True))
    to_item = [(code, items[name]) for code, name in named if name in items]
    to_plan = [(code, plan_key[name]) for code, name in named if name in plan_key]
    return Targets(
        item_offer=np.array([c for c, _ in to_item], dtype=np.int64),
        item=np.array([k for _, k in to_item], dtype=np.int64),
        plan_offer=np.array([c for c, _ in to_plan], dtype=np.int64),
        plan=np.array([k for _, k in to_plan], dtype=np.int64),
    )


def _item_keys(conn: Connection, names: list[str]) -> dict[str, int]:
    """Item id -> primary key, for the named items that exist."""
    keys: dict[str, int] = {}
    for i in range(0, len(names), CHUNK):
        query = select(item.c.item_id, item.c.id).where(item.c.item_id.in_(names[i : i + CHUNK]))
        keys.update({str(r[0]): int(r[1]) for r in conn.execute(query)})
    return keys
