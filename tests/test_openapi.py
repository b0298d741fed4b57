"""The committed contract is what the app serves."""

import json
import re
from pathlib import Path

from app.api.routes import served_routes
from app.main import create_app
from app.settings import Settings

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_openapi_is_current() -> None:
    served = create_app(Settings(database_url="sqlite://")).openapi()
    committed = json.loads(COMMITTED.read_text())
    assert served == committed, (
        "openapi/openapi.json is stale: run `nextbest openapi > openapi/openapi.json`"
    )


def test_every_operation_has_a_stable_id_and_the_error_shape() -> None:
    spec = json.loads(COMMITTED.read_text())
    operations = [op for path in spec["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        if op["operationId"].startswith("import_"):
            assert {"200", "413", "422"} <= set(op["responses"])


def test_every_reference_resolves_and_every_route_is_documented() -> None:
    """The hand-documented cross-sell route included: its parameters and answer schema."""
    app = create_app(Settings(database_url="sqlite://"))
    spec = app.openapi()
    text = json.dumps(spec)
    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in spec["components"]["schemas"], name
    clashes = [name for name in spec["components"]["schemas"] if "__" in name]
    assert not clashes, f"two schemas share a name, so FastAPI renamed them: {clashes}"
    served = {
        (path, method.lower()) for method, path in served_routes(app) if path.startswith("/v1/")
    }
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served <= documented
    cross_sell = spec["paths"]["/v1/customers/{customer_id}/cross-sell"]["get"]
    names = {p["name"] for p in cross_sell["parameters"]}
    assert {"customer_id", "limit", "exclude", "category", "exclude_category"} <= names
