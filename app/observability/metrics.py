"""The service's Prometheus metrics, and the small functions that update them.

Why module-level objects: prometheus-client keeps one value per metric and label set
per process (in multi-worker mode, in a memory-mapped file per process that /metrics
adds up), so every app in the process shares them; tests compare before and after.

Label values are bounded: a route is its template (`/v1/customers/{customer_id}/offers`),
never the raw path, which would make a series per customer and put personal data into
the monitoring system.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# A `_created` series per counter is noise here (and absent with several workers).
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds; the hot routes answer in a few milliseconds, bulk writes in up to seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# The upsell route's decisions, named as the offer kinds they are.
UPSELL_KINDS = {"upgrade": "upgrade", "billing": "billing", "retain": "retention"}

LATENCY_NAME = "nextbest_http_request_duration_seconds"
LATENCY = Histogram(
    LATENCY_NAME,
    "Time from the request's arrival to the end of its answer, by method, route and status "
    "(its _count is the number of requests, also served as nextbest_http_requests_total).",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
MODEL = Gauge(
    "nextbest_model_info",
    "1 for the model version a worker serves; 0 for versions it served before.",
    ["version"],
    multiprocess_mode="liveall",  # one series per live worker (label pid)
)
OFFERS = Counter(
    "nextbest_offers_served",
    "Offers in answers of the offers and upsell routes, by kind and route.",
    ["kind", "route"],
)
ROWS = Counter(
    "nextbest_ingest_rows",
    "Rows posted to the bulk ingestion routes, by table and verdict (accepted, rejected).",
    ["table", "outcome"],
)

# The histogram's child per label set: `labels()` costs a lock, string conversions and a
# lookup, which the hot routes need not pay on every request. One observation per
# request is all: the request counter is derived from it when scraped (app.observability.
# scrape), which halves the cost on the request path.
_request_children: dict[tuple[str, str, int], Any] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    key = (method, route, status)
    child = _request_children.get(key)
    if child is None:
        child = _request_children[key] = LATENCY.labels(method, route, str(status))
    child.observe(seconds)


def model_served(previous: str | None, version: str) -> None:
    """The process switched from `previous` (None at start) to serving `version`."""
    if previous is not None and previous != version:
        MODEL.labels(previous).set(0)
    MODEL.labels(version).set(1)


def offers_served(route: str, offers: Iterable[Mapping[str, Any]]) -> None:
    """Count the offers of one offers answer by kind."""
    for offer in offers:
        OFFERS.labels(offer["kind"], route).inc()


def upsell_served(route: str, decision: str) -> None:
    """Count an upsell answer that suggests something (a "not now" is no offer)."""
    kind = UPSELL_KINDS.get(decision)
    if kind is not None:
        OFFERS.labels(kind, route).inc()


def rows_ingested(table: str, accepted: int, rejected: int) -> None:
    """Count the verdicts of one bulk ingestion request."""
    if accepted:
        ROWS.labels(table, "accepted").inc(accepted)
    if rejected:
        ROWS.labels(table, "rejected").inc(rejected)
