"""One decision everywhere: an upgrade campaign list holds exactly the customers
`/upsell` answers `upgrade` to that plan at the same moment, ranked by the expected
value of those answers, and leaves out only whom a guardrail holds back; on both
generated data sets."""

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.demo.teamwork import TABLES, generate_teamwork
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.settings import Settings
from app.training.saas import SaasData, load_saas
from app.training.train import train
from models.upgrades import live_at

from .conftest import keyed_client

END = date(2026, 11, 1)  # the generated history ends here
NOT_HELD = ("no_upgrade", "open_complaint")  # not upgrade answers: `/upsell` gates complaints


GENERATORS = {"demo": (generate, IMPORT_ORDER), "teamwork": (generate_teamwork, TABLES)}


@pytest.fixture(scope="module", params=list(GENERATORS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, SaasData]]:
    """3,000 generated customers of each data set, trained on all of it; the SaaS data as
    training read it."""
    make, tables = GENERATORS[request.param]
    directory = tmp_path_factory.mktemp("consistency")
    url = f"sqlite:///{directory / 'data.db'}"
    upgrade(url)
    files = make(directory / "data", customers=3000, seed=11, as_of=END)
    engine = make_engine(url)
    for table in tables:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    train(engine, directory / "models")
    data = load_saas(engine)
    engine.dispose()
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    with keyed_client(settings) as client:
        yield client, data


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def upgrades_by_route(client: TestClient, data: SaasData, at: str) -> dict[str, dict[str, Any]]:
    """Every live subscriber `/upsell` answers `upgrade` at `at`, by customer id."""
    moment = int(datetime.fromisoformat(at).timestamp())
    subs = live_at(data.history, moment, trial_days=0)
    found = {}
    for c in np.unique(data.history.sub_customer[subs]).tolist():
        customer_id = data.customer_ids[c]
        answer = get(client, f"/v1/customers/{customer_id}/upsell", as_of=at)
        if answer["decision"] == "upgrade":
            found[customer_id] = answer
    return found


@pytest.fixture(scope="module")
def routed(served: Any) -> tuple[TestClient, str, dict[str, dict[str, Any]]]:
    """(client, the moment the ranking stands for, the route's upgrade answers then)."""
    client, data = served
    at = get(client, "/v1/campaigns/targets", kind="upgrade", limit=1)["ranked_as_of"]
    return client, at, upgrades_by_route(client, data, at)


def test_upgrade_lists_hold_exactly_the_route_s_upgrade_answers(routed: Any) -> None:
    client, at, answers = routed
    plans = {a["target"]["plan_id"] for a in answers.values()}
    assert len(answers) >= 50 and len(plans) >= 2
    for plan in sorted(plans):
        query = {"kind": "upgrade", "plan": plan, "as_of": at}
        listed = get(client, "/v1/campaigns/targets", **query, limit=5000)
        rows = listed["targets"]
        routed = {c for c, a in answers.items() if a["target"]["plan_id"] == plan}
        for row in rows:  # each listed customer is answered upgrade to that plan, as listed
            answer = answers[row["customer_id"]]
            assert answer["target"]["plan_id"] == plan
            assert row["probability"] == answer["probability"]
            assert row["value"] == pytest.approx(12 * answer["price_difference"], abs=0.01)
        held_back = sum(n for rule, n in listed["excluded"].items() if rule not in NOT_HELD)
        missing = routed - {r["customer_id"] for r in rows}
        assert len(missing) == held_back  # nobody the route would upgrade is left off unsaid
        values = [r["expected_value"] for r in rows]
        assert values == sorted(values, reverse=True)
        head = get(client, "/v1/campaigns/targets", **query, limit=10)
        assert [r["customer_id"] for r in head["targets"]] == [r["customer_id"] for r in rows[:10]]


def test_the_any_plan_list_is_the_route_s_answers_ranked(routed: Any) -> None:
    client, at, answers = routed
    listed = get(client, "/v1/campaigns/targets", kind="upgrade", limit=5000, as_of=at)
    for row in listed["targets"]:
        assert row["offer_id"] == f"upgrade:{answers[row['customer_id']]['target']['plan_id']}"
    held_back = sum(n for rule, n in listed["excluded"].items() if rule not in NOT_HELD)
    assert len(answers) == len(listed["targets"]) + held_back
