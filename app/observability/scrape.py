"""GET /metrics in the Prometheus text format, one process or several.

With several worker processes (`nextbest serve --workers N`), each writes its metrics
to memory-mapped files in PROMETHEUS_MULTIPROC_DIR and any worker's /metrics adds them
all up, so a scrape sees the whole server whichever worker answers it. What another
process decides (the last training) or what changes by the second (the model's age)
is read when scraped, from functions the app hands in: this module imports none of the
service's layers.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from app.observability.metrics import LATENCY_NAME
from app.observability.training import OUTCOMES, Training

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
log = logging.getLogger("nextbest")

# (version, trained at as ISO 8601) of the model this worker serves, None before one
Serving = Callable[[], tuple[str, str | None] | None]


def install(app: FastAPI, serving: Serving, last_training: Callable[[], Training | None]) -> None:
    """Serve /metrics (no key, not in the contract)."""
    state = ServingState(serving, last_training)

    def metrics() -> Response:
        """The service's metrics in the Prometheus text format."""
        body = generate_latest(Scraped(_shared(), state))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(
        "/metrics", metrics, methods=["GET"], operation_id="metrics", include_in_schema=False
    )


def forget_gone_workers() -> None:
    """Drop the live gauges of worker processes that are gone (a worker the supervisor
    replaced after it died), so /metrics shows only the workers serving now."""
    directory = os.environ.get(MULTIPROC)
    if not directory:
        return
    pids = {int(f.stem.rsplit("_", 1)[1]) for f in Path(directory).glob("gauge_live*_*.db")}
    for pid in pids - {os.getpid()}:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, another user's


def _shared() -> CollectorRegistry:
    """The process's metrics, or with several workers every worker's, added up."""
    if MULTIPROC not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


class Scraped(Collector):
    """What one scrape shows: the process's (or every worker's) metrics, the request
    counter derived from the latency histogram's counts, and the serving state."""

    def __init__(self, shared: Collector, state: Collector) -> None:
        self.shared, self.state = shared, state

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "nextbest_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels=["method", "route", "status"],
        )
        for family in self.shared.collect():
            if family.name == LATENCY_NAME:
                for sample in family.samples:
                    if sample.name.endswith("_count"):
                        labels = sample.labels
                        values = [labels["method"], labels["route"], labels["status"]]
                        requests.add_metric(values, sample.value)
            yield family
        yield requests
        yield from self.state.collect()


class ServingState(Collector):
    """The served model's age and the last training, read at scrape time."""

    def __init__(self, serving: Serving, last_training: Callable[[], Training | None]) -> None:
        self.serving, self.last_training = serving, last_training

    def collect(self) -> Iterator[Metric]:
        yield self._model_age()
        yield from self._training()

    def _model_age(self) -> Metric:
        age = GaugeMetricFamily(
            "nextbest_model_age_seconds",
            "Seconds since the model this worker serves was trained.",
            labels=["version"],
        )
        current = self.serving()
        if current is not None:
            version, created_at = current
            trained = _timestamp(created_at)
            if trained is not None:
                age.add_metric([version], max(0.0, time.time() - trained))
        return age

    def _training(self) -> Iterator[Metric]:
        duration = GaugeMetricFamily(
            "nextbest_training_duration_seconds", "How long the last training run took."
        )
        finished = GaugeMetricFamily(
            "nextbest_training_last_finished_timestamp_seconds",
            "When the last training run ended (Unix time).",
        )
        outcome = GaugeMetricFamily(
            "nextbest_training_last_outcome",
            "1 for how the last training run ended (activated, rejected or failed), 0 else.",
            labels=["outcome"],
        )
        try:
            training = self.last_training()
        except SQLAlchemyError as exc:  # the registry table is unreadable: say nothing
            log.warning("last training unknown, the model registry is unreadable: %s", exc)
            training = None
        if training is not None:
            duration.add_metric([], training.seconds)
            finished.add_metric([], training.finished_at)
            for name in OUTCOMES:
                outcome.add_metric([name], 1.0 if training.outcome == name else 0.0)
        yield from (duration, finished, outcome)


def _timestamp(text: Any) -> float | None:
    """Epoch seconds of an ISO 8601 time, None if it is not one."""
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return None
