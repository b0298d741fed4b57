"""The Teamwork data set: importable files, reproducible bytes and its own mechanics.

The checks read the written CSV files, as a model would, and compare with the
mechanisms documented in docs/demo-data.md ("The Teamwork data set").
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from app.demo.generate import MODELS
from app.demo.teamwork import TABLES, generate_teamwork
from tests.app.demo.test_generate import Table, read, ts

AS_OF = date(2026, 11, 1)
END = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_teamwork(tmp_path_factory.mktemp("teamwork"), 6000, seed=3, as_of=AS_OF)


@pytest.fixture(scope="module")
def data(files: dict[str, Path]) -> dict[str, Table]:
    return {name: read(path) for name, path in files.items()}


def test_every_row_validates_and_nothing_is_dated_after_the_end(data: dict[str, Table]) -> None:
    assert list(data) == list(TABLES)
    stamped = ("created_at", "started_at", "ended_at", "changed_at", "measured_at", "opened_at")
    for name, rows in data.items():
        for row in rows:
            MODELS[name].model_validate({k: v or None for k, v in row.items()})
            assert all(ts(row[k]) < END for k in stamped if row.get(k))


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = generate_teamwork(tmp_path / "a", 300, seed=5, as_of=AS_OF)
    second = generate_teamwork(tmp_path / "b", 300, seed=5, as_of=AS_OF)
    other = generate_teamwork(tmp_path / "c", 300, seed=6, as_of=AS_OF)
    assert all(first[t].read_bytes() == second[t].read_bytes() for t in TABLES)
    assert first["usage"].read_bytes() != other["usage"].read_bytes()


def test_seats_never_pass_the_wall_and_engagement_has_no_limit(data: dict[str, Table]) -> None:
    limits = {p["plan_id"]: p["limits"] for p in data["plans"]}
    assert all("active_days" not in limit for limit in limits.values())
    plan = plan_at(data)
    for reading in data["usage"]:
        if reading["metric"] == "seats":
            on = plan(reading["customer_id"], ts(reading["measured_at"]))
            assert float(reading["value"]) <= {"solo": 1, "team": 10, "growth": 40}.get(on, 200)


def test_a_quarter_of_accounts_send_no_reading(data: dict[str, Table]) -> None:
    measured = {r["customer_id"] for r in data["usage"]}
    lasted = [  # five weeks and more: past the trial and one 4-week round of readings
        s["customer_id"]
        for s in data["subscriptions"]
        if (ts(s["ended_at"]) if s["ended_at"] else END) - ts(s["started_at"]) > 35 * 86_400
    ]
    share = 1 - len(measured & set(lasted)) / len(lasted)
    assert 0.22 < share < 0.28


def test_an_upgrade_on_annual_billing_re_anchors_the_renewal(data: dict[str, Table]) -> None:
    last_change = {}
    for change in data["plan-changes"]:
        last_change[change["customer_id"]] = ts(change["changed_at"])
    year = 365 * 86_400
    anchored = [
        s
        for s in data["subscriptions"]
        if s["billing_period"] == "annual"
        and s["status"] == "active"
        and s["customer_id"] in last_change
    ]
    assert len(anchored) > 100
    for s in anchored:
        since = (ts(s["renews_at"]) - last_change[s["customer_id"]]) % year
        assert since < 1 or since > year - 1  # renewals fall on the change's anniversaries


def test_churn_falls_with_engagement(data: dict[str, Table]) -> None:
    """Accounts active fewer days churn more: engagement is the loyalty signal here."""
    days: dict[str, list[float]] = defaultdict(list)
    for reading in data["usage"]:
        if reading["metric"] == "active_days":
            days[reading["customer_id"]].append(float(reading["value"]))
    ended = {s["customer_id"] for s in data["subscriptions"] if s["status"] == "cancelled"}
    first = {c: v[0] for c, v in days.items() if len(v) >= 2}
    low = [c in ended for c, v in first.items() if v < 10]
    high = [c in ended for c, v in first.items() if v >= 20]
    assert np.mean(low) > 1.5 * np.mean(high)


def plan_at(data: dict[str, Table]):  # type: ignore[no-untyped-def]
    """A function (customer, moment) -> the plan then, from the plan changes."""
    changes: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for c in data["plan-changes"]:
        changes[c["customer_id"]].append((ts(c["changed_at"]), c["from_plan_id"], c["to_plan_id"]))
    today = {s["customer_id"]: s["plan_id"] for s in data["subscriptions"]}

    def plan(customer: str, moment: float) -> str:
        before = [to for at, _, to in sorted(changes[customer]) if at <= moment]
        after = [source for at, source, _ in sorted(changes[customer]) if at > moment]
        return before[-1] if before else after[0] if after else today[customer]

    return plan
