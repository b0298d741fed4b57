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


def row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `matrix.data`/`.indices` of the entries of `rows`, and which row each is.

    Gathered straight from the CSR arrays: for a handful of rows many times faster than
    slicing the matrix.
    """
    rows = np.asarray(rows, dtype=np.int64)
    # int64 from the start: mixing with the int32 index arrays cast at every step (2x)
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1].astype(np.int64) - starts
    ends = lengths.cumsum()
    which = np.arange(len(rows)).repeat(lengths)
    offsets = np.arange(int(ends[-1]) if len(ends) else 0)
    offsets += (starts - ends + lengths)[which]
    return offsets, which


def row_sum(matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """The sum of some rows of a CSR matrix as a dense vector."""
    offsets, _ = row_entries(matrix, rows)
    values = matrix.data[offsets].astype(np.float64)
    return np.bincount(matrix.indices[offsets], weights=values, minlength=matrix.shape[1])
