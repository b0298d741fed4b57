"""The customer x item matrix under each confidence weighting."""

import numpy as np
import pytest

from models.history import History, customer_items

DAY = 86_400


def test_each_weighting_gives_one_value_per_customer_and_item() -> None:
    # Customer 0 buys item 1 in two orders and item 2 once; customer 1 buys item 1 once,
    # 180 days before customer 0's last purchase; an anonymous line never counts.
    history = History(
        customer=np.array([0, 0, 0, 1, -1], np.int32),
        item=np.array([1, 1, 2, 1, 0], np.int32),
        order=np.array([0, 1, 1, 2, 3], np.int32),
        time=np.array([0, 180 * DAY, 180 * DAY, 0, 5], np.int64),
        n_customers=2,
        n_items=3,
    )
    assert customer_items(history).toarray().tolist() == [[0, 1, 1], [0, 1, 0]]
    orders = customer_items(history, "orders").toarray()
    assert orders[0, 1] == pytest.approx(1 + np.log(2)) and orders[0, 2] == 1
    recency = customer_items(history, "recency", half_life_days=180).toarray()
    assert np.allclose(recency, [[0, 1, 1], [0, 0.5, 0]])
    with pytest.raises(ValueError, match="unknown weighting"):
        customer_items(history, "loudness")
