"""Premium alternatives on small arrays whose right answers are known."""

import numpy as np
import pytest
import scipy.sparse as sp

from models.premium import Band, Premium, group_buyers, groups, unit_rows

# Items 0-5 are holders (kind 0), 6-7 clocks (kind 1), 8 has no kind.
KIND = np.array([0, 0, 0, 0, 0, 0, 1, 1, -1], dtype=np.int32)
PRICE = np.array([10.0, 12.0, 15.0, 24.0, 30.0, 14.0, 15.0, 20.0, 15.0])
# Item 1 points the way item 0 does; item 2 is at right angles; item 5 points away.
FACTORS = np.array(
    [[1, 0], [1, 0.1], [0, 1], [0.7, 0.7], [1, 0], [-1, 0], [1, 0], [1, 0], [1, 0]],
    dtype=np.float32,
)
EVERYTHING = np.ones(len(KIND), dtype=bool)


def premium(buyers: list[int], similarity: float = 0.25, pack: np.ndarray | None = None) -> Premium:
    group, n_groups = groups(KIND, np.ones(len(KIND), np.int32) if pack is None else pack)
    return Premium(
        group,
        PRICE,
        unit_rows(FACTORS),
        np.array(buyers),
        np.full(n_groups, max(sum(buyers), 1)),
        similarity,
    )


def test_candidates_are_of_the_same_kind_and_within_the_band() -> None:
    choice = premium([1] * 9)
    # 10.0 x [1.1, 2.5] = [11, 25]: items 1, 2, 5 and 3; not 4 (30), not the clocks.
    assert sorted(choice.candidates(0, Band(), EVERYTHING).tolist()) == [1, 2, 3, 5]
    assert sorted(choice.candidates(0, Band(1.3, 2.0), EVERYTHING).tolist()) == [2, 5]
    assert choice.candidates(4, Band(), EVERYTHING).size == 0  # the dearest holder
    assert choice.candidates(6, Band(), EVERYTHING).tolist() == [7]


def test_an_item_without_kind_or_price_has_no_alternatives() -> None:
    assert premium([1] * 9).candidates(8, Band(), EVERYTHING).size == 0
    no_price = Premium(
        np.array([0, 0]), np.array([np.nan, 12.0]), np.eye(2), np.ones(2), np.ones(1)
    )
    assert no_price.candidates(0, Band(), np.ones(2, bool)).size == 0


def test_items_that_may_not_be_offered_are_left_out() -> None:
    allowed = EVERYTHING.copy()
    allowed[[1, 3]] = False
    assert sorted(premium([1] * 9).candidates(0, Band(), allowed).tolist()) == [2, 5]


def test_the_same_price_is_no_step_up_even_at_ratio_one() -> None:
    twins = Premium(
        np.zeros(2, np.int32), np.array([10.0, 10.0]), np.eye(2), np.ones(2), np.ones(1)
    )
    assert twins.candidates(0, Band(1.0, 2.0), np.ones(2, bool)).size == 0


def test_equally_chosen_candidates_rank_by_taste() -> None:
    items, scores = premium([1] * 9).alternatives(0, Band(), EVERYTHING, 10)
    assert items.tolist() == [1, 3, 2, 5]  # cosine 1.0, 0.71, 0, -1
    assert np.all(np.diff(scores) <= 0)


def test_a_candidate_many_customers_chose_outranks_a_closer_one_few_chose() -> None:
    buyers = [50, 2, 100, 5, 0, 0, 1, 1, 1]  # item 2 is unlike item 0 but chosen most
    assert premium(buyers).alternatives(0, Band(), EVERYTHING, 1)[0].tolist() == [2]
    assert premium(buyers, similarity=1.0).alternatives(0, Band(), EVERYTHING, 1)[0].tolist() == [1]


def test_other_pack_sizes_are_not_premium_alternatives() -> None:
    pack = np.array([1, 6, 1, 1, 1, 1, 1, 1, 1], dtype=np.int32)
    assert 1 not in premium([1] * 9, pack=pack).candidates(0, Band(), EVERYTHING).tolist()


def test_best_for_every_item_is_the_first_alternative_of_each() -> None:
    rng = np.random.default_rng(3)
    n = 400
    kind = rng.integers(-1, 6, n).astype(np.int32)
    price = np.round(rng.uniform(1, 50, n), 2)
    price[rng.random(n) < 0.05] = np.nan
    allowed = rng.random(n) > 0.1
    group, n_groups = groups(kind, rng.integers(1, 3, n).astype(np.int32))
    buyers = rng.integers(0, 40, n)
    choice = Premium(group, price, unit_rows(rng.normal(size=(n, 8))), buyers, np.ones(n_groups))
    best = choice.best(Band(), allowed)
    for item in range(n):
        first = choice.alternatives(item, Band(), allowed, 1)[0]
        if len(first):
            assert choice.scores(item, np.array([best[item]])) == pytest.approx(
                choice.scores(item, first)
            )
        else:
            assert best[item] == -1


def test_group_buyers_counts_each_customer_once() -> None:
    owned = sp.csr_matrix(
        np.array([[1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0]], dtype=np.float32)
    )  # customer 0 bought two items of group 0
    group = np.array([0, 0, 1, -1], dtype=np.int32)
    assert group_buyers(owned, group, 2).tolist() == [2, 1]


def test_share_is_of_the_group_buyers() -> None:
    choice = Premium(KIND, PRICE, unit_rows(FACTORS), np.arange(9), np.array([40, 10]))
    assert choice.share(3) == pytest.approx(3 / 40)
    assert choice.share(8) == 0.0
