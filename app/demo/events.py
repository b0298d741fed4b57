"""Offer events for the demo data set, so its KPIs have something to show.

Why planted this way: random events would earn nothing (attribution needs a purchase of
the offered item, or a plan change to the offered plan, soon after the offer), so the
KPI page of a demo would be a row of zeros. Here some of the real purchases and upgrades
of the last 90 days get an impression (and often a click and an acceptance) of exactly
that offer a few days before, and other offers are shown and ignored or dismissed.
Holdout customers and those who opted out get none, as the offers route would do.
Events are written by the ordinary `events` import, so they follow its contract.
"""

import csv
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from models.holdout import in_holdout

WINDOW_DAYS = 90
CHANNELS = {"cross_sell": ("email", "web"), "upgrade": ("in_app", "email")}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def offer_events(
    files: dict[str, Path], holdout_share: float, holdout_salt: str = "", seed: int = 7
) -> list[dict[str, Any]]:
    """Event rows for `nextbest import events`, from the demo's CSV files."""
    rng = np.random.default_rng(seed)
    customers = _rows(files["customers"])
    treated = [
        c["customer_id"]
        for c in customers
        if c["marketing_opt_out"].lower() not in ("true", "1")
        and not in_holdout(c["customer_id"], holdout_share, holdout_salt)
    ]
    reachable = set(treated)
    sales = [r for r in _rows(files["purchases"]) if r["customer_id"] in reachable]
    if not sales:
        return []
    end = max(datetime.fromisoformat(r["purchased_at"]) for r in sales)
    start = end - timedelta(days=WINDOW_DAYS)
    events: list[dict[str, Any]] = []

    def add(customer: str, offer: str, kind: str, at: datetime, outcome: str) -> None:
        channel = CHANNELS[kind][int(rng.integers(2))]
        steps = {"ignored": [], "clicked": ["click"], "accepted": ["click", "accept"]}
        for n, event in enumerate(["impression", *steps.get(outcome, []), *_dismiss(outcome)]):
            events.append(
                {
                    "event_id": f"demo-{len(events)}",
                    "customer_id": customer,
                    "offer_id": offer,
                    "event": event,
                    "channel": channel,
                    "occurred_at": (at + timedelta(hours=3 * n)).isoformat(),
                }
            )

    for r in sales:  # a third of recent sales were prompted by an offer of that item
        bought = datetime.fromisoformat(r["purchased_at"])
        if bought >= start and r["kind"] == "sale" and rng.random() < 0.3:
            at = bought - timedelta(days=float(rng.uniform(1, 10)))
            outcome = "accepted" if rng.random() < 0.5 else "clicked"
            add(r["customer_id"], f"cross_sell:{r['item_id']}", "cross_sell", at, outcome)
    for r in _rows(files["plan-changes"]):  # and some upgrades by an upgrade prompt
        changed = datetime.fromisoformat(r["changed_at"])
        if r["customer_id"] in reachable and r["from_plan_id"] and changed >= start:
            at = changed - timedelta(days=float(rng.uniform(1, 10)))
            add(r["customer_id"], f"upgrade:{r['to_plan_id']}", "upgrade", at, "accepted")
    items = [r["item_id"] for r in _rows(files["items"])]
    plans = [r["plan_id"] for r in _rows(files["plans"])]
    for _ in range(len(events) * 2):  # offers that came to nothing
        customer = treated[int(rng.integers(len(treated)))]
        # a day before the data's end at the latest: the follow-ups (hours later) stay in
        # the past even when the data ends today and the clock has just passed midnight
        at = start + timedelta(days=float(rng.uniform(0, WINDOW_DAYS - 1)))
        outcome = ("ignored", "clicked", "dismissed")[int(rng.choice(3, p=[0.75, 0.1, 0.15]))]
        if rng.random() < 0.1:  # an upgrade prompt
            add(customer, f"upgrade:{plans[int(rng.integers(len(plans)))]}", "upgrade", at, outcome)
        else:
            item = items[int(rng.integers(len(items)))]
            add(customer, f"cross_sell:{item}", "cross_sell", at, outcome)
    return events


def _dismiss(outcome: str) -> list[str]:
    return ["dismiss"] if outcome == "dismissed" else []
