"""Every kind of upsell answer, on the demo ladder, under the learned model and the rules."""

import dataclasses

import numpy as np
import pytest

from models.ladder import Ladder
from models.propensity import Propensity
from models.upgrades import BANDS, DAY, FEATURES
from models.upsell import (
    Policy,
    Subscriber,
    UpsellModel,
    decide,
    fit_upsell,
    yearly_saving,
)

# Lite 9, Standard 29, Pro 79, Enterprise 249 a month; annual = 10 months; seats, storage GB.
LADDER = Ladder(
    ladder=np.zeros(4, dtype=np.int32),
    rank=np.array([1, 2, 3, 4], dtype=np.int32),
    monthly=np.array([9.0, 29.0, 79.0, 249.0]),
    limits=np.array([[3, 10], [10, 100], [25, 500], [100, 2000]], dtype=float),
    metrics=["seats", "storage_gb"],
)
LITE, STANDARD, PRO, ENTERPRISE = range(4)
NOW = 1_800_000_000
POLICY = Policy()


def constant(probability: float | None) -> Propensity:
    """A model giving `probability` to everyone."""
    intercept = float(np.log(probability / (1 - probability))) if probability else 0.0
    return Propensity(list(FEATURES), np.zeros(len(FEATURES)), intercept)


def model(probability: float | None, churn: float | None = None) -> UpsellModel:
    """A model whose learned probability is `probability` for everyone (None: rules),
    and whose churn risk is `churn` for everyone (None: not learned; base rate 5 %)."""
    learned = probability is not None
    return UpsellModel(
        ladder=LADDER,
        annual=LADDER.monthly * 10,
        propensity=constant(probability),
        learned=learned,
        band_rate=np.array([0.02, 0.09, 0.3, 0.55]),
        base_rate=0.1,
        horizon_days=90,
        loyal_min_sales=500.0,
        training_rows=1000 if learned else 0,
        training_upgrades=100 if learned else 0,
        coverage={},
        churn=constant(churn),
        churn_learned=churn is not None,
        churn_base_rate=0.05,
    )


def subscriber(
    plan: int = STANDARD,
    seats: float = 5,
    seats_before: float | None = None,
    storage: float | None = None,
    annual: bool = False,
    status: str = "active",
    tenure_days: float = 400,
    renews_in_days: float | None = None,
    complaint: bool = False,
    loyal: bool = True,
) -> Subscriber:
    storage = LADDER.limits[plan, 1] * 0.2 if storage is None else storage
    before = seats if seats_before is None else seats_before
    renews = None if renews_in_days is None else NOW + int(renews_in_days * DAY)
    return Subscriber(
        plan=plan,
        annual=annual,
        status=status,
        started=NOW - int(tenure_days * DAY),
        renews=renews,
        usage=np.array([seats, storage]),
        before=np.array([before, storage]),
        features=np.zeros(len(FEATURES)),
        open_complaint=complaint,
        loyal=loyal,
    )


BOTH = pytest.mark.parametrize("probability", [0.6, None], ids=["learned", "rules"])


@BOTH
def test_95_percent_of_seats_is_upgrade_now_to_the_next_tier(probability: float | None) -> None:
    # 9.5 of 10 seats on Standard, growing slowly: Pro (25 seats) covers six months ahead.
    decision = decide(model(probability), subscriber(seats=9.5, seats_before=9), NOW, POLICY)
    assert decision.kind == "upgrade"
    assert decision.target == PRO and not decision.skipped
    assert decision.when == "now" and decision.at is None


@BOTH
def test_a_renewal_in_10_days_is_upgrade_at_renewal(probability: float | None) -> None:
    # 7 of 10 seats, annual, loyal: no pressure now, but the renewal is the moment.
    sub = subscriber(seats=7, annual=True, renews_in_days=10)
    decision = decide(model(probability and 0.4), sub, NOW, POLICY)
    assert decision.kind == "upgrade" and decision.target == PRO
    assert decision.when == "at_renewal"
    assert decision.at == NOW + 10 * DAY


@BOTH
def test_monthly_loyal_and_stable_is_billing_with_the_saving(probability: float | None) -> None:
    m = model(probability and 0.05)
    decision = decide(m, subscriber(seats=5, annual=False), NOW, POLICY)
    assert decision.kind == "billing"
    assert decision.target == STANDARD and decision.annual
    assert yearly_saving(m, STANDARD) == 12 * 29 - 290  # 58 a year


@BOTH
def test_an_open_complaint_is_not_now(probability: float | None) -> None:
    sub = subscriber(seats=10, complaint=True)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "open_complaint")


@BOTH
def test_the_top_tier_is_not_now(probability: float | None) -> None:
    sub = subscriber(plan=ENTERPRISE, seats=99, annual=True)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "top_tier")


@BOTH
def test_usage_needing_two_steps_skips_a_level(probability: float | None) -> None:
    # 3 of 3 seats on Lite, doubled in three months: 12 in six months; Standard has 10,
    # Pro 25. Pro costs 8.8x Lite, so the skip needs a cap above the default 4x...
    sub = subscriber(plan=LITE, seats=3, seats_before=1.5)
    decision = decide(model(probability), sub, NOW, Policy(max_price_multiple=10))
    assert decision.kind == "upgrade" and decision.target == PRO and decision.skipped
    # ...under the default cap the step the customer can afford is offered instead.
    decision = decide(model(probability), sub, NOW, POLICY)
    assert decision.kind == "upgrade" and decision.target == STANDARD and not decision.skipped


@BOTH
def test_a_price_jump_above_the_limit_is_not_offered(probability: float | None) -> None:
    # 30 seats on Standard: only Enterprise (100 seats) covers them, at 8.6x the price.
    sub = subscriber(seats=30, seats_before=28)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "price_cap")
    assert decision.target is None
    looser = Policy(max_price_multiple=10)
    assert decide(model(probability), sub, NOW, looser).target == ENTERPRISE


@BOTH
def test_over_a_limit_now_the_affordable_step_is_offered(probability: float | None) -> None:
    # 14 of 10 seats, projected past Pro's 25: Enterprise is over the cap, Pro covers today.
    sub = subscriber(seats=14, seats_before=8)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert decision.kind == "upgrade" and decision.target == PRO


def test_no_subscription_is_not_now_no_plan() -> None:
    decision = decide(model(0.5), None, NOW, POLICY)
    assert (decision.kind, decision.why_not, decision.facts) == ("not_now", "no_plan", None)


@BOTH
def test_a_trial_just_started_is_left_alone(probability: float | None) -> None:
    sub = subscriber(seats=10, status="trial", tenure_days=3, renews_in_days=11)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "trial_started")


@BOTH
def test_a_trial_near_its_end_upgrades_at_the_trial_end(probability: float | None) -> None:
    sub = subscriber(seats=10, status="trial", tenure_days=10, renews_in_days=4)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert decision.kind == "upgrade" and decision.when == "at_trial_end"
    assert decision.at == NOW + 4 * DAY


@BOTH
def test_a_customer_past_due_is_offered_a_cheaper_plan_that_fits(
    probability: float | None,
) -> None:
    # 2 seats and 30 GB on Pro: Standard covers them with room to spare; Lite's 10 GB
    # does not.
    sub = subscriber(plan=PRO, seats=2, storage=30, status="past_due")
    decision = decide(model(probability), sub, NOW, POLICY)
    assert decision.kind == "retain" and decision.target == STANDARD and not decision.annual
    assert decision.at_risk == ("past_due",)


@BOTH
def test_falling_usage_on_the_lowest_plan_is_retained_with_annual_billing(
    probability: float | None,
) -> None:
    sub = subscriber(plan=LITE, seats=1, seats_before=3)
    decision = decide(model(probability), sub, NOW, POLICY)
    assert decision.kind == "retain" and decision.annual and decision.target == LITE
    assert decision.at_risk == ("usage_drop",)


def test_a_learned_churn_risk_well_above_the_usual_is_retained_not_upsold() -> None:
    """Usage at 95 % and an upgrade likely, but a 40 % chance of cancelling (8x the 5 %
    base rate): the answer keeps the customer; at 12 % (2.4x) it is the upgrade."""
    sub = subscriber(plan=PRO, seats=24, storage=30)
    risky = decide(model(0.6, churn=0.4), sub, NOW, POLICY)
    assert risky.kind == "retain" and risky.annual and risky.target == PRO  # nothing cheaper
    assert risky.at_risk == ("churn_risk",) and risky.facts and risky.facts.churn == 0.4
    quiet = decide(model(0.6, churn=0.4), subscriber(plan=PRO, seats=2, storage=30), NOW, POLICY)
    assert quiet.kind == "retain" and quiet.target == STANDARD  # a cheaper plan that fits
    assert decide(model(0.6, churn=0.12), sub, NOW, POLICY).kind == "upgrade"
    complaining = subscriber(plan=PRO, seats=24, storage=30, complaint=True)
    held = decide(model(0.6, churn=0.4), complaining, NOW, POLICY)  # no offer, risk shown
    assert (held.kind, held.why_not, held.at_risk) == ("not_now", "open_complaint", ("churn_risk",))
    floor = Policy(churn_lift=1.0, churn_floor=0.5)
    assert decide(model(0.6, churn=0.4), sub, NOW, floor).kind == "upgrade"


@BOTH
def test_a_new_customer_who_is_not_loyal_is_not_offered_annual_billing(
    probability: float | None,
) -> None:
    sub = subscriber(seats=5, tenure_days=40, loyal=False)
    decision = decide(model(probability and 0.05), sub, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "low_loyalty")


def test_the_learned_probability_decides_not_the_usage_alone() -> None:
    # At 85 % of seats the rules would offer now; a model that learned these accounts
    # rarely upgrade (10 %) does not.
    sub = subscriber(seats=8.5, annual=True)
    assert decide(model(None), sub, NOW, POLICY).kind == "upgrade"
    decision = decide(model(0.1), sub, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "no_need")
    assert decision.facts is not None and decision.facts.probability == pytest.approx(0.1)


def test_with_too_little_history_the_rules_decide() -> None:
    from tests.models.test_upgrades import LADDER as SMALL
    from tests.models.test_upgrades import history

    fitted = fit_upsell(history(), SMALL, np.full(3, np.nan), 500 * DAY, 100.0)
    assert not fitted.learned
    assert fitted.band_rate.shape == (len(BANDS) + 1,)


@BOTH
def test_no_usage_reading_is_not_now_and_never_annual_billing(probability: float | None) -> None:
    """Unknown usage is not 0 % usage: no plan can be said to fit, so nothing is sold
    on it, annual billing included (it would promise the plan fits for a year)."""
    sub = subscriber(seats=5, annual=False)
    unknown = dataclasses.replace(sub, usage=np.full(2, np.nan), before=np.full(2, np.nan))
    assert decide(model(probability and 0.05), sub, NOW, POLICY).kind == "billing"
    decision = decide(model(probability and 0.9), unknown, NOW, POLICY)
    assert (decision.kind, decision.why_not) == ("not_now", "no_usage")
    assert decision.facts is not None and decision.facts.worst == -1


def test_an_account_on_the_top_tier_has_probability_zero() -> None:
    sub = subscriber(plan=ENTERPRISE, seats=99, annual=True)
    decision = decide(model(0.88), sub, NOW, POLICY)
    assert decision.facts is not None and decision.facts.probability == 0.0
    below = decide(model(0.88), subscriber(plan=PRO, seats=20), NOW, POLICY)
    assert below.facts is not None and below.facts.probability == pytest.approx(0.88)


def test_annual_billing_is_offered_only_above_the_minimum_saving() -> None:
    """An annual price that saves 1 % of twelve months is no offer under the default 5 %;
    a policy without a minimum offers it."""
    m = dataclasses.replace(model(0.05), annual=LADDER.monthly * 12 * 0.99)
    sub = subscriber(seats=5, annual=False)
    assert decide(m, sub, NOW, POLICY).why_not == "no_need"
    assert decide(m, sub, NOW, Policy(min_billing_saving=0.0)).kind == "billing"
