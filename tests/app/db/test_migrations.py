"""The schema is changed only through migrations, and they run both ways on every backend."""

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from app.db import tables
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


def test_sqlite_timestamps_of_whole_seconds_take_the_one_stored_form(tmp_path: Path) -> None:
    """Rows written in the short form by earlier bulk imports are found again by key."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer (id, customer_id, attributes, marketing_opt_out,"
                " created_at) VALUES (1, 'c1', '{}', 0, '2025-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO usage (customer_id, metric, value, measured_at)"
                " VALUES (1, 'seats', 3, '2025-02-01 00:00:00'),"
                " (1, 'seats', 4, '2025-03-01 00:00:00.250000')"
            )
        )
    upgrade(url)
    with engine.connect() as conn:
        stamps = conn.execute(text("SELECT measured_at FROM usage ORDER BY id")).scalars().all()
        created = conn.execute(text("SELECT created_at FROM customer")).scalar_one()
        found = conn.execute(
            select(tables.usage.c.value).where(
                tables.usage.c.measured_at == datetime(2025, 2, 1, tzinfo=UTC)
            )
        ).scalar_one()
    engine.dispose()
    assert stamps == ["2025-02-01 00:00:00.000000", "2025-03-01 00:00:00.250000"]
    assert created == "2025-01-01 00:00:00.000000"
    assert found == 3
