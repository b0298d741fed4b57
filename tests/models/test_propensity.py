"""Upgrade propensity: planted drivers come back as odds ratios; metrics match hand counts."""

import numpy as np
import pytest

from models.propensity import calibration, fit_propensity, precision_at_k, roc_auc


def planted(n: int = 60_000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Subscribers whose upgrade odds are known: near a limit x20, open complaint x0.2."""
    rng = np.random.default_rng(seed)
    near_limit = rng.random(n) < 0.3
    complaint = rng.random(n) < 0.2
    tenure_years = rng.uniform(0, 3, n)
    noise = rng.normal(size=n)  # unrelated to upgrading
    logit = -3.0 + np.log(20) * near_limit + np.log(0.2) * complaint + 0.3 * tenure_years
    upgraded = rng.random(n) < 1 / (1 + np.exp(-logit))
    return np.column_stack([near_limit, complaint, tenure_years, noise]).astype(float), upgraded


def test_planted_drivers_come_back_as_odds_ratios() -> None:
    features, upgraded = planted()
    model = fit_propensity(features, upgraded, ["near_limit", "complaint", "tenure", "noise"])
    ratios = model.odds_ratios()
    assert ratios["near_limit"] == pytest.approx(20, rel=0.15)
    assert ratios["complaint"] == pytest.approx(0.2, rel=0.2)
    assert ratios["tenure"] == pytest.approx(np.exp(0.3), rel=0.1)
    assert ratios["noise"] == pytest.approx(1.0, abs=0.05)


def test_probabilities_are_calibrated_on_fresh_data() -> None:
    features, upgraded = planted(seed=1)
    model = fit_propensity(features, upgraded, ["a", "b", "c", "d"])
    test_features, test_upgraded = planted(seed=2)
    for predicted, observed, rows in calibration(model.probability(test_features), test_upgraded):
        assert rows == 6_000
        assert observed == pytest.approx(predicted, abs=0.03)


def test_a_constant_feature_gets_no_weight() -> None:
    features, upgraded = planted(n=5_000)
    features[:, 3] = 7.0
    model = fit_propensity(features, upgraded, ["a", "b", "c", "constant"])
    assert model.coef[3] == 0.0
    assert np.isfinite(model.probability(features)).all()


def test_roc_auc_counts_pairs_with_ties_as_half() -> None:
    positive = np.array([1, 0, 1, 0, 0], dtype=bool)
    assert roc_auc(np.array([0.9, 0.1, 0.8, 0.2, 0.3]), positive) == 1.0
    assert roc_auc(np.array([0.1, 0.9, 0.2, 0.8, 0.7]), positive) == 0.0
    # Positives 0.5 and 0.2 against negatives 0.5, 0.1, 0.3: pairs won 0.5+1+1 and 0+1+0.
    assert roc_auc(np.array([0.5, 0.5, 0.2, 0.1, 0.3]), positive) == pytest.approx(3.5 / 6)
    assert np.isnan(roc_auc(np.array([0.1, 0.2]), np.array([True, True])))


def test_precision_at_k_is_the_share_of_positives_in_the_top_k() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    positive = np.array([True, False, True, True])
    assert precision_at_k(scores, positive, 2) == 0.5
    assert precision_at_k(scores, positive, 3) == pytest.approx(2 / 3)
