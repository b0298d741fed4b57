"""A trained shop + SaaS data set for the observability tests, and /metrics as
Prometheus reads it."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.db.migrate import upgrade
from app.settings import Settings

from ..api.conftest import keyed_client
from ..api.test_upsell_api import load

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def trained_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with shop.db (300 generated customers and the known SaaS accounts)
    and models/ holding one trained, active version."""
    directory = tmp_path_factory.mktemp("observed")
    url = f"sqlite:///{directory / 'shop.db'}"
    upgrade(url)
    load(url, directory, 300)
    return directory


@pytest.fixture
def shop(trained_shop: Path, tmp_path: Path) -> tuple[str, Path]:
    """A copy of the trained shop this test may change: (database url, model dir)."""
    shutil.copy(trained_shop / "shop.db", tmp_path / "shop.db")
    shutil.copytree(trained_shop / "models", tmp_path / "models")
    return f"sqlite:///{tmp_path / 'shop.db'}", tmp_path / "models"


@pytest.fixture
def client(shop: tuple[str, Path]) -> Iterator[TestClient]:
    url, models = shop
    with keyed_client(Settings(database_url=url, model_dir=models, refresh_seconds=0)) as client:
        yield client


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: TestClient) -> Samples:
    """GET /metrics, without a key, parsed."""
    response = client.get("/metrics", headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
