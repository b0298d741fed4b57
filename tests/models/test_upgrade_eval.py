"""Upgrade propensity on the generated SaaS data, whose planted drivers are documented."""

import pytest

from app.demo import saas
from app.demo.shop import DAY
from models.ladder import Ladder
from models.upgrade_eval import evaluate_upgrades, fit_upgrades
from models.upgrades import SaasHistory, profile

CUTOFF = 1_790_000_000 // DAY * DAY


@pytest.fixture(scope="module")
def demo() -> tuple[SaasHistory, Ladder]:
    """The demo generator's SaaS half for 60,000 customers, as arrays by customer index."""
    history, ladder = saas.simulated(60_000, CUTOFF)
    return history, ladder


def test_learned_propensity_finds_the_upgraders(demo: tuple[SaasHistory, Ladder]) -> None:
    results, sizes, _ = evaluate_upgrades(*demo, CUTOFF - 90 * DAY, compare=False)
    learned, rule = results["learned propensity"], results["usage-ratio rule"]
    assert sizes["upgraders"] > 1000
    assert learned["ROC AUC"] > results["tenure"]["ROC AUC"] + 0.2
    assert learned["ROC AUC"] > results["random"]["ROC AUC"] + 0.2
    assert learned["ROC AUC"] > rule["ROC AUC"] + 0.004
    assert learned["precision@100"] > rule["precision@100"]
    assert learned["tier accuracy"] > 0.95  # the lowest plan covering projected usage


def test_the_propensity_is_calibrated_and_measured_against_other_models(
    demo: tuple[SaasHistory, Ladder],
) -> None:
    """Brier score beside AUC, and predicted against observed by decile: a probability an
    offer's expected value multiplies must mean what it says."""
    results, sizes, reliability = evaluate_upgrades(*demo, CUTOFF - 90 * DAY)
    base = sizes["upgraders"] / sizes["subscribers"]
    learned = results["learned propensity"]
    assert learned["Brier"] < 0.85 * base * (1 - base)  # the Brier of saying the base rate
    for other in ("logistic regression on the raw columns", "gradient boosting, calibrated"):
        assert 0.5 < results[other]["ROC AUC"] <= 1 and results[other]["Brier"] > 0
    assert results["usage-ratio rule"]["Brier"] != results["usage-ratio rule"]["Brier"]  # NaN
    assert (
        len(reliability) == 10 and sum(rows for _, _, rows in reliability) == sizes["subscribers"]
    )
    for predicted, observed, _ in reliability:
        assert abs(predicted - observed) < 0.05 + 0.2 * predicted


def test_the_upgrade_campaign_list_finds_upgraders(demo: tuple[SaasHistory, Ladder]) -> None:
    """The campaign route's ranking (expected value, complaints left out) at k = 200."""
    results, _, _ = evaluate_upgrades(*demo, CUTOFF - 90 * DAY, k=200, compare=False)
    campaign = results["campaign list (expected value, complaints out)"]
    assert campaign["precision@200"] > 3 * results["random"]["precision@200"]


def test_planted_drivers_point_the_right_way(demo: tuple[SaasHistory, Ladder]) -> None:
    model = fit_upgrades(*demo, CUTOFF)

    def odds(ratio: float, **flags: bool) -> float:
        p = float(model.probability(profile(ratio, **flags)[None])[0])
        return p / (1 - p)

    # Odds against a subscriber at 40 % of a limit; planted 90-day odds ratios of the
    # 60-80 %, 80-95 % and 95 %+ bands are about 6, 31 and 91.
    bands = [odds(r) / odds(0.4) for r in (0.7, 0.875, 1.0)]
    assert 3 < bands[0] < bands[1] < bands[2]
    assert bands[1] > 15
    assert odds(0.7, complaint=True) / odds(0.7) < 0.8  # planted x0.2 per month while open
    assert odds(0.7, loyal=True) / odds(0.7) > 1.2  # planted x1.5
