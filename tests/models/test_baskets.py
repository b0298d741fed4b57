"""Frequently bought together: counts, minimum support and lift, anonymous orders."""

import numpy as np
import pytest

from models.baskets import fit_baskets

from .conftest import history_from


def test_rules_carry_support_confidence_and_lift() -> None:
    # 10 orders: item 0 in all; item 1 in 4 of them; item 2 in 2; item 3 alone in 5 more.
    baskets = [(-1, [0, 1]) for _ in range(4)] + [(-1, [0, 2]) for _ in range(2)]
    baskets += [(-1, [0]) for _ in range(4)] + [(-1, [3, 4]) for _ in range(5)]
    rules = fit_baskets(history_from(baskets, 0, 5), min_support=2)
    others, support, confidence, lift = rules.rules(1)
    assert others.tolist() == [0]
    assert support.tolist() == [4]
    assert confidence.tolist() == [1.0]
    assert lift[0] == pytest.approx(1.0 * 15 / 10)
    others, support, confidence, _ = rules.rules(0)
    assert others.tolist() == [1, 2]  # the stronger rule first
    assert confidence == pytest.approx([0.4, 0.2])


def test_pairs_below_minimum_support_or_without_lift_do_not_rank() -> None:
    baskets = [(0, [0, 1]), (1, [0, 1]), (2, [0, 2])] + [(3, [5, 6]) for _ in range(3)]
    rules = fit_baskets(history_from(baskets, 4, 7), min_support=2)
    assert rules.rules(0)[0].tolist() == [1]  # 0-2 was seen once
    assert rules.rules(2)[0].tolist() == []
    # An item in every order has lift 1 with everything: no rule.
    everywhere = [(-1, [9, i]) for i in range(9) for _ in range(3)]
    assert fit_baskets(history_from(everywhere, 0, 10), min_support=2).rules(9)[0].size == 0


def test_anonymous_orders_count() -> None:
    anonymous = [(-1, [0, 1]) for _ in range(3)] + [(-1, [2]) for _ in range(3)]
    rules = fit_baskets(history_from(anonymous, 0, 3), min_support=3)
    assert rules.rules(0)[0].tolist() == [1]
    assert rules.n_orders == 6


def test_at_most_top_k_rules_per_item() -> None:
    baskets = [(-1, [0, i]) for i in range(1, 30) for _ in range(3)] + [
        (-1, [99]) for _ in range(500)
    ]
    rules = fit_baskets(history_from(baskets, 0, 100), min_support=3, top_k=5)
    assert len(rules.rules(0)[0]) == 5
    assert np.diff(rules.support.indptr).max() == 5
