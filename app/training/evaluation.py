"""`nextbest evaluate`: the engine and its baselines on one time split, in one table.

Why baselines in the same run: a metric alone says nothing; the same split, the same
candidates and the same metric code for every scorer make the comparison fair.
"""

from collections.abc import Callable
from datetime import datetime

import scipy.sparse as sp

from app.training.data import Snapshot
from models import baselines
from models.engine import Params, fit_engine
from models.evaluate import Scorer, Split, evaluate, split
from models.history import customer_items

BASELINES: dict[str, Callable[[sp.csr_matrix], Scorer]] = {
    "popularity": baselines.popularity_scorer,
    "item kNN": baselines.item_knn_scorer,
    "implicit ALS (defaults)": baselines.raw_als_scorer,
    "EASE (lambda 500)": baselines.ease_scorer,
}
ENGINE = "NextBest cross-sell"


def run_evaluation(
    snapshot: Snapshot, cutoff: datetime, k: int = 10, params: Params | None = None
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Metrics per scorer (the engine last) and the split's sizes."""
    data = split(snapshot.history, int(cutoff.timestamp()), snapshot.vocab.active)
    train = customer_items(data.train)  # built once, fitted on by every baseline
    results = {
        name: evaluate(make(train), data, snapshot.vocab.active, k)
        for name, make in BASELINES.items()
    }
    results[ENGINE] = evaluate(
        engine_scorer(snapshot, data, params or Params()), data, snapshot.vocab.active, k
    )
    sizes = {
        "customers evaluated": len(data.users),
        "target items": int(data.targets.nnz),
        "training lines": len(data.train),
        "candidate items": int(snapshot.vocab.active.sum()),
    }
    return results, sizes


def engine_scorer(snapshot: Snapshot, data: Split, params: Params) -> Scorer:
    """The engine fitted on the training part, scoring customers from their training rows."""
    n_groups = len(snapshot.vocab.groups)
    engine = fit_engine(data.train, snapshot.vocab.items, snapshot.vocab.group, n_groups, params)
    factors = engine.cross_sell.als.user_factors
    return lambda rows: engine.cross_sell.score_matrix(engine.owned[rows], factors[rows])
