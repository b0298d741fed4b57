"""What the time-split benchmarks share: their command line and the snapshot they read."""

import argparse
from datetime import UTC, datetime

from app.db.engine import make_engine
from app.training.data import Snapshot, load_snapshot


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def arguments(description: str) -> argparse.Namespace:
    """--database-url, and the validation and test cutoffs (Online Retail's by default)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--validation-cutoff", type=day, default=day("2011-06-01"))
    parser.add_argument("--test-cutoff", type=day, default=day("2011-09-01"))
    return parser.parse_args()


def read(database_url: str) -> Snapshot:
    """The whole purchase history of the database, as training reads it."""
    engine = make_engine(database_url)
    try:
        return load_snapshot(engine)
    finally:
        engine.dispose()
