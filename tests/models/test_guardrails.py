"""Guardrails, as properties over random offer streams and event logs.

A simulated caller asks for offers at random moments, shows everything it is given
(reporting an impression for each) and dismisses some; whatever the stream, no window
of `window_days` may hold more than `cap` impressions, and a dismissed offer must not
come back within its cool-down.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from models.guardrails import DAY, Event, Guardrails, Standing, screen
from models.holdout import bucket, holdout_mask, in_holdout

KINDS = ["upgrade", "billing", "retention", "cross_sell", "bundle", "premium", "expansion"]
OFFERS = [f"{kind}:{n}" for kind in KINDS for n in range(3)]

rules_strategy = st.builds(
    Guardrails,
    cap=st.integers(1, 5),
    window_days=st.floats(1, 14),
    cooldown_days=st.floats(1, 60),
)
# (hours since the previous request, offers offered best first, which shown get dismissed)
requests = st.lists(
    st.tuples(
        st.floats(0, 96),
        st.lists(st.sampled_from(OFFERS), min_size=1, max_size=10, unique=True),
        st.sets(st.integers(0, 9), max_size=3),
    ),
    min_size=1,
    max_size=40,
)


def simulate(rules: Guardrails, stream: list, limit: int) -> tuple[list[Event], list]:  # type: ignore[type-arg]
    """Run the stream; return the event log and every (moment, offers shown) answer."""
    now, events, answers = 1_800_000_000, [], []
    for hours, offers, dismiss in stream:
        now += int(hours * 3600)
        kinds = [o.partition(":")[0] for o in offers]
        result = screen(kinds, offers, Standing(events=tuple(events)), now, rules, limit)
        shown = [offers[i] for i in result.kept]
        answers.append((now, shown))
        events += [Event(o, "impression", now) for o in shown]
        events += [Event(shown[i], "dismiss", now + 60) for i in dismiss if i < len(shown)]
    return events, answers


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, stream=requests, limit=st.integers(1, 10))
def test_no_window_ever_holds_more_impressions_than_the_cap(
    rules: Guardrails,
    stream: list,
    limit: int,  # type: ignore[type-arg]
) -> None:
    events, _ = simulate(rules, stream, limit)
    times = sorted(e.at for e in events if e.event == "impression")
    span = rules.window_days * DAY
    for i, start in enumerate(times):
        inside = [t for t in times[i:] if t - start < span]
        assert len(inside) <= rules.cap


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, stream=requests, limit=st.integers(1, 10))
def test_a_dismissed_offer_does_not_come_back_within_its_cooldown(
    rules: Guardrails,
    stream: list,
    limit: int,  # type: ignore[type-arg]
) -> None:
    events, answers = simulate(rules, stream, limit)
    dismissed = [(e.offer_id, e.at) for e in events if e.event == "dismiss"]
    for moment, shown in answers:
        for offer, at in dismissed:
            if at < moment < at + rules.cooldown_days * DAY:
                assert offer not in shown


@settings(max_examples=200, deadline=None)
@given(
    offers=st.lists(st.sampled_from(OFFERS), min_size=1, max_size=12, unique=True),
    holdout=st.booleans(),
    opted_out=st.booleans(),
    complaint=st.booleans(),
)
def test_holdout_opt_out_and_complaints_get_no_sales_offers(
    offers: list[str], holdout: bool, opted_out: bool, complaint: bool
) -> None:
    kinds = [o.partition(":")[0] for o in offers]
    standing = Standing(holdout=holdout, opted_out=opted_out, open_complaint=complaint)
    result = screen(kinds, offers, standing, 1_800_000_000, Guardrails(cap=20), 20)
    kept = [kinds[i] for i in result.kept]
    if holdout or opted_out:
        assert kept == []
    elif complaint:
        assert set(kept) <= {"retention"}
    assert len(result.kept) + len(result.held) == len(offers)  # every offer is accounted for


def test_at_most_one_upsell_at_a_time_the_best_ranked_one() -> None:
    offers = ["premium:1", "cross_sell:1", "upgrade:pro", "billing:lite"]
    result = screen([o.partition(":")[0] for o in offers], offers, Standing(), 0, Guardrails(), 4)
    assert [offers[i] for i in result.kept] == ["premium:1", "cross_sell:1"]
    assert [(offers[i], rule) for i, rule in result.held] == [
        ("upgrade:pro", "one_upsell"),
        ("billing:lite", "one_upsell"),
    ]


def test_the_cap_counts_only_impressions_inside_the_window() -> None:
    now = 100 * DAY
    old = [Event("cross_sell:1", "impression", now - 8 * DAY)] * 3
    recent = [Event("cross_sell:1", "impression", now - DAY)] * 2
    offers = ["cross_sell:2", "bundle:2", "expansion:2"]
    kinds = [o.partition(":")[0] for o in offers]
    result = screen(kinds, offers, Standing(events=tuple(old + recent)), now, Guardrails(), 10)
    assert result.shown_in_window == 2
    assert [offers[i] for i in result.kept] == ["cross_sell:2"]
    assert {rule for _, rule in result.held} == {"frequency_cap"}


def test_the_holdout_is_a_stable_share_of_customers() -> None:
    ids = [f"C{n:06d}" for n in range(20_000)]
    mask = holdout_mask(ids, 0.1)
    assert 0.09 < mask.mean() < 0.11
    assert mask.tolist() == holdout_mask(ids, 0.1).tolist()  # the same every time
    assert all(in_holdout(c, 0.2) for c, held in zip(ids, mask, strict=True) if held)
    assert not in_holdout("C000001", 0.0)
    assert bucket("C000001") != bucket("C000001", salt="another experiment")
