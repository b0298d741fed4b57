"""The KPIs of a period: what customers did, treated against holdout, and what offers did.

Why intent-to-treat: every customer not in the holdout counts as treated, whether an
offer reached them or not. Comparing only the customers who saw an offer would compare
the customers the engine chose (the likeliest buyers) with everyone else, and call the
choice an uplift. The holdout is drawn by id hash, so the two groups differ only by
chance, and the difference of their outcomes is what the offers added.

Inputs are whole columns (see the dataclasses); `facts` reduces them to a few numbers
per customer, per order and per event once, and `outcomes` / `offers` add those up for
any subgroup (a customer segment, an offer kind, a channel). The README's "KPIs"
section is the definition of every number.
"""

from dataclasses import dataclass

import numpy as np

from models.attribution import NONE, expand_touches, last_touch
from models.uplift import Comparison, compare_means, compare_rates

DAY = 86_400
EVENTS = ("impression", "click", "accept", "dismiss")  # the codes of `Events.event`
IMPRESSION, CLICK, ACCEPT, DISMISS = range(4)


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds."""

    start: int
    end: int

    def previous(self) -> "Period":
        """The period of the same length just before: the baseline of the LTV change."""
        return Period(2 * self.start - self.end, self.start)


@dataclass(frozen=True)
class Purchases:
    """Purchase lines of known customers from `Period.previous().start` to the end."""

    customer: np.ndarray  # int64 index of the customer
    order: np.ndarray  # int64 code, the same for the lines of one order
    item: np.ndarray  # int64 code
    value: np.ndarray  # float64 quantity x unit price; negative for a return
    sale: np.ndarray  # bool: a sale line (not a return)
    time: np.ndarray  # int64 epoch seconds
    seen: np.ndarray  # bool: the customer had bought this item before the period
    returning: np.ndarray  # bool: the customer had bought anything before the period


@dataclass(frozen=True)
class PlanChanges:
    """Plan changes in the period; the from-plan is -1 for a first subscription."""

    customer: np.ndarray  # int64 index of the customer
    plan: np.ndarray  # int64 code of the plan moved to
    time: np.ndarray  # int64 epoch seconds
    from_ladder: np.ndarray  # int64 ladder code of the plan left, -1 for none
    from_rank: np.ndarray  # int64 tier rank of the plan left
    to_ladder: np.ndarray  # int64
    to_rank: np.ndarray  # int64
    price_change: np.ndarray  # float64 monthly price moved to minus the one left (0 for none)

    def upgrades(self) -> np.ndarray:
        """bool: a move to a higher tier of the same ladder."""
        same = (self.from_ladder >= 0) & (self.from_ladder == self.to_ladder)
        higher: np.ndarray = same & (self.to_rank > self.from_rank)
        return higher


@dataclass(frozen=True)
class Events:
    """Offer events from `attribution window` before the period to its end."""

    customer: np.ndarray  # int64 index of the customer
    offer: np.ndarray  # int64 code of the offer id
    event: np.ndarray  # int64 index into EVENTS
    group: np.ndarray  # int64 group of the event (its kind, channel or customer segment)
    time: np.ndarray  # int64 epoch seconds
    first_impression: np.ndarray  # int64: for accepts, the customer's first impression
    # of the offer at any time before the period's end; -1 where unknown


@dataclass(frozen=True)
class Targets:
    """What each offer points at: (offer code, item code) and (offer code, plan code)."""

    item_offer: np.ndarray
    item: np.ndarray
    plan_offer: np.ndarray
    plan: np.ndarray


@dataclass(frozen=True)
class Facts:
    """Per customer, per order and per event: what the KPIs add up for any subgroup."""

    revenue: np.ndarray  # float64 per customer: sales minus returns in the period
    baseline: np.ndarray  # float64 per customer: the same in the previous period
    upgraded: np.ndarray  # bool per customer: an upgrade in the period
    cross_sold: np.ndarray  # bool per customer: a new item bought in the period
    shown: np.ndarray  # bool per customer: an impression in the period
    order_customer: np.ndarray  # int64 per order of the period
    order_value: np.ndarray  # float64 per order: its sales
    in_period: np.ndarray  # bool per event
    purchase_event: np.ndarray  # int64 per purchase line: the event it is owed to, or -1
    change_event: np.ndarray  # int64 per plan change: the event it is owed to, or -1
    accept_event: np.ndarray  # int64: the first accept of each (customer, offer) timed
    accept_days: np.ndarray  # float64: days from its first impression to that accept


@dataclass(frozen=True)
class Split:
    """A count for the treated customers and for the holdout."""

    treated: int
    holdout: int


@dataclass(frozen=True)
class Outcomes:
    """What customers did in the period, treated against holdout."""

    customers: Split
    holdout_shown_offers: int  # holdout customers with an impression: should be 0
    orders: Split
    upsell_rate: Comparison
    cross_sell_rate: Comparison
    average_order_value: Comparison
    revenue_per_customer: Comparison
    ltv_change: Comparison


@dataclass(frozen=True)
class Offers:
    """What the offers did in the period, and the conversions owed to them."""

    customers_shown: int
    impressions: int
    clicks: int
    accepts: int
    dismissals: int
    acceptance_rate: float | None
    click_rate: float | None
    dismissal_rate: float | None
    average_days_to_accept: float | None
    accepts_timed: int
    attributed_purchases: int
    attributed_revenue: float
    attributed_plan_changes: int
    attributed_monthly_revenue: float


def facts(
    customers: int,
    purchases: Purchases,
    changes: PlanChanges,
    events: Events,
    targets: Targets,
    period: Period,
    window: int,
) -> Facts:
    """Reduce the period's columns to per-customer, per-order and per-event facts."""
    p, e = purchases, events
    now = (p.time >= period.start) & (p.time < period.end)
    before = (p.time >= period.previous().start) & (p.time < period.start)
    sale = now & p.sale
    in_period = (e.time >= period.start) & (e.time < period.end)
    order_customer, order_value = _orders(p, sale)
    accept_event, accept_days = _timed_accepts(e, in_period)
    return Facts(
        revenue=np.bincount(p.customer[now], p.value[now], customers),
        baseline=np.bincount(p.customer[before], p.value[before], customers),
        upgraded=_flag(customers, changes.customer[changes.upgrades()]),
        cross_sold=_flag(customers, p.customer[_cross_sales(p, sale, customers)]),
        shown=_flag(customers, e.customer[in_period & (e.event == IMPRESSION)]),
        order_customer=order_customer,
        order_value=order_value,
        in_period=in_period,
        purchase_event=_attribute_purchases(p, sale, e, targets, window),
        change_event=_attribute(
            (changes.customer, changes.plan, changes.time),
            e,
            (targets.plan_offer, targets.plan),
            window,
        ),
        accept_event=accept_event,
        accept_days=accept_days,
    )


def outcomes(f: Facts, holdout: np.ndarray, members: np.ndarray) -> Outcomes:
    """The outcome KPIs of the customers in `members` (bool per customer)."""
    treated, held = members & ~holdout, members & holdout
    t_orders, h_orders = treated[f.order_customer], held[f.order_customer]
    nt, nh = int(treated.sum()), int(held.sum())
    change = f.revenue - f.baseline
    return Outcomes(
        customers=Split(nt, nh),
        holdout_shown_offers=int((held & f.shown).sum()),
        orders=Split(int(t_orders.sum()), int(h_orders.sum())),
        upsell_rate=compare_rates(
            int(f.upgraded[treated].sum()), nt, int(f.upgraded[held].sum()), nh
        ),
        cross_sell_rate=compare_rates(
            int(f.cross_sold[treated].sum()), nt, int(f.cross_sold[held].sum()), nh
        ),
        average_order_value=compare_means(f.order_value[t_orders], f.order_value[h_orders]),
        revenue_per_customer=compare_means(f.revenue[treated], f.revenue[held]),
        ltv_change=compare_means(change[treated], change[held], relative=False),
    )


def offers(
    f: Facts, events: Events, purchases: Purchases, changes: PlanChanges, rows: np.ndarray
) -> Offers:
    """The offer KPIs of the events in `rows` (bool per event)."""
    mine = rows & f.in_period
    count = np.bincount(events.event[mine], minlength=len(EVENTS))
    impressions = int(count[IMPRESSION])
    bought = f.purchase_event != NONE
    bought[bought] = rows[f.purchase_event[bought]]
    changed = f.change_event != NONE
    changed[changed] = rows[f.change_event[changed]]
    timed = f.accept_days[rows[f.accept_event]]
    return Offers(
        customers_shown=len(np.unique(events.customer[mine & (events.event == IMPRESSION)])),
        impressions=impressions,
        clicks=int(count[CLICK]),
        accepts=int(count[ACCEPT]),
        dismissals=int(count[DISMISS]),
        acceptance_rate=_share(int(count[ACCEPT]), impressions),
        click_rate=_share(int(count[CLICK]), impressions),
        dismissal_rate=_share(int(count[DISMISS]), impressions),
        average_days_to_accept=float(timed.mean()) if len(timed) else None,
        accepts_timed=len(timed),
        attributed_purchases=int(bought.sum()),
        attributed_revenue=float(purchases.value[bought].sum()),
        attributed_plan_changes=int(changed.sum()),
        attributed_monthly_revenue=float(changes.price_change[changed].sum()),
    )


def _flag(n: int, positions: np.ndarray) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[positions] = True
    return flags


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _orders(p: Purchases, sale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The customer and the sales of each order with a sale line in the period."""
    if not sale.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    keys = np.stack([p.customer[sale], p.order[sale]], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique[:, 0], np.bincount(inverse.reshape(-1), p.value[sale], len(unique))


def _cross_sales(p: Purchases, sale: np.ndarray, customers: int) -> np.ndarray:
    """bool per line: a sale of an item new to the customer, and not in their first order.

    A first order is not a cross-sell: everything in it is new. So the line must come
    from a customer who bought before the period, or after their first order in it.
    """
    first = np.full(customers, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, p.customer[sale], p.time[sale])
    later = p.time > first[p.customer]
    cross: np.ndarray = sale & ~p.seen & (p.returning | later)
    return cross


def _touches(e: Events) -> np.ndarray:
    """Positions of the events an attribution can start from: impressions and accepts."""
    return np.flatnonzero((e.event == IMPRESSION) | (e.event == ACCEPT))


def _attribute(
    conversion: tuple[np.ndarray, np.ndarray, np.ndarray],
    e: Events,
    pairs: tuple[np.ndarray, np.ndarray],
    window: int,
) -> np.ndarray:
    """The event each conversion is owed to (positions into `e`), or NONE."""
    touches = _touches(e)
    position, target = expand_touches(e.offer[touches], *pairs)
    rows = touches[position]
    if not len(rows):  # no impression or acceptance names any of these targets
        return np.full(len(conversion[0]), NONE, dtype=np.int64)
    found = last_touch(conversion, (e.customer[rows], target, e.time[rows]), window)
    return np.where(found == NONE, NONE, rows[np.maximum(found, 0)]).astype(np.int64)


def _attribute_purchases(
    p: Purchases, sale: np.ndarray, e: Events, targets: Targets, window: int
) -> np.ndarray:
    """Per purchase line: the event its sale is owed to; NONE for returns and earlier lines."""
    lines = np.flatnonzero(sale)
    owed = np.full(len(p.customer), NONE, dtype=np.int64)
    conversion = (p.customer[lines], p.item[lines], p.time[lines])
    owed[lines] = _attribute(conversion, e, (targets.item_offer, targets.item), window)
    return owed


def _timed_accepts(e: Events, in_period: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first accept in the period of each (customer, offer) with an impression before
    it, and the days between that customer's first impression of the offer and the accept."""
    accepts = np.flatnonzero(in_period & (e.event == ACCEPT))
    accepts = accepts[np.argsort(e.time[accepts], kind="stable")]
    keys = np.stack([e.customer[accepts], e.offer[accepts]], axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    accepts = accepts[np.sort(first)]
    shown = e.first_impression[accepts]
    timed = (shown >= 0) & (shown <= e.time[accepts])
    days = (e.time[accepts] - shown)[timed] / DAY
    return accepts[timed], days.astype(np.float64)
