"""Shared fixtures: a clean database on each backend, the app, the Online Retail file.

Tests that take the `engine` fixture run once per database: always on SQLite, on
PostgreSQL when NEXTBEST_TEST_POSTGRES_URL is set and on MySQL/MariaDB when
NEXTBEST_TEST_MYSQL_URL is set (each test session creates and drops its own database
on that server). CI sets NEXTBEST_REQUIRE_BACKENDS=postgresql,mysql, which makes the
run fail if those tests were skipped instead of run, and NEXTBEST_REQUIRE_BROWSER=1,
which does the same for the web console's browser tests (tests/ui).
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.tables import metadata
from app.ingest.online_retail import import_online_retail

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("sqlite", "postgresql", "mysql")
SERVER_URLS = {"postgresql": "NEXTBEST_TEST_POSTGRES_URL", "mysql": "NEXTBEST_TEST_MYSQL_URL"}
ONLINE_RETAIL = Path(
    os.environ.get(
        "NEXTBEST_ONLINE_RETAIL_CSV", ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
    )
)


def _server_database(backend: str) -> Iterator[str]:
    """Create a throwaway database on the backend's server; yield its URL; drop it."""
    variable = SERVER_URLS[backend]
    base = os.environ.get(variable)
    if not base:
        pytest.skip(f"{backend} tests need {variable} (e.g. in CI); not set here")
    name = f"nextbest_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (cheaper than migrating again)."""
    path = tmp_path_factory.mktemp("template") / "nextbest.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _server_database("postgresql")


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    yield from _server_database("mysql")


def _clean(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database on each backend in turn."""
    backend: str = request.param
    if backend == "sqlite":
        path = tmp_path / "nextbest.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue(f"{backend}_url")
    engine = make_engine(url)
    _clean(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database (each backend in turn)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def online_retail() -> Path:
    """The UCI Online Retail file, or a skip where this machine does not have it."""
    return _online_retail_file()


@pytest.fixture(scope="session")
def online_retail_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding the whole Online Retail file, imported once per session."""
    source = _online_retail_file()
    url = f"sqlite:///{tmp_path_factory.mktemp('online-retail') / 'retail.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_online_retail(engine, source)
    engine.dispose()
    return url


def _online_retail_file() -> Path:
    if not ONLINE_RETAIL.is_file():
        pytest.skip(
            f"Online Retail data not found at {ONLINE_RETAIL}; set NEXTBEST_ONLINE_RETAIL_CSV"
        )
    return ONLINE_RETAIL


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With NEXTBEST_REQUIRE_BACKENDS set, fail the run when those backends did not run;
    with NEXTBEST_REQUIRE_BROWSER=1, when no browser test (tests/ui) passed."""
    required = [b for b in os.environ.get("NEXTBEST_REQUIRE_BACKENDS", "").split(",") if b]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("NEXTBEST_REQUIRE_BROWSER") == "1" and reporter is not None:
        ran = [r for r in reporter.stats.get("passed", []) if r.nodeid.startswith("tests/ui/")]
        if not ran:
            reporter.write_line("NEXTBEST_REQUIRE_BROWSER: no browser test passed", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if not required or reporter is None:
        return
    problems = []
    for backend in required:
        marker = f"[{backend}"
        ran = [r for r in reporter.stats.get("passed", []) if marker in r.nodeid]
        skipped = [
            r
            for r in reporter.stats.get("skipped", [])
            if marker in r.nodeid and "NEXTBEST_TEST_" in str(r.longrepr)
        ]
        if skipped:
            problems.append(f"{len(skipped)} {backend} test(s) were skipped")
        if not ran:
            problems.append(f"no {backend} test passed")
    if problems:
        reporter.write_line("NEXTBEST_REQUIRE_BACKENDS: " + "; ".join(problems), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
