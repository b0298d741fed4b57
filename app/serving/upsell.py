"""Answers of the upsell route: one plan suggestion with reasons and timing, or "not now".

The decision is `models.upsell.decide` on the customer's live state (read per request,
`app.serving.subscriber`); this module turns it into the documented answer
(`app.serving.answers.UpsellAnswer`) and words its reasons.
"""

import time
from string import Formatter
from typing import Any, Literal, cast

import numpy as np
from sqlalchemy import Engine

from app.errors import Unavailable
from app.serving.answers import (
    CurrentPlan,
    LiveStatus,
    LiveSubscription,
    PlanOffer,
    Risk,
    Timing,
    UpsellAnswer,
    UpsellReason,
    UsageLine,
    WhyNot,
)
from app.serving.reasons import iso
from app.serving.subscriber import (
    Cursor,
    LiveState,
    Reads,
    customer_row,
    driver_cursor,
    read_state,
    reads_for,
    unknown_customer,
)
from app.serving.upsell_reasons import UpsellReasons, months_text, simple
from models.ladder import target_plans
from models.upsell import (
    Decision,
    Facts,
    Policy,
    Subscriber,
    UpsellModel,
    decide,
    yearly_saving,
)
from models.vocab import Plans

NOT_NOW: dict[WhyNot, str] = {
    "no_plan": "No live subscription: nothing to upgrade",
    "unknown_plan": "The subscription's plan is newer than the model: retrain to include it",
    "open_complaint": "A complaint is open (since {complaint}): no sales prompts until it "
    "is closed",
    "trial_started": "The trial started {tenure} days ago: too early to suggest a plan",
    "top_tier": "Already on {plan}, the top plan of its ladder",
    "price_cap": "{target} would cost {multiple:.1f}x the current plan, over the {cap:g}x limit",
    "low_loyalty": "Subscribed for {subscribed} and not among the best customers: "
    "too early to suggest annual billing",
    "no_need": "Usage is at {ratio:.0%} of the plan's tightest limit: no upgrade needed",
    "no_usage": "No usage reading against the plan's limits: nothing shows that another "
    "plan or billing would fit better",
    "at_risk": "At risk of leaving, and no cheaper plan or annual discount to offer",
    "unavailable": "The live subscription state cannot be read now (the database is "
    "unreachable): no suggestion until it can",
}

# the numbers each sentence names, which its reason's evidence carries (parsed once)
NAMED = {
    why: {field for _, field, _, _ in Formatter().parse(text) if field}
    for why, text in NOT_NOW.items()
}


class UpsellAnswers:
    """The upsell route's answers from one loaded model."""

    def __init__(self, model: UpsellModel, plans: Plans, policy: Policy, version: str) -> None:
        self.model, self.plans, self.policy, self.version = model, plans, policy, version
        self.reasons = UpsellReasons(model, plans)
        self.source: Literal["model", "rules"] = "model" if model.learned else "rules"

    def answer(self, engine: Engine, customer_id: str, as_of: int | None = None) -> UpsellAnswer:
        """The upsell answer for `customer_id` now, or as of a moment (from what was
        recorded up to it); 404 for a customer the database lacks."""
        now = int(time.time()) if as_of is None else as_of
        reads = reads_for(engine, Reads)
        try:
            with driver_cursor(engine) as cursor:
                customer = customer_row(cursor, reads, customer_id)
                if customer is None:
                    raise unknown_customer(customer_id)
                live = self.read(cursor, reads, customer, now, as_of is not None)
        except Unavailable:
            return self.degraded(customer_id)
        return self.respond(customer_id, live, now)

    def degraded(self, customer_id: str) -> UpsellAnswer:
        """ "Not now" while the live state cannot be read: an upgrade prompt must not go to
        a customer whose complaint or plan change of today cannot be seen."""
        reasons = [simple("unavailable", NOT_NOW["unavailable"])]
        answer = self._answer(
            customer_id, Decision("not_now", why_not="unavailable"), None, reasons
        )
        answer["degraded"] = True
        return answer

    def read(
        self, cursor: Cursor, reads: Reads, customer: int, now: int, as_of: bool = False
    ) -> LiveState | str | None:
        """The live state of the customer with primary key `customer` (see `read_state`)."""
        m = self.model
        return read_state(
            cursor, reads, customer, self.plans, m.ladder, m.loyal_min_sales, now, as_of
        )

    def respond(self, customer_id: str, live: LiveState | str | None, now: int) -> UpsellAnswer:
        """The answer for a live state: the decision, its facts and its reasons."""
        decision = self.decision(live, now)
        if not isinstance(live, LiveState):
            why = cast(WhyNot, decision.why_not)
            reasons = [simple(why, NOT_NOW[why])]
            return self._answer(customer_id, decision, None, reasons)
        return self._answer(customer_id, decision, live, self._reasons(decision, live, now))

    def decision(self, live: LiveState | str | None, now: int) -> Decision:
        """The one decision for a live state at `now` (`models.upsell.decide`): the
        route, the offers and the campaign lists all take it from here, so a customer
        on an upgrade list is the one `/upsell` answers `upgrade` for."""
        if not isinstance(live, LiveState):
            return Decision("not_now", why_not=live or "no_plan")
        return decide(self.model, live.subscriber, now, self.policy)

    def _answer(
        self,
        customer_id: str,
        decision: Decision,
        live: LiveState | None,
        reasons: list[UpsellReason],
    ) -> UpsellAnswer:
        facts = decision.facts
        sub = live.subscriber if live else None
        target = decision.target
        difference = saving = None
        timing: Timing | None = None
        if decision.when is not None:
            timing = {
                "when": decision.when,
                "at": None if decision.at is None else iso(decision.at),
            }
        if sub is not None and target is not None:
            monthly = self.model.ladder.monthly
            difference = round(float(monthly[target] - monthly[sub.plan]), 2)
            if decision.annual:
                saving = round(yearly_saving(self.model, target), 2)
        return {
            "customer_id": customer_id,
            "model_version": self.version,
            "source": self.source,
            "decision": decision.kind,
            "why_not": cast(WhyNot | None, decision.why_not),
            "current": self._current(live) if live else None,
            "target": None
            if target is None
            else self.plan_answer(target, decision.annual or bool(sub and sub.annual)),
            "timing": timing,
            "probability": None
            if facts is None or facts.probability is None
            else round(facts.probability, 4),
            "churn_probability": None
            if facts is None or facts.churn is None
            else round(facts.churn, 4),
            "price_difference": difference,
            "yearly_saving": saving,
            "at_risk": cast(list[Risk], list(decision.at_risk)),
            "usage": self._usage(sub) if sub else [],
            "reasons": reasons,
            "degraded": False,
        }

    def subscription(self, live: LiveState) -> LiveSubscription:
        """The live subscription as a profile shows it: plan, status, dates, usage."""
        started = iso(live.subscriber.started)
        return {**self._current(live), "started_at": started, "usage": self._usage(live.subscriber)}

    def plan_answer(self, plan: int, annual: bool) -> PlanOffer:
        ladder, plans = self.model.ladder, self.plans
        annual_price = float(self.model.annual[plan])
        return {
            "plan_id": plans.ids[plan],
            "name": plans.names[plan] or None,
            "billing_period": "annual" if annual else "monthly",
            "monthly_price": float(ladder.monthly[plan]),
            "annual_price": None if annual_price != annual_price else annual_price,
            "currency": plans.currency[plan] or None,
        }

    def _current(self, live: LiveState) -> CurrentPlan:
        sub = live.subscriber
        return {
            **self.plan_answer(sub.plan, sub.annual),
            "subscription_id": live.subscription_id,
            "status": cast(LiveStatus, sub.status),
            "renews_at": None if sub.renews is None else iso(sub.renews),
        }

    def _usage(self, sub: Subscriber) -> list[UsageLine]:
        rows: list[UsageLine] = []
        for metric, name in enumerate(self.model.ladder.metrics):
            used, limit = (
                float(sub.usage[metric]),
                float(self.model.ladder.limits[sub.plan, metric]),
            )
            if used != used:
                continue
            limited = limit != float("inf")
            rows.append(
                {
                    "metric": name,
                    "used": used,
                    "limit": limit if limited else None,
                    "ratio": round(used / limit, 4) if limited and limit > 0 else None,
                }
            )
        return rows

    def _reasons(self, decision: Decision, live: LiveState, now: int) -> list[UpsellReason]:
        """The reasons for the decision, the strongest first."""
        sub, words = live.subscriber, self.reasons
        facts = decision.facts
        assert facts is not None
        found: list[UpsellReason | None] = []
        if facts.worst >= 0:
            found.append(words.usage(sub, facts.worst))
        if decision.kind == "upgrade":
            found.append(words.projection(sub, decision, self.policy.projection_months))
            found.append(words.propensity(facts))
            if decision.when == "at_renewal" and decision.at is not None:
                found.append(words.renewal(decision.at, now))
            if decision.when == "at_trial_end" and decision.at is not None:
                found.append(words.trial_end(decision.at, now))
        elif decision.kind == "billing":
            found += [words.billing(sub.plan), words.loyalty(sub, facts, live.year_sales)]
        elif decision.kind == "retain":
            found += [self._risk(r, sub, facts) for r in decision.at_risk]
            target = int(decision.target or 0)
            found.append(words.billing(target) if decision.annual else words.cheaper(sub, target))
        else:
            found.insert(0, self._not_now(decision, live))
            found += [self._risk(r, sub, facts) for r in decision.at_risk]
        return [r for r in found if r is not None]

    def _risk(self, risk: str, sub: Subscriber, facts: Facts) -> UpsellReason:
        if risk == "past_due":
            return simple("past_due", "The last payment is past due", status=sub.status)
        if risk == "churn_risk" and facts.churn is not None:
            base, days = self.model.churn_base_rate, self.model.horizon_days
            return simple(
                "churn_risk",
                f"Estimated {facts.churn:.0%} chance of cancelling within {days} days, "
                f"{facts.churn / base:.1f}x the usual {base:.0%}",
                probability=round(facts.churn, 4),
                base_rate=round(base, 4),
                lift=round(facts.churn / base, 2),
                horizon_days=days,
            )
        return simple("usage_drop", "Usage fell by a third or more over three months")

    def _not_now(self, decision: Decision, live: LiveState) -> UpsellReason:
        """Why nothing is offered, with the numbers the sentence names."""
        why = cast(WhyNot, decision.why_not)
        facts, sub = decision.facts, live.subscriber
        assert facts is not None
        values: dict[str, Any] = {
            "complaint": iso(live.complaint_opened) if live.complaint_opened else "",
            "tenure": round(facts.tenure_days),
            "months": round(facts.tenure_days / 30.44),
            "subscribed": months_text(round(facts.tenure_days / 30.44)),
            "plan": self.reasons.plan_name(sub.plan),
            "ratio": facts.ratio,
            "cap": self.policy.max_price_multiple,
            "target": "",
            "multiple": 0.0,
        }
        if why == "price_cap":
            values.update(_over_cap(self.model, sub, facts.projected, self.reasons))
        evidence = {k: v for k, v in values.items() if k in NAMED[why]}
        return simple(why, NOT_NOW[why].format(**values), **evidence)


def _over_cap(
    model: UpsellModel, sub: Subscriber, projected: np.ndarray, words: UpsellReasons
) -> dict[str, Any]:
    """The plan that would cover the projection, and its price as a multiple of today's."""
    target, _ = target_plans(model.ladder, np.array([sub.plan]), projected[None], np.inf)
    plan = int(target[0])
    multiple = float(model.ladder.monthly[plan] / model.ladder.monthly[sub.plan])
    return {"target": words.plan_name(plan), "multiple": multiple}
