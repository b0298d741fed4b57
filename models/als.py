"""Implicit-feedback ALS (Hu, Koren, Volinsky 2008) fitted with `implicit`, plus fold-in.

Fold-in computes the factors of a customer from their current history in closed
form, with the item factors fixed. That is how purchases made after training count
at request time, and how an unknown customer with a cart gets personal scores.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares


@dataclass(frozen=True)
class Als:
    """Customer and item factors, and what fold-in needs."""

    user_factors: np.ndarray  # float32, customers x factors
    item_factors: np.ndarray  # float32, items x factors
    regularization: float
    alpha: float

    def fold_in(self, history_items: np.ndarray) -> np.ndarray:
        """Factors of a customer who bought `history_items`: implicit's user step, exactly.

        implicit takes the confidence of a bought item to be alpha x its value (1 here)
        and solves (Y'Y + (c - 1) Yh'Yh + reg I) x = c Yh'1, with Yh the factors of the
        items bought; the same equations give the same factors as training.
        """
        factors = self.item_factors.shape[1]
        if len(history_items) == 0:
            return np.zeros(factors, dtype=np.float32)
        bought = self.item_factors[history_items].astype(np.float64)
        confidence = self.alpha
        system = self.gram + (confidence - 1.0) * bought.T @ bought
        system[np.diag_indices(factors)] += self.regularization
        rhs = confidence * bought.sum(axis=0)
        return np.linalg.solve(system, rhs).astype(np.float32)

    @cached_property
    def gram(self) -> np.ndarray:
        """YᵀY over all items, in float64 (computed once, used by every fold-in)."""
        y = self.item_factors.astype(np.float64)
        return y.T @ y


def fit_als(
    matrix: sp.csr_matrix,
    factors: int = 64,
    regularization: float = 0.1,
    alpha: float = 1.0,
    iterations: int = 15,
    seed: int = 0,
) -> Als:
    """Fit ALS on a customer x item matrix (implicit's CPU solver, conjugate gradient)."""
    model = AlternatingLeastSquares(
        factors=factors,
        regularization=regularization,
        alpha=alpha,
        iterations=iterations,
        random_state=seed,
    )
    model.fit(matrix.tocsr().astype(np.float32), show_progress=False)
    return Als(
        np.ascontiguousarray(model.user_factors, dtype=np.float32),
        np.ascontiguousarray(model.item_factors, dtype=np.float32),
        regularization,
        alpha,
    )
