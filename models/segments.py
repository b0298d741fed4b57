"""RFM scores and named segments: who buys recently, often and a lot, and who stopped.

Why RFM: it is what a CRM team already segments by, and the upsell principle "loyalty
and value gate upsell" needs the same three facts. Per customer, as of the newest
purchase in the history (`as_of`):

- R, recency: days since the last purchase;
- F, frequency: distinct orders in the 365 days before `as_of`;
- M, monetary: sales in those 365 days.

Each becomes a score from 1 to 5 by quintile among the customers with purchases (a
customer whose last order is older than a year has F = 0 and M = 0, and scores low).
Recency is reversed: the most recent fifth scores 5. Equal values share one score,
that of the middle of the ranks they span: when half the customers placed exactly one
order, all of them score as the customer in the middle of that half would. So a
population of one, or of identical customers, scores 3 throughout rather than 1 or 5.
`*_edges[k - 2]` is the value from which a score of `k` is reached (an empty score
repeats the next edge), which is how reports put a score into words ("F >= 4: 9 or
more orders in the year").

Named segments, the first rule that matches wins:

| segment | rule | what to do |
|---|---|---|
| no_purchases | no purchase at all | onboarding |
| new | first purchase within the last 60 days | welcome series |
| champions | R >= 4, F >= 4, M >= 4 | reward; first to see an upgrade |
| loyal | R >= 3, F >= 3 | upsell, loyalty offers |
| at_risk | R <= 2, and F >= 3 or M >= 4: bought often or a lot, not lately | win back |
| hibernating | R <= 2 (and so few orders, little spent) | low-cost reactivation |
| promising | R >= 4 (and F <= 2): bought lately, not often yet | nurture to a second order |
| others | everyone else: R = 3, F <= 2 | general campaigns |
"""

from dataclasses import dataclass

import numpy as np

DAY = 86_400
YEAR_DAYS = 365
NEW_DAYS = 60  # a first purchase this recent makes a customer "new"
NAMES = (
    "champions",
    "loyal",
    "promising",
    "new",
    "at_risk",
    "hibernating",
    "others",
    "no_purchases",
)  # in the order reports list them
RULES = {
    "no_purchases": "no purchase at all",
    "new": f"first purchase within the last {NEW_DAYS} days",
    "champions": "R >= 4, F >= 4 and M >= 4",
    "loyal": "R >= 3 and F >= 3",
    "at_risk": "R <= 2, and F >= 3 or M >= 4",
    "hibernating": "R <= 2, F <= 2 and M <= 3",
    "promising": "R >= 4 and F <= 2",
    "others": "R = 3 and F <= 2",
}  # in the order they are tried; each one's words assume the ones before did not match
MEANINGS = {
    "champions": "bought recently, often and a lot",
    "loyal": "buys often and fairly recently",
    "promising": "bought recently, but not often yet",
    "new": "a first-time buyer",
    "at_risk": "used to buy often or a lot, but not lately",
    "hibernating": "last bought long ago, and seldom or little",
    "others": "bought a while ago, once or twice in the year",
    "no_purchases": "has not bought anything",
}


@dataclass(frozen=True)
class Segments:
    """RFM facts, scores and the named segment of every customer (part of the artifact)."""

    recency: np.ndarray  # float64 days since the last purchase, at as_of; NaN: none
    frequency: np.ndarray  # int32 distinct orders in the YEAR_DAYS before as_of
    monetary: np.ndarray  # float64 sales in those days
    tenure: np.ndarray  # float64 days since the first purchase, at as_of; NaN: none
    r: np.ndarray  # int8 scores 1-5; 0 without purchases
    f: np.ndarray  # int8
    m: np.ndarray  # int8
    segment: np.ndarray  # int8 index into `names`
    names: list[str]  # NAMES when trained (stored, so an artifact reads back as written)
    recency_edges: np.ndarray  # float64 (4,): R >= k from recency <= recency_edges[k - 2]
    frequency_edges: np.ndarray  # float64 (4,): F >= k from frequency >= frequency_edges[k - 2]
    monetary_edges: np.ndarray  # float64 (4,): M >= k from monetary >= monetary_edges[k - 2]
    as_of: int  # epoch seconds: the newest purchase in the history

    def counts(self) -> dict[str, int]:
        """Customers per segment, every segment named (zero included)."""
        n = np.bincount(self.segment, minlength=len(self.names))
        return {name: int(c) for name, c in zip(self.names, n.tolist(), strict=True)}

    def sales(self) -> np.ndarray:
        """float64 per segment: the sales of its customers over the last YEAR_DAYS."""
        return np.bincount(self.segment, weights=self.monetary, minlength=len(self.names))


def segment(
    recency: np.ndarray,
    frequency: np.ndarray,
    monetary: np.ndarray,
    tenure: np.ndarray,
    as_of: int,
) -> Segments:
    """Scores and segments from per-customer facts; NaN recency marks "no purchases".

    `recency` and `tenure` are days before `as_of`, `frequency` and `monetary` cover
    the YEAR_DAYS before it (zero for a customer who bought only earlier).
    """
    bought = ~np.isnan(recency)
    r_score, r_edges = _scores(-recency[bought])  # fewer days is better
    f_score, f_edges = _scores(frequency[bought].astype(np.float64))
    m_score, m_edges = _scores(monetary[bought].astype(np.float64))
    r, f, m = (np.zeros(len(recency), dtype=np.int8) for _ in range(3))
    r[bought], f[bought], m[bought] = r_score, f_score, m_score
    return Segments(
        recency=recency.astype(np.float64),
        frequency=frequency.astype(np.int32),
        monetary=monetary.astype(np.float64),
        tenure=tenure.astype(np.float64),
        r=r,
        f=f,
        m=m,
        segment=name_segments(r, f, m, tenure, bought),
        names=list(NAMES),
        recency_edges=-r_edges,
        frequency_edges=f_edges,
        monetary_edges=m_edges,
        as_of=int(as_of),
    )


def name_segments(
    r: np.ndarray, f: np.ndarray, m: np.ndarray, tenure: np.ndarray, bought: np.ndarray
) -> np.ndarray:
    """int8 index into NAMES per customer: the first rule of RULES that matches."""
    conditions = {
        "no_purchases": ~bought,
        "new": tenure <= NEW_DAYS,  # NaN (no purchase) compares False
        "champions": (r >= 4) & (f >= 4) & (m >= 4),
        "loyal": (r >= 3) & (f >= 3),
        "at_risk": (r <= 2) & ((f >= 3) | (m >= 4)),
        "hibernating": r <= 2,
        "promising": r >= 4,
        "others": np.ones(len(r), dtype=bool),
    }
    assert list(conditions) == list(RULES)
    choices = [NAMES.index(name) for name in conditions]
    return np.select(list(conditions.values()), choices).astype(np.int8)


def _scores(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores 1-5 by quintile, ties sharing the score of their middle rank; and edges.

    One sort: the distinct values, how many customers hold each, and the share of
    customers below the middle of each value's ranks decide its score.
    """
    if not len(values):
        return np.zeros(0, dtype=np.int8), np.full(4, np.inf)
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts
    middle = (below + counts / 2) / len(values)
    score = np.minimum(1 + np.floor(5 * middle), 5).astype(np.int8)
    first = np.searchsorted(score, np.arange(2, 6), side="left")  # scores never decrease
    edges = np.append(distinct, np.inf)[first]
    return score[inverse], edges
