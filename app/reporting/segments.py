"""Customer segments for `GET /v1/kpis?group_by=segment`, from the model being served.

Why from the model and not computed per request: a segment is a fact about a customer
as of training (RFM over the year before it), the same one the offers were chosen
with; recomputing it for a report would mix segments of different dates. The app
holds a function returning the mapping (`app.state.segments`), so the report does not
care where segments come from, and a test can hand it any mapping. The serving model
is handed in (`Segmented`), never looked up from here.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from app.errors import ErrorDetail, InvalidInput


class SegmentCodes(Protocol):
    """What a model's `segments` holds: a code per customer and the names they index."""

    segment: np.ndarray
    names: list[str]


class Segmented(Protocol):
    """A served model: its customers, and their segment codes (None: trained without)."""

    @property
    def customer_ids(self) -> list[str]: ...
    @property
    def segment_codes(self) -> Any: ...


def model_segments(current: Segmented | None) -> Mapping[str, str]:
    """Customer id -> segment name from the model serving now; 422 when it has none."""
    found: Any = getattr(current, "segment_codes", None) if current is not None else None
    if current is None or found is None:
        message = (
            "group_by=segment: segments need a model trained with them; "
            + ("no model is loaded yet" if current is None else "the loaded model has none")
            + " (group_by=kind or channel work without)"
        )
        raise InvalidInput(message, [ErrorDetail(field="query.group_by", message=message)])
    return labels(current.customer_ids, found)


def labels(customer_ids: Sequence[str], segments: SegmentCodes) -> dict[str, str]:
    """Customer id -> name, with the codes in the order of the model's customers."""
    names = list(segments.names)
    codes = np.asarray(segments.segment).tolist()
    return {c: names[k] for c, k in zip(customer_ids, codes, strict=True)}
