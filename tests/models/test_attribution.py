"""Last-touch attribution against the rule spelled out as a loop, on random logs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.attribution import NONE, expand_touches, last_touch

WINDOW = 10
rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 40)), max_size=30)


def columns(log: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    array = np.array(log, dtype=np.int64).reshape(-1, 3)
    return array[:, 0], array[:, 1], array[:, 2]


def by_hand(conversion: tuple[int, int, int], touches: list[tuple[int, int, int]]) -> int:
    """The latest touch of the same customer and target, at most WINDOW before; ties in
    time go to the touch listed last."""
    customer, target, at = conversion
    fits = [
        (t, i)
        for i, (c, g, t) in enumerate(touches)
        if c == customer and g == target and 0 <= at - t <= WINDOW
    ]
    return max(fits)[1] if fits else NONE


@settings(max_examples=300, deadline=None)
@given(conversions=rows, touches=rows)
def test_last_touch_is_the_latest_fitting_touch(
    conversions: list[tuple[int, int, int]], touches: list[tuple[int, int, int]]
) -> None:
    found = last_touch(columns(conversions), columns(touches), WINDOW)
    assert found.tolist() == [by_hand(c, touches) for c in conversions]


@given(
    offers=st.lists(st.integers(0, 5), max_size=20),
    pairs=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9)), max_size=15),
)
def test_each_touch_is_repeated_once_per_target_of_its_offer(
    offers: list[int], pairs: list[tuple[int, int]]
) -> None:
    pair = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    position, target = expand_touches(np.array(offers, dtype=np.int64), pair[:, 0], pair[:, 1])
    expected = sorted((i, g) for i, o in enumerate(offers) for p, g in pairs if p == o)
    assert sorted(zip(position.tolist(), target.tolist(), strict=True)) == expected
