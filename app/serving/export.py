"""What the loaded model holds about one customer, for the export.

The model is computed from the tables, but it is stored apart from them (an artifact
on disk, loaded in memory): a customer asking what is kept about them is owed this
part too. The learned factor vector is left out: numbers with no meaning outside the
model.
"""

from datetime import UTC, datetime
from typing import Any

import orjson

from app.serving.customers import Customers
from app.serving.segments import rfm_of
from models.segments import Segments
from models.vocab import Vocab


class Holdings:
    """What one loaded model holds about its customers."""

    def __init__(self, version: str, customers: Customers, vocab: Vocab, segments: Segments):
        self.version, self.customers, self.vocab, self.segments = (
            version,
            customers,
            vocab,
            segments,
        )

    def of(self, customer_id: str) -> dict[str, Any]:
        """The model version, whether it knows the customer, their RFM segment and group,
        and the items it counts as theirs (from training, and bought since)."""
        vocab, customers = self.vocab, self.customers
        row = customers.row(customer_id)
        recent = customers.live.recent(customer_id)
        since = sorted({vocab.item_ids[i] for i, _ in list(recent.lines)}) if recent else []
        facts: dict[str, Any] = {
            "version": self.version,
            "in_model": row is not None,
            "rfm": None,
            "group": None,
            "items": [],
            "items_since_training": since,
        }
        if row is None:
            return facts
        owned = customers.owned
        items = owned.indices[owned.indptr[row] : owned.indptr[row + 1]]
        group = int(vocab.group[row])
        facts.update(
            rfm=rfm_of(self.segments, row),
            group=vocab.groups[group] if group >= 0 else None,
            items=sorted(vocab.item_ids[int(i)] for i in items),
        )
        return facts


def export_head(holdings: Holdings | None, customer_id: str, row: dict[str, Any]) -> bytes:
    """The export's opening object, before the tables' rows stream after it
    (`app.db.export.chunks`): the id, the time, what the model holds, the customer row.
    The API route and `nextbest customers export` write the same document."""
    return orjson.dumps(
        {
            "customer_id": customer_id,
            "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "model": None if holdings is None else holdings.of(customer_id),
            "customer": row,
        }
    )
