"""The SaaS half of the demo data: a plan ladder, subscriptions, usage, plan changes, tickets.

Why: a plan-ladder upsell model has to find the subscribers about to outgrow their plan.
Here upgrades follow a known monthly hazard, so a model can be checked against it:

- usage grows per account (lognormal growth rate) toward and past the plan's limits;
- the monthly upgrade hazard is set by the usage ratio (usage / limit, the highest over
  the metrics): 0.5 % below 0.6, 3 % to 0.8, 12 % to 0.95, 25 % above; an upgrade goes to
  the lowest plan that covers the usage projected 6 months ahead (sometimes skipping one);
- x2 in the 30 days before an annual renewal, x0.2 with an open complaint (which also
  makes churn x4), x1.3 after 12 months of tenure, x1.5 for the shop's best customers;
- monthly subscribers on a plan unchanged for 6 months switch to annual at 2 %/month
  (a plan change to the same plan, with the billing it switched to);
- every subscription starts with a 14-day trial, 80 % of which convert.

The simulation steps month by month (first of each month, 00:00Z) over all subscribers
at once; usage is measured at those boundaries and events fall inside the month.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.demo.shop import DAY, YEAR, Ints

Columns = dict[str, NDArray[Any]]

MONTH = int(30.44 * DAY)
LADDER = "workspace"
METRICS = ("seats", "storage_gb", "api_calls")
# plan id, name, monthly price (EUR), limits per metric, features added to the plan below
PLANS: tuple[tuple[str, str, float, tuple[int, int, int], tuple[str, ...]], ...] = (
    ("lite", "Lite", 9.0, (3, 10, 10_000), ("projects", "email support")),
    ("standard", "Standard", 29.0, (10, 100, 100_000), ("integrations", "shared workspaces")),
    ("pro", "Pro", 79.0, (25, 500, 1_000_000), ("priority support", "sso", "audit log")),
    ("enterprise", "Enterprise", 249.0, (100, 2000, 10_000_000), ("sla", "data residency")),
)
FEATURES = [sum((p[4] for p in PLANS[: rank + 1]), ()) for rank in range(len(PLANS))]
ANNUAL_MONTHS = 10  # annual price = 10 x monthly
LIMITS = np.array([p[3] for p in PLANS], dtype=float)
BANDS = np.array([0.6, 0.8, 0.95])  # usage-ratio band edges
HAZARD = np.array([0.005, 0.03, 0.12, 0.25])  # monthly upgrade hazard per band
RENEWAL_BOOST, RENEWAL_DAYS = 2.0, 30
COMPLAINT_UPGRADE, COMPLAINT_CHURN = 0.2, 4.0
TENURE_BOOST, TENURE_MONTHS = 1.3, 12
LOYAL_BOOST = 1.5
PROJECTION_MONTHS = 6
CHURN = 0.012  # monthly churn hazard after the trial
GROWTH_MEDIAN, GROWTH_SIGMA = 0.03, 0.8  # monthly log growth of seats, per account
SEATS = ((1.5, 0.5), (5.0, 0.6), (18.0, 0.6))  # first seats (median, sigma) by segment
FIRST_FILL = 0.75  # the first plan is the lowest with seats limit x 0.75 >= first seats
ANNUAL_START, ANNUAL_SWITCH, STABLE_DAYS = 0.25, 0.02, 182
TRIAL_DAYS, TRIAL_CONVERSION = 14, 0.8
PAST_DUE = 0.04  # of live paid subscriptions at as_of
# kind, monthly chance per subscriber, median days open, lognormal sigma
TICKETS = (
    ("complaint", 0.04, 20.0, 1.2),
    ("question", 0.06, 1.5, 0.8),
    ("incident", 0.015, 0.5, 1.0),
)
OVER_LIMIT_COMPLAINTS = 2.0  # complaint chance x2 while usage ratio >= 1
STATUSES = ("trial", "active", "past_due", "cancelled")
NEVER = np.iinfo(np.int64).max


class _Simulation:
    """Per-subscription state (arrays, in subscription order) and the rows logged so far."""

    def __init__(self, rng: np.random.Generator, customer: Ints, started: Ints) -> None:
        self.rng, self.customer, self.started = rng, customer, started
        n = len(customer)
        self.trial_end = started + TRIAL_DAYS * DAY
        self.ended = np.full(n, NEVER)
        self.last_change = started.copy()
        self.open_until = np.zeros(n, np.int64)
        self.annual = rng.random(n) < ANNUAL_START
        self.anchor = started.copy()  # annual renewals fall on its anniversaries
        self.rows: dict[str, list[NDArray[Any]]] = {}
        none = np.zeros(0, np.int64)  # every column exists, even in a table without rows
        self.log("usage", customer=none, metric=none, value=none, measured_at=none)
        self.log("tickets", customer=none, kind=none, opened_at=none, closed_at=none)

    def log(self, table: str, **columns: NDArray[Any]) -> None:
        for name, values in columns.items():
            self.rows.setdefault(f"{table}.{name}", []).append(values)

    def table(self, name: str) -> Columns:
        prefix = f"{name}."
        return {
            k[len(prefix) :]: np.concatenate(v)
            for k, v in self.rows.items()
            if k.startswith(prefix)
        }

    def anniversary(self, live: Ints, moment: int) -> Ints:
        """The first anniversary of the annual anchor after `moment`."""
        anchor = self.anchor[live]
        return anchor + YEAR * ((moment - anchor) // YEAR + 1)


def simulate(
    rng: np.random.Generator,
    created: Ints,
    account_key: Ints,
    segment: Ints,
    is_saas: NDArray[np.bool_],
    loyal: NDArray[np.bool_],
    start: int,
    cutoff: int,
) -> dict[str, Columns]:
    """Subscriptions, plan-changes, usage and tickets (customer indexes, epoch seconds)."""
    who = np.flatnonzero(is_saas)
    started = created[who] + (rng.beta(1.0, 3.0, len(who)) * (cutoff - created[who] - DAY))
    order = np.lexsort((who, started))
    sim = _Simulation(rng, who[order], started.astype(np.int64)[order])
    plan, base, growth = _first_plans(rng, segment[sim.customer], account_key[sim.customer])
    converts = rng.random(len(plan)) < TRIAL_CONVERSION
    sim.ended = np.where(~converts & (sim.trial_end < cutoff), sim.trial_end, NEVER)
    sim.log(
        "plan-changes",
        customer=sim.customer,
        from_plan=np.full(len(plan), -1),
        to_plan=plan.copy(),
        billing=sim.annual.astype(np.int64),  # 1: annual, 0: monthly, -1: unchanged
        changed_at=sim.started,
    )
    months = (
        np.arange(
            np.datetime64(start, "s").astype("datetime64[M]") + 1,
            np.datetime64(cutoff - 1, "s").astype("datetime64[M]") + 1,
        )
        .astype("datetime64[s]")
        .astype(np.int64)
    )
    for b, nxt in zip(months, np.append(months[1:], cutoff), strict=True):
        _month(sim, plan, base, growth, loyal[sim.customer], int(b), int(nxt))
    tables = {name: sim.table(name) for name in ("plan-changes", "usage", "tickets")}
    tables["subscriptions"] = _subscriptions(sim, plan, cutoff)
    _by_time(tables, cutoff)
    return tables


def _first_plans(
    rng: np.random.Generator, segment: Ints, account_key: Ints
) -> tuple[Ints, NDArray[np.float64], NDArray[np.float64]]:
    """First plan from first seats; usage at start; monthly growth rates (per account)."""
    median, sigma = np.array(SEATS).T
    seats = rng.lognormal(np.log(median[segment]), sigma[segment])
    plan = np.minimum((LIMITS[:, 0] * FIRST_FILL < seats[:, None]).sum(axis=1), len(PLANS) - 1)
    fill = rng.uniform(0.1, 0.6, (len(plan), 2))
    base = np.column_stack([seats, LIMITS[plan, 1:] * fill])
    keys, inverse = np.unique(account_key, return_inverse=True)
    rate = rng.lognormal(np.log(GROWTH_MEDIAN), GROWTH_SIGMA, len(keys))[inverse]
    spread = np.column_stack(
        [np.ones(len(plan)), rng.uniform(0.8, 1.6, len(plan)), rng.uniform(0.5, 2.0, len(plan))]
    )
    return plan, base, rate[:, None] * spread


def _month(
    sim: _Simulation,
    plan: Ints,
    base: NDArray[np.float64],
    growth: NDArray[np.float64],
    loyal: NDArray[np.bool_],
    b: int,
    nxt: int,
) -> None:
    """Measure usage at boundary `b`, then draw this month's upgrades, churn and tickets."""
    live = np.flatnonzero((sim.started < b) & (sim.ended > b))
    if not live.size:
        return
    rng, tenure = sim.rng, (b - sim.started[live]) / MONTH
    usage = base[live] * np.exp(growth[live] * tenure[:, None])
    usage = np.minimum(usage * rng.lognormal(0.0, 0.05, usage.shape), 1.5 * LIMITS[-1])
    usage = np.column_stack(
        [np.maximum(1, np.round(usage[:, 0])), np.round(usage[:, 1], 1), np.round(usage[:, 2])]
    )
    sim.log(
        "usage",
        customer=np.repeat(sim.customer[live], len(METRICS)),
        metric=np.tile(np.arange(len(METRICS)), len(live)),
        value=usage.ravel(),
        measured_at=np.full(usage.size, b),
    )
    ratio = (usage / LIMITS[plan[live]]).max(axis=1)
    complaint = sim.open_until[live] > b
    paid = sim.trial_end[live] <= b
    anniversary = sim.anniversary(live, b)
    window = sim.annual[live] & (anniversary - b <= RENEWAL_DAYS * DAY)
    hazard = (
        HAZARD[np.searchsorted(BANDS, ratio, side="right")]
        * np.where(window, RENEWAL_BOOST, 1.0)
        * np.where(complaint, COMPLAINT_UPGRADE, 1.0)
        * np.where(tenure >= TENURE_MONTHS, TENURE_BOOST, 1.0)
        * np.where(loyal[live], LOYAL_BOOST, 1.0)
    )
    up = paid & (plan[live] < len(PLANS) - 1) & (rng.random(len(live)) < hazard)
    deadline = np.where(window, np.minimum(anniversary, nxt), nxt)
    _upgrade(sim, plan, live[up], usage[up], growth[live[up]], b, deadline[up])
    churn = paid & ~up & (rng.random(len(live)) < CHURN * np.where(complaint, COMPLAINT_CHURN, 1))
    sim.ended[live[churn]] = b + (rng.random(churn.sum()) * (nxt - b)).astype(np.int64)
    switch = (
        paid & ~up & ~churn & ~sim.annual[live] & (b - sim.last_change[live] >= STABLE_DAYS * DAY)
    )
    switch &= rng.random(len(live)) < ANNUAL_SWITCH
    sim.annual[live[switch]], sim.anchor[live[switch]] = True, b
    switched = live[switch]
    sim.log(
        "plan-changes",
        customer=sim.customer[switched],
        from_plan=plan[switched],
        to_plan=plan[switched],
        billing=np.ones(len(switched), np.int64),
        changed_at=np.full(len(switched), b),
    )
    _tickets(sim, live, ratio >= 1.0, b, np.minimum(sim.ended[live], nxt))


def _upgrade(
    sim: _Simulation,
    plan: Ints,
    subs: Ints,
    usage: NDArray[np.float64],
    growth: NDArray[np.float64],
    b: int,
    deadline: Ints,
) -> None:
    """Move to the lowest plan covering the usage projected 6 months ahead (at least +1)."""
    projected = usage * np.exp(growth * PROJECTION_MONTHS)
    fits = np.all(LIMITS[None, :, :] >= projected[:, None, :], axis=2)
    lowest = np.where(np.any(fits, axis=1), np.argmax(fits, axis=1), len(PLANS) - 1)
    target = np.clip(lowest, plan[subs] + 1, len(PLANS) - 1)
    when = b + (sim.rng.random(len(subs)) * (deadline - b)).astype(np.int64)
    sim.log(
        "plan-changes",
        customer=sim.customer[subs],
        from_plan=plan[subs],
        to_plan=target,
        billing=np.full(len(subs), -1),
        changed_at=when,
    )
    plan[subs] = target
    sim.last_change[subs] = when


def _tickets(sim: _Simulation, live: Ints, over: NDArray[np.bool_], b: int, until: Ints) -> None:
    """Complaints, questions and incidents opened this month; complaints stay open a while."""
    rng = sim.rng
    for kind, (_, chance, median_days, sigma) in enumerate(TICKETS):
        boost = np.where(over, OVER_LIMIT_COMPLAINTS, 1.0) if kind == 0 else 1.0
        opens = live[rng.random(len(live)) < chance * boost]
        span = until[np.searchsorted(live, opens)] - b
        opened = b + (rng.random(len(opens)) * span).astype(np.int64)
        closed = opened + rng.lognormal(np.log(median_days * DAY), sigma, len(opens)).astype(
            np.int64
        )
        if kind == 0:
            np.maximum.at(sim.open_until, opens, closed)
        sim.log(
            "tickets",
            customer=sim.customer[opens],
            kind=np.full(len(opens), kind),
            opened_at=opened,
            closed_at=closed,
        )


def _subscriptions(sim: _Simulation, plan: Ints, cutoff: int) -> Columns:
    """Status, current plan and next renewal of each subscription at the cutoff."""
    cancelled = sim.ended < cutoff
    trial = ~cancelled & (sim.trial_end > cutoff)
    past_due = ~cancelled & ~trial & (sim.rng.random(len(plan)) < PAST_DUE)
    status = np.select([cancelled, trial, past_due], [3, 0, 2], 1)
    next_month = np.datetime64(cutoff, "s").astype("datetime64[M]") + 1
    renews = np.where(
        sim.annual,
        sim.anniversary(np.arange(len(plan)), cutoff),
        next_month.astype("datetime64[s]").astype(np.int64),
    )
    renews = np.where(trial, sim.trial_end, np.where(cancelled, -1, renews))
    return {
        "customer": sim.customer,
        "plan": plan,
        "annual": sim.annual,
        "status": status,
        "started_at": sim.started,
        "renews_at": renews,
        "ended_at": np.where(cancelled, sim.ended, -1),
    }


def _by_time(tables: dict[str, Columns], cutoff: int) -> None:
    """Plan changes and tickets in time order; tickets still open at the cutoff lose closed_at."""
    for name, column in (("plan-changes", "changed_at"), ("tickets", "opened_at")):
        table = tables[name]
        order = np.lexsort((table["customer"], table[column]))
        tables[name] = {k: v[order] for k, v in table.items()}
    closed = tables["tickets"]["closed_at"]
    tables["tickets"]["closed_at"] = np.where(closed < cutoff, closed, -1)


def as_history(tables: dict[str, Columns], loyal: NDArray[np.bool_]) -> tuple[Any, Any]:
    """`simulate`'s tables as the models read them: (SaasHistory, Ladder) by customer index.

    Why: the propensity's tests and benchmarks fit on the simulation directly, without
    the CSV files and the database in between.
    """
    from models.ladder import Ladder
    from models.upgrades import NEVER as FOREVER
    from models.upgrades import SaasHistory

    s, c, u, k = tables["subscriptions"], tables["plan-changes"], tables["usage"], tables["tickets"]
    by_time = np.lexsort((c["changed_at"], c["customer"]))
    by_metric = np.lexsort((u["measured_at"], u["metric"], u["customer"]))
    complaint = k["kind"] == 0
    history = SaasHistory(
        s["customer"],
        s["plan"],
        s["started_at"],
        np.where(s["ended_at"] < 0, FOREVER, s["ended_at"]),
        s["annual"].astype(bool),
        c["customer"][by_time],
        c["from_plan"][by_time],
        c["to_plan"][by_time],
        c["billing"][by_time],
        c["changed_at"][by_time],
        u["customer"][by_metric],
        u["metric"][by_metric],
        u["value"][by_metric].astype(float),
        u["measured_at"][by_metric],
        k["customer"][complaint],
        k["opened_at"][complaint],
        np.where(k["closed_at"][complaint] < 0, FOREVER, k["closed_at"][complaint]),
        loyal,
    )
    ladder = Ladder(
        np.zeros(len(PLANS), np.int32),
        np.arange(1, len(PLANS) + 1, dtype=np.int32),
        np.array([p[2] for p in PLANS]),
        LIMITS.copy(),
        list(METRICS),
    )
    return history, ladder


def simulated(n: int, cutoff: int, seed: int = 5) -> tuple[Any, Any]:
    """The SaaS half alone for `n` customers over two years before `cutoff`, as arrays."""
    rng = np.random.default_rng(seed)
    start = cutoff - 730 * DAY
    created = start + (rng.random(n) * 600 * DAY).astype(np.int64)
    loyal = rng.random(n) < 0.25
    tables = simulate(
        rng, created, np.arange(n), rng.integers(0, 3, n), rng.random(n) < 0.6, loyal, start, cutoff
    )
    return as_history(tables, loyal)
