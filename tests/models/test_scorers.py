"""Every scorer passes the same known-answer checks (implicit's test pattern)."""

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from models import baselines
from models.als import fit_als
from models.crosssell import Weights
from models.ease import fit_ease
from models.engine import Items, Params, fit_engine
from models.evaluate import Scorer
from models.history import History, customer_items

from .conftest import history_from


def engine_scorer(history: History, items: Items) -> Scorer:
    engine = fit_engine(history, items, np.full(history.n_customers, -1), 0, Params(factors=8))
    factors = engine.cross_sell.als.user_factors
    return lambda rows: engine.cross_sell.score_matrix(engine.owned[rows], factors[rows])


def single_row_engine_scorer(history: History, items: Items) -> Scorer:
    """The serving path: one customer at a time, factors folded in from the history."""
    engine = fit_engine(history, items, np.full(history.n_customers, -1), 0, Params(factors=8))
    owned = engine.owned
    return lambda rows: np.stack(
        [
            engine.cross_sell.score(owned.indices[owned.indptr[r] : owned.indptr[r + 1]])
            for r in rows
        ]
    )


def als_scorer(history: History, _: Items) -> Scorer:
    als = fit_als(customer_items(history), factors=8)
    return lambda rows: als.user_factors[rows] @ als.item_factors.T


SCORERS: dict[str, Callable[[History, Items], Scorer]] = {
    "item kNN": lambda h, _: baselines.item_knn_scorer(customer_items(h)),
    "ALS": als_scorer,
    "EASE": lambda h, _: baselines.ease_scorer(customer_items(h), lam=10.0),
    "engine": engine_scorer,
    "engine, one customer": single_row_engine_scorer,
}


@pytest.mark.parametrize("name", list(SCORERS))
def test_withheld_item_of_a_clear_block_comes_first(
    blocks: tuple[History, Items, dict[int, int]], name: str
) -> None:
    history, items, withheld = blocks
    scorer = SCORERS[name](history, items)
    owned = customer_items(history)
    customers = np.array(sorted(withheld))
    scores = np.array(scorer(customers), dtype=np.float64)
    scores[owned[customers].nonzero()] = -np.inf
    assert scores.argmax(axis=1).tolist() == [withheld[c] for c in customers]


@pytest.mark.parametrize("name", list(SCORERS))
def test_scores_cover_every_item_and_are_finite(
    blocks: tuple[History, Items, dict[int, int]], name: str
) -> None:
    history, items, _ = blocks
    scores = np.asarray(SCORERS[name](history, items)(np.arange(5)))
    assert scores.shape == (5, history.n_items)
    assert np.isfinite(scores).all()


def test_engine_prefers_a_complement_to_a_substitute() -> None:
    """Camera owners buy a second camera a bit more often than a memory card.

    Without the substitute penalty the second camera ranks first; with it, the card.
    """
    camera_a, camera_b, card, other = 0, 1, 2, 3
    baskets = [(c, [camera_a, camera_b]) for c in range(35)]
    baskets += [(35 + c, [camera_a, card]) for c in range(30)]
    baskets += [(65 + c, [other]) for c in range(20)]
    order = np.random.default_rng(0).permutation(len(baskets))
    history = history_from([baskets[i] for i in order], 86, 4)
    items = Items(
        ["camera a", "camera b", "memory card", "kettle"],
        np.array([0, 0, 1, 2], np.int32),
        np.zeros(4, bool),
    )
    group = np.full(86, -1)

    def ranking(substitute: float) -> list[int]:
        params = Params(factors=4, weights=Weights(substitute=substitute))
        scores = fit_engine(history, items, group, 0, params).cross_sell.score(np.array([0]))
        scores[camera_a] = -np.inf
        return np.argsort(-scores).tolist()

    assert ranking(0.0)[0] == camera_b
    assert ranking(1.0)[0] == card


def test_fold_in_matches_the_trained_factors(blocks: tuple[History, Items, dict[int, int]]) -> None:
    """A customer's folded-in factors are the ones training found for them."""
    history, items, _ = blocks
    engine = fit_engine(history, items, np.full(history.n_customers, -1), 0, Params(factors=8))
    als, owned = engine.cross_sell.als, engine.owned
    for row in (0, 50, 100):
        bought = owned.indices[owned.indptr[row] : owned.indptr[row + 1]]
        trained = als.item_factors @ als.user_factors[row]
        folded = als.item_factors @ als.fold_in(bought)
        assert np.corrcoef(trained, folded)[0, 1] > 0.999
        # implicit's last user step saw the item factors before their last update
        assert np.allclose(als.fold_in(bought), als.user_factors[row], rtol=0.15, atol=0.05)


def test_a_catalog_larger_than_the_pool_ranks_the_same_one_by_one_and_in_batch(
    blocks: tuple[History, Items, dict[int, int]],
) -> None:
    """EASE covers the 20 most bought items: the pool holds those, nothing is scored outside."""
    history, items, _ = blocks
    params = Params(factors=8, ease_max_items=20, newness_days=0.001)
    engine = fit_engine(history, items, np.full(history.n_customers, -1), 0, params)
    cross_sell = engine.cross_sell
    assert cross_sell.pool.tolist() == cross_sell.ease.items.tolist() and len(cross_sell.pool) == 20
    owned = engine.owned
    rows = np.arange(0, history.n_customers, 17)
    batch = cross_sell.score_matrix(owned[rows], cross_sell.als.user_factors[rows])
    for n, row in enumerate(rows):
        bought = owned.indices[owned.indptr[row] : owned.indptr[row + 1]]
        single = cross_sell.score(bought, cross_sell.als.user_factors[row])
        assert np.isinf(single).sum() == history.n_items - 20
        inside = np.isfinite(single)
        assert np.array_equal(np.isfinite(batch[n]), inside)
        assert np.allclose(
            single[inside] - single[inside].mean(),
            batch[n][inside] - batch[n][inside].mean(),
            atol=1e-4,
        )


def test_ease_weights_are_the_closed_form_of_the_textbook() -> None:
    """B = I - P / diag(P) with P = (XᵀX + λI)⁻¹, computed in float64 the direct way."""
    rng = np.random.default_rng(3)
    matrix = sp.csr_matrix((rng.random((300, 40)) < 0.2).astype(np.float32))
    ease = fit_ease(matrix, lam=5.0, max_items=30)
    columns = matrix[:, ease.items].toarray().astype(np.float64)
    inverse = np.linalg.inv(columns.T @ columns + 5.0 * np.eye(len(ease.items)))
    expected = inverse / -np.diag(inverse)
    np.fill_diagonal(expected, 0.0)
    assert len(ease.items) == 30
    np.testing.assert_allclose(ease.weights, expected, atol=1e-5)
