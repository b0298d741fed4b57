"""Column types that behave the same on SQLite, PostgreSQL and MySQL/MariaDB."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Numeric, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime.

    Storing naive UTC everywhere keeps SQLite (no time zones), MySQL (DATETIME has
    none) and PostgreSQL comparable; callers may send any offset, and naive input is
    taken to be UTC already.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def money() -> Numeric[float]:
    """Exact decimal storage for prices, returned as float for numpy and JSON."""
    return Numeric(14, 4, asdecimal=False)


# SQLite only aliases the rowid for plain INTEGER primary keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def external_id(length: int = 255) -> TypeEngine[str]:
    """A caller's id: compared byte for byte, so MySQL must not fold case or accents."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


# MySQL's TEXT stops at 64 KiB; a rejected row is kept whole, up to the line limit.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

# Every table on MySQL/MariaDB: transactional engine, full Unicode.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
