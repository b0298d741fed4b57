"""Upgrade propensity: a calibrated probability from a logistic regression, and its metrics.

Why logistic regression: the probability it gives is calibrated by construction on the
data it was fitted on (an offer's expected value multiplies it by money), and each
coefficient is an odds ratio a salesperson can say out loud ("accounts near a limit
upgrade 20x as often"), which is how the README reports the drivers it recovers.
Fitted with L-BFGS on standardised features with a small L2 penalty, then turned back
into raw units, so scoring one subscriber is one dot product.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

L2 = 1e-3  # penalty per standardised coefficient, per row: keeps separable data finite


@dataclass(frozen=True)
class Propensity:
    """A fitted logistic model in raw feature units."""

    names: list[str]  # feature names, one per coefficient
    coef: np.ndarray  # float64 per feature: log odds ratio per unit of the feature
    intercept: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(upgrade within the horizon) per row of `features` (rows x len(names))."""
        result: np.ndarray = expit(features @ self.coef + self.intercept)
        return result

    def odds_ratios(self) -> dict[str, float]:
        """exp(coefficient): how many times the odds grow per unit (or with a flag set)."""
        return {n: float(np.exp(c)) for n, c in zip(self.names, self.coef, strict=True)}


def fit_propensity(features: np.ndarray, upgraded: np.ndarray, names: list[str]) -> Propensity:
    """Fit P(upgraded | features); constant columns get a coefficient of 0."""
    from scipy.optimize import minimize  # half a second to import; serving never fits

    mean = features.mean(axis=0)
    sd = features.std(axis=0)
    scale = np.where(sd > 0, sd, 1.0)
    x = np.column_stack([(features - mean) / scale, np.ones(len(features))])
    y = upgraded.astype(np.float64)
    penalty = np.r_[np.full(features.shape[1], L2 * len(x)), 0.0]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        value = -(y * log_expit(z) + (1 - y) * log_expit(-z)).sum() + 0.5 * penalty @ (w * w)
        gradient = x.T @ (expit(z) - y) + penalty * w
        return float(value), gradient

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
    coef = np.where(sd > 0, w[:-1] / scale, 0.0)
    return Propensity(names, coef, float(w[-1] - coef @ mean))


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(a random positive scores above a random negative), ties counting half."""
    from scipy.stats import rankdata  # slow to import, and only evaluation ranks

    pos = positive.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_at_k(scores: np.ndarray, positive: np.ndarray, k: int) -> float:
    """Share of positives among the `k` highest scores (ties broken by position)."""
    top = np.argsort(-scores, kind="stable")[:k]
    return float(positive[top].mean()) if len(top) else float("nan")


def calibration(
    probability: np.ndarray, positive: np.ndarray, bins: int = 10
) -> list[tuple[float, float, int]]:
    """(mean predicted, observed rate, rows) per decile of predicted probability."""
    order = np.argsort(probability, kind="stable")
    return [
        (float(probability[part].mean()), float(positive[part].mean()), len(part))
        for part in np.array_split(order, bins)
        if len(part)
    ]
