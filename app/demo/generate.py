"""Write the demo data set: customers, the shop and the SaaS halves, as importable CSV files.

Why one seeded generator: demos, benchmarks and model evaluations need the same data on
every machine, at any size, with patterns whose truth is known (docs/demo-data.md). The
same seed, size and `as_of` give byte-identical files; each half draws from its own
random stream, so changing one half leaves the other's draws alone.

The files follow the ingestion contract (`app.ingest.rows`): one CSV per table, a header
of the row model's field names in order, ISO 8601 UTC timestamps, JSON cells as text and
empty cells for None. Nothing is dated on or after `as_of` 00:00Z except `renews_at`.
"""

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.demo import saas, shop
from app.demo.shop import DAY, Ints
from app.ingest import rows

HISTORY_DAYS = 730
COUNTRIES = {
    "DE": 0.30,
    "FR": 0.14,
    "GB": 0.12,
    "NL": 0.10,
    "ES": 0.08,
    "IT": 0.08,
    "AT": 0.05,
    "BE": 0.05,
    "PL": 0.04,
    "SE": 0.04,
}
SEGMENTS = ("consumer", "smb", "enterprise")
B2B_SHARE, ENTERPRISE_ACCOUNTS, SOLO_SMB = 0.30, 0.35, 0.15
SHOP_SHARE, SAAS_B2B, SAAS_OTHER, OPT_OUT = 0.60, 0.70, 0.41, 0.05
MODELS: dict[str, type[rows.Row]] = {
    "customers": rows.CustomerRow,
    "items": rows.ItemRow,
    "purchases": rows.PurchaseRow,
    "plans": rows.PlanRow,
    "subscriptions": rows.SubscriptionRow,
    "plan-changes": rows.PlanChangeRow,
    "usage": rows.UsageRow,
    "tickets": rows.TicketRow,
}
PLAN_IDS = [p[0] for p in saas.PLANS]
CHUNK = 200_000  # rows formatted at a time: bounds memory at 100,000 customers
Table = dict[str, list[str]]
Builder = Callable[[slice], Table]


@dataclass(frozen=True)
class Customers:
    """Customer attributes by index; `account` is -1 outside B2B accounts."""

    account: Ints
    country: Ints
    segment: Ints
    opt_out: NDArray[np.bool_]
    created: Ints
    is_shop: NDArray[np.bool_]
    is_saas: NDArray[np.bool_]


def generate(
    out_dir: Path, customers: int = 2000, seed: int = 7, as_of: date | None = None
) -> dict[str, Path]:
    """Write the demo data set into out_dir and return {table name: path}, table names:
    customers, items, purchases, plans, subscriptions, plan-changes, usage, tickets."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    day = as_of or datetime.now(UTC).date()
    cutoff = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    start = cutoff - HISTORY_DAYS * DAY
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    people = _customers(streams[0], customers, start, cutoff)
    catalog = shop.make_catalog(streams[1], customers)
    bought = shop.simulate(
        streams[2], catalog, people.created, people.segment, people.is_shop, start, cutoff
    )
    key = np.where(people.account >= 0, people.account, customers + np.arange(customers))
    subscribed = saas.simulate(
        streams[3], people.created, key, people.segment, people.is_saas, bought.loyal, start, cutoff
    )
    ids = np.array([*_ids("C", np.arange(1, customers + 1), 6), ""], dtype=object)
    item_ids = np.array(_ids("I", catalog.number, 5), dtype=object)
    tables: dict[str, tuple[int, Builder]] = {
        "customers": (customers, partial(_customer_columns, people, ids)),
        "items": (len(item_ids), partial(_item_columns, catalog)),
        "purchases": (len(bought.kind), partial(_purchase_columns, bought, item_ids, ids)),
        "plans": (len(saas.PLANS), _plan_columns),
    }
    for name, builder in SAAS_TABLES.items():
        table = subscribed[name]
        tables[name] = (len(table["customer"]), partial(builder, table, ids))
    out_dir.mkdir(parents=True, exist_ok=True)
    return {name: write_table(out_dir / f"{name}.csv", name, *tables[name]) for name in MODELS}


def _customers(rng: np.random.Generator, n: int, start: int, cutoff: int) -> Customers:
    """30 % in B2B accounts of 2-6 customers (sharing country and segment), the rest alone."""
    members = round(B2B_SHARE * n)
    sizes = rng.integers(2, 7, members // 2 + 1)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), members) + 1]
    sizes[-1] -= sizes.sum() - members
    sizes = sizes if sizes[-1] >= 2 else sizes[:-1]
    account = np.full(n, -1)
    account[rng.permutation(n)[: sizes.sum()]] = np.repeat(np.arange(len(sizes)), sizes)
    weights = np.array(list(COUNTRIES.values()))
    country = rng.choice(len(COUNTRIES), n + len(sizes), p=weights / weights.sum())
    enterprise = rng.random(len(sizes)) < ENTERPRISE_ACCOUNTS
    alone = account < 0
    segment = np.where(alone, rng.random(n) < SOLO_SMB, 1 + np.append(enterprise, False)[account])
    return Customers(
        account=account,
        country=np.where(alone, country[:n], country[n + account]),
        segment=segment.astype(np.int64),
        opt_out=rng.random(n) < OPT_OUT,
        created=start + (rng.random(n) ** 1.3 * (cutoff - start - DAY)).astype(np.int64),
        is_shop=rng.random(n) < SHOP_SHARE,
        is_saas=rng.random(n) < np.where(alone, SAAS_OTHER, SAAS_B2B),
    )


def stamps(seconds: NDArray[Any]) -> list[str]:
    """ISO 8601 UTC with a Z; negative seconds (no time) become empty cells."""
    seconds = np.asarray(seconds, dtype=np.int64)
    text = np.datetime_as_string(
        np.maximum(seconds, 0).astype("datetime64[s]"), unit="s", timezone="UTC"
    )
    return np.where(seconds < 0, "", text).tolist()  # type: ignore[no-any-return]


def _ids(prefix: str, numbers: NDArray[Any], width: int) -> list[str]:
    digits = _zfill(np.asarray(numbers).astype(str), width)
    return np.strings.add(prefix, digits).tolist()  # type: ignore[no-any-return]


def _zfill(digits: NDArray[np.str_], width: int) -> NDArray[np.str_]:
    """Left-pad with zeros (numpy's zfill fails on empty arrays)."""
    padded: NDArray[np.str_] = np.strings.zfill(digits, width) if digits.size else digits
    return padded


def fixed(values: NDArray[Any], decimals: int) -> NDArray[np.str_]:
    """Non-negative numbers with a fixed number of decimals, without float noise."""
    scaled = np.round(np.asarray(values, dtype=float) * 10**decimals).astype(np.int64)
    text: NDArray[np.str_] = scaled.astype(str)
    if decimals:
        whole = np.strings.add((scaled // 10**decimals).astype(str), ".")
        text = np.strings.add(whole, _zfill((scaled % 10**decimals).astype(str), decimals))
    return text


def _lookup(names: Sequence[str], codes: NDArray[Any]) -> list[str]:
    return np.array(names, dtype=object)[codes].tolist()  # type: ignore[no-any-return]


def _customer_columns(people: Customers, ids: NDArray[Any], part: slice) -> Table:
    account = people.account[part]
    return {
        "customer_id": ids[:-1][part].tolist(),
        "account_id": np.where(account < 0, "", _ids("A", account + 1, 5)).tolist(),
        "country": _lookup(list(COUNTRIES), people.country[part]),
        "attributes": _lookup([json.dumps({"segment": s}) for s in SEGMENTS], people.segment[part]),
        "marketing_opt_out": _lookup(["false", "true"], people.opt_out[part].astype(int)),
        "created_at": stamps(people.created[part]),
    }


def _item_columns(catalog: shop.Catalog, part: slice) -> Table:
    order = np.argsort(catalog.number)[part]
    return {
        "item_id": _ids("I", catalog.number[order], 5),
        "name": [catalog.name[i] for i in order.tolist()],
        "category": _lookup([c[0] for c in shop.CATEGORIES], catalog.category[order]),
        "price": fixed(catalog.price[order], 2).tolist(),
        "currency": ["EUR"] * len(order),
        "active": _lookup(["false", "true"], catalog.active[order].astype(int)),
        "attributes": [_item_attributes(catalog, i) for i in order.tolist()],
    }


def _item_attributes(catalog: shop.Catalog, i: int) -> str:
    """Tier for every item; cycle_days for consumables; pack_size where packs vary."""
    category = shop.CATEGORIES[catalog.category[i]]
    extra: dict[str, Any] = {"tier": shop.TIERS[catalog.tier[i]], "consumable": False}
    if category[3]:
        extra.update(consumable=True, cycle_days=int(catalog.cycle[i]))
    if len(category[4]) > 1:
        extra["pack_size"] = int(catalog.pack[i])
    return json.dumps(extra)


def _purchase_columns(
    bought: shop.Purchases, item_ids: NDArray[Any], ids: NDArray[Any], part: slice
) -> Table:
    lines = bought.lines.take(part)
    return {
        "order_id": _ids("O", lines.order, 7),
        "customer_id": ids[lines.who].tolist(),
        "item_id": item_ids[lines.item].tolist(),
        "kind": _lookup(["sale", "return"], bought.kind[part]),
        "quantity": lines.quantity.astype(str).tolist(),
        "unit_price": fixed(bought.price[part], 2).tolist(),
        "purchased_at": stamps(lines.when),
    }


def _plan_columns(part: slice) -> Table:
    plans = saas.PLANS[part]
    return {
        "plan_id": [p[0] for p in plans],
        "name": [p[1] for p in plans],
        "ladder": [saas.LADDER] * len(plans),
        "tier_rank": [str(saas.PLANS.index(p) + 1) for p in plans],
        "monthly_price": fixed(np.array([p[2] for p in plans]), 2).tolist(),
        "annual_price": fixed(np.array([p[2] * saas.ANNUAL_MONTHS for p in plans]), 2).tolist(),
        "currency": ["EUR"] * len(plans),
        "limits": [json.dumps(dict(zip(saas.METRICS, p[3], strict=True))) for p in plans],
        "features": [json.dumps(list(saas.FEATURES[saas.PLANS.index(p)])) for p in plans],
        "active": ["true"] * len(plans),
    }


def _subscription_columns(table: saas.Columns, ids: NDArray[Any], part: slice) -> Table:
    subs = {k: v[part] for k, v in table.items()}
    return {
        "subscription_id": _ids("S", np.arange(1, len(table["plan"]) + 1)[part], 6),
        "customer_id": ids[subs["customer"]].tolist(),
        "plan_id": _lookup(PLAN_IDS, subs["plan"]),
        "billing_period": _lookup(["monthly", "annual"], subs["annual"].astype(int)),
        "status": _lookup(saas.STATUSES, subs["status"]),
        "started_at": stamps(subs["started_at"]),
        "renews_at": stamps(subs["renews_at"]),
        "ended_at": stamps(subs["ended_at"]),
    }


def _change_columns(table: saas.Columns, ids: NDArray[Any], part: slice) -> Table:
    return {
        "customer_id": ids[table["customer"][part]].tolist(),
        "from_plan_id": _lookup([*PLAN_IDS, ""], table["from_plan"][part]),
        "to_plan_id": _lookup(PLAN_IDS, table["to_plan"][part]),
        "changed_at": stamps(table["changed_at"][part]),
        "billing_period": _lookup(["monthly", "annual", ""], table["billing"][part]),
    }


def _usage_columns(table: saas.Columns, ids: NDArray[Any], part: slice) -> Table:
    metric, value = table["metric"][part], table["value"][part]
    return {
        "customer_id": ids[table["customer"][part]].tolist(),
        "metric": _lookup(saas.METRICS, metric),
        "value": np.where(metric == 1, fixed(value, 1), fixed(value, 0)).tolist(),
        "measured_at": stamps(table["measured_at"][part]),
    }


def _ticket_columns(table: saas.Columns, ids: NDArray[Any], part: slice) -> Table:
    return {
        "ticket_id": _ids("T", np.arange(1, len(table["kind"]) + 1)[part], 6),
        "customer_id": ids[table["customer"][part]].tolist(),
        "kind": _lookup([t[0] for t in saas.TICKETS], table["kind"][part]),
        "opened_at": stamps(table["opened_at"][part]),
        "closed_at": stamps(table["closed_at"][part]),
    }


def write_table(path: Path, name: str, size: int, columns: Builder) -> Path:
    """One CSV file with the model's fields as header, formatted and written in chunks."""
    header = list(MODELS[name].model_fields)
    if list(columns(slice(0, 0))) != header:
        raise AssertionError(f"{name}: columns {list(columns(slice(0, 0)))} are not {header}")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for first in range(0, size, CHUNK):
            part = columns(slice(first, first + CHUNK))
            writer.writerows(zip(*part.values(), strict=True))
    return path


SAAS_TABLES: dict[str, Callable[[saas.Columns, NDArray[Any], slice], Table]] = {
    "subscriptions": _subscription_columns,
    "plan-changes": _change_columns,
    "usage": _usage_columns,
    "tickets": _ticket_columns,
}
