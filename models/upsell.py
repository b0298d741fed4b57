"""The plan-ladder upsell decision for one subscriber: upgrade, billing, retain or not now.

Why an ordered list of gates: the answer must never be pushy, so the reasons not to
offer anything come first (no plan, an open complaint, a trial that just started),
then a customer at risk gets a retention offer instead of a sale, and only then is an
upgrade, or a switch to annual billing, considered. Each gate is a documented rule
with its threshold in `Policy`; whether a subscriber wants an upgrade comes from the
learned propensity when there was enough history to fit one, else from rules
(`source: rules` in the answer).

Timing follows the reason for the offer: usage pressing a limit means now, an annual
renewal coming up means at renewal, a trial means at its end.
"""

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from models.churn import fit_churn, risk_threshold
from models.ladder import OVER_CAP, TOP_TIER, Ladder, project, target_plans
from models.propensity import Propensity, fit_propensity
from models.upgrade_eval import coverage, training_rows
from models.upgrades import BANDS, DAY, FEATURES, TREND_DAYS, SaasHistory, pressure_of_one

Kind = Literal["upgrade", "billing", "retain", "not_now"]
When = Literal["now", "at_renewal", "at_trial_end"]
YEAR_DAYS = 365


@dataclass(frozen=True)
class Policy:
    """The thresholds of the upsell rules (README: "Upsell rules")."""

    pressure: float = 0.8  # usage / limit from which an upgrade is needed now
    renewal_window_days: int = 30  # an annual renewal this close: upgrade at renewal
    trial_grace_days: int = 7  # a trial younger than this is left alone
    min_probability: float = 0.25  # learned P(upgrade within the horizon) worth an offer
    max_price_multiple: float = 4.0  # a target plan may cost at most this x the current one
    projection_months: float = 6.0  # the target plan covers usage this far ahead
    stable_growth: float = 0.15  # |log growth| over 90 days under which usage is stable
    billing_tenure_days: int = 180  # tenure that makes annual billing a fair suggestion...
    drop: float = 0.3  # usage down by this share in 90 days: the customer is at risk
    headroom: float = 1.25  # a cheaper plan offered to retain must cover usage x this
    rules_renewal_ratio: float = 0.6  # rules: usage worth an upgrade at renewal
    min_billing_saving: float = 0.05  # annual billing is offered when it saves this share
    churn_lift: float = 3.0  # learned churn risk this many times the base rate is at risk...
    churn_floor: float = 0.1  # ...and at least this probability of cancelling in the horizon


@dataclass(frozen=True)
class UpsellModel:
    """What training learned for the upsell route (part of the artifact)."""

    ladder: Ladder
    annual: np.ndarray  # float64 per plan: the annual price, NaN where none
    propensity: Propensity  # meaningful only when `learned`
    learned: bool  # False: too little history, the rules decide
    band_rate: np.ndarray  # float64 per usage band (BANDS): share upgrading in training
    base_rate: float  # the same over every training row
    horizon_days: int
    loyal_min_sales: float  # a year's sales that make a shop customer loyal; inf: nobody
    training_rows: int  # subscriber-months learned from
    training_upgrades: int  # of which upgraded within the horizon
    coverage: dict[str, Any]  # subscriptions learned from, and why the others were not
    churn: Propensity  # P(the subscription ends within the horizon); meaningful if learned
    churn_learned: bool
    churn_base_rate: float  # the share of training rows that ended within the horizon


@dataclass(frozen=True)
class Subscriber:
    """What is known now of one customer's live subscription."""

    plan: int  # index into the ladder
    annual: bool
    status: str  # trial, active or past_due
    started: int  # epoch seconds
    renews: int | None  # the next renewal (trial end for a trial), if known
    usage: np.ndarray  # float64 per metric, NaN without a reading
    before: np.ndarray  # the same TREND_DAYS earlier
    features: np.ndarray  # models.upgrades.FEATURES, as training built them
    open_complaint: bool
    loyal: bool


@dataclass(frozen=True)
class Facts:
    """Where the subscriber's usage stands: every answer reports it."""

    ratio: float  # highest usage / limit over the metrics
    worst: int  # the metric of that ratio, -1 when nothing is measured against a limit
    growth: float  # log growth of that metric over TREND_DAYS
    projected: np.ndarray  # usage per metric `Policy.projection_months` ahead
    tenure_days: float
    probability: float | None  # learned P(upgrade within the horizon); None under rules
    # (0 on the top tier: nobody there can upgrade)
    churn: float | None = None  # learned P(cancelling within the horizon); None unlearned


@dataclass(frozen=True)
class Decision:
    """The answer and the facts behind it (the app words the reasons)."""

    kind: Kind
    facts: Facts | None = None  # None only without a subscription
    why_not: str | None = None  # not_now: no_plan, open_complaint, trial_started, ...
    target: int | None = None  # plan index: upgrade, cheaper plan to retain, or billing's own
    annual: bool = False  # the offer is annual billing (billing, or retain by discount)
    when: When | None = None
    at: int | None = None  # epoch seconds of `when` when it is not now
    skipped: bool = False  # the upgrade goes more than one step up
    at_risk: tuple[str, ...] = ()  # past_due, usage_drop, churn_risk


def decide(model: UpsellModel, sub: Subscriber | None, now: int, policy: Policy) -> Decision:
    """The one answer for this subscriber now (see the module docstring for the order)."""
    if sub is None:
        return Decision("not_now", why_not="no_plan")
    facts = _facts(model, sub, now, policy)
    risks = _risks(model, sub, facts, policy)
    if sub.open_complaint:  # no offer of any kind, but a CRM sees the risk
        return Decision("not_now", facts, "open_complaint", at_risk=risks)
    if sub.status == "trial" and facts.tenure_days < policy.trial_grace_days:
        return Decision("not_now", facts, "trial_started")
    if risks:
        return _retain(model, sub, facts, risks, policy)
    target, why = _target(model, sub, facts, policy)
    wants = _wants(sub, facts, now, policy)
    if facts.worst < 0 and why[0] != TOP_TIER:  # no reading: no plan to point at, no
        return Decision("not_now", facts, "no_usage")  # proof the plan fits for a year
    if why[0] == 0 and wants:
        when, at = _timing(sub, facts, now, policy)
        up = int(target[0])
        skipped = bool(model.ladder.rank[up] > model.ladder.rank[sub.plan] + 1)
        return Decision("upgrade", facts, target=up, when=when, at=at, skipped=skipped)
    billable = not sub.annual and _billable(model, sub, policy) and _steady(facts, policy)
    if billable and _loyal(sub, facts, policy):
        return Decision("billing", facts, target=sub.plan, annual=True, when="now")
    if why[0] == TOP_TIER:
        return Decision("not_now", facts, "top_tier")
    if why[0] == OVER_CAP and wants:
        return Decision("not_now", facts, "price_cap")
    return Decision("not_now", facts, "low_loyalty" if billable else "no_need")


def next_renewal(sub: Subscriber, now: int) -> int | None:
    """The next annual renewal after `now` (anniversaries of the recorded one)."""
    if sub.renews is None or not sub.annual:
        return None
    if sub.renews > now:
        return sub.renews
    year = YEAR_DAYS * DAY
    return sub.renews + year * ((now - sub.renews) // year + 1)


def yearly_saving(model: UpsellModel, plan: int) -> float:
    """12 monthly payments minus the annual price (0 without an annual price)."""
    annual = float(model.annual[plan])
    if np.isnan(annual):
        return 0.0
    return max(0.0, 12 * float(model.ladder.monthly[plan]) - annual)


def band_of(ratio: float) -> int:
    """The usage band: 0 below 60 %, 1 to 80 %, 2 to 95 %, 3 from 95 % (models.upgrades)."""
    return int(np.searchsorted(BANDS, ratio, side="right"))


def _facts(model: UpsellModel, sub: Subscriber, now: int, policy: Policy) -> Facts:
    limits = model.ladder.limits[sub.plan]
    top, growth = pressure_of_one(sub.usage, sub.before, limits)
    measured = ~np.isnan(sub.usage) & np.isfinite(limits)
    worst = int(np.where(measured, sub.usage / limits, -1.0).argmax()) if measured.any() else -1
    months = TREND_DAYS / 30.44
    probability = None
    if model.learned:
        ladder, plan = model.ladder, sub.plan
        higher = (ladder.ladder == ladder.ladder[plan]) & (ladder.rank > ladder.rank[plan])
        learned = float(model.propensity.probability(sub.features[None])[0])
        probability = learned if higher.any() else 0.0
    churn = None
    if model.churn_learned:
        churn = float(model.churn.probability(sub.features[None])[0])
    return Facts(
        ratio=top,
        worst=worst,
        growth=growth,
        projected=project(sub.usage, sub.before, months, policy.projection_months),
        tenure_days=(now - sub.started) / DAY,
        probability=probability,
        churn=churn,
    )


def _target(
    model: UpsellModel, sub: Subscriber, facts: Facts, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    """The plan covering projected usage; when that one is over the price cap, the plan
    covering today's usage, if it is within the cap (a customer over a limit now still
    needs the step they can afford)."""
    plan, cap = np.array([sub.plan]), policy.max_price_multiple
    target, why = target_plans(model.ladder, plan, facts.projected[None], cap)
    if why[0] == OVER_CAP:
        nearer, why_now = target_plans(model.ladder, plan, sub.usage[None], cap)
        if why_now[0] == 0:
            return nearer, why_now
    return target, why


def _risks(model: UpsellModel, sub: Subscriber, facts: Facts, policy: Policy) -> tuple[str, ...]:
    """Why this customer may leave: a payment past due, usage falling away, a learned
    chance of cancelling well above the usual (`churn_risk`)."""
    risks = []
    if sub.status == "past_due":
        risks.append("past_due")
    if facts.growth <= np.log(1 - policy.drop):
        risks.append("usage_drop")
    threshold = risk_threshold(model.churn_base_rate, policy.churn_lift, policy.churn_floor)
    if facts.churn is not None and facts.churn >= threshold:  # a float: no array per request
        risks.append("churn_risk")
    return tuple(risks)


def _wants(sub: Subscriber, facts: Facts, now: int, policy: Policy) -> bool:
    """Learned: the probability clears the bar. Rules: pressure, or renewal with loyalty."""
    if facts.probability is not None:
        return facts.probability >= policy.min_probability
    if facts.ratio >= policy.pressure:
        return True
    renewal = next_renewal(sub, now)
    soon = renewal is not None and renewal - now <= policy.renewal_window_days * DAY
    tenured = facts.tenure_days >= YEAR_DAYS
    return soon and facts.ratio >= policy.rules_renewal_ratio and (sub.loyal or tenured)


def _timing(sub: Subscriber, facts: Facts, now: int, policy: Policy) -> tuple[When, int | None]:
    """Trial: at its end. Pressure: now. An annual renewal near: at renewal. Else now."""
    if sub.status == "trial":
        return "at_trial_end", sub.renews or sub.started + 14 * DAY
    if facts.ratio >= policy.pressure:
        return "now", None
    renewal = next_renewal(sub, now)
    if renewal is not None and renewal - now <= policy.renewal_window_days * DAY:
        return "at_renewal", renewal
    return "now", None


def _billable(model: UpsellModel, sub: Subscriber, policy: Policy) -> bool:
    """A paying customer on a plan whose annual price saves money."""
    return sub.status == "active" and _saves(model, sub.plan, policy)


def _saves(model: UpsellModel, plan: int, policy: Policy) -> bool:
    """Annual billing saves at least `Policy.min_billing_saving` of 12 monthly payments:
    "save 0.02 a year" is not an offer worth a customer's attention."""
    saving = yearly_saving(model, plan)
    monthly = float(model.ladder.monthly[plan])
    return saving > 0 and saving >= policy.min_billing_saving * 12 * monthly


def _steady(facts: Facts, policy: Policy) -> bool:
    """Usage measured, neither growing toward a limit nor falling: the plan fits for a
    year. Unknown usage shows nothing of the kind."""
    steady = abs(facts.growth) <= policy.stable_growth and facts.ratio < policy.pressure
    return facts.worst >= 0 and steady


def _loyal(sub: Subscriber, facts: Facts, policy: Policy) -> bool:
    return sub.loyal or facts.tenure_days >= policy.billing_tenure_days


def _retain(
    model: UpsellModel, sub: Subscriber, facts: Facts, risks: tuple[str, ...], policy: Policy
) -> Decision:
    """The nearest cheaper plan that covers measured usage with headroom, else annual at
    a discount."""
    ladder = model.ladder
    lower = (ladder.ladder == ladder.ladder[sub.plan]) & (ladder.rank < ladder.rank[sub.plan])
    need = np.nan_to_num(sub.usage, nan=0.0) * policy.headroom
    covers = lower & np.all(ladder.limits >= need[None, :], axis=1)
    if facts.worst >= 0 and covers.any():  # unknown usage: no plan is known to cover it
        target = int(np.where(covers, ladder.rank, -1).argmax())
        return Decision("retain", facts, target=target, when="now", at_risk=risks)
    if not sub.annual and _saves(model, sub.plan, policy):
        return Decision("retain", facts, target=sub.plan, annual=True, when="now", at_risk=risks)
    return Decision("not_now", facts, "at_risk", at_risk=risks)


MIN_EXAMPLES = 30  # upgrades, and subscribers who did not, needed to learn from history


def fit_upsell(
    history: SaasHistory,
    ladder: Ladder,
    annual: np.ndarray,
    until: int,
    loyal_min_sales: float,
    horizon_days: int = 90,
) -> UpsellModel:
    """The propensity fitted on monthly snapshots whose horizon ended by `until`.

    With fewer than MIN_EXAMPLES upgrades (or non-upgrades) there is nothing to learn
    from: the model says so (`learned` False) and the rules decide.
    """
    first = int(history.sub_started.min()) if len(history.sub_started) else until
    rows = training_rows(history, ladder, until, horizon_days, first)
    upgraded = rows.upgraded
    band = rows.features[:, 2:5] @ np.arange(1, 4) if len(upgraded) else np.zeros(0)
    counts = np.bincount(band.astype(np.int64), minlength=len(BANDS) + 1)
    ups = np.bincount(band.astype(np.int64), upgraded, minlength=len(BANDS) + 1)
    learned = MIN_EXAMPLES <= int(upgraded.sum()) <= len(upgraded) - MIN_EXAMPLES
    churn, churn_learned, churn_base = fit_churn(rows)
    if learned:
        propensity = fit_propensity(rows.features, upgraded, FEATURES)
    else:
        propensity = Propensity(list(FEATURES), np.zeros(len(FEATURES)), 0.0)
    return UpsellModel(
        ladder=ladder,
        annual=annual.astype(np.float64),
        propensity=propensity,
        learned=learned,
        band_rate=np.where(counts > 0, ups / np.maximum(counts, 1), np.nan),
        base_rate=float(upgraded.mean()) if len(upgraded) else float("nan"),
        horizon_days=horizon_days,
        loyal_min_sales=loyal_min_sales,
        training_rows=len(upgraded),
        training_upgrades=int(upgraded.sum()),
        coverage=coverage(history, ladder, rows, until, horizon_days),
        churn=churn,
        churn_learned=churn_learned,
        churn_base_rate=churn_base,
    )
