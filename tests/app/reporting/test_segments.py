"""Segments for group_by=segment: the model's codes as names, or a 422 saying why not."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.db.engine import make_engine
from app.errors import InvalidInput
from app.reporting.segments import model_segments
from app.serving.registry import Registry


def test_a_model_with_segments_names_each_of_its_customers(tmp_path: Path) -> None:
    """Laid out as models.segments.Segments: one code per customer of the model."""
    registry = Registry(tmp_path, make_engine("sqlite://"))  # never read
    segments = SimpleNamespace(segment=np.array([1, 0, 1], dtype=np.int8), names=["new", "loyal"])
    registry.current = SimpleNamespace(customer_ids=["ada", "ben", "cai"], segment_codes=segments)  # type: ignore[assignment]
    assert model_segments(registry.current) == {"ada": "loyal", "ben": "new", "cai": "loyal"}


def test_a_model_without_segments_is_a_422_naming_group_by(tmp_path: Path) -> None:
    registry = Registry(tmp_path, make_engine("sqlite://"))
    registry.current = SimpleNamespace(customer_ids=[], segment_codes=None)  # type: ignore[assignment]
    with pytest.raises(InvalidInput, match="the loaded model has none") as raised:
        model_segments(registry.current)
    assert raised.value.details[0].field == "query.group_by"
    assert "segments need a model trained with them" in raised.value.message
