"""The SaaS tables from the database straight into arrays: plans, subscriptions, usage.

Why raw SQL rows into numpy, as for purchases: usage readings run to millions of rows
(one per metric per month per subscriber), and the propensity model works on whole
columns. Rows come from the driver's cursor as plain tuples: numpy probing
SQLAlchemy's Row objects made the read 10x slower. Timestamps become epoch seconds in
SQL; NULL becomes -1 (or "never").
"""

import dataclasses
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Engine, text

from app.db.sql import epoch, stream
from app.training.data import json_object
from models.ladder import Ladder
from models.upgrades import (
    ANNUAL,
    MONTHLY,
    NEVER,
    TROUBLE_KINDS,
    UNCHANGED,
    SaasHistory,
    known_at,
    known_until,
)
from models.vocab import Plans, index_of

LOYAL_SHARE = 0.25  # the top quarter of buyers by sales in the last year are loyal
YEAR = 365 * 86_400


@dataclass(frozen=True)
class SaasData:
    """The ladder, the history, and the ids behind their indexes."""

    ladder: Ladder
    history: SaasHistory
    customer_ids: list[str]
    plans: Plans
    loyal_min_sales: float  # a year's sales that make a customer loyal; inf: nobody
    latest: int  # epoch seconds of the newest SaaS event: history is known up to here


def load_saas(engine: Engine, loyal_as_of: int | None = None, as_of: int | None = None) -> SaasData:
    """Every SaaS table as arrays; loyalty from the year of sales before `loyal_as_of`
    (default `as_of`). With `as_of`, the history as it was known then
    (`models.upgrades.known_at`): what was recorded later does not exist."""
    loyal_as_of = as_of if loyal_as_of is None else loyal_as_of
    with engine.connect() as conn:
        plans, ladder = _ladder(conn, as_of)
        if not len(plans.db_ids):  # a shop without a plan ladder: nothing else to read
            return _without_plans(plans, ladder)
        plan_db = plans.db_ids
        customers = conn.execute(text("SELECT id, customer_id FROM customer ORDER BY id")).all()
        customer_db = np.array([r[0] for r in customers], dtype=np.int64)
        metric = {name: i for i, name in enumerate(ladder.metrics)}
        subs = _rows(
            conn,
            "customer_id",
            "plan_id",
            "started_at",
            "ended_at",
            "billing_period",
            table="subscription",
        )
        changes = _rows(
            conn,
            "customer_id",
            "COALESCE(from_plan_id, -1)",
            "to_plan_id",
            "COALESCE(billing_period, '')",
            "changed_at",
            table="plan_change",
            order="customer_id, changed_at",
        )
        usage = _rows(
            conn,
            "customer_id",
            "metric",
            "value",
            "measured_at",
            table="usage",
            order="customer_id, metric, measured_at",
        )
        tickets = _rows(
            conn,
            "customer_id",
            "opened_at",
            "closed_at",
            table="ticket",
            where="kind = 'complaint'",
        )
        kinds = ", ".join(f"'{k}'" for k in TROUBLE_KINDS)
        trouble = _rows(
            conn,
            "customer_id",
            "opened_at",
            table="ticket",
            where=f"kind IN ({kinds})",
            order="customer_id, opened_at",
        )
        if len(subs[0]):
            loyal, loyal_min_sales = _loyal(conn, customer_db, loyal_as_of)
        else:  # a shop without subscriptions: no need to add up a year of sales
            loyal, loyal_min_sales = np.zeros(len(customer_db), dtype=bool), float("inf")

    def c(ids: np.ndarray) -> np.ndarray:
        return index_of(customer_db, ids.astype(np.int64))[0]

    def p(ids: np.ndarray) -> np.ndarray:
        index, found = index_of(plan_db, ids.astype(np.int64))
        return np.where(found, index, -1).astype(np.int64)

    used = np.array([metric.get(m, -1) for m in usage[1]], dtype=np.int64)
    known = used >= 0
    billing = {"annual": ANNUAL, "monthly": MONTHLY}
    history = SaasHistory(
        sub_customer=c(subs[0]),
        sub_plan=p(subs[1]),
        sub_started=subs[2].astype(np.int64),
        sub_ended=np.where(subs[3] < 0, NEVER, subs[3]).astype(np.int64),
        sub_annual=subs[4] == "annual",
        change_customer=c(changes[0]),
        change_from=p(changes[1]),
        change_plan=p(changes[2]),
        change_annual=np.array([billing.get(b, UNCHANGED) for b in changes[3]], dtype=np.int64),
        change_at=changes[4].astype(np.int64),
        usage_customer=c(usage[0][known]),
        usage_metric=used[known],
        usage_value=usage[2][known].astype(np.float64),
        usage_at=usage[3][known].astype(np.int64),
        ticket_customer=c(tickets[0]),
        ticket_opened=tickets[1].astype(np.int64),
        ticket_closed=np.where(tickets[2] < 0, NEVER, tickets[2]).astype(np.int64),
        loyal=loyal,
        trouble_customer=c(trouble[0]),
        trouble_at=trouble[1].astype(np.int64),
    )
    if as_of is not None:
        history = known_at(history, as_of)
    latest = as_of if as_of is not None else known_until(history) or 0
    return SaasData(ladder, history, [r[1] for r in customers], plans, loyal_min_sales, latest)


def _without_plans(plans: Plans, ladder: Ladder) -> SaasData:
    """The SaaS data of a database without plans (so without subscriptions): empty."""
    none = np.zeros(0, dtype=np.int64)
    fields = {f.name: none for f in dataclasses.fields(SaasHistory)}
    fields.update(sub_annual=none.astype(bool), usage_value=none.astype(np.float64))
    fields.update(loyal=none.astype(bool))
    return SaasData(ladder, SaasHistory(**fields), [], plans, float("inf"), 0)


def _ladder(conn: Connection, as_of: int | None = None) -> tuple[Plans, Ladder]:
    """The plans and their ladder; the metrics are the plans' limits and every metric
    read by `as_of` (a metric no plan limits is engagement)."""
    rows = conn.execute(
        text(
            "SELECT id, plan_id, ladder, tier_rank, monthly_price, limits, name, currency, "
            "annual_price FROM plan ORDER BY id"
        )
    ).all()
    limits = [json_object(r[5]) for r in rows]
    usage = conn.dialect.identifier_preparer.quote("usage")  # reserved in MySQL
    moment = epoch("measured_at", conn.dialect.name)
    until = "" if as_of is None else f" WHERE {moment} <= {int(as_of)}"
    found = conn.execute(text(f"SELECT DISTINCT metric FROM {usage}{until}"))
    measured = {r[0] for r in found}
    # a metric no plan limits (active days, logins) is engagement: a metric all the same
    metrics = sorted({k for limit in limits for k in limit} | measured)
    ladders = sorted({r[2] for r in rows})
    table = np.array(
        [[float(limit[m]) if m in limit else np.inf for m in metrics] for limit in limits]
    ).reshape(len(rows), len(metrics))
    ladder = Ladder(
        ladder=np.array([ladders.index(r[2]) for r in rows], dtype=np.int32),
        rank=np.array([r[3] for r in rows], dtype=np.int32),
        monthly=np.array([float(r[4]) for r in rows], dtype=np.float64),
        limits=table,
        metrics=metrics,
    )
    plans = Plans(
        ids=[r[1] for r in rows],
        names=[r[6] or "" for r in rows],
        currency=[r[7] or "" for r in rows],
        annual=np.array([np.nan if r[8] is None else float(r[8]) for r in rows]),
        db_ids=np.array([r[0] for r in rows], dtype=np.int64),
    )
    return plans, ladder


TIMES = {
    "started_at",
    "ended_at",
    "renews_at",
    "changed_at",
    "measured_at",
    "opened_at",
    "closed_at",
}


def _rows(
    conn: Connection, *columns: str, table: str, order: str = "id", where: str = "1 = 1"
) -> list[np.ndarray]:
    """Columns of a table as arrays; timestamps as epoch seconds, NULL as -1."""
    dialect = conn.dialect.name
    select = [f"COALESCE({epoch(c, dialect)}, -1)" if c in TIMES else c for c in columns]
    name = conn.dialect.identifier_preparer.quote(table)  # `usage` is reserved in MySQL
    sql = f"SELECT {', '.join(select)} FROM {name} WHERE {where} ORDER BY {order}"
    chunks = [np.array(chunk, dtype=object) for chunk in stream(conn, sql)]  # tuples, not Rows
    block = np.concatenate(chunks) if chunks else np.zeros((0, len(columns)), dtype=object)
    return [
        block[:, i].astype(np.int64) if c in TIMES else block[:, i] for i, c in enumerate(columns)
    ]


def _loyal(
    conn: Connection, customer_db: np.ndarray, as_of: int | None
) -> tuple[np.ndarray, float]:
    """The top quarter of buyers by sales in the year before `as_of` (default: the newest
    sale), and the year's sales that put a customer in it (serving checks one customer
    against it)."""
    dialect = conn.dialect.name
    at = epoch("purchased_at", dialect)
    newest = conn.execute(text(f"SELECT MAX({at}) FROM purchase")).scalar()
    end = as_of if as_of is not None else int(newest or 0)
    rows = conn.execute(
        text(
            f"SELECT customer_id, SUM(quantity * unit_price) FROM purchase "
            f"WHERE kind = 'sale' AND customer_id IS NOT NULL AND {at} > :start "
            f"AND {at} <= :end GROUP BY customer_id"
        ),
        {"start": end - YEAR, "end": end},
    ).all()
    loyal = np.zeros(len(customer_db), dtype=bool)
    if not rows:
        return loyal, float("inf")
    who = np.array([r[0] for r in rows], dtype=np.int64)
    sales = np.array([float(r[1]) for r in rows])
    threshold = float(np.quantile(sales, 1 - LOYAL_SHARE))
    index, found = index_of(customer_db, who)
    loyal[index[found & (sales >= threshold)]] = True
    return loyal, threshold
