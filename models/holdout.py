"""The holdout group: a fixed share of customers who get no offers, chosen by id hash.

Why a hash of the id and not a random draw stored somewhere: every worker, every
process and every later model must agree on who is held out without sharing state,
and a customer must stay in (or out of) the group for as long as the share and the
salt stay the same, or uplift against the group means nothing.
"""

import hashlib
from collections.abc import Iterable

import numpy as np


def bucket(customer_id: str, salt: str = "") -> float:
    """A number in [0, 1) fixed by the customer id (and the salt)."""
    digest = hashlib.blake2b(f"{salt}\x00{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def in_holdout(customer_id: str, share: float, salt: str = "") -> bool:
    """Whether the customer belongs to the holdout group of this `share`."""
    return share > 0 and bucket(customer_id, salt) < share


def holdout_mask(customer_ids: Iterable[str], share: float, salt: str = "") -> np.ndarray:
    """`in_holdout` for many customers at once (bool array)."""
    return np.array([in_holdout(c, share, salt) for c in customer_ids], dtype=bool)
