"""Offline metrics on cases small enough to compute by hand."""

import numpy as np
import pytest

from models.evaluate import evaluate, evaluate_lists, split, top_k
from models.history import History


def test_metrics_match_a_hand_computed_example() -> None:
    # Customer 0 owns item 0 before the cutoff, buys items 1 and 3 after it.
    # Customer 1 owns item 1, buys item 2 after. Customer 2 has nothing before: not evaluated.
    history = History(
        customer=np.array([0, 0, 0, 1, 1, 2], np.int32),
        item=np.array([0, 1, 3, 1, 2, 4], np.int32),
        order=np.arange(6, dtype=np.int32),
        time=np.array([1, 10, 11, 2, 12, 13], np.int64),
        n_customers=3,
        n_items=5,
    )
    candidates = np.ones(5, dtype=bool)
    data = split(history, cutoff=5, candidates=candidates)
    assert data.users.tolist() == [0, 1]
    ranking = np.array([[9, 5, 1, 8, 0], [0, 9, 1, 8, 7]], dtype=float)  # higher is better

    metrics = evaluate(lambda rows: ranking[rows], data, candidates, k=2)
    # Customer 0: owned item 0 removed, top 2 = [3, 1]: both are targets.
    # Customer 1: owned item 1 removed, top 2 = [3, 4]: no hit.
    assert metrics["HR@2"] == pytest.approx(0.5)
    assert metrics["Recall@2"] == pytest.approx(0.5)
    assert metrics["NDCG@2"] == pytest.approx(0.5)
    assert metrics["MAP@2"] == pytest.approx(0.5)
    assert metrics["coverage"] == pytest.approx(3 / 5)


def test_a_short_list_from_a_route_counts_its_missing_places_as_misses() -> None:
    """Lists as a route answers them (-1 where shorter than k): customer 0's one item
    is a target at rank 1, customer 1's list is empty; an owned item listed (a due
    repurchase) is never a hit."""
    history = History(
        customer=np.array([0, 0, 0, 1, 1], np.int32),
        item=np.array([0, 1, 3, 1, 2], np.int32),
        order=np.arange(5, dtype=np.int32),
        time=np.array([1, 10, 11, 2, 12], np.int64),
        n_customers=2,
        n_items=5,
    )
    candidates = np.ones(5, dtype=bool)
    data = split(history, cutoff=5, candidates=candidates)
    lists = np.array([[1, -1], [-1, -1]])
    metrics = evaluate_lists(lists, data.targets, candidates, k=2)
    assert metrics["HR@2"] == pytest.approx(0.5)
    assert metrics["Recall@2"] == pytest.approx(0.25)  # one of customer 0's two targets
    assert metrics["NDCG@2"] == pytest.approx(0.5 * 1 / (1 + 1 / np.log2(3)))
    assert metrics["coverage"] == pytest.approx(1 / 5)
    owned = evaluate_lists(np.array([[0, 1], [1, -1]]), data.targets, candidates, k=2)
    assert owned["HR@2"] == pytest.approx(0.5) and owned["MAP@2"] == pytest.approx(0.125)


def test_top_k_is_best_first() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2]]
