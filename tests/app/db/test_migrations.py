"""The schema is changed only through migrations, and they run both ways on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db.engine import make_engine
from app.db.migrate import HEAD, at_head, downgrade, head_revision, migrated, upgrade
from app.db.tables import metadata


def test_upgrade_downgrade_upgrade_leaves_the_schema_of_the_code(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        downgrade(database_url, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade(database_url)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
            differences = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
        assert differences == []
    finally:
        engine.dispose()


def test_constraint_names_follow_the_convention(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        unique = inspect(conn).get_unique_constraints("purchase")
    engine.dispose()
    assert {u["name"] for u in unique} == {"uq_purchase_order_id_item_id_kind"}


def test_head_names_the_newest_migration_script() -> None:
    assert head_revision() == HEAD


def test_migrated_upgrades_only_a_database_behind(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert at_head(engine)
        downgrade(database_url, "0003")
        assert not at_head(engine)
        with migrated(database_url) as upgraded:
            assert at_head(upgraded)
    finally:
        engine.dispose()
