"""Per-customer purchase totals from the database, into RFM segments.

Why one GROUP BY in SQL rather than arrays from the snapshot: the snapshot's lines
carry no prices, and the database adds up a million lines faster than Python would
read them. One query gives every customer's first and last sale, distinct orders and
sales in the year before `as_of`; its rows come from the driver's cursor as tuples
(numpy probing SQLAlchemy's Row objects is 10x slower). The year's window is compared
as a timestamp literal, so SQLite compares stored text instead of converting every
line to epoch seconds, and SQLite is told to scan the table: walking the
(customer_id, purchased_at) index in customer order fetches every line at random,
2.5x slower on 1.2 M lines.
"""

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Engine

from app.training.data import Vocab, index_of
from app.training.lines import epoch, stream
from models.segments import DAY, YEAR_DAYS, Segments, segment


def fit_segments(engine: Engine, vocab: Vocab, as_of: int) -> Segments:
    """RFM scores and segments of the vocabulary's customers at `as_of` (epoch seconds),
    from the sale lines training read (ids up to `vocab.last_purchase_id`)."""
    with engine.connect() as conn:
        who, last, first, orders, sales = _totals(conn, vocab.last_purchase_id, as_of)
    n = len(vocab.customer_ids)
    index, found = index_of(vocab.customer_db_ids, who)
    index = index[found]  # a customer created after the vocabulary was read is left out
    recency, tenure = np.full(n, np.nan), np.full(n, np.nan)
    frequency, monetary = np.zeros(n, dtype=np.int32), np.zeros(n)
    recency[index] = np.maximum(as_of - last[found], 0) / DAY
    tenure[index] = np.maximum(as_of - first[found], 0) / DAY
    frequency[index] = orders[found]
    monetary[index] = sales[found]
    return segment(recency, frequency, monetary, tenure, as_of)


def _totals(conn: Connection, last_id: int, as_of: int) -> list[np.ndarray]:
    """Per customer with a sale: id, last and first sale (epoch seconds), and the
    distinct orders and sales of the YEAR_DAYS before `as_of`."""
    dialect = conn.dialect.name
    start = datetime.fromtimestamp(as_of - YEAR_DAYS * DAY, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    recent = f"purchased_at > '{start}'"
    sql = (
        f"SELECT customer_id, {epoch('MAX(purchased_at)', dialect)}, "
        f"{epoch('MIN(purchased_at)', dialect)}, "
        f"COUNT(DISTINCT CASE WHEN {recent} THEN order_id END), "
        f"SUM(CASE WHEN {recent} THEN quantity * unit_price ELSE 0 END) "
        f"FROM purchase{' NOT INDEXED' if dialect == 'sqlite' else ''} "
        f"WHERE kind = 'sale' AND customer_id IS NOT NULL AND id <= {int(last_id)} "
        "GROUP BY customer_id"
    )
    chunks = [np.array(chunk, dtype=object) for chunk in stream(conn, sql)]  # tuples, not Rows
    block = np.concatenate(chunks) if chunks else np.zeros((0, 5), dtype=object)
    kinds = (np.int64, np.int64, np.int64, np.int32, np.float64)
    return [block[:, i].astype(kind) for i, kind in enumerate(kinds)]
