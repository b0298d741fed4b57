"""Volume upsell on a small catalog whose right answers are known."""

import numpy as np

from models.premium import Premium
from models.volume import Volume

# 0: beans x1 at 10; 1: beans x3 at 27 (9 a unit); 2: beans x6 at 30 (5 a unit, a cheaper
# product, not a bulk deal); 3: beans x3 at 33 (11 a unit, dearer); 4: tea x3 at 20.
KIND = np.array([0, 0, 0, 0, 1], dtype=np.int32)
PACK = np.array([1, 3, 6, 3, 3])
PRICE = np.array([10.0, 27.0, 30.0, 33.0, 20.0])
VOLUME = Volume(KIND, PACK, PRICE)
ALL = np.ones(5, dtype=bool)


def test_a_larger_pack_of_the_kind_cheaper_per_unit_is_offered() -> None:
    assert VOLUME.candidates(0, ALL).tolist() == [1]


def test_nothing_is_offered_for_the_largest_pack_or_an_item_without_price() -> None:
    assert VOLUME.candidates(2, ALL).tolist() == []
    priceless = Volume(KIND, PACK, np.array([np.nan, 27.0, 30.0, 33.0, 20.0]))
    assert priceless.candidates(0, ALL).tolist() == []


def test_filters_hold() -> None:
    allowed = ALL.copy()
    allowed[1] = False
    assert VOLUME.candidates(0, allowed).tolist() == []


def test_larger_packs_rank_by_what_buyers_choose() -> None:
    # Two 3-packs of beans at 9 and 9.5 a unit: the one 40 customers chose comes first.
    price = np.array([10.0, 27.0, 28.5, 33.0, 20.0])
    premium = Premium(
        group=np.array([0, 1, 1, 1, 2], dtype=np.int32),  # (kind, pack size) groups
        price=price,
        unit=np.zeros((5, 2), dtype=np.float32),
        buyers=np.array([50, 5, 40, 1, 9]),
        group_buyers=np.array([50, 46, 9]),
    )
    pack = np.array([1, 3, 3, 3, 3])
    items, scores = Volume(KIND, pack, price).larger_packs(0, ALL, 5, premium)
    assert items.tolist() == [2, 1]
    assert scores[0] > scores[1]
