"""Run Alembic migrations from code, for `nextbest init-db`, the demo and the tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import app


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed wheel, or the source tree."""
    packaged = Path(app.__file__).parent / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(app.__file__).parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at `database_url`, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would eat the % of URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema of `database_url` up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the schema of `database_url` down to `revision` (tests and rollbacks)."""
    command.downgrade(alembic_config(database_url), revision)


def schema_revision(conn: Connection) -> tuple[str | None, str | None]:
    """The database's migration revision and the newest one this code knows."""
    return MigrationContext.configure(conn).get_current_revision(), head_revision()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory(str(migrations_dir())).get_current_head()


@contextmanager
def migrated(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url` with the schema at the newest revision; disposed after."""
    from app.db.engine import make_engine

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()
