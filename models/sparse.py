"""Sparse-matrix helpers shared by the scorers."""

import numpy as np
import scipy.sparse as sp


def top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of every row (ties: lower column first)."""
    matrix = matrix.tocsr()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])),
        shape=matrix.shape,
        dtype=matrix.dtype,
    )


def row_sum(
    matrix: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """The (weighted) sum of some rows of a CSR matrix as a dense vector.

    Gathers the rows' entries straight from the CSR arrays, which for a handful of rows
    is many times faster than slicing the matrix.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts, ends = matrix.indptr[rows], matrix.indptr[rows + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    values = matrix.data[offsets].astype(np.float64)
    if weights is not None:
        values *= np.repeat(weights, lengths)
    return np.bincount(matrix.indices[offsets], weights=values, minlength=matrix.shape[1])
