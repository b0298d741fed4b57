"""A second subscription data set, "Teamwork": other mechanics than the demo's SaaS half.

Why: an upsell or churn model checked only on the generator it was tuned on learns that
generator. This one is written apart from `app.demo.saas` and shares none of its
mechanisms (docs/demo-data.md, "The Teamwork data set"):

- a subscription-only business: no shop, no purchases, nobody "loyal";
- the seat limit is a wall: seats in use never pass it; demand above it is hidden and
  shows only as a plan at 100 %; teams grow in hiring bursts, and shrink;
- upgrades follow a logistic hazard of the blocked demand, engagement and projects
  (not usage bands); a renewal moment does nothing;
- churn follows engagement (its level and its fall), payment trouble (a `billing`
  ticket) and complaints; annual subscribers leave only at a renewal;
- an upgrade on annual billing starts a new annual term (the renewal re-anchors);
- 25 % of accounts never send a usage reading; `active_days` (days active in the last
  28) has no limit on any plan: engagement, the loyalty signal;
- readings come every 4 weeks on each account's own day, not on the 1st.

Weekly steps over all accounts at once; seeded, so the same arguments give the same files.
"""

import json
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.demo.generate import fixed, stamps, write_table

DAY, WEEK = 86_400, 7 * 86_400
WEEKS = 104  # two years of history
LADDER = "teamwork"
METRICS = ("seats", "projects", "active_days")
# plan id, monthly price (USD), annual price, seat limit, project limit (None: unlimited)
PLANS = (
    ("solo", 8.0, 80.0, 1, 5),
    ("team", 24.0, 240.0, 10, 50),
    ("growth", 60.0, 612.0, 40, 300),
    ("scale", 150.0, 1530.0, 200, None),
)
SEATS = np.array([p[3] for p in PLANS], dtype=float)
PROJECTS = np.array([np.inf if p[4] is None else p[4] for p in PLANS])
ANNUAL_START, ANNUAL_SWITCH = 0.3, 0.004  # weekly switch chance of an engaged monthly account
UNMEASURED = 0.25  # accounts that never send a reading
HIRE, SHRINK = 0.05, 0.02  # weekly chance of a hiring burst (Poisson 1.5 people) / of losing one
# weekly upgrade log-odds: base, blocked (demand over the seat wall), engagement z, projects >90 %
UPGRADE = (-6.0, 3.2, 0.9, 1.0)
# weekly churn log-odds of a monthly account: base, engagement z, engagement fell, billing
# trouble in the last 30 days, an open complaint; annual accounts: at renewal, base and z
CHURN = (-5.6, -0.9, 1.4, 1.6, 0.8)
RENEWAL_CHURN = (-1.8, -1.0)
TICKETS = (("complaint", 0.004, 0.03, 10.0), ("billing", 0.003, 0.0, 3.0))  # kind, weekly,
# extra weekly chance at the seat wall, median days open
TRIAL_DAYS = 14
NEVER = np.iinfo(np.int64).max
TABLES = ("customers", "plans", "subscriptions", "plan-changes", "usage", "tickets")


def generate_teamwork(
    out_dir: Path, customers: int = 2000, seed: int = 7, as_of: date | None = None
) -> dict[str, Path]:
    """Write the Teamwork data set into out_dir: {table name: path} for TABLES."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    day = as_of or datetime.now(UTC).date()
    end = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    rng = np.random.default_rng(seed)
    sim = _Teams(rng, customers, end)
    for week in range(WEEKS):
        sim.step(end - (WEEKS - week) * WEEK)
    ids = np.array([f"T{n:06d}" for n in range(1, customers + 1)], dtype=object)
    columns = {
        "customers": _customers(sim, ids),
        "plans": _plans(),
        "subscriptions": _subscriptions(sim, ids, end),
        "plan-changes": _rows(sim, "change", ids),
        "usage": _rows(sim, "usage", ids),
        "tickets": _rows(sim, "ticket", ids),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        name: write_table(out_dir / f"{name}.csv", name, _size(table), partial(_part, table))
        for name, table in columns.items()
    }


class _Teams:
    """Every account's hidden and visible state, and the rows logged so far."""

    def __init__(self, rng: np.random.Generator, n: int, end: int) -> None:
        self.rng, self.n, self.end = rng, n, end
        first = end - WEEKS * WEEK
        self.started = first + (rng.random(n) * (WEEKS - 6) * WEEK).astype(np.int64)
        self.ended = np.full(n, NEVER)
        self.team = np.maximum(1, np.round(rng.lognormal(1.0, 1.0, n))).astype(np.int64)
        self.plan = np.searchsorted(SEATS, self.team).clip(0, len(PLANS) - 1)
        self.projects = np.maximum(1.0, self.team * rng.lognormal(0.5, 0.6, n))
        self.engaged = rng.normal(0.0, 1.0, n)  # the engagement z, a random walk
        self.engaged_before = self.engaged.copy()  # 8 weeks ago
        self.annual = rng.random(n) < ANNUAL_START
        self.term = self.started.copy()  # the start of the annual term
        self.measured = rng.random(n) >= UNMEASURED
        self.phase = rng.integers(0, 4, n)  # readings every 4 weeks, on its own week
        self.trouble_until = np.zeros(n, np.int64)
        self.complaint_until = np.zeros(n, np.int64)
        self.converts = rng.random(n) < 0.85
        self.rows: dict[str, list[dict[str, NDArray[Any]]]] = {
            "change": [],
            "usage": [],
            "ticket": [],
        }

    def step(self, at: int) -> None:
        """One week from `at`: growth, engagement, readings, tickets, upgrades, churn."""
        rng, n = self.rng, self.n
        live = (self.started <= at) & (self.ended > at)
        trial_over = self.started + TRIAL_DAYS * DAY <= at
        lost = live & ~trial_over & ~self.converts & (self.started + TRIAL_DAYS * DAY < at + WEEK)
        self.ended[lost] = self.started[lost] + TRIAL_DAYS * DAY
        paid = live & trial_over & ~lost
        self.team += np.where(paid & (rng.random(n) < HIRE), rng.poisson(1.5, n) + 1, 0)
        self.team = np.maximum(1, self.team - (paid & (rng.random(n) < SHRINK)))
        self.projects *= np.where(paid, rng.lognormal(0.004, 0.03, n), 1.0)
        if (at // WEEK) % 8 == 0:
            self.engaged_before = self.engaged.copy()
        self.engaged = np.where(paid, 0.97 * self.engaged + rng.normal(0, 0.22, n), self.engaged)
        self._read(paid, at)
        self._upgrade(paid, at)
        self._churn(paid, at)  # from tickets opened before this week: a cause precedes it
        self._tickets(paid, at)

    def seats(self) -> NDArray[np.float64]:
        """Seats in use: the team, up to the plan's wall."""
        result: NDArray[np.float64] = np.minimum(self.team, SEATS[self.plan]).astype(float)
        return result

    def _read(self, paid: NDArray[np.bool_], at: int) -> None:
        who = np.flatnonzero(paid & self.measured & (self.phase == (at // WEEK) % 4))
        when = at + self.rng.integers(0, DAY, len(who))  # the week's first day: before a churn
        active = np.round(28 / (1 + np.exp(-(self.engaged[who] * 1.3 + 0.8)))).astype(float)
        values: tuple[NDArray[Any], ...] = (self.seats()[who], np.round(self.projects[who]), active)
        for metric, value in enumerate(values):
            self._log("usage", customer=who, metric=np.full(len(who), metric), value=value, at=when)

    def _tickets(self, paid: NDArray[np.bool_], at: int) -> None:
        walled = self.team > SEATS[self.plan]
        for kind, (_, weekly, at_wall, days) in enumerate(TICKETS):
            chance = weekly + at_wall * walled
            who = np.flatnonzero(paid & (self.rng.random(self.n) < chance))
            opened = at + self.rng.integers(0, WEEK, len(who))
            closed = opened + (self.rng.lognormal(np.log(days), 0.8, len(who)) * DAY).astype(
                np.int64
            )
            closed = np.where(closed >= self.end, -1, closed)
            self._log(
                "ticket", customer=who, kind=np.full(len(who), kind), opened=opened, closed=closed
            )
            until = np.where(closed < 0, NEVER, closed)
            if kind == 0:
                self.complaint_until[who] = until
            else:
                self.trouble_until[who] = opened + 30 * DAY

    def _upgrade(self, paid: NDArray[np.bool_], at: int) -> None:
        base, blocked, engaged, crowded = UPGRADE
        top = len(PLANS) - 1
        odds = (
            base
            + blocked * (self.team > SEATS[self.plan])
            + engaged * self.engaged
            + crowded * (self.projects > 0.9 * PROJECTS[self.plan])
        )
        up = paid & (self.plan < top) & (self.rng.random(self.n) < 1 / (1 + np.exp(-odds)))
        who = np.flatnonzero(up)
        target = np.maximum(self.plan[who] + 1, np.searchsorted(SEATS, self.team[who])).clip(0, top)
        when = at + self.rng.integers(0, WEEK, len(who))
        self._log(
            "change",
            customer=who,
            source=self.plan[who],
            to=target,
            at=when,
            billing=np.full(len(who), -1),
        )
        self.plan[who] = target
        annual = who[self.annual[who]]
        self.term[annual] = when[self.annual[who]]  # an upgrade starts a new annual term
        switch = np.flatnonzero(
            paid
            & ~up
            & ~self.annual
            & (self.engaged > 0.5)
            & (self.rng.random(self.n) < ANNUAL_SWITCH)
        )
        moment = at + self.rng.integers(0, WEEK, len(switch))
        self._log(
            "change",
            customer=switch,
            source=self.plan[switch],
            to=self.plan[switch],
            at=moment,
            billing=np.ones(len(switch), np.int64),
        )
        self.annual[switch], self.term[switch] = True, moment

    def _churn(self, paid: NDArray[np.bool_], at: int) -> None:
        base, engaged, fell, trouble, complaint = CHURN
        odds = (
            base
            + engaged * self.engaged
            + fell * (self.engaged < self.engaged_before - 0.5)
            + trouble * (self.trouble_until > at)
            + complaint * (self.complaint_until > at)
        )
        monthly = paid & ~self.annual & (self.rng.random(self.n) < 1 / (1 + np.exp(-odds)))
        renewal = self.term + 365 * DAY * ((at - self.term) // (365 * DAY) + 1)
        due = paid & self.annual & (renewal < at + WEEK)
        r_base, r_engaged = RENEWAL_CHURN
        at_renewal = 1 / (1 + np.exp(-(r_base + r_engaged * self.engaged)))
        leaves = due & (self.rng.random(self.n) < at_renewal)
        self.ended[monthly] = at + self.rng.integers(DAY, WEEK, int(monthly.sum()))
        self.ended[leaves] = renewal[leaves]
        self.ended = np.where(self.ended >= self.end, NEVER, self.ended)

    def _log(self, table: str, **columns: NDArray[Any]) -> None:
        self.rows[table].append(columns)


def _customers(sim: _Teams, ids: NDArray[Any]) -> dict[str, list[str]]:
    created = sim.started - sim.rng.integers(0, 30, sim.n) * DAY
    return {
        "customer_id": ids.tolist(),
        "account_id": [""] * sim.n,
        "country": sim.rng.choice(["US", "CA", "GB", "AU", "DE"], sim.n).tolist(),
        "attributes": [json.dumps({"source": "teamwork"})] * sim.n,
        "marketing_opt_out": np.where(sim.rng.random(sim.n) < 0.08, "true", "false").tolist(),
        "created_at": stamps(created),
    }


def _plans() -> dict[str, list[str]]:
    limits = [
        json.dumps({"seats": p[3], **({"projects": p[4]} if p[4] is not None else {})})
        for p in PLANS
    ]
    return {
        "plan_id": [p[0] for p in PLANS],
        "name": [p[0].title() for p in PLANS],
        "ladder": [LADDER] * len(PLANS),
        "tier_rank": [str(rank) for rank in range(1, len(PLANS) + 1)],
        "monthly_price": fixed(np.array([p[1] for p in PLANS]), 2).tolist(),
        "annual_price": fixed(np.array([p[2] for p in PLANS]), 2).tolist(),
        "currency": ["USD"] * len(PLANS),
        "limits": limits,
        "features": [json.dumps([]) for _ in PLANS],
        "active": ["true"] * len(PLANS),
    }


def _subscriptions(sim: _Teams, ids: NDArray[Any], end: int) -> dict[str, list[str]]:
    """One row per account as the billing system holds it today."""
    ended = sim.ended < end
    trial = ~ended & (sim.started + TRIAL_DAYS * DAY > end)
    past_due = ~ended & ~trial & (sim.trouble_until > end)
    status = np.select([ended, trial, past_due], ["cancelled", "trial", "past_due"], "active")
    year = 365 * DAY
    month = 30 * DAY
    next_month = end + month - (end - sim.started) % month
    renews = np.where(sim.annual, sim.term + year * ((end - sim.term) // year + 1), next_month)
    renews = np.where(trial, sim.started + TRIAL_DAYS * DAY, np.where(ended, -1, renews))
    return {
        "subscription_id": [f"TS{n:06d}" for n in range(1, sim.n + 1)],
        "customer_id": ids.tolist(),
        "plan_id": [PLANS[p][0] for p in sim.plan.tolist()],
        "billing_period": np.where(sim.annual, "annual", "monthly").tolist(),
        "status": status.tolist(),
        "started_at": stamps(sim.started),
        "renews_at": stamps(renews),
        "ended_at": stamps(np.where(ended, sim.ended, -1)),
    }


def _rows(sim: _Teams, table: str, ids: NDArray[Any]) -> dict[str, list[str]]:
    """The logged rows of one table as import columns, only those before the end."""
    logged = sim.rows[table]
    merged = {k: np.concatenate([part[k] for part in logged]) for k in logged[0]} if logged else {}
    at = merged.get("at", merged.get("opened", np.zeros(0, np.int64)))
    keep = at < sim.end
    m = {k: v[keep] for k, v in merged.items()}
    who = ids[m["customer"]] if m else np.zeros(0, dtype=object)
    if table == "change":
        names = np.array([p[0] for p in PLANS], dtype=object)
        return {
            "customer_id": who.tolist(),
            "from_plan_id": names[m["source"]].tolist(),
            "to_plan_id": names[m["to"]].tolist(),
            "changed_at": stamps(m["at"]),
            "billing_period": np.where(m["billing"] == 1, "annual", "").tolist(),
        }
    if table == "usage":
        return {
            "customer_id": who.tolist(),
            "metric": np.array(METRICS, dtype=object)[m["metric"]].tolist(),
            "value": fixed(m["value"], 0).tolist(),
            "measured_at": stamps(m["at"]),
        }
    return {
        "ticket_id": [f"TT{n:07d}" for n in range(1, len(who) + 1)],
        "customer_id": who.tolist(),
        "kind": np.array([t[0] for t in TICKETS], dtype=object)[m["kind"]].tolist(),
        "opened_at": stamps(m["opened"]),
        "closed_at": stamps(m["closed"]),
    }


def _size(table: dict[str, list[str]]) -> int:
    return len(next(iter(table.values())))


def _part(table: dict[str, list[str]], part: slice) -> dict[str, list[str]]:
    return {name: values[part] for name, values in table.items()}
