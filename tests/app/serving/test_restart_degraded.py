"""A server restarted while the database is down serves from what it left on disk: the
model last recorded as active, the last-known copy of the API keys (hashes, never
secrets) and of the erasures; and it recovers without a restart when the database is
back.

The outage is staged on PostgreSQL through the proxy of tests/app/serving/outage.py:
the server reaches the database only through it, while the test (playing an operator
elsewhere) still reaches the database directly.
"""

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import make_url

from app.auth import key_copy
from app.auth.keys import create_key, revoke_key, split
from app.db.engine import make_engine
from app.db.erase import erase
from app.main import create_app
from app.settings import Settings
from app.training import active_copy
from models.trained import artifacts

from ..api.test_upsell_api import load
from .outage import Proxy, proxy_for
from .test_registry import copy_version, register_as_active

NEWER = "29991231T000000000000Z"  # an artifact newer than the active one, never active
REFRESH = 0.2  # seconds
CROSS_SELL = "/v1/customers/C000010/cross-sell"


@pytest.fixture
def shop(database_url: str, tmp_path: Path) -> Iterator[tuple[Proxy, str, str, Path]]:
    """A trained shop behind a proxy: (proxy, database url, url through the proxy, models)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the outage is staged on PostgreSQL, through a proxy (runs in CI)")
    load(database_url, tmp_path, 300)
    proxy, url = proxy_for(database_url)
    yield proxy, database_url, url, tmp_path / "models"
    if proxy.listener is not None:
        proxy.stop()


def keys(database_url: str) -> dict[str, str]:
    """A live key, a revoked one, and an admin key, as text."""
    engine = make_engine(database_url)
    try:
        made = {
            "live": create_key(engine, {"read", "write"}, "shop")[1],
            "revoked": create_key(engine, {"read"}, "old frontend")[1],
            "admin": create_key(engine, {"admin"}, "ops")[1],
        }
        revoke_key(engine, key_id(made["revoked"]))
    finally:
        engine.dispose()
    return made


def key_id(text: str) -> str:
    parts = split(text)
    assert parts is not None
    return parts[0]


def caller(client: TestClient, key: str) -> Callable[..., Response]:
    """client.request with `key`."""
    return lambda method, path, **kw: client.request(
        method, path, headers={"Authorization": f"Bearer {key}"}, **kw
    )


def until(check: Callable[[], bool], seconds: float = 10.0) -> float:
    """How long `check` took to hold (fails after `seconds`)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        time.sleep(REFRESH / 4)
    return time.monotonic() - start


def test_a_restart_during_an_outage_serves_from_disk_and_recovers(
    shop: tuple[Proxy, str, str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, direct, url, models = shop
    (trained,) = [p.name for p in artifacts(models)]
    copy_version(models, trained, NEWER)  # the newest on disk, but not the active one
    made = keys(direct)
    engine = make_engine(direct)
    assert erase(engine, "C000011") is not None  # the model still holds them
    (models / active_copy.FILE).unlink()  # training left one; the server writes its own
    settings = Settings(database_url=url, model_dir=models, refresh_seconds=REFRESH)

    with TestClient(create_app(settings)):  # a first run, with the database
        pass
    assert active_copy.recall(models) == trained
    copied = (models / key_copy.FILE).read_text()
    assert all(text.split("_", 2)[2] not in copied for text in made.values())  # no secret
    late = create_key(engine, {"read"}, "made after the copy")[1]

    proxy.stop()
    with caplog.at_level(logging.INFO, logger="nextbest"), TestClient(create_app(settings)) as c:
        live, admin = caller(c, made["live"]), caller(c, made["admin"])
        cross_sell = live("GET", CROSS_SELL)
        assert cross_sell.status_code == 200 and cross_sell.json()["items"]
        assert cross_sell.json()["model_version"] == trained  # the active one, not NEWER
        assert live("GET", "/v1/customers/C000011/cross-sell").status_code == 404  # erased
        assert live("GET", "/v1/customers/never-a-customer/cross-sell").status_code == 200
        upsell = live("GET", "/v1/customers/at-96-percent/upsell").json()
        assert upsell["degraded"] and upsell["why_not"] == "unavailable"
        offers = live("GET", "/v1/customers/C000010/offers", params={"explain": "true"}).json()
        assert offers["degraded"] and offers["offers"] == []
        assert offers["held_back"][0]["rule"] == "degraded"
        write = live("POST", "/v1/customers", json=[{"customer_id": "during-outage"}])
        assert write.status_code == 503 and write.headers["retry-after"] == "5"
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["model"]["detail"] == f"serving {trained}"
        assert caller(c, made["revoked"])("GET", CROSS_SELL).status_code == 401
        wrong = made["live"][:-1] + ("A" if made["live"][-1] != "A" else "B")  # wrong secret
        assert caller(c, wrong)("GET", CROSS_SELL).status_code == 401
        unknown = caller(c, late)("GET", CROSS_SELL)
        assert unknown.status_code == 503 and unknown.headers["retry-after"] == "5"
        assert "cannot be checked" in unknown.json()["error"]["message"]

        register_as_active(direct, models, NEWER)  # an operator activates, elsewhere
        proxy.start()
        customer = [{"customer_id": "after-outage"}]
        until(lambda: live("POST", "/v1/customers", json=customer).status_code == 200)
        assert c.get("/readyz").json()["status"] == "ready"
        assert caller(c, late)("GET", CROSS_SELL).status_code == 200
        switched = until(lambda: live("GET", CROSS_SELL).json()["model_version"] == NEWER)
        assert switched < 5 * REFRESH + 2  # the next refresh or so; no restart
        until(lambda: active_copy.recall(models) == NEWER)
        until(lambda: key_id(late) in (models / key_copy.FILE).read_text())
        assert admin("GET", "/v1/models").json()["serving"] == NEWER
        assert live("GET", "/v1/customers/C000011/cross-sell").status_code == 404
    engine.dispose()

    said = [r.getMessage() for r in caplog.records]
    assert any("last recorded" in m and trained in m for m in said), said
    assert not any("keeping the current model" in m for m in said)
    assert json.loads((models / key_copy.FILE).read_text())["api_keys"]
