"""`nextbest train`: database → arrays → fitted engine → versioned artifact on disk.

Why versioned directories: the server loads the newest complete artifact at start, a
half-written one is never picked (the manifest is written last), and an older one
stays for rollback.
"""

import dataclasses
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from app.db import tables
from app.training.data import Snapshot, load_snapshot
from app.training.evaluation import engine_scorer
from app.training.lines import SaleLines
from app.training.saas import load_saas
from app.training.segments import fit_segments
from app.training.versions import Version, register
from models import artifact
from models.campaigns import Prospects, upgrade_prospects
from models.engine import Engine as Fitted
from models.engine import Params, fit_engine
from models.evaluate import evaluate, split
from models.history import NO_CUSTOMER
from models.ladder import MAX_PRICE_MULTIPLE
from models.segments import Segments
from models.trained import FORMAT, Model, save
from models.upgrades import snapshot
from models.upsell import UpsellModel, fit_upsell
from models.vocab import Plans


class NothingToLearn(ValueError):
    """The database holds neither purchase history nor subscriptions to train on."""


@dataclass(frozen=True)
class TrainResult:
    """Where the artifact went, how long each step took (seconds), and its registry row."""

    path: Path
    manifest: dict[str, Any]
    timings: dict[str, float]
    version: Version


@dataclass(frozen=True)
class Activation:
    """How a new version may become active (app.training.versions)."""

    metric: str = "NDCG@10"
    tolerance: float = 0.0
    force: bool = False


def train(
    engine: Engine,
    model_dir: Path,
    params: Params | None = None,
    holdout_days: int = 0,
    activation: Activation | None = None,
    reading: SaleLines | None = None,
    as_of: int | None = None,
) -> TrainResult:
    """Read, fit, save and register; returns the artifact's directory, manifest and row.

    `reading`: the sale lines, if the caller started reading them already (`nextbest
    train` does, before it imports this module).

    `as_of` (epoch seconds): learn only from what was recorded by then, as a model
    trained at that moment would have (a backtest; the manifest records it).

    With `holdout_days`, the engine is first fitted without the last days of history
    and scored on them; the metrics go into the manifest, and activation compares them
    with the active version's. That costs a second fit, so it is a choice, not the
    default.
    """
    activation = activation or Activation()
    params = params or Params()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with _step(timings, "read"):
        snapshot = load_snapshot(engine, reading, as_of)
    if not len(snapshot.history.known) and not has_subscriptions(engine):
        raise NothingToLearn(
            "no sale lines of known customers and no subscriptions to learn from: import "
            "purchases first (nextbest import purchases FILE), or plans and subscriptions"
        )
    with ThreadPoolExecutor(1) as beside:  # the segments need only the sale lines
        segmenting = beside.submit(
            fit_segments, snapshot.sales, len(snapshot.vocab.customer_ids), newest_sale(snapshot)
        )
        with _step(timings, "fit"):
            fitted = fit(snapshot, params)
        with _step(timings, "upsell"):
            upsell, plans, prospects, ranked_at = fit_plan_ladder(
                engine, snapshot.vocab.customer_ids, as_of
            )
        with _step(timings, "segments"):  # what is left of them after the fit
            segments = segmenting.result()
    manifest = describe(snapshot, params)
    manifest["as_of"] = None if as_of is None else datetime.fromtimestamp(as_of, UTC).isoformat()
    manifest["upsell"] = describe_upsell(upsell, ranked_at)
    manifest["segments"] = describe_segments(segments)
    if holdout_days > 0 and len(snapshot.history.known):  # nothing to hold out without sales
        with _step(timings, "holdout"):
            manifest["metrics"] = holdout_metrics(snapshot, params, holdout_days)
    with _step(timings, "save"):
        model = Model(fitted, snapshot.vocab, upsell, plans, prospects, segments)
        path = save(model_dir, model, manifest)
    timings["total"] = time.perf_counter() - start
    a = activation
    row = register(engine, path, manifest, timings["total"], a.metric, a.tolerance, a.force)
    return TrainResult(path, artifact.read_manifest(path), timings, row)


def has_subscriptions(engine: Engine) -> bool:
    """Whether any subscription is stored: a SaaS business trains without shop sales."""
    with engine.connect() as conn:
        return conn.execute(select(tables.subscription.c.id).limit(1)).first() is not None


@contextmanager
def _step(timings: dict[str, float], name: str) -> Iterator[None]:
    """Time one step of training into `timings[name]` (seconds)."""
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start


def holdout_metrics(snapshot: Snapshot, params: Params, days: int) -> dict[str, Any]:
    """NDCG@10 and friends of the engine trained without the last `days` of history."""
    cutoff = int(snapshot.history.time.max()) - days * 86_400
    data = split(snapshot.history, cutoff, snapshot.vocab.active)
    metrics: dict[str, Any] = evaluate(
        engine_scorer(snapshot, data, params), data, snapshot.vocab.active, 10
    )
    cut = datetime.fromtimestamp(cutoff, UTC).isoformat()
    return {"holdout_days": days, "cutoff": cut, "customers": len(data.users), **metrics}


def fit_plan_ladder(
    engine: Engine, customer_ids: list[str], as_of: int | None = None
) -> tuple[UpsellModel, Plans, Prospects, int]:
    """The upsell engine from the SaaS tables (rules only when there is little history),
    every live subscriber's upgrade prospect at the newest record, for campaign lists,
    and that moment (epoch seconds)."""
    data = load_saas(engine, as_of=as_of)
    model = fit_upsell(
        data.history, data.ladder, data.plans.annual, data.latest, data.loyal_min_sales
    )
    # every live subscriber, trials too: the route may answer a trial `upgrade` (at its
    # end), so the campaign pool must hold whoever the decision can upgrade
    snap = snapshot(data.history, data.ladder, data.latest, trial_days=0)
    propensity = model.propensity if model.learned else None
    prospects = upgrade_prospects(snap, data.ladder, propensity, MAX_PRICE_MULTIPLE)
    position = {c: i for i, c in enumerate(customer_ids)}
    mapped = np.array(
        [position.get(data.customer_ids[c], -1) for c in prospects.customer.tolist()],
        dtype=np.int64,
    )
    keep = mapped >= 0  # a customer added between the two reads waits for the next model
    fields = {f.name: getattr(prospects, f.name)[keep] for f in dataclasses.fields(Prospects)}
    fields["customer"] = mapped[keep]
    return model, data.plans, Prospects(**fields), data.latest


def describe_upsell(model: UpsellModel, ranked_at: int) -> dict[str, Any]:
    """The manifest's account of the upsell engine: what it learned from, how, and the
    moment its upgrade prospects stand for (the campaign lists' `ranked_as_of`)."""
    learned = model.learned
    return {
        "source": "model" if learned else "rules",
        "ranked_at": datetime.fromtimestamp(ranked_at, UTC).isoformat() if ranked_at else None,
        "plans": len(model.annual),
        "horizon_days": model.horizon_days,
        "training_rows": model.training_rows,
        "training_upgrades": model.training_upgrades,
        "coverage": model.coverage,
        "odds_ratios": model.propensity.odds_ratios() if learned else {},
        "churn": {
            "source": "model" if model.churn_learned else "rules",
            "base_rate": None
            if model.churn_base_rate != model.churn_base_rate
            else round(model.churn_base_rate, 4),
            "odds_ratios": model.churn.odds_ratios() if model.churn_learned else {},
        },
    }


def newest_sale(snapshot: Snapshot) -> int:
    """Epoch seconds of the newest sale line of a known customer: "now" for the segments
    (0 for a subscription business without shop sales).

    The history's own end, not the clock: a database loaded from an old export still
    has recent and lapsed customers relative to its last day.
    """
    history = snapshot.history
    return int(history.time[history.customer != NO_CUSTOMER].max(initial=0))


def describe_segments(segments: Segments) -> dict[str, Any]:
    """The manifest's account of the segments: as of when, and how many in each."""
    return {
        "as_of": datetime.fromtimestamp(segments.as_of, UTC).isoformat(),
        "counts": segments.counts(),
    }


def fit(snapshot: Snapshot, params: Params) -> Fitted:
    """Fit the engine on a snapshot."""
    vocab = snapshot.vocab
    return fit_engine(snapshot.history, vocab.items, vocab.group, len(vocab.groups), params)


def describe(snapshot: Snapshot, params: Params) -> dict[str, Any]:
    """The manifest's account of the data and parameters."""
    history = snapshot.history
    now = datetime.now(UTC)
    return {
        "format": FORMAT,
        "version": now.strftime("%Y%m%dT%H%M%S%fZ"),
        "created_at": now.isoformat(),
        "parameters": dataclasses.asdict(params),
        "data": {
            "purchase_lines": len(history),
            "customers": history.n_customers,
            "items": history.n_items,
            "orders": int(history.order.max()) + 1 if len(history) else 0,  # dense indexes
            "anonymous_lines": int((history.customer == NO_CUSTOMER).sum()),
            "last_purchase_id": snapshot.vocab.last_purchase_id,
        },
        "metrics": {},
    }
