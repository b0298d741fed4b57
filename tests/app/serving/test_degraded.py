"""The database goes away under a running server: reads go on answering from the model
(marked degraded where live state is missing), writes answer 503 with Retry-After,
/readyz says degraded, and everything recovers by itself when the database is back.

The PostgreSQL server is reached through a TCP proxy this test starts and stops, so
the outage is real (connections refused, open ones cut) without stopping the server
the rest of the suite uses.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.db.engine import make_engine
from app.settings import Settings
from app.training.train import train

from ..api.conftest import keyed_client
from ..api.test_upsell_api import load
from .outage import Proxy, proxy_for


@pytest.fixture
def proxied(database_url: str, tmp_path: Path) -> Iterator[tuple[Proxy, str, Path]]:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the outage is staged on PostgreSQL, through a proxy (runs in CI)")
    load(database_url, tmp_path, 300)
    engine = make_engine(database_url)
    train(engine, tmp_path / "models")
    engine.dispose()
    proxy, url = proxy_for(database_url)
    yield proxy, url, tmp_path / "models"
    if proxy.listener is not None:
        proxy.stop()


def test_reads_answer_writes_wait_and_it_recovers(proxied: tuple[Proxy, str, Path]) -> None:
    proxy, url, models = proxied
    settings = Settings(database_url=url, model_dir=models, refresh_seconds=0)
    customer = {"customer_id": "during-outage"}
    with keyed_client(settings) as client:
        assert client.get("/v1/customers/at-96-percent/upsell").json()["degraded"] is False
        proxy.stop()
        cross_sell = client.get("/v1/customers/C000010/cross-sell")
        assert cross_sell.status_code == 200 and cross_sell.json()["items"]
        upsell = client.get("/v1/customers/at-96-percent/upsell").json()
        assert upsell["degraded"] and upsell["why_not"] == "unavailable"
        offers = client.get("/v1/customers/C000010/offers", params={"explain": "true"}).json()
        assert offers["degraded"] and offers["offers"] == []
        assert offers["held_back"][0]["rule"] == "degraded"
        write = client.post("/v1/customers", json=[customer])
        assert write.status_code == 503 and write.headers["retry-after"] == "5"
        assert write.json()["error"]["code"] == "unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        client.app.state.registry.refresh()  # the refresh thread survives the outage
        proxy.start()
        assert client.post("/v1/customers", json=[customer]).status_code == 200
        assert client.get("/v1/customers/at-96-percent/upsell").json()["degraded"] is False
        assert client.get("/readyz").json()["status"] == "ready"
