"""Offline evaluation: train before a cutoff, rank, and score against what came after.

The protocol (README, "Recommendation quality"): customers with history before the
cutoff who bought items after it that they had not bought before; those new items
are the targets, owned items are excluded from the candidates, and only items that
may be offered (`candidates`) are ranked.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.history import History, customer_items

Scorer = Callable[[np.ndarray], np.ndarray]  # customer rows → dense scores (rows x items)


@dataclass(frozen=True)
class Split:
    """Training history, the evaluated customers, their owned items and their targets."""

    train: History
    users: np.ndarray  # int64 customer rows with targets
    owned: sp.csr_matrix  # users x items, bought before the cutoff
    targets: sp.csr_matrix  # users x items, first bought after the cutoff


def split(history: History, cutoff: int, candidates: np.ndarray) -> Split:
    """Split at `cutoff` (seconds); targets are limited to the offerable `candidates`."""
    train = history.before(cutoff)
    before = customer_items(train)
    after = customer_items(history.select(history.time >= cutoff))
    after = after.multiply(sp.csr_matrix(candidates.astype(np.float32)[None, :])).tocsr()
    new = (after - after.multiply(before)).tocsr()
    new.eliminate_zeros()
    users = np.flatnonzero((np.diff(new.indptr) > 0) & (np.diff(before.indptr) > 0))
    return Split(train, users, before[users], new[users])


def evaluate(
    scorer: Scorer, data: Split, candidates: np.ndarray, k: int = 10, chunk: int = 1024
) -> dict[str, float]:
    """HR, Recall, NDCG and MAP at k, averaged over customers, and catalog coverage."""
    return evaluate_lists(rank(scorer, data, candidates, k, chunk), data.targets, candidates, k)


def rank(
    scorer: Scorer, data: Split, candidates: np.ndarray, k: int = 10, chunk: int = 1024
) -> np.ndarray:
    """Each evaluated customer's k best candidates they do not own, best first."""
    tops = []
    for start in range(0, len(data.users), chunk):
        rows = slice(start, start + chunk)
        scores = np.array(scorer(data.users[rows]), dtype=np.float32)
        scores[:, ~candidates] = -np.inf
        owned = data.owned[rows]
        scores[np.repeat(np.arange(owned.shape[0]), np.diff(owned.indptr)), owned.indices] = -np.inf
        tops.append(top_k(scores, k))
    return np.concatenate(tops) if tops else np.zeros((0, k), np.int64)


def evaluate_lists(
    top: np.ndarray, targets: sp.csr_matrix, candidates: np.ndarray, k: int = 10, chunk: int = 1024
) -> dict[str, float]:
    """The metrics of `evaluate` for ranked lists given whole (users x k item indexes,
    best first, -1 where a list is shorter): what a route answered, scored by the same
    code as a scorer's rankings."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    top = top[:, :k]
    sums = np.zeros(4)
    for start in range(0, len(top), chunk):
        rows = slice(start, start + chunk)
        listed = top[rows] >= 0
        hits = np.asarray(targets[rows].todense(), dtype=bool)
        hit = np.take_along_axis(hits, np.where(listed, top[rows], 0), axis=1) & listed
        n_targets = hits.sum(axis=1)
        ideal = np.cumsum(discount)[np.minimum(n_targets, k) - 1]
        precision = np.cumsum(hit, axis=1) / np.arange(1, k + 1)
        sums += [
            hit.any(axis=1).sum(),
            (hit.sum(axis=1) / n_targets).sum(),
            ((hit * discount).sum(axis=1) / ideal).sum(),
            ((precision * hit).sum(axis=1) / np.minimum(n_targets, k)).sum(),
        ]
    n = max(len(top), 1)
    names = (f"HR@{k}", f"Recall@{k}", f"NDCG@{k}", f"MAP@{k}")
    metrics = {name: float(value / n) for name, value in zip(names, sums, strict=True)}
    shown = np.unique(top[top >= 0])
    metrics["coverage"] = float(len(shown) / max(int(candidates.sum()), 1))
    return metrics


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indexes of the k best scores of each row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
