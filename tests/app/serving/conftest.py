"""Fixtures of the serving tests: a database that is down.

"Down" is a real PostgreSQL URL on a port nothing listens on: every connection is
refused, as in an outage, on every machine and without a mock (test_degraded.py and
test_restart_degraded.py stage one on a live server, through a proxy).
"""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app.db.engine import make_engine

DOWN = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"


@pytest.fixture
def down() -> Iterator[Engine]:
    """An engine on a database server that cannot be reached."""
    engine = make_engine(DOWN)
    yield engine
    engine.dispose()
