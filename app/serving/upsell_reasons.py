"""The upsell answer's reasons, in words a salesperson or an upgrade prompt can use.

Each reason has a `kind`, a `text` and the `evidence` (numbers) behind the text, like
the cross-sell reasons: "Seats: 9 of 10 used (90%), up from 6 three months ago".
"""

import time

import numpy as np

from app.serving.answers import UpsellReason, UpsellReasonKind
from app.serving.reasons import DAY, iso, money
from models.upsell import Decision, Facts, Subscriber, UpsellModel, band_of, yearly_saving
from models.vocab import Plans

BAND_WORDS = ("under 60%", "60-80%", "80-95%", "95% or more")


class UpsellReasons:
    """Reason builders over one model's plans."""

    def __init__(self, model: UpsellModel, plans: Plans) -> None:
        self.model, self.plans = model, plans
        self.ladder = model.ladder

    def plan_name(self, plan: int) -> str:
        return self.plans.names[plan] or self.plans.ids[plan]

    def price(self, amount: float, plan: int) -> str:
        return money(amount, self.plans.currency[plan])

    def usage(self, sub: Subscriber, metric: int) -> UpsellReason:
        """How much of one limit is used, and where it stood three months ago."""
        used, limit = float(sub.usage[metric]), float(self.ladder.limits[sub.plan, metric])
        before = float(sub.before[metric])
        label = _metric(self.ladder.metrics[metric])
        head = label[:1].upper() + label[1:]
        text = f"{head}: {_number(used)} of {_number(limit)} used ({used / limit:.0%})"
        if not np.isnan(before) and before != used:
            trend = "up" if used > before else "down"
            text += f", {trend} from {_number(before)} three months ago"
        evidence = {
            "metric": self.ladder.metrics[metric],
            "used": used,
            "limit": limit,
            "ratio": round(used / limit, 4),
            "used_90_days_ago": None if np.isnan(before) else before,
        }
        return {"kind": "usage", "text": text, "evidence": evidence}

    def projection(self, sub: Subscriber, decision: Decision, months: float) -> UpsellReason | None:
        """Where usage is heading, and why the target plan (skip-level when one step is
        short); said as a projection only from a growth measured over three months, and
        not at all without a reading."""
        facts, target = _facts(decision), int(decision.target or 0)
        if facts.worst < 0:
            return None
        metric = facts.worst
        ahead = float(facts.projected[metric])
        label = _metric(self.ladder.metrics[metric])
        allows = float(self.ladder.limits[target, metric])
        now, before = float(sub.usage[metric]), float(sub.before[metric])
        if before > 0 and ahead > now:
            heading = (
                f"At the growth of the last three months, {label} would be at "
                f"{_number(ahead)} in {months:.0f} months"
            )
        else:  # no earlier reading, or no growth: nothing to project
            trend = "not growing" if before > 0 else "no reading from three months ago"
            heading = f"{label[:1].upper()}{label[1:]} at {_number(now)}, {trend}"
        text = f"{heading}; {self.plan_name(target)} allows {_number(allows)}"
        if decision.skipped:
            below = self._step_below(target)
            short = _number(self.ladder.limits[below, metric])
            text += f" ({self.plan_name(below)}'s {short} would not be enough)"
        evidence = {
            "metric": self.ladder.metrics[metric],
            "projected": round(ahead, 2),
            "months": months,
            "target_limit": allows,
            "skip_level": decision.skipped,
        }
        return {"kind": "projection", "text": text, "evidence": evidence}

    def propensity(self, facts: Facts) -> UpsellReason | None:
        """How often subscribers at this usage upgraded, against the average."""
        model = self.model
        band = band_of(facts.ratio)
        rate, base = float(model.band_rate[band]), model.base_rate
        if not (rate == rate and base > 0):
            return None
        days = model.horizon_days
        text = (
            f"Subscribers at {BAND_WORDS[band]} of a limit upgraded within {days} days "
            f"{rate / base:.1f}x as often as average ({rate:.0%} against {base:.0%})"
        )
        if facts.probability is not None:
            text += f"; estimated chance for this account: {facts.probability:.0%}"
        evidence = {
            "usage_band": BAND_WORDS[band],
            "band_upgrade_rate": round(rate, 4),
            "average_upgrade_rate": round(base, 4),
            "lift": round(rate / base, 2),
            "probability": None if facts.probability is None else round(facts.probability, 4),
            "horizon_days": days,
        }
        return {"kind": "propensity", "text": text, "evidence": evidence}

    def renewal(self, at: int, now: int) -> UpsellReason:
        return _on_date("renewal", "Renews", "renews_at", at, now)

    def trial_end(self, at: int, now: int) -> UpsellReason:
        return _on_date("trial", "Trial ends", "trial_ends_at", at, now)

    def billing(self, plan: int) -> UpsellReason:
        """The yearly saving of annual billing, with the arithmetic."""
        monthly, annual = float(self.ladder.monthly[plan]), float(self.model.annual[plan])
        saving = yearly_saving(self.model, plan)
        text = (
            f"Annual billing costs {self.price(annual, plan)} a year instead of 12 x "
            f"{self.price(monthly, plan)} = {self.price(12 * monthly, plan)}: "
            f"{self.price(saving, plan)} saved"
        )
        evidence = {"monthly_price": monthly, "annual_price": annual, "yearly_saving": saving}
        return {"kind": "billing_saving", "text": text, "evidence": evidence}

    def loyalty(self, sub: Subscriber, facts: Facts, year_sales: float) -> UpsellReason:
        text = f"Subscribed for {months_text(round(facts.tenure_days / 30.44))}"
        if sub.loyal:
            text += "; among the shop's best customers (top quarter by a year's sales)"
        evidence = {
            "tenure_days": round(facts.tenure_days),
            "loyal": sub.loyal,
            "year_sales": round(year_sales, 2),
        }
        return {"kind": "loyalty", "text": text, "evidence": evidence}

    def cheaper(self, sub: Subscriber, target: int) -> UpsellReason:
        """A retention offer: a cheaper plan that still covers what the customer uses."""
        now_price, price = float(self.ladder.monthly[sub.plan]), float(self.ladder.monthly[target])
        text = (
            f"{self.plan_name(target)} covers current usage for {self.price(price, target)} "
            f"instead of {self.price(now_price, sub.plan)} a month"
        )
        evidence = {"monthly_price": price, "current_monthly_price": now_price}
        return {"kind": "cheaper_plan", "text": text, "evidence": evidence}

    def _step_below(self, target: int) -> int:
        """The plan one rank below `target` in its ladder."""
        ladder = self.ladder
        same = (ladder.ladder == ladder.ladder[target]) & (ladder.rank < ladder.rank[target])
        return int(np.where(same, ladder.rank, -1).argmax())


def _on_date(kind: UpsellReasonKind, what: str, field: str, at: int, now: int) -> UpsellReason:
    """A reason that names a coming date: "Renews on 2026-12-04 (in 10 days)"."""
    days = max(0, round((at - now) / DAY))
    text = f"{what} on {_date(at)} (in {days} days)"
    return {"kind": kind, "text": text, "evidence": {field: iso(at), "days": days}}


def simple(kind: UpsellReasonKind, text: str, **evidence: object) -> UpsellReason:
    """A reason whose evidence is a few named facts."""
    return {"kind": kind, "text": text, "evidence": evidence}


def _facts(decision: Decision) -> Facts:
    assert decision.facts is not None
    return decision.facts


ACRONYMS = {"api": "API", "gb": "(GB)", "mb": "(MB)", "tb": "(TB)", "sso": "SSO"}


def months_text(n: int) -> str:
    """ "1 month", "3 months": a count of months in words."""
    return f"{n} month{'' if n == 1 else 's'}"


def _metric(name: str) -> str:
    """A metric as a sentence says it: "storage_gb" -> "storage (GB)", "api_calls" ->
    "API calls"."""
    return " ".join(ACRONYMS.get(word.lower(), word) for word in name.split("_"))


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def _date(seconds: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))
