"""The committed contract, fuzzed: schemathesis generates requests from
openapi/openapi.json for every operation (fixed seed, at least 100 examples each) and
runs every check against a live server on a trained demo data set: no 5xx, every
status code, content type, header and body as the contract says.

One exception, by design: the bulk ingestion routes give every row its own verdict
(accepted, or rejected with index, field and reason) in a 200 answer, so a batch with
an invalid row is not refused as a whole, and a valid row can still be rejected for
naming an unknown customer. The two checks that judge a request by its status alone
(negative data rejected, positive data accepted) do not apply to them; every other
check does, and tests/app/api/test_ingest_api.py checks the verdicts. And three routes
have a rule across parameters that a schema cannot state (the KPI period, of the report
and of the series: `from` before `to`, at most 366 days, and at most 120 buckets; a
cross-sell campaign needs its `item`): a request that breaks it is a 422 naming the
field, so "positive data accepted" does not apply to them (test_kpis_api.py,
test_console_api.py and test_campaigns_api.py under tests/app/api test those 422s).
The per-customer routes' `as_of` is bounded by the clock (not in the future, not
before 1970), which a date-time schema cannot state either (test_upsell_as_of.py and
test_as_of_routes.py test it).
Last, a URL over 8 KiB is a 414 whatever its parameters (a bound on the encoded length
that no parameter schema states): a request answered 414 is not judged by the two
status checks either (tests/app/api/test_hostile_bodies.py tests the 414).
"""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, seed, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.ingest.targets import TARGETS
from app.main import create_app
from app.settings import Settings
from app.training.train import train

from .app.api.conftest import new_key
from .app.api.test_upsell_api import load

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
schema = schemathesis.openapi.from_path(COMMITTED)
BULK = {f"/v1/{name}" for name in TARGETS}
VERDICT_CHECKS = [negative_data_rejection, positive_data_acceptance]
CROSS_FIELD = {
    ("GET", "/v1/kpis"),
    ("GET", "/v1/kpis/series"),
    ("GET", "/v1/campaigns/targets"),
}
AS_OF = {  # a moment asked for may not be in the future: a clock rule, not a schema's
    ("GET", "/v1/customers/{customer_id}/upsell"),
    ("GET", "/v1/customers/{customer_id}/cross-sell"),
    ("GET", "/v1/customers/{customer_id}/offers"),
    ("GET", "/v1/customers/{customer_id}/profile"),
    ("POST", "/v1/baskets/recommendations"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live server on a trained demo data set: (base URL, an admin key)."""
    directory = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{directory / 'contract.db'}"
    upgrade(url)
    load(url, directory, 300)
    engine = make_engine(url)
    train(engine, directory / "models")
    engine.dispose()
    settings = Settings(database_url=url, model_dir=directory / "models", refresh_seconds=0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", new_key(url, "admin")
    server.should_exit = True
    thread.join(timeout=10)


def drops_the_key(case: schemathesis.Case) -> bool:
    """Whether a negative case was made by leaving out the Authorization header.

    Such a case goes out without a key, as generated, so it must be answered 401;
    adding the key to it would send a valid request and blame the server for accepting it.
    """
    data = case.meta.phase.data if case.meta else None
    for mutation in getattr(data, "mutations", ()):
        dropped = mutation.original_value
        names = dropped if isinstance(dropped, list) else [dropped]
        if mutation.parameter_location == ParameterLocation.HEADER and "Authorization" in names:
            return True
    return False


@schema.parametrize()
@seed(2026)
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_its_contract(
    case: schemathesis.Case, served: tuple[str, str]
) -> None:
    base_url, key = served
    excluded = None
    if case.method == "POST" and case.path in BULK:
        excluded = VERDICT_CHECKS
    elif (case.method, case.path) in CROSS_FIELD or (
        (case.method, case.path) in AS_OF and (case.query or {}).get("as_of") is not None
    ):
        excluded = [positive_data_acceptance]
    headers = {} if drops_the_key(case) else {"Authorization": f"Bearer {key}"}
    response = case.call(base_url=base_url, headers=headers)
    if response.status_code == 414:
        excluded = VERDICT_CHECKS
    case.validate_response(response, excluded_checks=excluded)
