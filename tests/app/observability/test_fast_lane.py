"""The hottest routes answer from the fast lane exactly as Starlette's whole stack would:
the same statuses, bodies and error shape, with the request id, metrics and log lines."""

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.fast_lane import FastLane
from app.api.limits import UrlLimit
from app.main import create_app
from app.observability.middleware import Observed
from app.settings import Settings

from ..api.conftest import new_key
from .conftest import scrape, value

CUSTOMER = "C000001"  # in the trained shop, with a subscription
ROUTES = ("cross-sell", "offers", "upsell")


def full_stack(app: FastAPI) -> ASGIApp:
    """The app with its fast lane left out: every request down the whole stack."""
    observed = app.build_middleware_stack()
    limit = observed.app
    assert isinstance(observed, Observed) and isinstance(limit, UrlLimit)
    assert isinstance(limit.app, FastLane)
    inner = Observed(UrlLimit(limit.app.app), observed.routes)

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # as FastAPI's own entry point sets it
        await inner(scope, receive, send)

    return call


@pytest.fixture
def clients(shop: tuple[str, Path]) -> Iterator[tuple[TestClient, TestClient, str, str]]:
    """(through the fast lane, down the whole stack, a read key, a write-only key)."""
    url, models = shop
    app = create_app(Settings(database_url=url, model_dir=models, refresh_seconds=0))
    fast = TestClient(app, raise_server_exceptions=False)
    full = TestClient(full_stack(app), raise_server_exceptions=False)
    with fast, full:
        yield fast, full, new_key(url, "read"), new_key(url, "write")


def answer(client: TestClient, path: str, **headers: str) -> tuple[int, Any]:
    response = client.get(path, headers={"X-Request-ID": "lane-1", **headers})
    assert response.headers["x-request-id"] == "lane-1"
    return response.status_code, response.json()


@pytest.mark.parametrize("route", ROUTES)
def test_the_fast_lane_answers_as_the_whole_stack(
    clients: tuple[TestClient, TestClient, str, str], route: str
) -> None:
    fast, full, read, write = clients
    asked = {
        "answer": (f"/v1/customers/{CUSTOMER}/{route}", f"Bearer {read}"),
        "unknown customer": (f"/v1/customers/nobody-known/{route}", f"Bearer {read}"),
        "invalid limit": (f"/v1/customers/{CUSTOMER}/{route}?limit=0", f"Bearer {read}"),
        "malformed id": (f"/v1/customers/{'x' * 300}/{route}", f"Bearer {read}"),
        "no key": (f"/v1/customers/{CUSTOMER}/{route}", ""),
        "unknown key": (f"/v1/customers/{CUSTOMER}/{route}", "Bearer nb_x_y"),
        "key without read": (f"/v1/customers/{CUSTOMER}/{route}", f"Bearer {write}"),
    }
    for case, (path, key) in asked.items():
        quick, whole = answer(fast, path, Authorization=key), answer(full, path, Authorization=key)
        assert quick == whole, case
    statuses = {case: answer(fast, p, Authorization=k)[0] for case, (p, k) in asked.items()}
    assert statuses["answer"] == 200 and statuses["no key"] == 401
    assert statuses["key without read"] == 403
    assert statuses["invalid limit"] == 422 or route == "upsell"  # upsell takes no limit
    assert statuses["malformed id"] == 422


def test_a_bug_in_a_hot_route_is_a_logged_500_in_the_error_shape(
    clients: tuple[TestClient, TestClient, str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fast, _, read, _ = clients
    registry = fast.app.state.registry  # type: ignore[attr-defined]

    def broken(customer_id: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(registry, "for_customer", broken)
    with caplog.at_level(logging.ERROR, logger="nextbest"):
        status, body = answer(
            fast, f"/v1/customers/{CUSTOMER}/cross-sell", Authorization=f"Bearer {read}"
        )
    assert status == 500 and body["error"]["code"] == "internal_error"
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[0].getMessage() == "unhandled error on GET cross_sell"
    assert CUSTOMER not in caplog.text  # the route's name, never the customer's id


def test_fast_lane_answers_are_counted_under_their_route(
    clients: tuple[TestClient, TestClient, str, str],
) -> None:
    fast, _, read, _ = clients
    labels = {"method": "GET", "route": "/v1/customers/{customer_id}/offers", "status": "200"}
    before = value(scrape(fast), "nextbest_http_requests_total", **labels)
    for _ in range(3):
        assert (
            answer(fast, f"/v1/customers/{CUSTOMER}/offers", Authorization=f"Bearer {read}")[0]
            == 200
        )
    assert value(scrape(fast), "nextbest_http_requests_total", **labels) - before == 3
