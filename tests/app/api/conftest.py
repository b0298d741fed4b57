"""HTTP clients on apps bound to a clean database (each backend in turn), with API keys.

Every /v1 route needs a key, so a client here carries one (admin by default: it may
call every route); tests/app/api/test_auth.py checks the scopes themselves.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.auth.keys import create_key
from app.db.engine import make_engine
from app.main import create_app
from app.settings import Settings


def new_key(database_url: str, *scopes: str) -> str:
    """A fresh key with `scopes` (admin when none) in the database, as text."""
    engine = make_engine(database_url)
    try:
        return create_key(engine, set(scopes) or {"admin"}, "tests")[1]
    finally:
        engine.dispose()


def keyed_client(settings: Settings, *scopes: str) -> TestClient:
    """A client on an app for `settings` that sends a key with `scopes` (admin default)."""
    client = TestClient(create_app(settings))
    client.headers["Authorization"] = f"Bearer {new_key(settings.database_url, *scopes)}"
    return client


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, max_bulk_rows=50, max_body_bytes=64 * 1024)
    with keyed_client(settings) as client:
        yield client


def conforms(schema: Any, answer: Any) -> None:
    """Fails unless `answer` is valid under the answer type `schema` (the contract)."""
    TypeAdapter(schema).validate_python(answer)
