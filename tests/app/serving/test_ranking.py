"""The ranking step every suggestion list goes through: the k best allowed scores."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ranking import top_k


@st.composite
def ranking(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores with many ties (few distinct values), infinities and NaN, a random mask,
    and k, over vectors long enough for the block bound to be used."""
    n = draw(st.integers(0, 3000))
    values = np.array([-np.inf, np.inf, np.nan, -1.5, 0.0, 0.25, 2.0, 7.0], dtype=np.float32)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        scores = values[rng.integers(0, len(values), n)]
    else:
        scores = rng.normal(size=n).astype(np.float32)
    allowed = rng.random(n) < draw(st.sampled_from([0.01, 0.3, 1.0]))
    return scores, allowed, draw(st.integers(0, 300))


@settings(max_examples=300, deadline=None)
@given(ranking())
def test_top_k_is_the_k_best_allowed_finite_scores_best_first_ties_by_index(
    case: tuple[np.ndarray, np.ndarray, int],
) -> None:
    scores, allowed, k = case
    eligible = np.flatnonzero(allowed & np.isfinite(scores))
    expected = eligible[np.lexsort((eligible, -scores[eligible]))][:k]
    np.testing.assert_array_equal(top_k(scores, allowed, k), expected)
