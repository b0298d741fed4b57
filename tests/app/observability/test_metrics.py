"""/metrics as an operator scrapes it: requests by route template and status with their
latency, the model serving and its age, the last training, offers by kind, ingestion
verdicts."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.settings import Settings
from app.training import versions

from ..api.conftest import keyed_client
from ..api.test_upsell_api import KNOWN
from ..serving.test_registry import copy_version, register_as_active
from .conftest import Samples, scrape, value

CROSS_SELL = "/v1/customers/{customer_id}/cross-sell"
REQUESTS = "nextbest_http_requests_total"
LATENCY = "nextbest_http_request_duration_seconds"


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_are_counted_by_route_template_method_and_status(client: TestClient) -> None:
    before = scrape(client)
    for n in range(1, 4):
        assert client.get(f"/v1/customers/C{n:06d}/cross-sell").status_code == 200
    assert client.get("/v1/customers/C000001/cross-sell?limit=0").status_code == 422
    assert client.post("/v1/customers/C000001/cross-sell").status_code == 405
    no_key = client.get("/v1/customers/C000002/cross-sell", headers={"Authorization": ""})
    assert no_key.status_code == 401
    assert client.get("/v1/items/no-such-item/related").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    def counted(method: str, route: str, status: str) -> float:
        return delta(before, after, REQUESTS, method=method, route=route, status=status)

    assert counted("GET", CROSS_SELL, "200") == 3
    assert counted("GET", CROSS_SELL, "422") == 1
    assert counted("POST", CROSS_SELL, "405") == 1
    assert counted("GET", CROSS_SELL, "401") == 1  # refused before routing, still its route
    assert counted("GET", "/v1/items/{item_id}/related", "404") == 1
    assert counted("GET", "unmatched", "404") == 1
    assert counted("GET", "/metrics", "200") == 1  # the first scrape
    labels = " ".join(str(key) for key in after)
    assert "C000001" not in labels and "no-such-item" not in labels and "/no/such" not in labels

    ok = {"method": "GET", "route": CROSS_SELL, "status": "200"}
    assert delta(before, after, LATENCY + "_count", **ok) == 3
    assert delta(before, after, LATENCY + "_bucket", **ok, le="+Inf") == 3
    assert delta(before, after, LATENCY + "_sum", **ok) > 0
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in after.items()
        if name == LATENCY + "_bucket"
        and dict(labels)["route"] == CROSS_SELL
        and dict(labels)["status"] == "200"
    )
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and buckets[0][0] <= 0.001  # cumulative, ms resolution


def served_version(client: TestClient) -> str:
    answer = client.get("/v1/customers/C000010/cross-sell").json()
    return str(answer["model_version"])


def test_the_model_version_and_age_follow_the_model_served(shop: tuple[str, Path]) -> None:
    url, models = shop
    (trained,) = [p.name for p in models.iterdir() if p.is_dir()]
    first, second = "20990101T000000000001Z", "20990101T000000000002Z"  # only this test's
    copy_version(models, trained, first)
    manifest = json.loads((models / first / "manifest.json").read_text())
    three_hours_ago = datetime.fromtimestamp(time.time() - 3 * 3600, UTC).isoformat()
    manifest["created_at"] = three_hours_ago  # as trained then (the checksum is the arrays')
    (models / first / "manifest.json").write_text(json.dumps(manifest))
    register_as_active(url, models, first)
    with keyed_client(Settings(database_url=url, model_dir=models, refresh_seconds=0)) as client:
        assert served_version(client) == first
        before = scrape(client)
        assert value(before, "nextbest_model_info", version=first) == 1
        age = value(before, "nextbest_model_age_seconds", version=first)
        assert 3 * 3600 <= age < 3 * 3600 + 60

        copy_version(models, trained, second)
        register_as_active(url, models, second)
        client.app.state.registry.refresh()  # what the refresh thread does every interval
        assert served_version(client) == second
        after = scrape(client)
    assert value(after, "nextbest_model_info", version=second) == 1
    assert value(after, "nextbest_model_info", version=first) == 0
    ages = {
        labels: v for (name, labels), v in after.items() if name == "nextbest_model_age_seconds"
    }
    assert list(ages) == [(("version", second),)]  # the model served, not the one before
    assert ages[(("version", second),)] < 3600  # the copy of the model trained just now


def test_offers_are_counted_by_kind_in_the_offers_and_upsell_answers(client: TestClient) -> None:
    before = scrape(client)
    shown: dict[tuple[str, str], int] = {}
    offers_route = "/v1/customers/{customer_id}/offers"
    for n in range(1, 30):
        answer = client.get(f"/v1/customers/C{n:06d}/offers").json()
        for offer in answer["offers"]:
            shown[offer["kind"], offers_route] = shown.get((offer["kind"], offers_route), 0) + 1
    upsell_route = "/v1/customers/{customer_id}/upsell"
    decisions = []
    for customer in KNOWN:
        decision = client.get(f"/v1/customers/{customer}/upsell").json()["decision"]
        decisions.append(decision)
        kind = {"upgrade": "upgrade", "billing": "billing", "retain": "retention"}.get(decision)
        if kind:
            shown[kind, upsell_route] = shown.get((kind, upsell_route), 0) + 1
    after = scrape(client)
    assert sum(v for (_, route), v in shown.items() if route == offers_route) > 10
    assert "upgrade" in decisions and "not_now" in decisions  # some count, some do not
    counted = {
        (dict(labels)["kind"], dict(labels)["route"]): v - before.get((name, labels), 0.0)
        for (name, labels), v in after.items()
        if name == "nextbest_offers_served_total"
    }
    assert {k: v for k, v in counted.items() if v} == shown


def test_ingestion_counts_accepted_and_rejected_rows_per_table(database_url: str) -> None:
    with keyed_client(Settings(database_url=database_url, refresh_seconds=0)) as client:
        before = scrape(client)
        rows = [
            {"customer_id": "ok-1", "country": "DE"},
            {"customer_id": "", "country": "DE"},
            {"customer_id": "ok-2", "country": "GB"},
            {"country": "FR"},
            {"customer_id": "bad-opt-out", "marketing_opt_out": "perhaps"},
        ]
        answer = client.post("/v1/customers", json=rows).json()
        events = [{"event_id": "e1", "customer_id": "nobody", "offer_id": "x", "kind": "click"}]
        refused = client.post("/v1/events", json=events)
        after = scrape(client)
    assert (answer["accepted"], answer["rejected"]) == (2, 3)
    ingested = "nextbest_ingest_rows_total"
    assert delta(before, after, ingested, table="customers", outcome="accepted") == 2
    assert delta(before, after, ingested, table="customers", outcome="rejected") == 3
    assert refused.status_code == 422  # no valid event at all: refused, and counted
    assert delta(before, after, ingested, table="events", outcome="rejected") == 1
    assert delta(before, after, ingested, table="events", outcome="accepted") == 0


def training(samples: Samples) -> dict[str, float]:
    """The last training as scraped: its outcome flags and duration."""
    found = {
        dict(labels)["outcome"]: v
        for (name, labels), v in samples.items()
        if name == "nextbest_training_last_outcome"
    }
    found["seconds"] = value(samples, "nextbest_training_duration_seconds")
    found["finished"] = value(samples, "nextbest_training_last_finished_timestamp_seconds")
    return found


def test_the_last_training_is_read_from_the_registry_and_from_nextbest_train(
    shop: tuple[str, Path],
) -> None:
    url, models = shop
    settings = Settings(database_url=url, model_dir=models, refresh_seconds=0)
    engine = make_engine(url)
    (row,) = versions.listed(engine)
    with keyed_client(settings) as client:
        trained = training(scrape(client))  # trained in code: the registry's row says
        assert trained == {
            "activated": 1,
            "rejected": 0,
            "failed": 0,
            "seconds": row.training_seconds,
            "finished": row.created_at.timestamp(),
        }
        runner = CliRunner()
        result = runner.invoke(cli, ["--database-url", url, "train", "--model-dir", str(models)])
        assert result.exit_code == 0, result.output
        record = json.loads((models / "last-training.json").read_text())
        now = training(scrape(client))
    engine.dispose()
    assert record["outcome"] == "activated" and record["version"] in result.output
    assert now == {
        "activated": 1,
        "rejected": 0,
        "failed": 0,
        "seconds": record["seconds"],
        "finished": record["finished_at"],
    }
    assert 0 < now["seconds"] < 600 and abs(now["finished"] - time.time()) < 600


def test_a_rejected_version_is_the_last_outcome_when_it_is_the_newest(
    shop: tuple[str, Path],
) -> None:
    url, models = shop
    engine = make_engine(url)
    active = versions.active(engine)
    assert active is not None
    versions.activate(engine, active.version, "with a metric to beat")
    with engine.begin() as conn:
        conn.execute(versions.V.update().values(metric_value=0.5))
    newest = {"version": "20990101T000000000004Z", "created_at": "now"}
    versions.register(engine, models / "n", {**newest, "metrics": {"NDCG@10": 0.1}}, 3.0, "NDCG@10")
    engine.dispose()
    settings = Settings(database_url=url, model_dir=models, refresh_seconds=0)
    with keyed_client(settings) as client:
        found = training(scrape(client))
    assert (found["rejected"], found["activated"], found["seconds"]) == (1, 0, 3.0)


def test_a_failed_training_is_the_last_outcome(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    models = tmp_path / "models"
    models.mkdir()
    result = CliRunner().invoke(cli, ["--database-url", url, "train", "--model-dir", str(models)])
    assert result.exit_code == 1 and "no sale lines" in result.output
    with keyed_client(Settings(database_url=url, model_dir=models, refresh_seconds=0)) as client:
        found = training(scrape(client))
    assert (found["failed"], found["activated"], found["rejected"]) == (1, 0, 0)
    assert 0 <= found["seconds"] < 60
