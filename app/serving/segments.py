"""The segments as answers: one customer's RFM facts, and the overview of every segment.

Both come from the model alone (the segments are computed at training, as of the
newest purchase then), so neither touches the database; the overview is built once
per loaded model.
"""

from typing import cast

import numpy as np

from app.serving.answers import Rfm, ScoreEdges, SegmentName, SegmentsAnswer, SegmentSummary
from app.serving.reasons import iso
from models.segments import DAY, MEANINGS, RULES, YEAR_DAYS, Segments


def rfm_of(segments: Segments, row: int) -> Rfm:
    """One customer's recency, frequency, monetary value, scores and segment."""
    name = cast(SegmentName, segments.names[int(segments.segment[row])])
    recency, tenure = float(segments.recency[row]), float(segments.tenure[row])
    bought = recency == recency  # NaN: no purchase at all
    as_of = segments.as_of
    return {
        "as_of": iso(as_of),
        "segment": name,
        "rule": RULES[name],
        "meaning": MEANINGS[name],
        "recency_days": round(recency, 1) if bought else None,
        "frequency": int(segments.frequency[row]),
        "monetary": round(float(segments.monetary[row]), 2),
        "tenure_days": round(tenure, 1) if bought else None,
        "last_purchase_at": iso(as_of - round(recency * DAY)) if bought else None,
        "first_purchase_at": iso(as_of - round(tenure * DAY)) if bought else None,
        "r": int(segments.r[row]) if bought else None,
        "f": int(segments.f[row]) if bought else None,
        "m": int(segments.m[row]) if bought else None,
    }


def overview(segments: Segments, version: str) -> SegmentsAnswer:
    """Customers, share and a year's sales of every segment, with its rule and the
    facts each score starts at."""
    counts = segments.counts()
    sales = segments.sales()
    customers = sum(counts.values())
    total = float(sales.sum())
    rows: list[SegmentSummary] = [
        {
            "segment": cast(SegmentName, name),
            "customers": n,
            "share": round(n / customers, 4) if customers else 0.0,
            "sales": round(float(value), 2),
            "sales_share": round(float(value) / total, 4) if total else 0.0,
            "average_sales": round(float(value) / n, 2) if n else None,
            "rule": RULES[name],
            "meaning": MEANINGS[name],
        }
        for name, n, value in zip(segments.names, counts.values(), sales.tolist(), strict=True)
    ]
    return {
        "model_version": version,
        "as_of": iso(segments.as_of),
        "window_days": YEAR_DAYS,
        "customers": customers,
        "sales": round(total, 2),
        "segments": rows,
        "scores": _score_edges(segments),
    }


def _score_edges(segments: Segments) -> list[ScoreEdges]:
    """Per score from 2 to 5, the facts that reach it (null: nobody does)."""
    frequency = [_finite(v) for v in segments.frequency_edges]
    return [
        {
            "score": k,
            "recency_days_at_most": _finite(segments.recency_edges[k - 2]),
            "frequency_at_least": None if frequency[k - 2] is None else int(frequency[k - 2] or 0),
            "monetary_at_least": _finite(segments.monetary_edges[k - 2]),
        }
        for k in range(2, 6)
    ]


def _finite(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None
