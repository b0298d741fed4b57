"""What the loaded model holds about one customer, for the export.

The model is computed from the tables, but it is stored apart from them (an artifact
on disk, loaded in memory): a customer asking what is kept about them is owed this
part too. The learned factor vector is left out: numbers with no meaning outside the
model.
"""

from datetime import UTC, datetime
from typing import Any

import orjson

from app.serving.recommender import Recommender
from app.serving.segments import rfm_of


def held_by_model(recommender: Recommender, customer_id: str) -> dict[str, Any]:
    """The model version, whether it knows the customer, their RFM segment and group,
    and the items it counts as theirs (from training, and bought since)."""
    vocab = recommender.vocab
    row = recommender.customer_index.get(customer_id)
    recent = recommender.live.recent(customer_id)
    since = sorted({vocab.item_ids[i] for i, _ in list(recent.lines)}) if recent else []
    facts: dict[str, Any] = {
        "version": recommender.version,
        "in_model": row is not None,
        "rfm": None,
        "group": None,
        "items": [],
        "items_since_training": since,
    }
    if row is None:
        return facts
    owned = recommender.engine.owned
    items = owned.indices[owned.indptr[row] : owned.indptr[row + 1]]
    group = int(vocab.group[row])
    facts.update(
        rfm=rfm_of(recommender.model.segments, row),
        group=vocab.groups[group] if group >= 0 else None,
        items=sorted(vocab.item_ids[int(i)] for i in items),
    )
    return facts


def export_head(recommender: Recommender | None, customer_id: str, row: dict[str, Any]) -> bytes:
    """The export's opening object, before the tables' rows stream after it
    (`app.db.export.chunks`): the id, the time, what the model holds, the customer row.
    The API route and `nextbest customers export` write the same document."""
    return orjson.dumps(
        {
            "customer_id": customer_id,
            "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "model": None if recommender is None else held_by_model(recommender, customer_id),
            "customer": row,
        }
    )
