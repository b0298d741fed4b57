"""Import throughput of the Online Retail file (541,909 lines) into each database.

Each backend gets a fresh database; the file is imported twice (the second import
must add nothing) and both are timed end to end (read gzip, parse, validate, write,
commit). Prints a Markdown table.

    python bench/import_throughput.py
    python bench/import_throughput.py \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --mysql mysql+pymysql://root@127.0.0.1:3306/test
"""

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.ingest.online_retail import import_online_retail

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"


@contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A new empty database: a temporary SQLite file, or one created on the server."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"nextbest_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


def measure(label: str, server_url: str | None, path: Path) -> list[str]:
    """Import twice into a fresh database; return the table row."""
    with fresh_database(server_url) as url:
        upgrade(url)
        engine = make_engine(url)
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            report = import_online_retail(engine, path)
            timings.append((time.perf_counter() - start, report))
        engine.dispose()
    (first_s, first), (second_s, second) = timings
    assert first.accepted + first.rejected == first.submitted
    assert second.inserted == 0
    return [
        label,
        f"{first.submitted:,}",
        f"{first.accepted:,} / {first.rejected:,}",
        f"{first.inserted:,}",
        f"{first_s:.1f}",
        f"{first.submitted / first_s:,.0f}",
        f"{second.inserted:,}",
        f"{second_s:.1f}",
        f"{second.submitted / second_s:,.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument(
        "--postgres", default=os.environ.get("NEXTBEST_TEST_POSTGRES_URL"), help="server URL"
    )
    parser.add_argument("--mysql", default=os.environ.get("NEXTBEST_TEST_MYSQL_URL"))
    args = parser.parse_args()
    if not args.file.is_file():
        parser.error(f"{args.file} not found; pass --file")
    header = [
        "database",
        "lines",
        "accepted / rejected",
        "purchase rows",
        "1st import s",
        "1st rows/s",
        "2nd import adds",
        "2nd import s",
        "2nd rows/s",
    ]
    rows = [measure("SQLite", None, args.file)]
    if args.postgres:
        rows.append(measure("PostgreSQL", args.postgres, args.file))
    if args.mysql:
        rows.append(measure("MariaDB/MySQL", args.mysql, args.file))
    print(f"Online Retail import, {os.cpu_count()} CPU cores\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
