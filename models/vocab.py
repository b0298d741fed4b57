"""The vocabularies that turn the models' indexes back into the caller's ids and facts.

An artifact holds arrays by index (customer 0..n, item 0..m, plan 0..k); serving needs
the ids, prices, categories and groups behind those indexes, and the database's own
keys to map rows read after training onto them.
"""

from dataclasses import dataclass

import numpy as np

from models.engine import Items


@dataclass(frozen=True)
class Vocab:
    """What serving needs besides the models: ids, item facts and customer groups."""

    items: Items
    item_ids: list[str]  # external ids, by index
    item_db_ids: np.ndarray  # int64 primary keys, sorted; index = position
    price: np.ndarray  # float64, NaN where unknown
    active: np.ndarray  # bool: may be offered
    categories: list[str]  # category names; Items.category indexes them
    kind: np.ndarray  # int32: the category, else the product noun of the name; -1 for none
    kinds: list[str]  # kind labels: the categories first, then nouns (models.kinds)
    pack: np.ndarray  # int32 units per sale: attributes.pack_size, else from the name, else 1
    currency: list[str]  # ISO code of each item's price, "" where unknown
    customer_ids: list[str]
    customer_db_ids: np.ndarray  # int64 primary keys, sorted
    group: np.ndarray  # int32 per customer: (country, segment) group, -1 for none
    groups: list[str]  # group labels
    last_purchase_id: int  # the newest purchase row read


@dataclass(frozen=True)
class Plans:
    """What serving says of each plan of the ladder, by plan index."""

    ids: list[str]  # the caller's plan ids
    names: list[str]  # display names ("" where none)
    currency: list[str]  # ISO codes ("" where none)
    annual: np.ndarray  # float64: the annual price, NaN where none
    db_ids: np.ndarray  # int64 primary keys, sorted; index = position


def index_of(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `ids` in `sorted_ids`, and whether each was found there.

    A line can name a row created after that table was read (an import running during
    training, a purchase of an item added after training): such lines are dropped,
    not mapped to a neighbour.
    """
    position = np.searchsorted(sorted_ids, ids).clip(0, max(len(sorted_ids) - 1, 0))
    found = sorted_ids[position] == ids if len(sorted_ids) else np.zeros(len(ids), bool)
    return position, found
