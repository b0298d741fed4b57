"""What an offer id names, so that an event about an offer can be checked against the
catalog and the plans before it is stored.

Offer ids are the ones `GET /v1/customers/{id}/offers` and the campaign lists give:

    upgrade:<plan>   billing:<plan>   retention:<plan>[:annual]   expansion:plan:<plan>
    cross_sell:<item>   replenishment:<item>   premium:<item>   expansion:item:<item>
    bundle:<item>+<item>[+<item>...]

Why check: an event about an offer that names nothing (a typo, another system's ids)
would count in the KPIs and hold real offers back through cool-downs, and could never
be traced to what was shown.
"""

from dataclasses import dataclass

from app.db.tables import OFFER_KINDS

PLAN_KINDS = frozenset({"upgrade", "billing", "retention"})
ITEM_KINDS = frozenset({"cross_sell", "replenishment", "premium"})
FORMS = (
    "'<kind>:<plan id>' (upgrade, billing, retention), '<kind>:<item id>' (cross_sell, "
    "replenishment, premium), 'bundle:<item id>+<item id>...', 'expansion:item:<item id>' "
    "or 'expansion:plan:<plan id>', as GET /v1/customers/{id}/offers gives them"
)


@dataclass(frozen=True)
class Named:
    """The items and plans an offer id names."""

    items: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()


def named(offer_id: str) -> Named:
    """What `offer_id` names; ValueError saying the forms when it is not one of them."""
    kind, _, target = offer_id.partition(":")
    if kind not in OFFER_KINDS or not target:
        raise ValueError(f"unknown offer id {offer_id!r}: offer ids are {FORMS}")
    if kind in PLAN_KINDS:
        plan = target.removesuffix(":annual") if kind == "retention" else target
        return _checked(offer_id, Named(plans=(plan,)))
    if kind in ITEM_KINDS:
        return _checked(offer_id, Named(items=(target,)))
    if kind == "bundle":
        return _checked(offer_id, Named(items=tuple(target.split("+"))), at_least=2)
    scope, _, ident = target.partition(":")
    if scope == "item":
        return _checked(offer_id, Named(items=(ident,)))
    if scope == "plan":
        return _checked(offer_id, Named(plans=(ident,)))
    raise ValueError(f"unknown offer id {offer_id!r}: offer ids are {FORMS}")


def _checked(offer_id: str, found: Named, at_least: int = 1) -> Named:
    ids = found.items + found.plans
    if len(ids) < at_least or not all(ids):
        raise ValueError(f"offer id {offer_id!r} names an empty id: offer ids are {FORMS}")
    return found
