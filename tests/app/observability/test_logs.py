"""The service's log lines: JSON, one per line, carrying the request id, never a key."""

import io
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.observability.logs import ACCESS, JsonFormatter, RequestIdFilter
from app.settings import Settings

from ..api.conftest import new_key


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the 'nextbest' loggers write, as `nextbest serve --access-log` formats it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger, access = logging.getLogger("nextbest"), logging.getLogger(ACCESS)
    level, access_level = logger.level, access.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)
    access.setLevel(access_level)


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_access_and_error_lines_carry_the_request_id_and_never_the_key(
    lines: io.StringIO, sqlite_template: Path, tmp_path: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "nextbest.db")
    url = f"sqlite:///{tmp_path / 'nextbest.db'}"
    app = create_app(Settings(database_url=url, refresh_seconds=0))

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)
    key = new_key(url, "read")
    with TestClient(app, raise_server_exceptions=False) as client:
        bearer = {"Authorization": f"Bearer {key}", "X-Request-ID": "req-1"}
        assert client.get("/v1/customers/jane-doe/cross-sell", headers=bearer).status_code == 503
        header = {"X-API-Key": key, "X-Request-ID": "req-2"}
        assert client.get("/v1/broken", headers=header).status_code == 500
        wrong = {"Authorization": f"Bearer {key}x", "X-Request-ID": "req-3"}
        assert client.get("/v1/segments", headers=wrong).status_code == 401
    text = lines.getvalue()
    assert key not in text and key.split("_", 2)[2] not in text  # nor the secret alone
    assert "jane-doe" not in text  # the route template, not the customer's id
    found = parsed(lines)
    access = [line for line in found if line["logger"] == ACCESS]
    assert [(a["request_id"], a["route"], a["status"]) for a in access] == [
        ("req-1", "/v1/customers/{customer_id}/cross-sell", 503),
        ("req-2", "/v1/broken", 500),
        ("req-3", "/v1/segments", 401),
    ]
    for line in access:
        assert line["level"] == "INFO" and line["method"] == "GET"
        assert line["duration_ms"] > 0 and line["time"].endswith("+00:00")
    (error,) = [line for line in found if line["level"] == "ERROR"]
    assert error["request_id"] == "req-2" and error["logger"] == "nextbest"
    assert "RuntimeError: a bug" in error["exception"]


def test_a_bug_is_answered_and_logged_once_without_reaching_the_server(
    lines: io.StringIO, sqlite_template: Path, tmp_path: Path
) -> None:
    """The server logs whatever leaves the app, without the request id: a 500 already
    answered and logged must not leave it."""
    shutil.copy(sqlite_template, tmp_path / "nextbest.db")
    url = f"sqlite:///{tmp_path / 'nextbest.db'}"
    app = create_app(Settings(database_url=url, refresh_seconds=0))

    def broken() -> None:
        raise RecursionError("deep")

    app.add_api_route("/v1/broken", broken)
    with TestClient(app, raise_server_exceptions=True) as client:  # raises what leaves
        answer = client.get("/v1/broken", headers={"X-API-Key": new_key(url, "read")})
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal_error"
    errors = [line for line in parsed(lines) if line["level"] == "ERROR"]
    assert len(errors) == 1 and errors[0]["request_id"] == answer.headers["x-request-id"]


def test_a_key_in_a_message_is_redacted(lines: io.StringIO) -> None:
    key = "nb_0123456789ab_S3cr3t-t0ken_value"
    logging.getLogger("nextbest").warning("refused %s and Bearer abc.def", key)
    (line,) = parsed(lines)
    assert line["message"] == "refused nb_0123456789ab_[redacted] and Bearer [redacted]"
    assert line["request_id"] is None and line["level"] == "WARNING"
