"""An HTTP client on an app bound to a clean database (each backend in turn)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, max_bulk_rows=50, max_body_bytes=64 * 1024)
    with TestClient(create_app(settings)) as client:
        yield client
