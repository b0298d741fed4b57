"""Every per-customer route (and a basket naming its customer) asked `as_of` a past
moment answers from what was recorded up to it: the same answer whether or not the
database holds what came after, and the model's own memory of later purchases does not
leak into it."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.tables import (
    customer,
    item,
    offer_event,
    plan_change,
    purchase,
    subscription,
    ticket,
    usage,
)
from app.demo.generate import generate
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.settings import Settings
from app.training.train import train

from .conftest import keyed_client

END = date(2026, 11, 1)  # the generated history ends here
MOMENT = datetime(2026, 9, 15, tzinfo=UTC)  # asked as of: six weeks before the end
AS_OF = {"as_of": MOMENT.isoformat()}
ROUTES = ("cross-sell", "offers", "profile", "upsell")
EVENTS = (("impression", -3), ("impression", 2), ("dismiss", 3))  # days from the moment


@dataclass
class Served:
    full: TestClient  # the whole history
    cut: TestClient  # the same database without anything recorded after MOMENT
    bought_after: dict[str, set[str]]  # customer -> items first bought after MOMENT (by then
    # a buyer already, for the customers `bought_after` lists; else `newcomers`)
    owned_then: dict[str, set[str]]  # customer -> items bought up to MOMENT
    newcomers: list[str]  # customers whose first purchase came after MOMENT


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """1,500 generated customers, a model trained on all of it, offer events on both
    sides of the moment, and a copy of the database cut at the moment."""
    directory = tmp_path_factory.mktemp("as-of-routes")
    full, cut = directory / "full.db", directory / "cut.db"
    upgrade(f"sqlite:///{full}")
    files = generate(directory / "data", customers=1500, seed=5, as_of=END)
    engine = make_engine(f"sqlite:///{full}")
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    train(engine, directory / "models")
    bought_after, owned_then = _purchases(engine)
    _events(engine, sorted(bought_after)[:60])
    engine.dispose()
    shutil.copy(full, cut)
    _cut(f"sqlite:///{cut}")
    models = directory / "models"
    with (
        keyed_client(Settings(database_url=f"sqlite:///{full}", model_dir=models)) as a,
        keyed_client(Settings(database_url=f"sqlite:///{cut}", model_dir=models)) as b,
    ):
        returning = {c: i for c, i in bought_after.items() if c in owned_then}
        yield Served(a, b, returning, owned_then, sorted(set(bought_after) - set(owned_then)))


def _purchases(engine: Any) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """What each customer had bought by the moment, and what they first bought after
    (items they returned left out: a return takes an item out of what they own)."""
    query = (
        select(customer.c.customer_id, item.c.item_id, purchase.c.purchased_at)
        .join(customer, customer.c.id == purchase.c.customer_id)
        .join(item, item.c.id == purchase.c.item_id)
    )
    then: dict[str, set[str]] = {}
    later: dict[str, set[str]] = {}
    with engine.connect() as conn:
        lines = conn.execute(query.add_columns(purchase.c.kind)).all()
    returned = {(who, what) for who, what, _, kind in lines if kind != "sale"}
    rows = [(w, i, at) for w, i, at, kind in lines if kind == "sale" and (w, i) not in returned]
    for who, what, at in rows:
        if at.replace(tzinfo=UTC) <= MOMENT:
            then.setdefault(who, set()).add(what)
    for who, what, at in rows:
        if at.replace(tzinfo=UTC) > MOMENT and what not in then.get(who, set()):
            later.setdefault(who, set()).add(what)
    return later, then


def _events(engine: Any, customer_ids: list[str]) -> None:
    """An impression before the moment and two after it, for each of the customers."""
    rows = []
    with engine.begin() as conn:
        pks = dict(
            conn.execute(
                select(customer.c.customer_id, customer.c.id).where(
                    customer.c.customer_id.in_(customer_ids)
                )
            ).all()
        )
        for n, (who, pk) in enumerate(sorted(pks.items())):
            for k, (event, days) in enumerate(EVENTS):
                rows.append(
                    {
                        "event_id": f"e{n}-{k}",
                        "customer_id": pk,
                        "offer_id": f"cross_sell:{who}",
                        "offer_kind": "cross_sell",
                        "event": event,
                        "channel": "email",
                        "occurred_at": MOMENT + timedelta(days=days),
                    }
                )
        conn.execute(insert(offer_event), rows)


def _cut(url: str) -> None:
    """Make the copy the database of the moment: delete whatever was recorded after it,
    and undo the later updates of the rows that stay (a ticket closed since is open, a
    subscription cancelled since is live, on the plan it had then)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        later = conn.execute(
            select(plan_change.c.customer_id, plan_change.c.from_plan_id)
            .where(plan_change.c.changed_at > MOMENT, plan_change.c.from_plan_id.is_not(None))
            .order_by(plan_change.c.customer_id, plan_change.c.changed_at.desc())
        ).all()
        for who, plan in dict(later).items():  # the earliest later change wins
            conn.execute(
                update(subscription).where(subscription.c.customer_id == who).values(plan_id=plan)
            )
        conn.execute(delete(purchase).where(purchase.c.purchased_at > MOMENT))
        conn.execute(delete(offer_event).where(offer_event.c.occurred_at > MOMENT))
        conn.execute(delete(ticket).where(ticket.c.opened_at > MOMENT))
        conn.execute(update(ticket).where(ticket.c.closed_at > MOMENT).values(closed_at=None))
        conn.execute(delete(usage).where(usage.c.measured_at > MOMENT))
        conn.execute(delete(plan_change).where(plan_change.c.changed_at > MOMENT))
        conn.execute(delete(subscription).where(subscription.c.started_at > MOMENT))
        conn.execute(
            update(subscription)
            .where(subscription.c.ended_at > MOMENT)
            .values(ended_at=None, status="active")
        )
    engine.dispose()


def ask(client: TestClient, customer_id: str, route: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/customers/{customer_id}/{route}", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_answer_as_of_a_moment_does_not_see_what_came_after(served: Served) -> None:
    """The answer of every route as of the moment is the same on the database cut at
    it: nothing recorded later (purchases, events, readings, tickets, plan changes) was
    read."""
    customers = sorted(served.bought_after)[:40]
    assert len(customers) == 40
    differ = dict.fromkeys(ROUTES, 0)
    for who in customers:
        for route in ROUTES:
            extra = {"explain": True} if route == "offers" else {}
            then = ask(served.full, who, route, **AS_OF, **extra)
            assert then == ask(served.cut, who, route, **AS_OF, **extra), (who, route)
            differ[route] += then != ask(served.full, who, route, **extra)
        cart = {"customer_id": who, "items": sorted(served.owned_then[who])[:2]}
        assert basket(served.full, cart, AS_OF) == basket(served.cut, cart, AS_OF), who
    print(differ)
    assert min(differ.values()) >= 5, differ  # the moment matters on every route


def basket(client: TestClient, body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    response = client.post("/v1/baskets/recommendations", json=body, params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_model_does_not_lend_later_purchases_to_an_earlier_answer(served: Served) -> None:
    """As of the moment, what a customer bought later is not theirs yet: it may be
    suggested (and is, for some: the model saw it coming), while what they owned then
    never is; now, neither is."""
    foreseen = carted = 0
    customers = sorted(served.bought_after)[:150]
    for who in customers:
        then = _suggested(served.full, who, **AS_OF)
        now = _suggested(served.full, who)
        later = served.bought_after[who]
        assert not now & later
        assert not then & served.owned_then[who]
        foreseen += bool(then & later)
        cart = {"customer_id": who, "items": sorted(served.owned_then[who])[:1]}
        carts = [basket(served.full, cart, p)["items"] for p in (AS_OF, {})]
        in_cart_then, in_cart_now = ({i["item_id"] for i in items} for items in carts)
        assert not in_cart_now & later
        carted += bool(in_cart_then & later)
    assert foreseen >= 10 and carted >= 10, (foreseen, carted)


def _suggested(client: TestClient, who: str, **params: Any) -> set[str]:
    """Items the cross-sell answer suggests as new to the customer (not to buy again)."""
    items = ask(client, who, "cross-sell", **params)["items"]
    return {i["item_id"] for i in items if i["source"] != "replenishment"}


def test_a_customer_who_had_bought_nothing_by_then_gets_their_group_s_favourites(
    served: Served,
) -> None:
    """Before their first purchase, a customer is a cold start as of the moment, and
    still one of their own group (country, segment), as a shopper new to the model is."""
    assert len(served.newcomers) >= 5
    for who in served.newcomers[:10]:
        then = ask(served.full, who, "cross-sell", **AS_OF)
        assert then["source"] == "popular_similar", (who, then["source"])
        assert ask(served.full, who, "cross-sell")["source"] == "personal"


def test_the_profile_as_of_a_moment_lists_lines_up_to_it(served: Served) -> None:
    who = sorted(served.bought_after)[0]
    lines = ask(served.full, who, "profile", **AS_OF)["recent_purchases"]
    assert lines and all(_at(line["purchased_at"]) <= MOMENT for line in lines)
    latest = ask(served.full, who, "profile")["recent_purchases"]
    assert _at(latest[0]["purchased_at"]) > MOMENT


def test_a_profile_as_of_a_moment_before_the_model_s_data_has_no_rfm(served: Served) -> None:
    """Training's RFM scores rank customers on purchases after the moment: not shown."""
    who = sorted(served.bought_after)[0]
    then = ask(served.full, who, "profile", **AS_OF)
    assert then["rfm"] is None and "No RFM scores as of this moment" in then["notes"][0]
    assert ask(served.full, who, "profile")["rfm"] is not None


def test_an_event_stamped_a_little_ahead_counts_now(served: Served) -> None:
    """Without as_of, an impression stamped a minute ahead (another machine's clock) is
    counted by the frequency cap at once, as before as_of existed."""
    who = sorted(served.bought_after)[-1]
    before = ask(served.full, who, "offers")["guardrails"]["shown_in_window"]
    engine = make_engine(str(served.full.app.state.settings.database_url))  # type: ignore[attr-defined]
    with engine.begin() as conn:
        pk = conn.execute(select(customer.c.id).where(customer.c.customer_id == who)).scalar()
        conn.execute(
            insert(offer_event).values(
                event_id=f"ahead-{who}",
                customer_id=pk,
                offer_id="upgrade:any",
                offer_kind="upgrade",
                event="impression",
                channel="web",
                occurred_at=datetime.now(UTC) + timedelta(minutes=1),
            )
        )
    engine.dispose()
    assert ask(served.full, who, "offers")["guardrails"]["shown_in_window"] == before + 1


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("moment", "says"),
    [
        ("in an hour", "future"),
        ("0.5", "not an ISO 8601 moment"),
        ("yesterday", "not an ISO 8601 moment"),
        ("2026-10-09T25:00:00Z", "not an ISO 8601 moment"),
    ],
)
def test_a_moment_in_the_future_or_not_iso_is_422_naming_as_of(
    served: Served, route: str, moment: str, says: str
) -> None:
    """An hour ahead is the future (rows may be stamped a little ahead; a question may
    not); a number, a word or an hour 25 is not an ISO moment, said in one way."""
    if moment == "in an hour":
        moment = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = served.full.get(f"/v1/customers/C000001/{route}", params={"as_of": moment})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "query.as_of" and says in detail["message"]
