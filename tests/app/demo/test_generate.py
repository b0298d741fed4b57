"""The demo data generator: importable files, reproducible bytes and the planted patterns.

The pattern checks read the written CSV files only, as a model would, and compare with
the mechanisms documented in docs/demo-data.md.
"""

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from app.demo import saas, shop
from app.demo.generate import MODELS, generate

AS_OF = date(2026, 3, 1)
CUTOFF = datetime(2026, 3, 1, tzinfo=UTC)
DAY = 86_400.0
Table = list[dict[str, str]]


def read(path: Path) -> Table:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("small"), customers=300, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def data(small: dict[str, Path]) -> dict[str, Table]:
    return {name: read(path) for name, path in small.items()}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Table]:
    """4,000 customers: enough lines for the pattern checks (generated in ~0.3 s)."""
    paths = generate(tmp_path_factory.mktemp("big"), customers=4000, seed=11, as_of=AS_OF)
    return {name: read(path) for name, path in paths.items()}


def test_every_table_is_written_with_the_model_fields_as_header(small: dict[str, Path]) -> None:
    assert list(small) == list(MODELS)
    assert list(MODELS) == [
        *("customers", "items", "purchases", "plans"),
        *("subscriptions", "plan-changes", "usage", "tickets"),
    ]
    for name, path in small.items():
        assert path.name == f"{name}.csv"
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(MODELS[name].model_fields)


def test_every_row_validates_against_its_model(data: dict[str, Table]) -> None:
    for name, table in data.items():
        assert table, f"{name} is empty"
        for row in table:
            MODELS[name].model_validate({k: v for k, v in row.items() if v != ""})


def test_references_resolve(data: dict[str, Table]) -> None:
    customers = {r["customer_id"] for r in data["customers"]}
    items = {r["item_id"] for r in data["items"]}
    plans = {r["plan_id"] for r in data["plans"]}
    purchases = data["purchases"]
    assert {r["customer_id"] for r in purchases} <= customers | {""}
    assert {r["item_id"] for r in purchases} <= items
    for name in ("subscriptions", "plan-changes", "usage", "tickets"):
        assert {r["customer_id"] for r in data[name]} <= customers, name
    assert {r["plan_id"] for r in data["subscriptions"]} <= plans
    changes = data["plan-changes"]
    assert {r["from_plan_id"] for r in changes} <= plans | {""}
    assert {r["to_plan_id"] for r in changes} <= plans


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("customers", ("customer_id",)),
        ("items", ("item_id",)),
        ("purchases", ("order_id", "item_id", "kind")),
        ("plans", ("plan_id",)),
        ("subscriptions", ("subscription_id",)),
        ("plan-changes", ("customer_id", "changed_at")),
        ("usage", ("customer_id", "metric", "measured_at")),
        ("tickets", ("ticket_id",)),
    ],
)
def test_natural_keys_are_unique(data: dict[str, Table], name: str, key: tuple[str, ...]) -> None:
    keys = [tuple(r[k] for k in key) for r in data[name]]
    assert len(set(keys)) == len(keys)


def test_nothing_is_dated_on_or_after_as_of_except_renewals(data: dict[str, Table]) -> None:
    for name, table in data.items():
        stamps = [c for c in MODELS[name].model_fields if c.endswith("_at") and c != "renews_at"]
        for row in table:
            for column in stamps:
                assert row[column] == "" or ts(row[column]) < CUTOFF.timestamp(), (name, row)
    for sub in data["subscriptions"]:
        live = sub["status"] != "cancelled"
        assert (sub["renews_at"] != "") == live
        assert not live or ts(sub["renews_at"]) >= CUTOFF.timestamp()


def test_history_spans_about_two_years(data: dict[str, Table]) -> None:
    first = min(ts(r["created_at"]) for r in data["customers"])
    assert CUTOFF.timestamp() - first <= 730 * DAY
    assert min(ts(r["purchased_at"]) for r in data["purchases"]) < ts("2024-06-01T00:00:00Z")


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", customers=300, seed=7, as_of=AS_OF)
    again = generate(tmp_path / "b", customers=300, seed=7, as_of=AS_OF)
    other = generate(tmp_path / "c", customers=300, seed=8, as_of=AS_OF)
    for name, path in first.items():
        assert path.read_bytes() == again[name].read_bytes(), name
    assert first["purchases"].read_bytes() != other["purchases"].read_bytes()
    assert first["usage"].read_bytes() != other["usage"].read_bytes()


def test_as_of_defaults_to_today(tmp_path: Path) -> None:
    paths = generate(tmp_path, customers=50)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    created = [ts(r["created_at"]) for r in read(paths["customers"])]
    assert max(created) < today.timestamp()
    assert min(created) >= (today - timedelta(days=730)).timestamp()


def test_customers_accounts_and_catalog_have_the_documented_shape(big: dict[str, Table]) -> None:
    customers = big["customers"]
    accounts = Counter(r["account_id"] for r in customers if r["account_id"])
    assert 0.27 < sum(accounts.values()) / len(customers) < 0.33
    assert set(accounts.values()) <= set(range(2, 7))
    assert 0.03 < np.mean([r["marketing_opt_out"] == "true" for r in customers]) < 0.07
    segments = {json.loads(r["attributes"])["segment"] for r in customers}
    assert segments == {"consumer", "smb", "enterprise"}
    items = big["items"]
    assert len(items) == 800
    assert 20 <= len({r["category"] for r in items}) <= 40
    assert all(r["item_id"].startswith("I") and len(r["item_id"]) == 6 for r in items)


def test_baskets_returns_and_anonymous_orders(big: dict[str, Table]) -> None:
    purchases = big["purchases"]
    sales = [r for r in purchases if r["kind"] == "sale"]
    orders = Counter(r["order_id"] for r in sales)
    assert max(orders.values()) <= 5
    assert 0.02 < (len(purchases) - len(sales)) / len(sales) < 0.04
    anonymous = {r["order_id"] for r in sales if not r["customer_id"]}
    assert 0.08 < len(anonymous) / len(orders) < 0.12
    buyers = {r["customer_id"] for r in sales} - {""}
    assert 15 < len(purchases) / len(buyers) < 25  # ~20 lines per shop customer
    sold = {(r["order_id"], r["item_id"]): ts(r["purchased_at"]) for r in sales}
    for r in purchases:
        if r["kind"] == "return":
            assert ts(r["purchased_at"]) > sold[r["order_id"], r["item_id"]]


def _orders(big: dict[str, Table]) -> dict[str, list[tuple[str, str, float]]]:
    """order id: [(customer, category, time)] of the sale lines."""
    category = {r["item_id"]: r["category"] for r in big["items"]}
    orders = defaultdict(list)
    for r in big["purchases"]:
        if r["kind"] == "sale":
            line = (r["customer_id"], category[r["item_id"]], ts(r["purchased_at"]))
            orders[r["order_id"]].append(line)
    return orders


def test_complements_are_bought_with_an_anchor_more_than_without(big: dict[str, Table]) -> None:
    for anonymous in (False, True):
        orders = [o for o in _orders(big).values() if (o[0][0] == "") == anonymous]
        with_anchor, without = [], []
        for anchor, complements in shop.COMPLEMENTS.items():
            for lines in orders:
                cats = {c for _, c, _ in lines}
                has_complement = bool(cats & set(complements))
                (with_anchor if anchor in cats else without).append(has_complement)
        assert np.mean(with_anchor) > 0.35
        assert np.mean(with_anchor) > 3 * np.mean(without)


def test_complements_follow_an_anchor_more_than_they_precede_it(big: dict[str, Table]) -> None:
    """Around each customer's first purchase of an anchor category, in other orders.

    Durable complements only: consumables are re-bought on their own cycle either way.
    """
    history = defaultdict(list)
    for order, lines in _orders(big).items():
        for customer, category, when in lines:
            if customer:
                history[customer].append((when, order, category))
    durable = {c[0] for c in shop.CATEGORIES if not c[3]}
    after = before = 0
    for lines in history.values():
        firsts = {c: (t, o) for t, o, c in sorted(lines, reverse=True) if c in shop.ANCHORS}
        for anchor, (when, order) in firsts.items():
            for complement in set(shop.COMPLEMENTS[anchor]) & durable:
                gaps = [t - when for t, o, c in lines if o != order and c == complement]
                after += any(0 < gap <= 60 * DAY for gap in gaps)
                before += any(-60 * DAY <= gap < 0 for gap in gaps)
    # Taste keeps heavy buyers in their groups, so the base rate is high: ~31 % vs ~21 %.
    assert after > 1.2 * before


def test_high_value_customers_trade_up_within_a_category(big: dict[str, Table]) -> None:
    attributes = {r["item_id"]: json.loads(r["attributes"]) for r in big["items"]}
    category = {r["item_id"]: r["category"] for r in big["items"]}
    first: dict[tuple[str, str], int] = {}
    moves = Counter()
    for r in sorted(big["purchases"], key=lambda r: r["purchased_at"]):
        extra = attributes[r["item_id"]]
        if r["kind"] != "sale" or not r["customer_id"] or extra["consumable"]:
            continue
        tier = shop.TIERS.index(extra["tier"])
        start = first.setdefault((r["customer_id"], category[r["item_id"]]), tier)
        moves[np.sign(tier - start)] += 1
    assert moves[1] > 1.5 * moves[-1]


def test_consumables_are_rebought_every_cycle_days_times_quantity(big: dict[str, Table]) -> None:
    attributes = {r["item_id"]: json.loads(r["attributes"]) for r in big["items"]}
    bought = defaultdict(list)
    for r in big["purchases"]:
        if r["kind"] == "sale" and r["customer_id"] and attributes[r["item_id"]]["consumable"]:
            bought[r["customer_id"], r["item_id"]].append((ts(r["purchased_at"]), r["quantity"]))
    ratios = []
    for (_, item), lines in bought.items():
        lines.sort()
        cycle = attributes[item]["cycle_days"] * DAY
        ratios += [(b[0] - a[0]) / (cycle * float(a[1])) for a, b in pairwise(lines)]
    assert len(ratios) > 2000
    assert 0.95 < np.median(ratios) < 1.05
    assert np.mean((np.array(ratios) > 0.78) & (np.array(ratios) < 1.22)) > 0.95
    assert all(14 <= a["cycle_days"] <= 90 for a in attributes.values() if a["consumable"])


def _plan_months(big: dict[str, Table]) -> list[tuple[float, bool, bool, bool, bool]]:
    """Per paid subscriber-month: (usage ratio, upgraded, complaint open, churned, top plan)."""
    plans = [p[0] for p in saas.PLANS]
    changes = defaultdict(list)
    for r in big["plan-changes"]:
        changes[r["customer_id"]].append((ts(r["changed_at"]), plans.index(r["to_plan_id"])))
    usage: dict[tuple[str, float], dict[str, float]] = defaultdict(dict)
    for r in big["usage"]:
        usage[r["customer_id"], ts(r["measured_at"])][r["metric"]] = float(r["value"])
    complaints = defaultdict(list)
    for r in big["tickets"]:
        if r["kind"] == "complaint":
            closed = ts(r["closed_at"]) if r["closed_at"] else float("inf")
            complaints[r["customer_id"]].append((ts(r["opened_at"]), closed))
    subs = {r["customer_id"]: r for r in big["subscriptions"]}
    months = []
    for (customer, at), measured in usage.items():
        history = sorted(changes[customer])
        plan = [p for t, p in history if t <= at][-1]
        if ts(subs[customer]["started_at"]) + 14 * DAY > at:
            continue
        ratio = max(measured[m] / saas.PLANS[plan][3][i] for i, m in enumerate(saas.METRICS))
        upgraded = any(at <= t < at + 31 * DAY and p > plan for t, p in history)
        complaint = any(o < at < c for o, c in complaints[customer])
        ended = subs[customer]["ended_at"]
        churned = bool(ended) and at <= ts(ended) < at + 31 * DAY
        months.append((ratio, upgraded, complaint, churned, plan == len(plans) - 1))
    return months


def test_upgrades_rise_with_usage_pressure(big: dict[str, Table]) -> None:
    months = [m for m in _plan_months(big) if not m[4]]
    rate = {}
    for band in range(4):
        chosen = [u for r, u, *_ in months if np.searchsorted(saas.BANDS, r, "right") == band]
        rate[band] = np.mean(chosen)
    assert rate[0] < 0.02 < rate[1] < 0.06 < rate[2] < 0.2 < rate[3]
    upgraded = [r for r, u, *_ in months if u]
    stayed = [r for r, u, *_ in months if not u]
    assert np.mean(upgraded) > np.mean(stayed) + 0.15


def test_open_complaints_hold_upgrades_back_and_drive_churn(big: dict[str, Table]) -> None:
    months = _plan_months(big)
    churn = {flag: np.mean([m[3] for m in months if m[2] == flag]) for flag in (True, False)}
    assert sum(m[2] for m in months) > 200
    assert churn[True] > 2 * churn[False]
    # Complaints come more often above the limits, where upgrades are likely: compare
    # the upgrades seen with open complaints to those the usage band alone predicts.
    below_top = [m for m in months if not m[4]]
    band = [int(np.searchsorted(saas.BANDS, m[0], "right")) for m in below_top]
    calm = [(b, m[1]) for b, m in zip(band, below_top, strict=True) if not m[2]]
    rate = {b: np.mean([up for c, up in calm if c == b]) for b in range(4)}
    tense = [(b, m[1]) for b, m in zip(band, below_top, strict=True) if m[2]]
    assert sum(up for _, up in tense) < 0.5 * sum(rate[b] for b, _ in tense)


def test_subscriptions_match_their_plan_changes(big: dict[str, Table]) -> None:
    changes = defaultdict(list)
    for r in big["plan-changes"]:
        changes[r["customer_id"]].append(r)
    for sub in big["subscriptions"]:
        history = sorted(changes[sub["customer_id"]], key=lambda r: r["changed_at"])
        assert history[0]["from_plan_id"] == ""
        assert history[0]["changed_at"] == sub["started_at"]
        assert history[-1]["to_plan_id"] == sub["plan_id"]
        assert all(h["from_plan_id"] for h in history[1:])
        if sub["status"] == "trial":
            assert ts(sub["started_at"]) > CUTOFF.timestamp() - 14 * DAY
        elif sub["billing_period"] == "monthly" and sub["status"] != "cancelled":
            assert sub["renews_at"] == "2026-04-01T00:00:00Z"
    monthly = np.mean([s["billing_period"] == "monthly" for s in big["subscriptions"]])
    assert 0.6 < monthly < 0.8
