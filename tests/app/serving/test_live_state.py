"""A subscriber's state read live per request is the state training builds from the same
rows: the serving path and the propensity model see the same features."""

import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, text

from app.cli import IMPORT_ORDER
from app.db.engine import make_engine
from app.demo.generate import generate
from app.demo.teamwork import TABLES, generate_teamwork
from app.ingest.importer import run_import
from app.ingest.sources import CsvSource
from app.ingest.targets import TARGETS
from app.serving.subscriber import Cursor, LiveState, Reads, driver_cursor, read_state, reads_for
from app.training.saas import SaasData, load_saas
from models.upgrades import FEATURES, snapshot, state


def read(
    cursor: Cursor, engine: Engine, data: SaasData, pk: int, now: int, as_of: bool = False
) -> LiveState | str | None:
    """The per-request read of the customer with primary key `pk`, with training's data."""
    d = data
    return read_state(
        cursor, reads_for(engine, Reads), pk, d.plans, d.ladder, d.loyal_min_sales, now, as_of
    )


def test_the_live_state_of_every_subscriber_is_trainings_state_of_them(
    database_url: str, tmp_path: Path
) -> None:
    """On every backend: the per-request reads (driver SQL, epoch conversions per
    dialect) and `one_state` against `load_saas` and `state`, for each live subscriber."""
    files = generate(tmp_path / "data", customers=600, seed=11)
    engine = make_engine(database_url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    compare_every_live_subscriber(engine)


def test_engagement_and_payment_trouble_are_read_live_as_training_reads_them(
    database_url: str, tmp_path: Path
) -> None:
    """The same on Teamwork data: a metric no plan limits (engagement), accounts without
    readings, and billing tickets (payment trouble) read per request as training does."""
    files = generate_teamwork(tmp_path / "data", 1500, seed=2)
    engine = make_engine(database_url)
    for table in TABLES:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    features = compare_every_live_subscriber(engine)
    trouble = features[:, FEATURES.index("payment trouble in the last 30 days")]
    unread = features[:, FEATURES.index("no engagement reading")]
    assert trouble.sum() >= 3 and 0 < unread.mean() < 0.5


def compare_every_live_subscriber(engine: Engine) -> np.ndarray:
    """Holds each live subscriber's per-request state equal to training's; their features."""
    now = int(time.time())
    data = load_saas(engine, loyal_as_of=now)
    h = data.history
    with engine.connect() as conn:
        pk = dict(conn.execute(text("SELECT customer_id, id FROM customer")).all())
    compared = []
    with driver_cursor(engine) as cursor:
        for sub in np.flatnonzero(h.sub_ended > now):
            customer = int(h.sub_customer[sub])
            live = read(cursor, engine, data, pk[data.customer_ids[customer]], now)
            assert isinstance(live, LiveState)
            if int(np.count_nonzero((h.sub_customer == customer) & (h.sub_ended > now))) > 1:
                continue  # serving takes the newest of several live ones; training each
            snap = state(h, data.ladder, np.array([sub]), np.array([live.subscriber.plan]), now)
            np.testing.assert_array_equal(live.subscriber.usage, snap.usage[0])
            np.testing.assert_array_equal(live.subscriber.before, snap.before[0])
            np.testing.assert_array_equal(live.subscriber.features, snap.features[0])
            compared.append(snap.features[0])
    engine.dispose()
    assert len(compared) > 100
    return np.array(compared)


def test_the_state_read_as_of_a_past_moment_is_trainings_state_then(
    database_url: str, tmp_path: Path
) -> None:
    """On every backend, 200 days back: the plan, the billing and the features the
    per-request reads give `as_of` that moment are training's snapshot of it."""
    files = generate(tmp_path / "data", customers=600, seed=11)
    engine = make_engine(database_url)
    for table in IMPORT_ORDER:
        run_import(engine, TARGETS[table], CsvSource(files[table]))
    then = int(time.time()) - 200 * 86_400
    data = load_saas(engine, loyal_as_of=then)
    snap = snapshot(data.history, data.ladder, then)
    with engine.connect() as conn:
        pk = dict(conn.execute(text("SELECT customer_id, id FROM customer")).all())
    with driver_cursor(engine) as cursor:
        for row, customer in enumerate(snap.customer.tolist()):
            live = read(cursor, engine, data, pk[data.customer_ids[customer]], then, True)
            assert isinstance(live, LiveState)
            assert live.subscriber.plan == snap.plan[row]
            np.testing.assert_array_equal(live.subscriber.features, snap.features[row])
    engine.dispose()
    assert len(snap.customer) > 100
