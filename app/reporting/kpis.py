"""The KPI report of a period: check the period, read it, split it, add it up.

The numbers come from `models.kpis` (their definitions are in the README's "KPIs"
section); this module decides the groups. By offer kind or channel only the offer
metrics split: the holdout sees no offers, so it has no kind or channel to compare
within, and the treated-against-holdout outcomes stay overall. By customer segment
everything splits, each segment against the holdout customers of that segment.
"""

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NoReturn

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.errors import ErrorDetail, InvalidInput, Unavailable
from app.reporting.kpi_data import KpiData, read
from models.holdout import holdout_mask
from models.kpis import DAY, Facts, Period, facts, offers, outcomes

log = logging.getLogger("nextbest")

GroupBy = Literal["kind", "channel", "segment"]
SegmentLabels = Callable[[], Mapping[str, str]]  # customer id -> segment label
DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year of offers; the LTV change reads the period before as well
UNSEGMENTED = "unsegmented"  # customers the segments do not name (new since training)
DIGITS = 6
ACTIVITY = (
    "impressions",
    "clicks",
    "accepts",
    "dismissals",
    "attributed_purchases",
    "attributed_plan_changes",
)  # a kind or channel group with none of these in the period is left out


@dataclass(frozen=True)
class Holdout:
    """Who is held out: the settings the offers are screened with."""

    share: float
    salt: str


def period_of(start: datetime | None, end: datetime | None, now: datetime) -> Period:
    """[from, to) in whole epoch seconds: `to` defaults to now, `from` to 30 days before.

    A time without an offset is UTC. An empty, reversed or over-long range is the
    caller's mistake: 422 naming the `from` parameter.
    """
    end_at = _utc(end) if end is not None else now
    start_at = _utc(start) if start is not None else end_at - timedelta(days=DEFAULT_DAYS)
    if start_at >= end_at:
        default = "" if end is not None else ", which defaults to now"
        _refuse(f"from ({start_at.isoformat()}) must be before to ({end_at.isoformat()}{default})")
    if end_at - start_at > timedelta(days=MAX_DAYS):
        days = (end_at - start_at) / timedelta(days=1)
        _refuse(f"the period is {days:,.1f} days long; at most {MAX_DAYS} days per request")
    return Period(math.floor(start_at.timestamp()), math.floor(end_at.timestamp()))


def kpi_report(
    engine: Engine,
    period: Period,
    group_by: GroupBy | None,
    holdout: Holdout,
    attribution_days: float,
    segments: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The KPIs of `period` overall and per group, as the KpiAnswer schema spells them."""
    window = round(attribution_days * DAY)
    try:
        data = read(engine, period, window)
    except (DBAPIError, engine.dialect.loaded_dbapi.Error) as exc:
        log.warning("kpis: the database could not be read: %s", exc)
        raise Unavailable("the database could not be read; retry shortly") from exc
    labels, customer_group, event_group = _groups(data, group_by, segments)
    data = dataclasses.replace(data, events=dataclasses.replace(data.events, group=event_group))
    n, events = len(data.customer_ids), data.events
    f = facts(n, data.purchases, data.changes, events, data.targets, period, window)
    held = holdout_mask(data.customer_ids, holdout.share, holdout.salt)
    overall = _group(None, f, data, held, np.ones(n, bool), np.ones(len(events.time), bool))
    split = held if group_by == "segment" else None  # kinds and channels: offers only
    groups = [
        _group(label, f, data, split, customer_group == code, event_group == code)
        for code, label in enumerate(labels)
    ]
    return {
        "from": _iso(period.start),
        "to": _iso(period.end),
        "group_by": group_by,
        "attribution_days": attribution_days,
        "holdout_share": holdout.share,
        "overall": overall,
        "groups": [g for g in groups if g["outcomes"] is not None or _active(g["offers"])],
    }


def _groups(
    data: KpiData, group_by: GroupBy | None, segments: Mapping[str, str] | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Group labels (sorted), the group code of each customer and of each event."""
    customers, events = len(data.customer_ids), len(data.events.time)
    if group_by is None:
        return [], np.zeros(customers, np.int64), np.zeros(events, np.int64)
    if group_by == "segment":
        mapping = segments or {}
        named = np.array([mapping.get(c, UNSEGMENTED) for c in data.customer_ids], dtype=object)
        labels, codes = np.unique(named.astype(str), return_inverse=True)
        codes = codes.reshape(-1).astype(np.int64)
        return labels.tolist(), codes, codes[data.events.customer]
    column = data.event_kind if group_by == "kind" else data.event_channel
    labels, codes = np.unique(column, return_inverse=True)
    no_customer_group = np.full(customers, -1, np.int64)
    return labels.tolist(), no_customer_group, codes.reshape(-1).astype(np.int64)


def _group(
    label: str | None,
    f: Facts,
    data: KpiData,
    held: np.ndarray | None,
    members: np.ndarray,
    rows: np.ndarray,
) -> dict[str, Any]:
    """One group of the answer; without `held`, no outcomes (a kind or channel group)."""
    found = None if held is None else dataclasses.asdict(outcomes(f, held, members))
    shown = offers(f, data.events, data.purchases, data.changes, rows)
    return {
        "group": label,
        "outcomes": _rounded(found),
        "offers": _rounded(dataclasses.asdict(shown)),
    }


def _active(offer_kpis: dict[str, Any]) -> bool:
    """Whether a kind or channel group had any event in the period or earned anything."""
    return any(offer_kpis[name] for name in ACTIVITY)


def _rounded(value: Any) -> Any:
    """Floats to DIGITS decimals, all the way down: a report, not a float dump."""
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _refuse(message: str) -> NoReturn:
    raise InvalidInput(message, [ErrorDetail(field="query.from", message=message)])
