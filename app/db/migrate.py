"""Run Alembic migrations from code, for `nextbest init-db`, the demo and the tests.

Why Alembic is imported only when a migration runs: every command checks the schema
first, and importing Alembic (a fifth of a second) to learn that a database is already
at the newest revision cost more than the check. `HEAD` names that revision; a test
holds it equal to the newest migration script.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

import app

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0006"  # the newest migration script's revision


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed wheel, or the source tree."""
    packaged = Path(app.__file__).parent / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(app.__file__).parent.parent / "migrations"


def alembic_config(database_url: str) -> "Config":
    """An Alembic configuration pointing at `database_url`, without an ini file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would eat the % of URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema of `database_url` up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the schema of `database_url` down to `revision` (tests and rollbacks)."""
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def schema_revision(conn: Connection) -> tuple[str | None, str | None]:
    """The database's migration revision and the newest one this code knows."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision(), head_revision()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code knows, from the scripts themselves."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(migrations_dir())).get_current_head()


def revision_of(database_url: str) -> str | None:
    """The schema revision of the database at `database_url`; None for a new database
    (no version table yet, or an empty one)."""
    from app.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    finally:
        engine.dispose()
    return ",".join(sorted(str(r[0]) for r in rows)) or None


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is at `HEAD` already (one query, no Alembic).

    Anything else (no version table yet, an older or unknown revision, two heads) is
    left to Alembic's upgrade, which migrates or says why it cannot.
    """
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no version table: a new database
        return False
    return [tuple(r) for r in rows] == [(HEAD,)]


@contextmanager
def migrated(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url` with the schema at the newest revision; disposed after."""
    from app.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        if not at_head(engine):
            upgrade(database_url)
        yield engine
    finally:
        engine.dispose()
