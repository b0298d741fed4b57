"""RFM scores by quintile and the named segments, on customers whose answers are known."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import artifact
from models.segments import MEANINGS, NAMES, RULES, Segments, name_segments, segment

NONE = np.nan


def scored(
    recency: list[float],
    frequency: list[int] | None = None,
    monetary: list[float] | None = None,
    tenure: list[float] | None = None,
) -> Segments:
    """Segments of customers given as lists; unset facts are the same for everyone."""
    n = len(recency)
    return segment(
        np.array(recency, dtype=float),
        np.array(frequency if frequency is not None else [1] * n),
        np.array(monetary if monetary is not None else [10.0] * n),
        np.array(tenure if tenure is not None else [400.0] * n),
        as_of=1_700_000_000,
    )


def names(s: Segments) -> list[str]:
    return [s.names[i] for i in s.segment]


def test_ten_distinct_customers_make_two_per_quintile() -> None:
    s = scored(list(range(1, 11)), list(range(1, 11)), [float(v) for v in range(10, 0, -1)])
    assert s.f.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert s.m.tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # Recency is reversed: the customer who bought yesterday scores 5.
    assert s.r.tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert s.frequency_edges.tolist() == [3, 5, 7, 9]  # F >= 4 from 7 orders
    assert s.recency_edges.tolist() == [8, 6, 4, 2]  # R >= 4 within 4 days


def test_equal_values_share_the_score_of_their_middle_rank() -> None:
    # Six of ten customers placed exactly one order: ranks 1-6, whose middle is in the
    # second fifth. None of them is told apart from another.
    s = scored([5.0] * 10, [1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert s.f.tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]
    # Nobody scores 3, so F >= 3 starts where F >= 4 does.
    assert s.frequency_edges.tolist() == [1, 2, 2, 4]


def test_one_customer_or_identical_ones_score_in_the_middle() -> None:
    alone = scored([3.0], [4], [99.0])
    assert (alone.r[0], alone.f[0], alone.m[0]) == (3, 3, 3)
    same = scored([3.0] * 4, [2] * 4, [5.0] * 4)
    assert set(same.r) == set(same.f) == set(same.m) == {3}


def test_customers_without_purchases_are_named_and_do_not_move_the_others() -> None:
    with_none = scored([1, 2, 3, 4, 5, NONE, NONE], [5, 4, 3, 2, 1, 0, 0])
    without = scored([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    assert with_none.r[:5].tolist() == without.r.tolist()
    assert with_none.f[:5].tolist() == without.f.tolist()
    assert with_none.r[5:].tolist() == [0, 0] and with_none.m[5:].tolist() == [0, 0]
    assert names(with_none)[5:] == ["no_purchases", "no_purchases"]


def test_nobody_has_bought_yet() -> None:
    s = scored([NONE, NONE], [0, 0], [0.0, 0.0], [NONE, NONE])
    assert names(s) == ["no_purchases", "no_purchases"]
    assert s.counts()["no_purchases"] == 2 and s.counts()["champions"] == 0


def rfm(r: int, f: int, m: int, tenure: float = 400.0) -> str:
    """The segment of one customer with these scores."""
    one = name_segments(
        np.array([r]), np.array([f]), np.array([m]), np.array([tenure]), np.array([True])
    )
    return NAMES[int(one[0])]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((5, 5, 5), "champions"),
        ((4, 4, 4), "champions"),
        ((5, 5, 3), "loyal"),  # often and lately, not (yet) a lot
        ((3, 3, 1), "loyal"),
        ((2, 5, 5), "at_risk"),  # bought often and a lot, then stopped
        ((1, 3, 1), "at_risk"),
        ((1, 1, 4), "at_risk"),  # one large order, long ago
        ((2, 2, 3), "hibernating"),
        ((1, 1, 1), "hibernating"),
        ((5, 1, 5), "promising"),  # one recent order
        ((4, 2, 1), "promising"),
        ((3, 2, 2), "others"),
    ],
)
def test_each_rule_names_the_segment_a_crm_user_expects(
    scores: tuple[int, int, int], expected: str
) -> None:
    assert rfm(*scores) == expected


def test_a_first_purchase_within_60_days_is_new_whatever_the_scores() -> None:
    assert rfm(5, 5, 5, tenure=20) == "new"
    assert rfm(1, 1, 1, tenure=60) == "new"
    assert rfm(5, 5, 5, tenure=61) == "champions"


def test_a_shop_in_miniature() -> None:
    """Eleven customers whose segments a salesperson would name without the rules."""
    s = scored(
        recency=[1, 2, 4, 6, 10, 15, 100, 150, 300, 400, NONE],
        frequency=[12, 4, 8, 2, 5, 3, 10, 1, 6, 0, 0],
        monetary=[900.0, 80, 400, 40, 60, 30, 700, 15, 300, 0, 0],
        tenure=[700, 20, 500, 90, 400, 200, 600, 300, 500, 800, NONE],
    )
    assert names(s) == [
        "champions",  # bought yesterday, 12 orders in the year, the most spent
        "new",  # first order 20 days ago
        "champions",
        "promising",  # bought 4 days ago, but only twice in the year
        "loyal",  # often and fairly lately, modest amounts
        "others",
        "at_risk",  # 10 orders and 700 spent, nothing for 100 days
        "hibernating",  # one small order, 150 days ago
        "at_risk",
        "hibernating",  # nothing in the last year
        "no_purchases",
    ]
    counts = s.counts()
    assert list(counts) == list(NAMES) and counts["champions"] == 2
    assert s.sales()[NAMES.index("champions")] == 1300.0


def test_every_rule_is_worded_and_every_segment_has_a_rule() -> None:
    assert set(RULES) == set(MEANINGS) == set(NAMES)


@given(
    st.lists(
        st.tuples(
            st.floats(0, 800, allow_nan=False),
            st.integers(0, 50),
            st.floats(0, 1e5, allow_nan=False),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_scores_rise_with_the_facts_and_the_edges_say_where(
    customers: list[tuple[float, int, float]],
) -> None:
    recency, frequency, monetary = (np.array(column) for column in zip(*customers, strict=True))
    s = segment(recency, frequency, monetary, recency + 100, as_of=0)
    for score, value, edges in (
        (s.f, frequency, s.frequency_edges),
        (s.m, monetary, s.monetary_edges),
        (s.r, -recency, -s.recency_edges),
    ):
        order = np.argsort(value, kind="stable")
        assert np.all(np.diff(score[order]) >= 0)  # more (or more recent) never scores lower
        assert ((score >= 1) & (score <= 5)).all()
        for k in range(2, 6):
            assert np.array_equal(score >= k, value >= edges[k - 2])


def test_segments_round_trip_through_an_artifact(tmp_path: Path) -> None:
    s = scored([1, 50, NONE], [3, 1, 0], [30.0, 5.0, 0.0], [300, 60, NONE])
    arrays, scalars = artifact.pack(s)
    path = artifact.save(tmp_path / "v1", arrays, {"scalars": scalars})
    loaded_arrays, manifest = artifact.load(path)
    loaded = artifact.unpack(Segments, loaded_arrays, manifest["scalars"])
    assert names(loaded) == names(s) and loaded.as_of == s.as_of
    assert np.array_equal(loaded.recency, s.recency, equal_nan=True)
    assert np.array_equal(loaded.monetary_edges, s.monetary_edges)
