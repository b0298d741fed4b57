"""What keeping erased customers out of answers costs a request, against the alternative.

Every per-customer request asks `ErasedSet.erased` (app/serving/erasure.py): a read of
the erasure counter every worker maps into memory, and a SHA-256 of the id once any
customer has been erased. The alternative that also answers 404 on every worker at
once is an indexed lookup in erased_customer per request; both are timed here, on a
database holding `--erased` erasures, in one process (each figure is the mean of
`--calls` calls). Prints a Markdown table.

    python bench/erasure.py                         # SQLite in a temporary directory
    python bench/erasure.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

import argparse
import tempfile
import timeit
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select

from app.db import tables
from app.db.engine import make_engine
from app.db.erase import customer_hash
from app.db.migrate import upgrade
from app.serving.erasure import ErasedSet


def record(engine: Engine, erased: int) -> None:
    """`erased` erasures in the table (and none before)."""
    now = datetime.now(UTC)
    rows = [{"customer_sha256": customer_hash(f"E{n}"), "erased_at": now} for n in range(erased)]
    with engine.begin() as conn:
        conn.execute(delete(tables.erased_customer))
        if rows:
            conn.execute(insert(tables.erased_customer), rows)


def microseconds(call: object, calls: int) -> float:
    return timeit.timeit(call, number=calls) / calls * 1e6  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--erased", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = args.database_url or f"sqlite:///{directory / 'erasure.db'}"
        upgrade(url)
        engine = make_engine(url)
        erased = ErasedSet(engine, directory)
        column = tables.erased_customer.c.customer_sha256

        def lookup() -> object:
            with engine.connect() as conn:
                return conn.execute(select(column).where(column == customer_hash("C1"))).first()

        record(engine, 0)
        rows = [("in memory, nobody erased", microseconds(lambda: erased.erased("C1"), args.calls))]
        record(engine, args.erased)
        erased.add("E0")  # bumps the counter: the next call reads the table
        erased.erased("C1")
        rows.append(
            (
                f"in memory, {args.erased:,} erased",
                microseconds(lambda: erased.erased("C1"), args.calls),
            )
        )
        rows.append(
            (
                f"database lookup, {args.erased:,} erased",
                microseconds(lookup, max(args.calls // 20, 100)),
            )
        )
        engine.dispose()
    print(f"| check per request ({engine.dialect.name}) | µs |")
    print("|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
