"""The measurement behind the premium ranking's weights (README, "Premium alternatives").

Trains before `--validation-cutoff` (history after `--test-cutoff` is never read). For
every customer and every item they had bought, the steps up they took are the items
they first bought in the months after the cutoff that are of the same kind and pack
size and priced within the band. Each weighting ranks the item's alternatives (items
the customer had not bought), and scores whether a step they took is first (HR@1) or
among the first 5 (HR@5); a random order of the same candidates is the baseline.

    python bench/premium_weights.py --database-url sqlite:///retail.db
"""

import dataclasses
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import scipy.sparse as sp
from splits import arguments, read

from models.engine import Params, fit_engine
from models.evaluate import split
from models.premium import Band, Premium, group_buyers, groups, unit_rows

WEIGHTS = {"share of buyers only": 0.0, "0.25 (default)": 0.25, "0.5": 0.5, "cosine only": 1.0}


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    snapshot = read(args.database_url)
    vocab = snapshot.vocab
    before_test = snapshot.history.before(int(args.test_cutoff.timestamp()))
    snapshot = dataclasses.replace(snapshot, history=before_test)
    data = split(before_test, int(args.validation_cutoff.timestamp()), vocab.active)
    fitted = fit_engine(data.train, vocab.items, vocab.group, len(vocab.groups), Params())
    group, n_groups = groups(vocab.kind, vocab.pack)
    unit = unit_rows(fitted.cross_sell.als.item_factors)
    bought = group_buyers(fitted.owned, group, n_groups)
    cases = steps_taken(data.owned.tocsr(), data.targets.tocsr(), group, vocab.price, Band())
    print(
        f"train before {args.validation_cutoff.date()}, steps until {args.test_cutoff.date()}: "
        f"{len(cases):,} (customer, item) pairs, {len({c[0] for c in cases}):,} customers\n"
    )
    print("| cosine weight | HR@1 | HR@5 |\n|---|---:|---:|")
    for name, weight in {"random order": None, **WEIGHTS}.items():
        choice = Premium(group, vocab.price, unit, fitted.buyers, bought, weight or 0.0)
        hr1, hr5 = hit_rates(choice, cases, data.owned.tocsr(), vocab.active, weight is None)
        print(f"| {name} | {hr1:.4f} | {hr5:.4f} |")


def steps_taken(
    before: sp.csr_matrix, after: sp.csr_matrix, group: np.ndarray, price: np.ndarray, band: Band
) -> list[tuple[int, int, set[int]]]:
    """(customer row, item bought, items of its group in the band first bought after)."""
    cases = []
    for row in range(before.shape[0]):
        mine = _row(before, row)
        new = _row(after, row)
        for item in mine.tolist():
            if group[item] < 0 or not price[item] > 0:
                continue
            low, high = band.low * price[item], band.high * price[item]
            took = new[(group[new] == group[item]) & (price[new] >= low) & (price[new] <= high)]
            if len(took):
                cases.append((row, item, set(took.tolist())))
    return cases


def hit_rates(
    choice: Premium,
    cases: list[tuple[int, int, set[int]]],
    owned: sp.csr_matrix,
    active: np.ndarray,
    shuffle: bool,
) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    hits = np.zeros(2)
    for row, item, took in cases:
        allowed = active.copy()
        allowed[_row(owned, row)] = False
        if shuffle:
            ranked = rng.permutation(choice.candidates(item, Band(), allowed))[:5]
        else:
            ranked = choice.alternatives(item, Band(), allowed, 5)[0]
        first = ranked.tolist()
        hits += [bool(took & set(first[:1])), bool(took & set(first))]
    return float(hits[0] / len(cases)), float(hits[1] / len(cases))


def _row(matrix: sp.csr_matrix, row: int) -> np.ndarray:
    result: np.ndarray = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
    return result


if __name__ == "__main__":
    main()
