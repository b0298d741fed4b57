"""Baselines the engine must beat: popularity, item kNN, raw implicit ALS, EASE.

Each `*_scorer` fits on the training matrix (customers x items, binary) and returns a
function from customer rows to dense scores, the shape `models.evaluate` ranks.
"""

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from models.ease import fit_ease
from models.evaluate import Scorer
from models.popularity import buyers
from models.sparse import top_per_row


def popularity_scorer(matrix: sp.csr_matrix) -> Scorer:
    """Everyone gets the items with the most distinct buyers."""
    counts = buyers(matrix).astype(np.float32)
    return lambda rows: np.broadcast_to(counts, (len(rows), len(counts)))


def item_knn_scorer(matrix: sp.csr_matrix, neighbours: int = 100) -> Scorer:
    """Sum of cosine similarities to the owned items, `neighbours` kept per item."""
    binary = (matrix > 0).astype(np.float32)
    norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
    unit = (binary @ sp.diags(1.0 / np.maximum(norms, 1e-9))).tocsc()
    similar = (unit.T @ unit).tocsr()
    similar.setdiag(0)
    similar.eliminate_zeros()
    similar = top_per_row(similar, neighbours)
    return lambda rows: np.asarray((binary[rows] @ similar).todense())


def raw_als_scorer(matrix: sp.csr_matrix, seed: int = 0) -> Scorer:
    """implicit's AlternatingLeastSquares with its default settings, untuned."""
    model = AlternatingLeastSquares(random_state=seed)
    model.fit((matrix > 0).astype(np.float32).tocsr(), show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda rows: users[rows] @ items.T


def ease_scorer(matrix: sp.csr_matrix, lam: float = 500.0) -> Scorer:
    """EASE with the L2 penalty that measured best as a baseline."""
    model = fit_ease(matrix, lam=lam)
    return lambda rows: model.score_matrix(matrix[rows])
