"""The cross-sell engine: every fitted piece the service answers from, and how it is fitted.

One `fit_engine` call turns purchase history plus a few item facts into the personal
blend, the basket rules, repurchase cycles and popularity. The service keeps the
result in memory and stores it as an artifact (`models.artifact`).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from models.als import fit_als
from models.baskets import Baskets, fit_baskets
from models.crosssell import CrossSell, Weights, candidate_pool, standardised_newness
from models.ease import fit_ease
from models.history import History, customer_items, first_sold
from models.popularity import Popular, buyers, fit_popular, newness
from models.replenish import Cycles, fit_cycles
from models.text import similar_by_name


@dataclass(frozen=True)
class Params:
    """Fitting parameters; the defaults are the ones measured in the README."""

    weighting: str = "binary"  # confidence weights: binary, orders or recency
    factors: int = 64
    regularization: float = 0.1
    alpha: float = 1.0
    iterations: int = 5
    ease_lambda: float = 500.0
    ease_max_items: int = 4000  # covers every item of both evaluation data sets
    content_neighbours: int = 50
    newness_days: float = 180.0
    min_support: int = 3
    basket_rules: int = 50
    popular_per_group: int = 200
    seed: int = 0
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Items:
    """What the engine knows about the catalog besides purchases (arrays per item)."""

    names: list[str]
    category: np.ndarray  # int32, -1 for none
    consumable: np.ndarray  # bool, declared by the shop (item attributes)


@dataclass(frozen=True)
class Engine:
    """Everything fitted, in catalog and customer index space."""

    owned: sp.csr_matrix  # customers x items, bought before `trained_until`
    cross_sell: CrossSell
    baskets: Baskets
    cycles: Cycles
    popular: Popular  # per customer group
    buyers: np.ndarray  # int32 distinct buyers per item
    first_sold: np.ndarray  # int64 seconds; int64 max for never sold
    trained_until: int  # seconds: the newest purchase the engine has seen


def fit_engine(
    history: History, items: Items, group: np.ndarray, n_groups: int, params: Params
) -> Engine:
    """Fit every piece on `history`; `group[c]` is customer c's group (-1 for none).

    implicit fits ALS in this thread while a second one fits EASE, then the cycles,
    basket rules, name similarity and first sales: all of them spend their time in
    native code (LAPACK, numpy's sorts, sparse products) without the GIL, and the
    second thread's work takes about as long as ALS, so on two cores they finish
    together.
    """
    owned = customer_items(history)
    weighted = owned if params.weighting == "binary" else customer_items(history, params.weighting)
    now = int(history.time.max()) if len(history) else 0
    with ThreadPoolExecutor(1) as background:
        fitting_ease = background.submit(
            fit_ease, weighted, params.ease_lambda, params.ease_max_items
        )
        only = items.consumable if items.consumable.any() else None
        fitting_cycles = background.submit(fit_cycles, history, only=only)
        fitting_baskets = background.submit(
            fit_baskets, history, params.min_support, params.basket_rules
        )
        fitting_content = background.submit(similar_by_name, items.names, params.content_neighbours)
        finding_first = background.submit(first_sold, history)
        als = fit_als(
            weighted,
            params.factors,
            params.regularization,
            params.alpha,
            params.iterations,
            params.seed,
        )
        ease, cycles = fitting_ease.result(), fitting_cycles.result()
        baskets, content = fitting_baskets.result(), fitting_content.result()
        sold = finding_first.result()
    cross_sell = CrossSell(
        ease=ease,
        als=als,
        content=content,
        newness=standardised_newness(newness(sold, now, params.newness_days)),
        category=items.category.astype(np.int32),
        durable=~(items.consumable | (cycles.item_cycle > 0)),
        pool=candidate_pool(ease.items, sold, now, params.newness_days),
        weights=params.weights,
    )
    return Engine(
        owned=owned,
        cross_sell=cross_sell,
        baskets=baskets,
        cycles=cycles,
        popular=fit_popular(owned, group, n_groups, params.popular_per_group),
        buyers=buyers(owned),
        first_sold=sold,
        trained_until=now,
    )
