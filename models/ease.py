"""EASE (Steck 2019): a closed-form item-item model, B = I - P / diag(P), P = (XᵀX + λI)⁻¹.

Inverting an items x items matrix costs O(n³), so the model covers the `max_items`
most bought items; the rest of the catalog is left to the other scorers. On the
Online Retail data every item fits.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp


@dataclass(frozen=True)
class Ease:
    """Item-item weights over `items` (indexes into the catalog)."""

    items: np.ndarray  # int32, the covered catalog indexes
    weights: np.ndarray  # float32, len(items) x len(items), zero diagonal
    n_items: int

    def row_sum(self, rows: np.ndarray, chunk: int = 256) -> np.ndarray:
        """Sum of some rows of `weights`, a chunk at a time: a wholesale customer with
        thousands of items must not copy thousands of rows at once."""
        total = self.weights[rows[:chunk]].sum(axis=0)
        for start in range(chunk, len(rows), chunk):
            total += self.weights[rows[start : start + chunk]].sum(axis=0)
        result: np.ndarray = total
        return result

    def score_matrix(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Scores for every row of a customer x item matrix at once (evaluation)."""
        scores = np.zeros((matrix.shape[0], self.n_items), dtype=np.float32)
        scores[:, self.items] = matrix[:, self.items] @ self.weights
        return scores

    @cached_property
    def position(self) -> np.ndarray:
        """Catalog index → row of `weights`, or -1 for an item the model does not cover."""
        position = np.full(self.n_items, -1, dtype=np.int64)
        position[self.items] = np.arange(len(self.items))
        return position


def fit_ease(matrix: sp.csr_matrix, lam: float = 500.0, max_items: int = 4000) -> Ease:
    """Fit EASE with L2 penalty `lam` on the `max_items` most bought items.

    The weights are computed in place in one items x items float32 array: at 4,000
    items each copy of it is 64 MB and a tenth of a second.
    """
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    items = np.sort(np.argsort(-counts, kind="stable")[:max_items]).astype(np.int32)
    items = items[counts[items] > 0]
    if not len(items):  # nothing bought (a subscription business): nothing to relate
        return Ease(items, np.zeros((0, 0), dtype=np.float32), matrix.shape[1])
    gram = _gram(matrix, items)
    gram[np.diag_indices_from(gram)] += lam
    weights = _spd_inverse(gram)
    weights /= -np.diag(weights).copy()
    np.fill_diagonal(weights, 0.0)
    return Ease(items, weights, matrix.shape[1])


def _gram(matrix: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
    """XᵀX over the columns `items`, dense float32.

    The columns are taken from a CSC copy (a column slice of CSR walks every row),
    and the product is CSR times CSR: three times faster than `sub.T @ sub`.
    """
    columns = sp.csc_matrix(matrix, dtype=np.float32)[:, items]
    product = (columns.T.tocsr() @ columns.tocsr()).toarray()
    return np.asarray(product, dtype=np.float32)


def _spd_inverse(gram: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix, by Cholesky (LAPACK potrf/potri).

    Twice as fast as a general inverse, and float32 is accurate enough here (the
    ridge `lam` keeps the matrix well conditioned). BLAS stays on one thread, as
    implicit requires; training runs this beside the ALS fit instead. `gram` is
    overwritten: LAPACK works on its transpose (the same matrix, and a C array seen
    as Fortran needs no copy), and returns the inverse's lower triangle in place.
    """
    factor, info = sl.lapack.spotrf(gram.T, lower=0, overwrite_a=1)
    if info == 0:
        inverse, info = sl.lapack.spotri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE gram matrix is not positive definite (info {info})")
    full: np.ndarray = inverse.T
    _mirror_lower(full)
    return full


def _mirror_lower(square: np.ndarray, block: int = 512) -> None:
    """Copy the lower triangle of a C-ordered square array onto its upper one, in place.

    A block at a time, so no second n x n array is made.
    """
    n = len(square)
    for start in range(0, n, block):
        end = min(start + block, n)
        diagonal = square[start:end, start:end]
        upper = np.triu_indices(end - start, 1)
        diagonal[upper] = diagonal.T[upper]
        square[start:end, end:] = square[end:, start:end].T
