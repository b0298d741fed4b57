"""Guardrails against pushy selling: which of a customer's candidate offers may be shown.

Why rules and not weights: a customer who opted out, has an open complaint, or was
shown three offers this week must not be sold to, however good the offer; each rule
either holds an offer back or not, and says so (`Screened.held`), so an explain
answer can show what was held back and why.

The rules, in order:

    holdout          the customer is in the holdout group: nothing (uplift is measured
                     against these customers)
    opt_out          marketing opt-out: nothing
    open_complaint   an open complaint: only retention offers
    cooldown         an offer dismissed within `cooldown_days` is not shown again
    one_upsell       at most one upsell (upgrade, billing, premium) at a time
    frequency_cap    at most `cap` offers shown per `window_days`, counted from the
                     customer's impressions: an answer holds at most the cap minus the
                     impressions already in the window, so any window of that length
                     sees at most `cap`
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

DAY = 86_400
UPSELL_KINDS = frozenset({"upgrade", "billing", "premium"})
SERVICE_KINDS = frozenset({"retention"})  # still offered while a complaint is open


@dataclass(frozen=True)
class Guardrails:
    """The configurable limits (README: "Guardrails")."""

    cap: int = 3
    window_days: float = 7.0
    cooldown_days: float = 30.0


@dataclass(frozen=True)
class Event:
    """One of the customer's past offer events."""

    offer_id: str
    event: str  # impression, click, accept, dismiss
    at: int  # epoch seconds


@dataclass(frozen=True)
class Standing:
    """What the guardrails need to know of the customer."""

    holdout: bool = False
    opted_out: bool = False
    open_complaint: bool = False
    events: Sequence[Event] = ()


@dataclass
class Screened:
    """The offers that may be shown, in their order, and those held back with the rule."""

    kept: list[int] = field(default_factory=list)  # positions in the candidate list
    held: list[tuple[int, str]] = field(default_factory=list)
    shown_in_window: int = 0


def shown_in_window(standing: Standing, now: int, rules: Guardrails) -> int:
    """Impressions the customer had inside the frequency-cap window ending now."""
    start = now - rules.window_days * DAY
    return sum(1 for e in standing.events if e.event == "impression" and e.at > start)


def room(standing: Standing, now: int, rules: Guardrails, limit: int) -> int:
    """The most offers an answer may hold, before looking at any: 0 for the holdout, an
    opt-out or a full cap (so the offers need not even be computed)."""
    if standing.holdout or standing.opted_out:
        return 0
    return max(0, min(limit, rules.cap - shown_in_window(standing, now, rules)))


def screen(
    kinds: Sequence[str],
    offer_ids: Sequence[str],
    standing: Standing,
    now: int,
    rules: Guardrails,
    limit: int,
) -> Screened:
    """Apply every rule to candidates ranked best first; keep at most `limit`."""
    result = Screened()
    shown = shown_in_window(standing, now, rules)
    result.shown_in_window = shown
    cool = now - rules.cooldown_days * DAY
    dismissed = {e.offer_id for e in standing.events if e.event == "dismiss" and e.at > cool}
    room = max(0, min(limit, rules.cap - shown))
    upsold = False
    for position, (kind, offer_id) in enumerate(zip(kinds, offer_ids, strict=True)):
        rule = _rule(kind, offer_id, standing, dismissed, upsold)
        if rule is None and len(result.kept) >= room:
            rule = "frequency_cap" if len(result.kept) < limit else "limit"
        if rule is None:
            result.kept.append(position)
            upsold |= kind in UPSELL_KINDS
        else:
            result.held.append((position, rule))
    return result


def _rule(
    kind: str, offer_id: str, standing: Standing, dismissed: set[str], upsold: bool
) -> str | None:
    """The first rule that holds this offer back, or None."""
    if standing.holdout:
        return "holdout"
    if standing.opted_out:
        return "opt_out"
    if standing.open_complaint and kind not in SERVICE_KINDS:
        return "open_complaint"
    if offer_id in dismissed:
        return "cooldown"
    if upsold and kind in UPSELL_KINDS:
        return "one_upsell"
    return None
