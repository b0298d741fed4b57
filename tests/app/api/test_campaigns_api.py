"""Campaign lists as a CRM imports them: ranked, guarded, as JSON or CSV."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.serving.answers import CampaignAnswer
from models.holdout import in_holdout
from tests.app.api.conftest import conforms

from .test_upsell_api import client_for, load

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    directory = tmp_path_factory.mktemp("campaigns")
    url = f"sqlite:///{directory / 'campaigns.db'}"
    upgrade(url)
    load(url, directory, 3000)
    with client_for(url, directory) as client:
        yield client, url


def targets(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/campaigns/targets", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    conforms(CampaignAnswer, answer)
    return answer


def flags(url: str) -> tuple[set[str], set[str]]:
    """(opted-out customers, customers with a complaint open now)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        opted = {
            r[0]
            for r in conn.execute(text("SELECT customer_id FROM customer WHERE marketing_opt_out"))
        }
        complaining = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT c.customer_id FROM ticket t JOIN customer c ON c.id = t.customer_id "
                    "WHERE t.kind = 'complaint' AND t.closed_at IS NULL"
                )
            )
        }
    engine.dispose()
    return opted, complaining


def test_an_upgrade_list_is_ranked_by_expected_value_and_guarded(
    served: tuple[TestClient, str],
) -> None:
    client, url = served
    answer = targets(client, kind="upgrade", limit=50)
    rows = answer["targets"]
    assert 0 < len(rows) <= 50 and [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    values = [r["expected_value"] for r in rows]
    assert values == sorted(values, reverse=True)
    opted, complaining = flags(url)
    for row in rows:
        assert row["offer_id"].startswith("upgrade:")
        assert not in_holdout(row["customer_id"], 0.1)
        assert row["customer_id"] not in opted | complaining
    assert answer["considered"] == len(rows) + sum(answer["excluded"].values())


def test_a_list_for_one_plan_targets_that_plan(served: tuple[TestClient, str]) -> None:
    client, _ = served
    rows = targets(client, kind="upgrade", plan="pro", limit=30)["targets"]
    assert rows and {r["offer_id"] for r in rows} == {"upgrade:pro"}


def test_opting_out_or_complaining_takes_a_customer_off_the_list_at_once(
    served: tuple[TestClient, str],
) -> None:
    client, _ = served
    first, second = targets(client, kind="upgrade", limit=2)["targets"]
    client.post(
        "/v1/customers", json=[{"customer_id": first["customer_id"], "marketing_opt_out": True}]
    )
    ticket = {
        "ticket_id": f"campaign-{second['customer_id']}",
        "customer_id": second["customer_id"],
        "kind": "complaint",
        "opened_at": (NOW - timedelta(hours=1)).isoformat(),
    }
    client.post("/v1/tickets", json=[ticket])
    answer = targets(client, kind="upgrade", limit=20)
    listed = {r["customer_id"] for r in answer["targets"]}
    assert first["customer_id"] not in listed and second["customer_id"] not in listed
    assert answer["excluded"]["opt_out"] >= 1 and answer["excluded"]["open_complaint"] >= 1


def test_a_cross_sell_list_leaves_out_who_owns_the_item(served: tuple[TestClient, str]) -> None:
    client, url = served
    engine = make_engine(url)
    with engine.connect() as conn:
        (item,) = conn.execute(
            text(
                "SELECT i.item_id FROM purchase p JOIN item i ON i.id = p.item_id "
                "GROUP BY i.item_id ORDER BY COUNT(*) DESC LIMIT 1"
            )
        ).one()
        owners = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT c.customer_id FROM purchase p JOIN customer c ON c.id = p.customer_id "
                    "JOIN item i ON i.id = p.item_id WHERE i.item_id = :i"
                ),
                {"i": item},
            )
        }
    engine.dispose()
    answer = targets(client, kind="cross_sell", item=item, limit=100)
    rows = answer["targets"]
    assert len(rows) == 100 and not owners & {r["customer_id"] for r in rows}
    assert {r["offer_id"] for r in rows} == {f"cross_sell:{item}"}
    assert rows[0]["reason"].startswith("bought together with")


def test_the_same_list_downloads_as_csv(served: tuple[TestClient, str]) -> None:
    client, _ = served
    as_json = targets(client, kind="upgrade", limit=25)["targets"]
    response = client.get(
        "/v1/campaigns/targets",
        params={"kind": "upgrade", "limit": 25},
        headers={"accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["customer_id"] for r in rows] == [r["customer_id"] for r in as_json]
    assert rows[0].keys() >= {"rank", "customer_id", "offer_id", "expected_value", "reason"}


def test_bad_requests_are_4xx_with_a_clear_message(served: tuple[TestClient, str]) -> None:
    client, _ = served
    cases = [
        ({"kind": "upgrade"}, {"accept": "text//csv"}, 406, "not_acceptable"),
        ({"kind": "upgrade"}, {"accept": "application/pdf"}, 406, "not_acceptable"),
        ({"kind": "cross_sell"}, {}, 422, "invalid_request"),
        ({"kind": "upgrade", "plan": "gold"}, {}, 404, "not_found"),
        ({"kind": "cross_sell", "item": "no-such-item"}, {}, 404, "not_found"),
        ({"kind": "upgrade", "limit": 0}, {}, 422, "invalid_request"),
        ({"kind": "winback"}, {}, 422, "invalid_request"),
    ]
    for params, headers, status, code in cases:
        response = client.get("/v1/campaigns/targets", params=params, headers=headers)
        assert response.status_code == status, (params, headers, response.text)
        assert response.json()["error"]["code"] == code
