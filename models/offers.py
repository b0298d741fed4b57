"""Next best offers: what each kind of offer is worth, which channel, which bundle.

Why one currency for every kind: a CRM list mixes upgrades, cross-sells and
retention offers, and only expected value (probability x value, in money) ranks them
against each other. The probabilities come from the engines where they have one (the
upgrade propensity, bought-together confidence, repurchase regularity, what a kind's
buyers choose, what other departments of the account use); the rest are priors,
documented here and in the README, until the acceptance rates measured from events
replace them.

Values, per offer: an item, its price; a premium alternative, the price difference;
a bundle, its discounted total; an upgrade, a year of the monthly price difference;
annual billing and a retention plan, a year of the plan's price (the revenue kept).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.guardrails import Event
from models.sparse import row_entries

CHANNELS = ("email", "in_app", "call", "visit", "web")
DEFAULT_CHANNEL = {  # where each kind is usually best made, before any response is seen
    "upgrade": "in_app",
    "billing": "in_app",
    "retention": "call",
    "cross_sell": "email",
    "bundle": "email",
    "replenishment": "email",
    "premium": "email",
    "expansion": "call",
}
PRIOR = {"billing": 0.10, "retention": 0.20}  # acceptance before any is measured
PRIOR_WEIGHT = 5.0  # a channel's response rate starts as 1 response in 5 impressions...
PRIOR_RATE = 0.2  # ...so a single lucky click does not decide the channel


@dataclass(frozen=True)
class ChannelChoice:
    """The channel an offer goes out on, and the evidence for it."""

    channel: str
    impressions: int  # of the customer's past offers on that channel
    responses: int  # clicks and acceptances among them
    learned: bool  # False: the kind's default (no responses seen anywhere)


def best_channel(
    kind: str, impressions: dict[str, int], responses: dict[str, int]
) -> ChannelChoice:
    """The channel where this customer responds best (smoothed), else the kind's default.

    Responses are clicks and acceptances per impression, shrunk toward PRIOR_RATE with
    PRIOR_WEIGHT impressions, so a channel needs real evidence to beat the default.
    """
    default = DEFAULT_CHANNEL.get(kind, "email")
    if not any(responses.values()):
        n = impressions.get(default, 0)
        return ChannelChoice(default, n, 0, False)

    def rate(channel: str) -> float:
        n, r = impressions.get(channel, 0), responses.get(channel, 0)
        return (r + PRIOR_RATE * PRIOR_WEIGHT) / (n + PRIOR_WEIGHT)

    best = max(CHANNELS, key=lambda c: (rate(c), c == default))
    return ChannelChoice(best, impressions.get(best, 0), responses.get(best, 0), True)


def channel_history(
    events: Sequence[tuple[Event, str]],
) -> tuple[dict[str, int], dict[str, int]]:
    """Impressions, and clicks or acceptances, per channel, from (event, channel) pairs."""
    impressions: Counter[str] = Counter()
    responses: Counter[str] = Counter()
    for event, channel in events:
        if event.event == "impression":
            impressions[channel] += 1
        elif event.event in ("click", "accept"):
            responses[channel] += 1
    return dict(impressions), dict(responses)


def regular_rebuy(count: int) -> float:
    """P(buys again) after `count` regular purchases: the rule of succession."""
    return count / (count + 1) if count > 0 else 0.5


@dataclass(frozen=True)
class Bundle:
    """Items to offer as a set, bought together with one the customer owns."""

    anchor: int  # the owned item they are bought with
    items: np.ndarray  # int64, strongest rule first
    confidence: np.ndarray  # float64 P(item | anchor) per item
    support: np.ndarray  # int orders with both


def bundle_for(
    owned: np.ndarray,
    support: sp.csr_matrix,
    item_orders: np.ndarray,
    allowed: np.ndarray,
    size: int = 2,
    min_confidence: float = 0.05,
) -> Bundle | None:
    """The owned item whose rules give the most confident set of `size` new items.

    One gather over the rules of every owned item (`support` rows are antecedents),
    then a sort: no loop over the catalog.
    """
    if not len(owned):
        return None
    offsets, which = row_entries(support, owned)
    others = support.indices[offsets]
    count = support.data[offsets].astype(np.int64)
    confidence = count / np.maximum(item_orders[owned[which]], 1)
    keep = allowed[others] & (confidence >= min_confidence)
    others, which, confidence, count = others[keep], which[keep], confidence[keep], count[keep]
    if not len(others):
        return None
    order = np.lexsort((-confidence, which))
    others, which, confidence, count = others[order], which[order], confidence[order], count[order]
    starts = np.flatnonzero(np.concatenate(([True], which[1:] != which[:-1])))
    lengths = np.diff(starts, append=len(which))
    full = starts[lengths >= size]
    if not len(full):
        return None
    # the weakest of the first `size` rules is the set's strength: take the strongest set
    strength = confidence[full + size - 1]
    first = int(full[int(np.argmax(strength))])
    part = slice(first, first + size)
    return Bundle(
        int(owned[which[first]]), others[part].astype(np.int64), confidence[part], count[part]
    )
