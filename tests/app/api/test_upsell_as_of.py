"""The upsell route asked `as_of` a past moment, with a model trained `--as-of` it,
answers what a model and a database of that moment would have: the probabilities it
gives are the ones `evaluate --upsell` scores at that cutoff, so its figures are the
route's."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo.generate import generate
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.settings import Settings
from app.training.saas import SaasData, load_saas
from app.training.train import train
from models.propensity import roc_auc
from models.upgrade_eval import can_upgrade, evaluate_upgrades, fit_upgrades, subset
from models.upgrades import DAY, snapshot, upgrades_after

from .conftest import keyed_client

END = date(2026, 11, 1)  # the generated history ends here
CUTOFF = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, SaasData]]:
    """4,000 generated customers; a model trained as of the cutoff; the SaaS data as
    `evaluate --upsell` reads it."""
    directory = tmp_path_factory.mktemp("as-of")
    url = f"sqlite:///{directory / 'demo.db'}"
    upgrade(url)
    files = generate(directory / "data", customers=4000, seed=3, as_of=END)
    engine = make_engine(url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    result = train(engine, directory / "models", as_of=CUTOFF)
    assert result.manifest["as_of"] == datetime.fromtimestamp(CUTOFF, UTC).isoformat()
    data = load_saas(engine, loyal_as_of=CUTOFF)
    engine.dispose()
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    with keyed_client(settings) as client:
        yield client, data


def asked(client: TestClient, customer_id: str, moment: int) -> dict[str, Any]:
    at = datetime.fromtimestamp(moment, UTC).isoformat()
    response = client.get(f"/v1/customers/{customer_id}/upsell", params={"as_of": at})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_route_as_of_the_cutoff_gives_the_evaluated_probabilities(backtest: Any) -> None:
    client, data = backtest
    history, ladder = data.history, data.ladder
    test = snapshot(history, ladder, CUTOFF)
    test = subset(test, can_upgrade(ladder, test.plan))
    expected = fit_upgrades(history, ladder, CUTOFF).probability(test.features)
    answers = [asked(client, data.customer_ids[c], CUTOFF) for c in test.customer.tolist()]
    given = np.array([a["probability"] for a in answers], dtype=float)
    assert len(given) > 500
    np.testing.assert_allclose(given, np.round(expected, 4), atol=1e-9)
    upgraded, _ = upgrades_after(history, ladder, test, 90)
    results, _, _ = evaluate_upgrades(history, ladder, CUTOFF, compare=False)
    auc = results["learned propensity"]["ROC AUC"]
    assert round(roc_auc(given, upgraded), 3) == round(auc, 3) and auc > 0.75


def test_what_came_after_the_moment_does_not_exist_for_the_answer(backtest: Any) -> None:
    """A subscriber whose plan changed after the cutoff is answered on the plan they had
    then, and on the new one after the change."""
    client, data = backtest
    h = data.history
    after = np.flatnonzero(h.change_at > CUTOFF)  # sorted by (customer, time)
    first = after[np.unique(h.change_customer[after], return_index=True)[1]]
    later = first[(h.change_from[first] >= 0) & (h.change_plan[first] != h.change_from[first])]
    later = later[:20]
    assert len(later) >= 5
    for change in later.tolist():
        customer = data.customer_ids[int(h.change_customer[change])]
        then = asked(client, customer, CUTOFF)
        assert then["current"]["plan_id"] == data.plans.ids[int(h.change_from[change])]
        now = asked(client, customer, int(h.change_at[change]) + DAY)
        assert now["current"]["plan_id"] == data.plans.ids[int(h.change_plan[change])]


def test_a_moment_in_the_future_is_422_naming_as_of(backtest: Any) -> None:
    client, _ = backtest
    response = client.get("/v1/customers/C000001/upsell", params={"as_of": "2999-01-01T00:00:00Z"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"][0]["field"] == "query.as_of"
    assert "future" in error["details"][0]["message"]
