"""Training snapshots read only what was true at each moment: the model cannot learn
from a subscription row's values of today, nor from anything that happened later."""

import dataclasses

import numpy as np

from app.demo import saas
from app.demo.shop import DAY
from models.ladder import Ladder
from models.upgrade_eval import fit_upgrades, training_rows
from models.upgrades import (
    ANNUAL,
    FEATURES,
    MONTHLY,
    NEVER,
    UNCHANGED,
    SaasHistory,
    known_at,
    snapshot,
)

CUTOFF = 1_790_000_000 // DAY * DAY
LADDER = Ladder(
    ladder=np.zeros(3, dtype=np.int32),
    rank=np.array([1, 2, 3], dtype=np.int32),
    monthly=np.array([9.0, 29.0, 79.0]),
    limits=np.array([[10.0], [25.0], [100.0]]),
    metrics=["seats"],
)


def test_a_snapshot_is_the_same_whatever_happened_after_it() -> None:
    """On the demo generator's history (upgrades, billing switches, cancellations,
    complaints): the snapshot a year before its end equals the snapshot of the history
    cut at that moment, with the subscription rows as they stood then."""
    history, ladder = saas.simulated(8_000, CUTOFF)
    at = CUTOFF - 365 * DAY
    now, then = snapshot(history, ladder, at), snapshot(known_at(history, at), ladder, at)
    assert len(now.customer) > 1_000
    assert (history.sub_plan[now.subscription] != now.plan).sum() > 50  # plans moved since
    h = history  # every demo subscription has a plan change at its start: the last one wins
    last = [h.change_plan[(h.change_customer == c) & (h.change_at <= at)][-1] for c in now.customer]
    np.testing.assert_array_equal(now.plan, last)
    np.testing.assert_array_equal(now.customer, then.customer)
    np.testing.assert_array_equal(now.plan, then.plan)
    np.testing.assert_array_equal(now.features, then.features)


def re_anchored(n: int, seed: int = 3) -> SaasHistory:
    """Subscribers on the two lower plans, monthly, usage drawn once; upgrades come from
    usage alone (25 % a month from 80 % of the limit, 1 % below), to the top plan. An
    upgrade switches the billing to annual, so today's rows say "annual, renews a year after the
    upgrade" for exactly the customers who upgraded: what a leaky snapshot would learn."""
    rng = np.random.default_rng(seed)
    start = CUTOFF - 720 * DAY
    started = start + (rng.random(n) * 300 * DAY).astype(np.int64)
    plan = rng.integers(0, 2, n)
    ratio = rng.uniform(0.1, 1.1, n)
    months = np.arange(start + 30 * DAY, CUTOFF, 30 * DAY)
    hazard = np.where(ratio >= 0.8, 0.25, 0.01)
    draws = rng.random((n, len(months))) < hazard[:, None]
    draws &= months[None, :] > started[:, None] + 20 * DAY
    first = np.where(draws.any(axis=1), draws.argmax(axis=1), -1)
    up = np.flatnonzero(first >= 0)
    when = months[first[up]] + (rng.random(len(up)) * 20 * DAY).astype(np.int64)
    customers = np.arange(n)
    change_customer = np.concatenate([customers, up])
    change_at = np.concatenate([started, when])
    order = np.lexsort((change_at, change_customer))
    reading_at = np.repeat(months[None, :], n, axis=0)
    return SaasHistory(
        sub_customer=customers,
        sub_plan=np.where(first >= 0, 2, plan),
        sub_started=started,
        sub_ended=np.full(n, NEVER),
        sub_annual=first >= 0,
        change_customer=change_customer[order],
        change_from=np.concatenate([np.full(n, -1), plan[up]])[order],
        change_plan=np.concatenate([plan, np.full(len(up), 2)])[order],
        change_annual=np.concatenate([np.full(n, MONTHLY), np.full(len(up), ANNUAL)])[order],
        change_at=change_at[order],
        usage_customer=np.repeat(customers, len(months)),
        usage_metric=np.zeros(n * len(months), dtype=np.int64),
        usage_value=np.repeat(ratio * LADDER.limits[plan, 0], len(months)),
        usage_at=reading_at.ravel(),
        ticket_customer=np.zeros(0, dtype=np.int64),
        ticket_opened=np.zeros(0, dtype=np.int64),
        ticket_closed=np.zeros(0, dtype=np.int64),
        loyal=np.zeros(n, dtype=bool),
    )


def test_todays_billing_and_renewal_do_not_leak_into_past_snapshots() -> None:
    """Annual billing follows the upgrade here, so it says nothing about who upgrades
    next: the learned odds ratios of billing and renewal stay near 1, while usage
    (the real driver) is learned. The same history, with the billing switch left out of
    the plan changes, shows what reading today's rows would have taught the model."""
    history = re_anchored(6_000)
    rows = training_rows(history, LADDER, CUTOFF, 90, int(history.sub_started.min()))
    annual = rows.features[:, FEATURES.index("annual billing")]
    assert rows.upgraded.sum() > 500 and annual.sum() == 0  # monthly until the upgrade
    odds = fit_upgrades(history, LADDER, CUTOFF).odds_ratios()
    assert 0.5 < odds["annual renewal within 90 days"] < 2.0
    assert 0.5 < odds["annual billing"] < 2.0
    unnamed = dataclasses.replace(
        history, change_annual=np.full(len(history.change_annual), UNCHANGED)
    )
    leaky = training_rows(unnamed, LADDER, CUTOFF, 90, int(history.sub_started.min()))
    billed = leaky.features[:, FEATURES.index("annual billing")] == 1
    assert leaky.upgraded[billed].mean() > 3 * leaky.upgraded[~billed].mean()
