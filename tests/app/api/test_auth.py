"""API keys on every route: no key or a bad one is 401, the wrong scope 403, the right
scope gets through; health and docs answer without a key.

The test walks the app's own route table, so a route added later is checked too: the
key check is in front of every route, by rules (app.auth.scopes), so it cannot be
forgotten, and this test would show a route that answered without one.
"""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.routes import served_routes
from app.auth.keys import revoke_key
from app.auth.scopes import is_open, required
from app.db.engine import make_engine
from app.main import create_app
from app.settings import Settings

from .conftest import new_key

WRONG = {"read": ("write",), "write": ("read",), "admin": ("read", "write")}


def routes(app: Any) -> list[tuple[str, str]]:
    """(method, concrete path) of every route, path parameters filled in."""
    return [(m, re.sub(r"\{[^}]+\}", "x1", path)) for m, path in served_routes(app)]


@pytest.fixture
def app_and_url(database_url: str) -> tuple[Any, str]:
    return create_app(Settings(database_url=database_url, key_cache_seconds=0)), database_url


def call(client: TestClient, method: str, path: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = [] if method == "POST" and path != "/v1/baskets/recommendations" else None
    if path == "/v1/baskets/recommendations":
        body = {"items": ["x1"]}  # type: ignore[assignment]
    return client.request(method, path, headers=headers, json=body).status_code


def test_every_route_needs_a_key_with_its_scope(app_and_url: tuple[Any, str]) -> None:
    app, url = app_and_url
    keys = {scope: new_key(url, scope) for scope in ("read", "write", "admin")}
    keys["read+write"] = new_key(url, "read", "write")
    checked = set()
    with TestClient(app) as client:
        for method, path in routes(app):
            if is_open(path):
                assert call(client, method, path, None) not in (401, 403), path
                continue
            scope = required(method, path)
            assert call(client, method, path, None) == 401, (method, path)
            assert call(client, method, path, "nb_0123456789ab_wrong-secret") == 401
            assert call(client, method, path, "not-a-key") == 401
            wrong = keys["+".join(WRONG[scope])] if scope == "admin" else keys[WRONG[scope][0]]
            assert call(client, method, path, wrong) == 403, (method, path, scope)
            assert call(client, method, path, keys[scope]) not in (401, 403), (method, path)
            assert call(client, method, path, keys["admin"]) not in (401, 403), (method, path)
            checked.add((method.lower(), path))
    documented = {
        (method, re.sub(r"\{[^}]+\}", "x1", path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    }
    assert checked == documented and len(checked) >= 18  # every /v1 route, not a handful


def test_the_answers_say_what_is_wrong_without_echoing_the_key(
    app_and_url: tuple[Any, str],
) -> None:
    app, url = app_and_url
    read = new_key(url, "read")
    with TestClient(app) as client:
        missing = client.get("/v1/segments")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith(
            "Bearer"
        )
        assert missing.json()["error"]["code"] == "unauthorized"
        bad = client.get("/v1/segments", headers={"X-API-Key": read[:-3] + "xyz"})
        assert bad.status_code == 401 and read[-20:] not in bad.text
        denied = client.post("/v1/customers", json=[], headers={"X-API-Key": read})
        assert denied.status_code == 403
        assert "lacks the 'write' scope" in denied.json()["error"]["message"]


def test_a_revoked_key_is_refused(app_and_url: tuple[Any, str]) -> None:
    app, url = app_and_url
    key = new_key(url, "read")
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/customers/nobody/upsell", headers=headers).status_code != 401
        engine = make_engine(url)
        assert revoke_key(engine, key.split("_")[1])
        engine.dispose()
        assert client.get("/v1/customers/nobody/upsell", headers=headers).status_code == 401


def test_probing_without_a_key_learns_no_paths(app_and_url: tuple[Any, str]) -> None:
    app, url = app_and_url
    key = new_key(url, "read", "write", "admin")
    with TestClient(app) as client:
        for method, path in (("GET", "/v1/nope"), ("POST", "/v1/segments")):
            assert call(client, method, path, None) == 401, (method, path)
        assert call(client, "GET", "/v1/nope", key) == 404
        answer = client.post("/v1/segments", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 405 and "GET" in answer.headers["allow"]
        assert answer.json()["error"]["code"] == "method_not_allowed"
