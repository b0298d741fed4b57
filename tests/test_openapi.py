"""The committed contract is what the app serves."""

import json
from pathlib import Path

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
