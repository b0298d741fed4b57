"""Cross-sell over HTTP, as a shop's site or CRM calls it, on a trained demo data set."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.demo import shop
from app.demo.generate import generate
from app.ingest.importer import import_records, run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.serving.answers import BasketAnswer, CrossSellAnswer, RelatedAnswer
from app.settings import Settings
from app.training.train import train
from tests.app.api.conftest import conforms

from .conftest import keyed_client

NOW = datetime.now(UTC)


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def sale(order_id: str, customer_id: str, item_id: str, price: float, days_ago: float) -> object:
    """One purchase row as the bulk API takes it."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "item_id": item_id,
        "unit_price": price,
        "purchased_at": stamp(days_ago),
    }


def load_demo(database_url: str, directory: Path, customers: int) -> None:
    """Generated shop data, plus three customers whose right answers are known."""
    files = generate(directory / "data", customers=customers, seed=3)
    engine = make_engine(database_url)
    for table in ("customers", "items", "purchases"):
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    extra_customers: list[object] = [
        {"customer_id": "newcomer-de", "country": "DE", "attributes": {"segment": "consumer"}},
        {"customer_id": "beans-buyer", "country": "FR"},
    ]
    import_records(engine, TARGETS["customers"], extra_customers)
    # beans-buyer: one bag of beans every 20 days, the last 18 days ago.
    beans = beans_item(engine)
    lines = [sale(f"beans-{n}", "beans-buyer", beans, 11.0, 18 + 20 * n) for n in range(5)]
    import_records(engine, TARGETS["purchases"], lines)
    import_records(
        engine,
        TARGETS["items"],
        [{"item_id": "brand-new-lens", "name": "Juno Premium Lenses 1", "category": "lenses"}],
    )
    engine.dispose()


def beans_item(engine: Any) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT item_id FROM item WHERE category = 'coffee beans' ORDER BY item_id")
            ).scalar()
        )


@contextmanager
def trained_client(database_url: str, directory: Path, customers: int) -> Iterator[TestClient]:
    """The demo data loaded into `database_url`, a model trained on it, and a client."""
    load_demo(database_url, directory, customers)
    engine = make_engine(database_url)
    train(engine, directory / "models")
    engine.dispose()
    settings = Settings(
        database_url=database_url, model_dir=directory / "models", refresh_seconds=0
    )
    with keyed_client(settings) as client:
        yield client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """A SQLite demo database with 600 customers, a trained model and a client."""
    directory = tmp_path_factory.mktemp("cross-sell")
    url = f"sqlite:///{directory / 'shop.db'}"
    upgrade(url)
    with trained_client(url, directory, 600) as client:
        yield client, url


def owned_by(url: str, customer_id: str) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.item_id FROM purchase p JOIN customer c ON c.id = p.customer_id "
                "JOIN item i ON i.id = p.item_id WHERE c.customer_id = :c"
            ),
            {"c": customer_id},
        ).all()
    engine.dispose()
    return {r[0] for r in rows}


def items_of(url: str) -> dict[str, dict[str, Any]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT item_id, category, price, active FROM item")).all()
    engine.dispose()
    return {r[0]: {"category": r[1], "price": r[2], "active": bool(r[3])} for r in rows}


def test_a_customer_gets_new_items_with_reasons(served: tuple[TestClient, str]) -> None:
    client, url = served
    answer = client.get("/v1/customers/C000010/cross-sell", params={"limit": 8}).json()
    conforms(CrossSellAnswer, answer)
    assert answer["source"] == "personal" and len(answer["items"]) == 8
    owned = owned_by(url, "C000010")
    for item in answer["items"]:
        assert item["reasons"] and all(r["text"] for r in item["reasons"])
        if item["source"] != "replenishment":
            assert item["item_id"] not in owned
    scores = [i["score"] for i in answer["items"] if i["source"] == "personal"]
    assert scores == sorted(scores, reverse=True)


def test_an_unknown_customer_gets_the_cold_start_answer(served: tuple[TestClient, str]) -> None:
    client, _ = served
    answer = client.get("/v1/customers/never-seen/cross-sell").json()
    conforms(CrossSellAnswer, answer)
    assert answer["source"] == "popular"
    buyers = [i["reasons"][0]["evidence"]["buyers"] for i in answer["items"]]
    assert len(buyers) == 10 and buyers == sorted(buyers, reverse=True)


def test_a_customer_without_history_gets_what_similar_customers_buy(
    served: tuple[TestClient, str],
) -> None:
    client, _ = served
    answer = client.get("/v1/customers/newcomer-de/cross-sell").json()
    assert answer["source"] == "popular_similar"
    assert {i["source"] for i in answer["items"]} == {"popular_similar"}
    assert "customers in DE/consumer" in answer["items"][0]["reasons"][0]["text"]


def test_a_consumable_on_a_cycle_comes_back_due_with_its_date(
    served: tuple[TestClient, str],
) -> None:
    client, url = served
    answer = client.get("/v1/customers/beans-buyer/cross-sell").json()
    first = answer["items"][0]
    assert first["source"] == "replenishment"
    assert first["item_id"] in owned_by(url, "beans-buyer")
    due = datetime.fromisoformat(first["due_at"].replace("Z", "+00:00"))
    assert abs((due - (NOW + timedelta(days=2))).total_seconds()) < 86_400
    assert "about every 20 days; last bought 18 days ago" in first["reasons"][0]["text"]


def test_filters_are_applied(served: tuple[TestClient, str]) -> None:
    client, url = served
    catalog = items_of(url)
    plain = client.get("/v1/customers/C000010/cross-sell", params={"limit": 20}).json()["items"]
    excluded = [plain[0]["item_id"], plain[1]["item_id"]]
    params: dict[str, Any] = {"limit": 20, "exclude": excluded, "min_price": 20, "max_price": 200}
    params["exclude_category"] = ["video games"]
    answer = client.get("/v1/customers/C000010/cross-sell", params=params).json()["items"]
    assert len(answer) == 20
    for item in answer:
        assert item["item_id"] not in excluded
        assert 20 <= item["price"] <= 200 and catalog[item["item_id"]]["active"]
        assert item["category"] != "video games"
    only = client.get(
        "/v1/customers/C000010/cross-sell", params={"category": ["lenses", "tripods"]}
    ).json()["items"]
    assert only and {i["category"] for i in only} <= {"lenses", "tripods"}


def test_a_new_item_is_offered_through_its_category(served: tuple[TestClient, str]) -> None:
    client, _ = served
    answer = client.get(
        "/v1/customers/C000010/cross-sell", params={"category": "lenses", "limit": 100}
    ).json()
    new = [i for i in answer["items"] if i["item_id"] == "brand-new-lens"]
    assert new and new[0]["source"] == "category"
    assert "new in lenses" in new[0]["reasons"][0]["text"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/customers/C000010/cross-sell?limit=0", "query.limit"),
        ("/v1/customers/C000010/cross-sell?limit=101", "query.limit"),
        ("/v1/customers/C000010/cross-sell?limit=ten", "query.limit"),
        ("/v1/customers/bad%01id/cross-sell", "path.customer_id"),
        (f"/v1/customers/{'x' * 300}/cross-sell", "path.customer_id"),
        ("/v1/items/I00001/related?kind=cheaper", "query.kind"),
        ("/v1/customers/C000010/cross-sell?min_price=-1", "query.min_price"),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(
    served: tuple[TestClient, str], path: str, field: str
) -> None:
    client, _ = served
    response = client.get(path)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [d["field"] for d in error["details"]]


def test_an_unknown_item_is_404_in_the_error_shape(served: tuple[TestClient, str]) -> None:
    client, _ = served
    response = client.get("/v1/items/no-such-item/related")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "no-such-item" in response.json()["error"]["message"]


def test_complements_are_bought_together_with_support_confidence_and_lift(
    served: tuple[TestClient, str],
) -> None:
    client, url = served
    catalog = items_of(url)
    cameras = [i for i, facts in catalog.items() if facts["category"] == "cameras"]
    answers = [
        client.get(f"/v1/items/{c}/related", params={"kind": "complement"}).json() for c in cameras
    ]
    found = [item for answer in answers for item in answer["items"]]
    assert found, "no camera has a complement"
    for answer in answers:
        conforms(RelatedAnswer, answer)
        confidences = [i["confidence"] for i in answer["items"]]
        assert confidences == sorted(confidences, reverse=True)
    assert all(i["support"] >= 3 and i["lift"] > 1 for i in found)
    complements = set(shop.COMPLEMENTS["cameras"])
    share = sum(catalog[i["item_id"]]["category"] in complements for i in found) / len(found)
    assert share > 0.5


def test_similar_items_come_from_the_collaborative_space(served: tuple[TestClient, str]) -> None:
    client, _ = served
    answer = client.get("/v1/items/I00001/related", params={"kind": "similar", "limit": 5}).json()
    conforms(RelatedAnswer, answer)
    assert len(answer["items"]) == 5
    assert "I00001" not in [i["item_id"] for i in answer["items"]]
    assert answer["items"][0]["reasons"][0]["evidence"]["basis"] == "collaborative"


def test_an_anonymous_basket_gets_its_complements(served: tuple[TestClient, str]) -> None:
    client, url = served
    catalog = items_of(url)
    machines = sorted(i for i, f in catalog.items() if f["category"] == "coffee machines")
    body = {"items": [*machines[:1], "not-in-the-model"], "limit": 5}
    answer = client.post("/v1/baskets/recommendations", json=body).json()
    conforms(BasketAnswer, answer)
    assert answer["unknown_items"] == ["not-in-the-model"]
    suggested = [catalog[i["item_id"]]["category"] for i in answer["items"]]
    assert machines[0] not in [i["item_id"] for i in answer["items"]]
    assert set(suggested) & set(shop.COMPLEMENTS["coffee machines"])


def test_an_empty_basket_is_refused(served: tuple[TestClient, str]) -> None:
    client, _ = served
    response = client.post("/v1/baskets/recommendations", json={"items": []})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.items"


def test_without_a_trained_model_the_answer_is_503(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, model_dir=tmp_path, refresh_seconds=0)
    with keyed_client(settings) as client:
        response = client.get("/v1/customers/C1/cross-sell")
    assert response.status_code == 503
    assert "nextbest train" in response.json()["error"]["message"]


def test_purchases_after_training_count_at_once(database_url: str, tmp_path: Path) -> None:
    """On every database: train, buy a camera over the API, ask again."""
    with trained_client(database_url, tmp_path, 300) as client:
        before = client.get("/v1/customers/newcomer-de/cross-sell").json()
        assert before["source"] == "popular_similar"
        camera = client.get("/v1/customers/never-seen/cross-sell", params={"category": "cameras"})
        camera_id = camera.json()["items"][0]["item_id"]
        line = sale("after-training-1", "newcomer-de", camera_id, 420.0, 0.01)
        assert client.post("/v1/purchases", json=[line]).json()["inserted"] == 1
        after = client.get("/v1/customers/newcomer-de/cross-sell").json()
    assert after["source"] == "personal"
    ids = [i["item_id"] for i in after["items"]]
    assert camera_id not in ids
    anchors = [r["evidence"].get("item_id") for i in after["items"] for r in i["reasons"]]
    assert camera_id in anchors  # reasons point at the purchase made after training


def test_an_item_added_after_training_is_bought_without_harm(
    served: tuple[TestClient, str],
) -> None:
    client, _ = served
    new_item = {
        "item_id": "launched-today",
        "name": "Alder Premium Cameras 1",
        "category": "cameras",
    }
    assert client.post("/v1/items", json=[new_item]).json()["inserted"] == 1
    line = sale("launch-1", "C000010", "launched-today", 800.0, 0.01)
    assert client.post("/v1/purchases", json=[line]).json()["inserted"] == 1
    answer = client.get("/v1/customers/C000010/cross-sell").json()
    assert answer["source"] == "personal" and len(answer["items"]) == 10
    assert client.get("/v1/items/launched-today/related").status_code == 404


def test_a_category_of_only_new_items_answers_valid_json(served: tuple[TestClient, str]) -> None:
    client, _ = served
    response = client.get(
        "/v1/customers/C000010/cross-sell", params={"category": "lenses", "limit": 100}
    )
    json.loads(response.text)  # never -Infinity or NaN
    assert all(isinstance(i["score"], float) for i in response.json()["items"])
