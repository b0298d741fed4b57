"""Every answer carries an X-Request-ID: the caller's when it is a plain short id, a
fresh one otherwise; errors, refusals and 500s included."""

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

from ..api.conftest import new_key

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def app_client(sqlite_template: Path, tmp_path: Path) -> TestClient:
    """A client with a key on an app without a model, and a route that fails."""
    shutil.copy(sqlite_template, tmp_path / "nextbest.db")
    database_url = f"sqlite:///{tmp_path / 'nextbest.db'}"
    app = create_app(Settings(database_url=database_url, refresh_seconds=0))

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)  # stands for any route with a bug
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {new_key(database_url)}"
    return client


def test_the_callers_id_is_echoed_and_a_missing_one_generated(app_client: TestClient) -> None:
    with app_client as client:
        echoed = client.get("/healthz", headers={"X-Request-ID": "checkout-7f3a.2:b"})
        assert echoed.headers["x-request-id"] == "checkout-7f3a.2:b"
        first, second = client.get("/healthz"), client.get("/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(GENERATED.fullmatch(i) for i in ids) and ids[0] != ids[1]


@pytest.mark.parametrize(
    "unsafe", ["x" * 129, "two words", "<script>", "id\twith\ttabs", "ünïcode", ""]
)
def test_an_unsafe_or_overlong_id_is_replaced(app_client: TestClient, unsafe: str) -> None:
    with app_client as client:
        response = client.get("/healthz", headers={"X-Request-ID": unsafe.encode()})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


def test_errors_refusals_and_bugs_carry_the_id(app_client: TestClient) -> None:
    with app_client as client:
        answers = {
            "no key": client.get(
                "/v1/segments", headers={"Authorization": "", "X-Request-ID": "r1"}
            ),
            "bad key": client.get(
                "/v1/segments", headers={"Authorization": "Bearer nb_x_y", "X-Request-ID": "r2"}
            ),
            "no model": client.get("/v1/customers/c1/cross-sell", headers={"X-Request-ID": "r3"}),
            "invalid": client.get(
                "/v1/customers/c1/cross-sell?limit=0", headers={"X-Request-ID": "r4"}
            ),
            "unknown path": client.get("/nowhere", headers={"X-Request-ID": "r5"}),
            "bug": client.get("/v1/broken", headers={"X-Request-ID": "r6"}),
        }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {
        "no key": 401,
        "bad key": 401,
        "no model": 503,
        "invalid": 422,
        "unknown path": 404,
        "bug": 500,
    }
    assert [r.headers["x-request-id"] for r in answers.values()] == [f"r{n}" for n in range(1, 7)]
    assert answers["bug"].json()["error"]["code"] == "internal_error"
