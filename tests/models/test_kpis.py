"""The KPIs on a small log whose every number is worked out by hand below.

The log (days from the period's start; the period is 30 days, the previous period the
30 days before it; attribution window 14 days). tests/app/api/test_kpis_api.py posts
the same log through the API and expects the same numbers.

    customers  ada ben cai dee eve fay gus hal (treated), ned quin (holdout)
    items      A 10, B 20, C 50, D 100;   plans basic (rank 1, 10/month), pro (rank 2, 30)

    purchases  o0   cai  C          day -40   (before the previous period: only "seen")
               o1   ada  A          day -10
               o2   ben  B          day -20
               o3   ned  A x2       day  -5
               o4   ada  B          day   3   new item, returning: cross-sell
               o5   ben  B          day   5   bought before: no cross-sell
               o6   cai  C + D      day  10   D new, returning: cross-sell
               o7   dee  A          day  20   first order ever: no cross-sell
               o8   eve  A + C      day   8   first order: no cross-sell
               o8-r eve  C returned day  12   -50
               o9   ned  B          day   6   new item, returning: cross-sell
               o10  quin A          day   9   first order
               o11  dee  B          day  25   new item after dee's first order: cross-sell
    plans      fay basic -> pro day 15 (upgrade), gus none -> basic day 2 (first plan),
               hal pro -> basic day 20 (downgrade), quin basic -> pro day 4 (upgrade)
    events     eve  cross_sell:A  impression email   day -3  (before the period)
               ada  cross_sell:B  impression web     day  1
               ada  cross_sell:B  click      web     day  1.5
               ada  cross_sell:B  accept     web     day  2
               ada  bundle:B+C    impression web     day  2.5
               cai  cross_sell:D  impression email   day  1
               dee  cross_sell:A  impression in_app  day  2
               fay  upgrade:pro   impression email   day 10
               fay  upgrade:pro   impression in_app  day 13
               fay  upgrade:pro   accept     in_app  day 14
               hal  upgrade:pro   impression email   day  5
               hal  upgrade:pro   dismiss    email   day  6
               ben  bundle:A+C    impression web     day 25
"""

import math

import numpy as np
import pytest

from models.kpis import (
    DAY,
    EVENTS,
    IMPRESSION,
    NONE,
    Events,
    Facts,
    Period,
    PlanChanges,
    Purchases,
    Targets,
    _attribute,
    facts,
    offers,
    outcomes,
)

START = 1_700_000_000
PERIOD = Period(START, START + 30 * DAY)
WINDOW = 14 * DAY
CUSTOMERS = ["ada", "ben", "cai", "dee", "eve", "fay", "gus", "hal", "ned", "quin"]
HOLDOUT = np.array([c in ("ned", "quin") for c in CUSTOMERS])
ITEMS = {"A": 10.0, "B": 20.0, "C": 50.0, "D": 100.0}
PLANS = {"basic": (1, 10.0), "pro": (2, 30.0)}  # rank, monthly price; one ladder
PURCHASES = [  # order, customer, item, kind, quantity, day
    ("o0", "cai", "C", "sale", 1, -40),
    ("o1", "ada", "A", "sale", 1, -10),
    ("o2", "ben", "B", "sale", 1, -20),
    ("o3", "ned", "A", "sale", 2, -5),
    ("o4", "ada", "B", "sale", 1, 3),
    ("o5", "ben", "B", "sale", 1, 5),
    ("o6", "cai", "C", "sale", 1, 10),
    ("o6", "cai", "D", "sale", 1, 10),
    ("o7", "dee", "A", "sale", 1, 20),
    ("o8", "eve", "A", "sale", 1, 8),
    ("o8", "eve", "C", "sale", 1, 8),
    ("o8-r", "eve", "C", "return", 1, 12),
    ("o9", "ned", "B", "sale", 1, 6),
    ("o10", "quin", "A", "sale", 1, 9),
    ("o11", "dee", "B", "sale", 1, 25),
]
PLAN_CHANGES = [  # customer, from plan, to plan, day
    ("fay", "basic", "pro", 15),
    ("gus", None, "basic", 2),
    ("hal", "pro", "basic", 20),
    ("quin", "basic", "pro", 4),
]
EVENT_LOG = [  # customer, offer id, event, channel, day
    ("eve", "cross_sell:A", "impression", "email", -3),
    ("ada", "cross_sell:B", "impression", "web", 1),
    ("ada", "cross_sell:B", "click", "web", 1.5),
    ("ada", "cross_sell:B", "accept", "web", 2),
    ("ada", "bundle:B+C", "impression", "web", 2.5),
    ("cai", "cross_sell:D", "impression", "email", 1),
    ("dee", "cross_sell:A", "impression", "in_app", 2),
    ("fay", "upgrade:pro", "impression", "email", 10),
    ("fay", "upgrade:pro", "impression", "in_app", 13),
    ("fay", "upgrade:pro", "accept", "in_app", 14),
    ("hal", "upgrade:pro", "impression", "email", 5),
    ("hal", "upgrade:pro", "dismiss", "email", 6),
    ("ben", "bundle:A+C", "impression", "web", 25),
]
KINDS = ["bundle", "cross_sell", "upgrade"]
CHANNELS = ["email", "in_app", "web"]


def at(day: float) -> int:
    return START + int(day * DAY)


def purchases() -> Purchases:
    """The purchase lines from the previous period on, with what the customer bought before
    the period (what the database query answers for the app)."""
    lines = [p for p in PURCHASES if at(p[5]) >= PERIOD.previous().start]
    earlier = {(p[1], p[2]) for p in PURCHASES if p[3] == "sale" and at(p[5]) < START}
    bought = {customer for customer, _ in earlier}
    sale = np.array([p[3] == "sale" for p in lines])
    return Purchases(
        customer=np.array([CUSTOMERS.index(p[1]) for p in lines]),
        order=np.array([hash(p[0]) for p in lines], dtype=np.int64),
        item=np.array([list(ITEMS).index(p[2]) for p in lines]),
        value=np.array([ITEMS[p[2]] * p[4] for p in lines]) * np.where(sale, 1, -1),
        sale=sale,
        time=np.array([at(p[5]) for p in lines], dtype=np.int64),
        seen=np.array([(p[1], p[2]) in earlier for p in lines]),
        returning=np.array([p[1] in bought for p in lines]),
    )


def plan_changes() -> PlanChanges:
    def rank(plan: str | None) -> int:
        return PLANS[plan][0] if plan else -1

    def price(plan: str | None) -> float:
        return PLANS[plan][1] if plan else 0.0

    rows = PLAN_CHANGES
    return PlanChanges(
        customer=np.array([CUSTOMERS.index(r[0]) for r in rows]),
        plan=np.array([list(PLANS).index(r[2]) for r in rows]),
        time=np.array([at(r[3]) for r in rows], dtype=np.int64),
        from_ladder=np.array([0 if r[1] else -1 for r in rows]),
        from_rank=np.array([rank(r[1]) for r in rows]),
        to_ladder=np.zeros(len(rows), dtype=np.int64),
        to_rank=np.array([rank(r[2]) for r in rows]),
        price_change=np.array([price(r[2]) - price(r[1]) for r in rows]),
    )


OFFERS = sorted({e[1] for e in EVENT_LOG})


def events(group_by: str = "") -> Events:
    """The events with the group each one falls into (kind, channel or nothing)."""
    first = {}
    for customer, offer, event, _, day in sorted(EVENT_LOG, key=lambda e: e[4]):
        if event == "impression":
            first.setdefault((customer, offer), at(day))

    def group(offer: str, channel: str) -> int:
        if group_by == "kind":
            return KINDS.index(offer.partition(":")[0])
        return CHANNELS.index(channel) if group_by == "channel" else 0

    log = EVENT_LOG
    return Events(
        customer=np.array([CUSTOMERS.index(e[0]) for e in log]),
        offer=np.array([OFFERS.index(e[1]) for e in log]),
        event=np.array([EVENTS.index(e[2]) for e in log]),
        group=np.array([group(e[1], e[3]) for e in log]),
        time=np.array([at(e[4]) for e in log], dtype=np.int64),
        first_impression=np.array([first.get((e[0], e[1]), -1) for e in log], dtype=np.int64),
    )


def targets() -> Targets:
    """cross_sell:X and bundle:X+Y point at items, upgrade:P at a plan."""
    items = [
        (o, t)
        for o in OFFERS
        if not o.startswith("upgrade")
        for t in o[o.index(":") + 1 :].split("+")
    ]
    plans = [(o, o.partition(":")[2]) for o in OFFERS if o.startswith("upgrade")]
    return Targets(
        item_offer=np.array([OFFERS.index(o) for o, _ in items]),
        item=np.array([list(ITEMS).index(t) for _, t in items]),
        plan_offer=np.array([OFFERS.index(o) for o, _ in plans]),
        plan=np.array([list(PLANS).index(t) for _, t in plans]),
    )


def computed(group_by: str = "") -> tuple[Facts, Events]:
    e = events(group_by)
    f = facts(len(CUSTOMERS), purchases(), plan_changes(), e, targets(), PERIOD, WINDOW)
    return f, e


EVERYONE = np.ones(len(CUSTOMERS), dtype=bool)


def test_outcomes_treated_against_holdout() -> None:
    f, _ = computed()
    result = outcomes(f, HOLDOUT, EVERYONE)
    assert (result.customers.treated, result.customers.holdout) == (8, 2)
    assert result.holdout_shown_offers == 0

    # Upsell: fay (basic -> pro) of 8 treated; quin of 2 held out. gus's first plan and
    # hal's downgrade are no upsells.
    upsell = result.upsell_rate
    assert (upsell.treated, upsell.holdout, upsell.uplift) == (0.125, 0.5, -0.375)
    assert upsell.relative_uplift == -0.75
    # Wald: se = sqrt(.125 * .875 / 8 + .5 * .5 / 2) = sqrt(0.138671875) = 0.372387;
    # -0.375 - 1.96 * 0.372387 = -1.105, clipped to -1; -0.375 + 0.729887 = 0.354865.
    assert upsell.ci95 == pytest.approx((-1.0, 0.354865), abs=1e-6)
    # Pooled 2/10: se0 = sqrt(.2 * .8 * (1/8 + 1/2)) = sqrt(0.1) = 0.316228, z = 1.185854,
    # p = erfc(1.185854 / sqrt 2) = 0.235680.
    assert upsell.p_value == pytest.approx(0.235680, abs=1e-6)

    # Cross-sell: ada (B), cai (D), dee (B after a first order in the period) of 8;
    # ned (B) of 2. ben's B was bought before; eve's and quin's were first orders.
    cross = result.cross_sell_rate
    assert (cross.treated, cross.holdout, cross.uplift) == (0.375, 0.5, -0.125)
    # Pooled 4/10: se0 = sqrt(.4 * .6 * (1/8 + 1/2)) = 0.387298; p = erfc(0.322749 / sqrt 2).
    assert cross.p_value == pytest.approx(0.746886, abs=1e-6)


def test_orders_revenue_and_ltv_change() -> None:
    f, _ = computed()
    result = outcomes(f, HOLDOUT, EVERYONE)
    # Treated orders in the period: o4 20, o5 20, o6 150, o7 10, o8 60, o11 20 (the
    # return is not an order): 280 / 6 = 46.666667. Holdout: o9 20, o10 10: 15.
    assert (result.orders.treated, result.orders.holdout) == (6, 2)
    aov = result.average_order_value
    assert (aov.treated, aov.holdout) == pytest.approx((46.666667, 15.0))
    assert aov.uplift == pytest.approx(31.666667) and aov.relative_uplift == pytest.approx(2.111111)

    # Revenue: ada 20, ben 20, cai 150, dee 30, eve 60 - 50 = 10, fay gus hal 0:
    # 230 / 8 = 28.75. Holdout: ned 20, quin 10: 15. Uplift 13.75, relative 13.75 / 15.
    revenue = result.revenue_per_customer
    assert (revenue.treated, revenue.holdout, revenue.uplift) == (28.75, 15.0, 13.75)
    assert revenue.relative_uplift == pytest.approx(0.916667, abs=1e-6)
    # Variances: treated 17687.5 / 7 = 2526.79 (squared deviations from 28.75), holdout
    # (25 + 25) / 1 = 50; se = sqrt(2526.79 / 8 + 50 / 2) = 18.462075;
    # 13.75 -/+ 1.96 * 18.462075 = -22.435002 .. 49.935002; p = erfc(0.744774 / sqrt 2).
    assert revenue.ci95 == pytest.approx((-22.435002, 49.935002), abs=1e-6)
    assert revenue.p_value == pytest.approx(0.456411, abs=1e-6)

    # LTV change: the previous period had ada 10, ben 20 (cai's o0 is older) = 30 / 8 =
    # 3.75 treated, ned 20 / 2 = 10 held out. Changes: 28.75 - 3.75 = 25 and 15 - 10 = 5;
    # the difference in differences is 20. No relative uplift of a difference.
    ltv = result.ltv_change
    assert (ltv.treated, ltv.holdout, ltv.uplift, ltv.relative_uplift) == (25.0, 5.0, 20.0, None)


def test_offer_metrics_and_attribution() -> None:
    f, e = computed()
    result = offers(f, e, purchases(), plan_changes(), np.ones(len(EVENT_LOG), dtype=bool))
    # In the period: 8 impressions (eve's on day -3 is before it), 1 click, 2 accepts,
    # 1 dismissal; shown to ada, ben, cai, dee, fay, hal.
    counts = (result.impressions, result.clicks, result.accepts, result.dismissals)
    assert counts == (8, 1, 2, 1)
    assert result.customers_shown == 6
    assert (result.acceptance_rate, result.click_rate, result.dismissal_rate) == (
        0.25,
        0.125,
        0.125,
    )
    # ada: impression day 1 -> accept day 2 = 1 day; fay: first impression day 10 ->
    # accept day 14 = 4 days. (1 + 4) / 2 = 2.5.
    assert (result.average_days_to_accept, result.accepts_timed) == (2.5, 2)
    # ada's B on day 3 (last touch: the bundle impression on day 2.5), cai's D on day 10
    # (impression day 1), eve's A on day 8 (impression day -3, 11 days before): 20 + 100
    # + 10 = 130. dee's A on day 20 is 18 days after the impression: too late. fay's move
    # to pro on day 15, a day after accepting: 30 - 10 = 20 a month more.
    assert (result.attributed_purchases, result.attributed_revenue) == (3, 130.0)
    assert (result.attributed_plan_changes, result.attributed_monthly_revenue) == (1, 20.0)


def test_each_purchase_is_owed_to_its_last_touch_only() -> None:
    f, e = computed("kind")
    by_kind = {
        k: offers(f, e, purchases(), plan_changes(), e.group == i) for i, k in enumerate(KINDS)
    }
    # ada's B was offered as cross_sell:B (accepted day 2) and in bundle:B+C (day 2.5):
    # it counts once, for the bundle.
    assert (by_kind["bundle"].attributed_purchases, by_kind["bundle"].attributed_revenue) == (
        1,
        20.0,
    )
    cross = by_kind["cross_sell"]
    assert (cross.impressions, cross.clicks, cross.accepts, cross.attributed_revenue) == (
        3,
        1,
        1,
        110.0,
    )
    assert cross.acceptance_rate == pytest.approx(1 / 3)
    upgrade = by_kind["upgrade"]
    assert (upgrade.impressions, upgrade.customers_shown, upgrade.dismissals) == (3, 2, 1)
    assert (upgrade.average_days_to_accept, upgrade.attributed_plan_changes) == (4.0, 1)
    total = sum(k.attributed_purchases for k in by_kind.values())
    assert total == 3


def test_by_channel_the_accept_counts_where_it_happened() -> None:
    f, e = computed("channel")
    by = {
        c: offers(f, e, purchases(), plan_changes(), e.group == i) for i, c in enumerate(CHANNELS)
    }
    # fay was first shown the upgrade by email (day 10) and accepted in the app (day 14).
    assert (by["email"].impressions, by["email"].accepts, by["email"].acceptance_rate) == (
        3,
        0,
        0.0,
    )
    assert (by["in_app"].accepts, by["in_app"].average_days_to_accept) == (1, 4.0)
    # eve's A is owed to an email shown before the period: the conversion is in it.
    assert (by["email"].attributed_purchases, by["email"].attributed_revenue) == (2, 110.0)
    assert (by["web"].attributed_revenue, by["in_app"].attributed_monthly_revenue) == (20.0, 20.0)


def test_a_segment_is_compared_with_its_own_holdout() -> None:
    f, _ = computed()
    loyal = np.array([c in ("ada", "ben", "cai", "ned") for c in CUSTOMERS])
    result = outcomes(f, HOLDOUT, loyal)
    assert (result.customers.treated, result.customers.holdout) == (3, 1)
    # Revenue (20 + 20 + 150) / 3 against ned's 20; one holdout customer has no variance.
    revenue = result.revenue_per_customer
    assert revenue.uplift == pytest.approx(190 / 3 - 20)
    assert revenue.ci95 is None and revenue.p_value is None
    # Cross-sell 2/3 against 1/1: se = sqrt((2/3)(1/3)/3) = 0.272166, pooled 3/4:
    # se0 = sqrt(.75 * .25 * (1/3 + 1)) = 0.5, z = 0.666667.
    cross = result.cross_sell_rate
    assert cross.uplift == pytest.approx(-1 / 3)
    assert cross.ci95 == pytest.approx(
        (-1 / 3 - 1.959964 * 0.272166, -1 / 3 + 1.959964 * 0.272166), abs=1e-5
    )
    assert cross.p_value == pytest.approx(math.erfc(0.666667 / math.sqrt(2)), abs=1e-6)
    # Nobody upgraded on either side: no difference and no noise to test it against.
    upsell = result.upsell_rate
    assert (upsell.uplift, upsell.ci95, upsell.p_value, upsell.relative_uplift) == (
        0.0,
        None,
        None,
        None,
    )


def test_a_group_without_holdout_customers_has_no_uplift() -> None:
    f, _ = computed()
    only_hal = np.array([c == "hal" for c in CUSTOMERS])
    result = outcomes(f, HOLDOUT, only_hal)
    assert result.revenue_per_customer.treated == 0.0
    assert result.revenue_per_customer.holdout is None
    assert result.upsell_rate.uplift is None


def test_conversions_without_any_matching_touch_are_owed_to_nothing() -> None:
    """A purchase in a period whose only events name other offers (a regression: the
    attribution indexed an empty list of touches)."""
    events = _events_naming_nothing()
    conversion = (np.array([0]), np.array([5]), np.array([1_000]))
    pairs = (np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert _attribute(conversion, events, pairs, 86_400).tolist() == [NONE]


def _events_naming_nothing() -> Events:
    """One impression of an offer that names no item or plan."""
    one = np.array([0], dtype=np.int64)
    return Events(
        customer=one,
        offer=one,
        event=np.array([IMPRESSION], dtype=np.int64),
        group=one,
        time=np.array([500], dtype=np.int64),
        first_impression=np.array([-1], dtype=np.int64),
    )
