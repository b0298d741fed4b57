"""The shop half of the demo data: a catalog, and order lines with planted buying patterns.

Why planted patterns: a cross-sell, premium-upsell or replenishment model can only be
judged on data whose truth is known. Each pattern is one mechanism with fixed numbers
(the constants below; docs/demo-data.md explains them):

- complements: an anchor category (cameras, coffee machines...) pulls an item of another
  category of its group into the same order (35 %) or a follow-up order within 60 days (30 %);
- price tiers: each category has basic/standard/premium items; a customer's price
  sensitivity picks the tier, and high-value customers trade up over time;
- taste: each customer buys mostly from 1-3 category groups; popularity is Zipf-like;
- replenishment: consumables are re-bought every cycle_days x quantity (+-20 %) until churn;
- baskets: at most 5 lines per order, 3 % of lines returned, ~10 % of orders anonymous.

Everything is vectorised over lines with numpy: 100,000 customers give ~1.2M lines.
"""

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

DAY = 86_400
YEAR = 365 * DAY

# group: category basic-price [days one unit lasts [pack sizes]] | ...
# The first category of a group is its anchor; + marks the anchor's complements.
CATALOG = """
photo: cameras 420 | +memory cards 18 | +camera bags 45 | lenses 210 | tripods 60
coffee: coffee machines 320 | +coffee beans 11 14 1/3/6 | +descaler 9 90 | coffee grinders 85
    | milk jugs 19
printing: printers 160 | +ink cartridges 28 60 | +printer paper 6 15 1/3/6
gaming: game consoles 399 | +controllers 55 | +video games 49 | gaming headsets 75
office: laptops 850 | +laptop bags 45 | +mice 30 | monitors 230 | keyboards 65
shaving: razors 22 | +razor blades 7 14 1/3/6 | +shaving gel 5 30 1/3
water: water filter jugs 28 | +water filter cartridges 7.5 30 1/3
pets: aquariums 140 | +aquarium filters 16 60 | +fish food 6.5 30 1/3 | aquarium decor 18
cleaning: robot vacuums 290 | +vacuum filters 17 90 | +mop pads 9 30 1/3
"""
GROUP_WEIGHT = (1.0, 1.2, 0.8, 1.0, 1.0, 0.8, 0.6, 0.5, 0.7)  # taste popularity, as CATALOG
TIERS = ("basic", "standard", "premium")
TIER_SHARE = (0.4, 0.35, 0.25)  # of a category's items
TIER_PRICE = ((0.95, 1.05), (1.2, 1.45), (1.7, 2.2))  # x the category's basic price
BRANDS = ("Alder", "Brio", "Corvin", "Duna", "Elko", "Fjord", "Garnet", "Halden", "Juno")
ZIPF = 1.1  # item popularity within a category and tier ~ 1 / rank^1.1
SAME_ORDER, LATER, LATER_DAYS = 0.35, 0.30, 60  # complement after an anchor
ORDER_RATE = 7.5  # median seed orders per active year (x lognormal sigma 0.8)
CHURN_DAYS = 900  # mean shop lifetime (exponential); replenishment stops there
ADOPT = 0.8  # share of first consumable purchases that start a replenishment cycle
REPEAT_DURABLE = 0.4  # share of taste picks kept in a durable category bought before
SEED_LINES = (0.45, 0.3, 0.15, 0.1)  # lines of taste picks per order: 1, 2, 3 or 4
RETURN_SHARE, ANONYMOUS_SHARE, MAX_LINES = 0.03, 0.10, 5


def _parse(spec: str) -> list[tuple[str, str, float, int, tuple[int, ...], bool]]:
    """(category, group, basic price, days a unit lasts or 0, pack sizes, complement)."""
    parsed = []
    for line in spec.replace("\n    |", " |").strip().splitlines():
        group, entries = line.split(": ")
        for entry in entries.split(" | "):
            words = entry.split()
            n = next(i for i, w in enumerate(words) if w[0].isdigit())
            price, days, packs = words[n:] + ["0", "1"][len(words) - n - 1 :]
            sizes = tuple(int(p) for p in packs.split("/"))
            name = " ".join(words[:n])
            complement = name.startswith("+")
            parsed.append((name.lstrip("+"), group, float(price), int(days), sizes, complement))
    return parsed


CATEGORIES = _parse(CATALOG)
NAMES = [c[0] for c in CATEGORIES]
GROUPS = tuple(dict.fromkeys(c[1] for c in CATEGORIES))
MEMBERS = [[i for i, c in enumerate(CATEGORIES) if c[1] == g] for g in GROUPS]
ANCHORS = frozenset(NAMES[m[0]] for m in MEMBERS)
COMPLEMENTS = {NAMES[m[0]]: tuple(NAMES[i] for i in m if CATEGORIES[i][5]) for m in MEMBERS}
CAT_PRICE = np.array([c[2] for c in CATEGORIES])
CAT_CYCLE = np.array([c[3] for c in CATEGORIES])
IS_ANCHOR = np.isin(np.arange(len(NAMES)), [m[0] for m in MEMBERS])
# Picks within a group: anchor weight 0.15, consumables 1.0, other categories 0.8.
CAT_WEIGHT = np.where(IS_ANCHOR, 0.15, np.where(CAT_CYCLE > 0, 1.0, 0.8))
CAT_GROUP = np.array([GROUPS.index(c[1]) for c in CATEGORIES])
GROUP_SIZE = np.array([len(m) for m in MEMBERS])
GROUP_COMPLEMENTS = np.array([len(COMPLEMENTS[NAMES[m[0]]]) for m in MEMBERS])  # after the anchor


def _group_tables() -> tuple[Ints, Floats]:
    """Per group: its categories (anchor first) and their cumulative pick weights, padded."""
    cats = np.zeros((len(MEMBERS), GROUP_SIZE.max()), np.int64)
    cdf = np.full(cats.shape, 2.0)  # padding is never picked
    for g, members in enumerate(MEMBERS):
        cats[g, : len(members)] = members
        cdf[g, : len(members)] = np.cumsum(CAT_WEIGHT[members]) / CAT_WEIGHT[members].sum()
        cdf[g, len(members) - 1] = 1.0
    return cats, cdf


GROUP_CATS, GROUP_CDF = _group_tables()


@dataclass(frozen=True)
class Catalog:
    """Items in bucket order (category, tier, popularity rank); `number` is the public id."""

    category: Ints
    tier: Ints
    pack: Ints
    cycle: Ints  # days between re-buys of one pack; 0 for durables
    price: Floats
    active: Bools
    number: Ints
    name: list[str]
    cdf: Floats  # bucket + cumulative Zipf share within the bucket (see _Shop.make)


@dataclass(frozen=True)
class Lines:
    """Order lines: `who` indexes the simulated people, later the customers (-1: anonymous)."""

    order: Ints
    who: Ints
    when: Ints
    item: Ints
    quantity: Ints

    def take(self, index: NDArray[Any] | slice) -> "Lines":
        return Lines(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list["Lines"]) -> "Lines":
        return Lines(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Lines)))


@dataclass(frozen=True)
class Purchases:
    """Final order lines, ordered by `number` (the public order number; kind 1 is a return)."""

    lines: Lines
    kind: Ints
    price: Floats
    loyal: Bools  # per customer: top quarter of sales in the last 365 days


@dataclass(frozen=True)
class People:
    """Shop latents of the simulated people (customers, or one-off anonymous shoppers)."""

    begin: Ints
    end: Ints  # shop churn or the cutoff
    rate: Floats  # seed orders per year
    tier: Ints  # tier chosen by price sensitivity
    up1: Floats  # trade-up moments (inf: never)
    up2: Floats
    taste: NDArray[np.float32]  # cumulative group probabilities


def make_catalog(rng: np.random.Generator, customers: int) -> Catalog:
    """Items of every category in all three tiers, priced by tier and pack size."""
    counts = _category_counts(min(20_000, max(200, customers // 5)))
    category = np.repeat(np.arange(len(CATEGORIES)), counts)
    tier = rng.choice(3, size=len(category), p=TIER_SHARE)
    for t in range(3):
        tier[np.cumsum(counts) - counts + t] = t
    pack = np.ones(len(category), np.int64)
    for c, spec in enumerate(CATEGORIES):
        pack[category == c] = rng.choice(spec[4], size=counts[c])
    low, high = np.array(TIER_PRICE)[tier].T
    raw = CAT_PRICE[category] * pack * np.where(pack > 1, 0.9, 1.0) * rng.uniform(low, high)
    price = np.where(raw >= 10, np.round(raw) - 0.01, np.round(raw, 2))
    order = np.lexsort((rng.random(len(category)), tier, category))
    category, tier, pack, price = category[order], tier[order], pack[order], price[order]
    brand, model = rng.integers(0, len(BRANDS), len(tier)), rng.integers(100, 1000, len(tier))
    name = [
        f"{BRANDS[b]} {TIERS[t].title()} {NAMES[c].title()} {m}" + (f" ({p}-pack)" if p > 1 else "")
        for b, m, t, c, p in zip(brand, model, tier, category, pack, strict=True)
    ]
    number = rng.permutation(len(tier)) + 1
    active = rng.random(len(tier)) >= 0.02
    cycle = CAT_CYCLE[category] * pack
    return Catalog(category, tier, pack, cycle, price, active, number, name, _zipf(category, tier))


def _category_counts(total: int) -> Ints:
    """Three items per category (one per tier), the rest shared out by category weight."""
    share = (total - 3 * len(CAT_WEIGHT)) * CAT_WEIGHT / CAT_WEIGHT.sum()
    counts = np.floor(share).astype(np.int64)
    counts[np.argsort(counts - share)[: total - 3 * len(CAT_WEIGHT) - counts.sum()]] += 1
    return np.asarray(counts + 3, dtype=np.int64)


def _zipf(category: Ints, tier: Ints) -> Floats:
    """bucket + cumulative popularity share; `bucket + u` then falls inside its bucket."""
    bucket = category * 3 + tier
    start = np.searchsorted(bucket, bucket)
    last = np.searchsorted(bucket, bucket, side="right") - 1
    weight = (np.arange(len(bucket)) - start + 1.0) ** -ZIPF
    cum = np.cumsum(weight)
    before = cum[start] - weight[start]
    share = (cum - before) / (cum[last] - before)
    share[last] = 1.0
    return bucket + share  # type: ignore[no-any-return]


def simulate(
    rng: np.random.Generator,
    catalog: Catalog,
    created: Ints,
    segment: Ints,
    is_shop: Bools,
    start: int,
    cutoff: int,
) -> Purchases:
    """All order lines before `cutoff`: shop customers' history, then anonymous orders."""
    shop = _Shop(rng, catalog, cutoff)
    shoppers = np.flatnonzero(is_shop)
    begin = created[shoppers]
    churn = begin + rng.exponential(CHURN_DAYS * DAY, len(begin)).astype(np.int64)
    people = _people(rng, segment[shoppers], begin, np.minimum(churn, cutoff), ORDER_RATE)
    known = shop.history(people, ADOPT, True, 0)
    orders = len(np.unique(known.order))
    begin = rng.integers(start, cutoff, round(orders * ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE)))
    strangers = _people(rng, np.zeros(len(begin), np.int64), begin, begin + 1, 0.0)
    anon = shop.history(strangers, 0.0, False, int(known.order.max()) + 1 if orders else 0)
    who = np.concatenate([shoppers[known.who], np.full(len(anon.who), -1)])
    return shop.finish(replace(Lines.concat([known, anon]), who=who), len(created))


def _people(rng: np.random.Generator, segment: Ints, begin: Ints, end: Ints, rate: float) -> People:
    """Price sensitivity (by segment), order rate, trade-up moments and taste."""
    n = len(segment)
    sensitivity = rng.beta(np.array([2.5, 2.0, 1.5])[segment], np.array([2.0, 2.0, 3.0])[segment])
    rates = rate * rng.lognormal(0.0, 0.8, n)
    high = (rates > 0) & (rates >= (np.quantile(rates, 0.75) if n else 0))
    chance = np.where(high, 0.7, 0.1)
    up1 = np.where(rng.random(n) < chance, begin + rng.exponential(270 * DAY, n), np.inf)
    up2 = np.where(rng.random(n) < 0.5, up1 + rng.exponential(365 * DAY, n), np.inf)
    tier = np.where(sensitivity < 0.3, 2, np.where(sensitivity < 0.62, 1, 0))
    return People(begin, end, rates, tier, up1, up2, _taste(rng, n))


def _taste(rng: np.random.Generator, n: int) -> NDArray[np.float32]:
    """1-3 favourite groups (Dirichlet weights) take 85 % of picks; 15 % follow popularity."""
    popularity = np.array(GROUP_WEIGHT) / sum(GROUP_WEIGHT)
    k = rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25], size=n)
    keys = rng.gumbel(size=(n, len(GROUPS))) + np.log(popularity)
    chosen = np.argsort(np.argsort(-keys, axis=1), axis=1) < k[:, None]
    weight = np.where(chosen, rng.gamma(1.0, size=chosen.shape), 0.0)
    weight = 0.85 * weight / weight.sum(axis=1, keepdims=True) + 0.15 * popularity
    return np.cumsum(weight, axis=1).astype(np.float32)


class _Shop:
    """One simulation run: the random stream, the catalog and the cutoff."""

    def __init__(self, rng: np.random.Generator, catalog: Catalog, cutoff: int) -> None:
        self.rng, self.catalog, self.cutoff = rng, catalog, cutoff

    def history(self, people: People, adopt: float, follow_up: bool, first: int) -> Lines:
        """Seed orders from taste, complements of anchors, then replenishment cycles."""
        rng = self.rng
        count = 1 + rng.poisson(people.rate * (people.end - people.begin) / YEAR)
        who = np.repeat(np.arange(len(count)), count)
        when = people.begin[who] + rng.random(len(who)) * (people.end - people.begin)[who]
        seeds = np.repeat(np.arange(len(who)), rng.choice([1, 2, 3, 4], len(who), p=SEED_LINES))
        # item and quantity are placeholders until make() picks them
        base = Lines(first + seeds, who[seeds], when.astype(np.int64)[seeds], seeds, seeds)
        group = (rng.random((len(seeds), 1)) >= people.taste[base.who]).sum(axis=1)
        group = np.minimum(group, len(GROUPS) - 1)
        within = (rng.random((len(seeds), 1)) >= GROUP_CDF[group]).sum(axis=1)
        seed = self.make(people, base, GROUP_CATS[group, within])
        same, later = self.complements(people, seed, follow_up, first + len(who))
        lines = Lines.concat([seed, same, later])
        index = _tidy(lines)
        planted = (np.arange(len(lines.order)) >= len(seed.order))[index]
        lines = lines.take(index)
        keep, cycles = self.repeats(people, lines, adopt)
        keep |= planted  # complements stay even where a cycle of that category already runs
        after = int(lines.order.max()) + 1 if len(lines.order) else first
        return Lines.concat([lines.take(keep), replace(cycles, order=cycles.order + after)])

    def make(self, people: People, base: Lines, category: Ints) -> Lines:
        """Lines in these categories at the tier the person buys at that moment (+-1 at 10 %)."""
        who, when, noise = base.who, base.when, self.rng.random(len(base.who))
        tier = people.tier[who] + (when >= people.up1[who]) + (when >= people.up2[who])
        tier = np.clip(tier - (noise < 0.1) + (noise >= 0.9), 0, 2)
        u = self.rng.random(len(who))
        item = np.searchsorted(self.catalog.cdf, category * 3 + tier + u, side="right")
        return replace(base, item=item, quantity=self.quantity(item))

    def quantity(self, item: Ints) -> Ints:
        """Durables: 1 (93 %) or 2; consumables: 1 (70 %), 2 (22 %) or 3 (8 %)."""
        u = self.rng.random(len(item))
        many = np.where(self.catalog.cycle[item] > 0, (u >= 0.7) + (u >= 0.92) * 1, u >= 0.93)
        return 1 + many.astype(np.int64)

    def complements(
        self, people: People, seed: Lines, follow_up: bool, first: int
    ) -> tuple[Lines, Lines]:
        """After an anchor: a complement in the same order (35 %) or within 60 days (30 %)."""
        anchor = seed.take(IS_ANCHOR[self.catalog.category[seed.item]])
        group = CAT_GROUP[self.catalog.category[anchor.item]]
        other = 1 + (self.rng.random(len(group)) * GROUP_COMPLEMENTS[group]).astype(np.int64)
        comp = GROUP_CATS[group, other]
        u = self.rng.random(len(group))
        same = self.make(people, anchor.take(u < SAME_ORDER), comp[u < SAME_ORDER])
        pick = (u >= SAME_ORDER) & (u < SAME_ORDER + LATER) & follow_up
        later = anchor.take(pick)
        when = later.when + self.rng.integers(DAY, LATER_DAYS * DAY, len(later.when))
        ok = when < people.end[later.who]
        later = replace(later.take(ok), when=when[ok], order=first + np.arange(ok.sum()))
        return same, self.make(people, later, comp[pick][ok])

    def repeats(self, people: People, lines: Lines, adopt: float) -> tuple[Bools, Lines]:
        """Lines to keep, and replenishment cycles.

        A person's first line in a consumable category may start a cycle; later taste
        picks there are dropped (the cycle re-buys). Repeats in a durable category are
        kept at REPEAT_DURABLE: people rarely buy a second camera bag.
        """
        category = self.catalog.category[lines.item]
        key = lines.who * len(CATEGORIES) + category
        by_key = np.lexsort((lines.when, key))
        first = np.zeros(len(key), bool)
        first[by_key] = np.diff(key[by_key], prepend=-1) != 0
        consumable = CAT_CYCLE[category] > 0
        starts = consumable & first & (self.rng.random(len(key)) < adopt)
        repeat = self.rng.random(len(key)) < REPEAT_DURABLE
        return first | (repeat & ~consumable), self.cycles(people, lines.take(starts))

    def cycles(self, people: People, starts: Lines) -> Lines:
        """Re-buys of the same item every cycle_days x quantity (x 0.8-1.2) until churn."""
        cycle = self.catalog.cycle[starts.item] * DAY
        end = people.end[starts.who]
        steps = (end - starts.when) // (0.8 * cycle).astype(np.int64) + 1
        chain = np.repeat(np.arange(len(steps)), steps)
        head = np.cumsum(steps) - steps
        quantity = self.quantity(starts.item[chain])
        quantity[head] = starts.quantity
        gap = cycle[chain] * quantity * self.rng.uniform(0.8, 1.2, len(chain))
        done = np.cumsum(gap) - gap
        when = starts.when[chain] + (done - done[head][chain]).astype(np.int64)
        keep = (np.arange(len(chain)) != head[chain]) & (when < end[chain])
        c = chain[keep]
        return Lines(np.arange(len(c)), starts.who[c], when[keep], starts.item[c], quantity[keep])

    def finish(self, lines: Lines, customers: int) -> Purchases:
        """Prices (8 % of lines on promotion), 3 % returns, orders numbered by time, loyalty."""
        rng, u = self.rng, self.rng.random(len(lines.item))
        promotion = np.where(u < 0.03, 0.8, np.where(u < 0.08, 0.9, 1.0))
        price = np.round(self.catalog.price[lines.item] * promotion, 2)
        back = np.flatnonzero(rng.random(len(u)) < RETURN_SHARE)
        back_when = lines.when[back] + rng.integers(2 * DAY, 21 * DAY, len(back))
        back, back_when = back[back_when < self.cutoff], back_when[back_when < self.cutoff]
        every = Lines.concat([lines, replace(lines.take(back), when=back_when)])
        kind = np.repeat([0, 1], [len(u), len(back)])
        price = np.concatenate([price, price[back]])
        keys, first = np.unique(lines.order, return_index=True)
        number = np.empty(len(keys), np.int64)
        number[np.lexsort((keys, lines.when[first]))] = np.arange(1, len(keys) + 1)
        every = replace(every, order=number[np.searchsorted(keys, every.order)])
        o = np.lexsort((kind, every.order))
        return Purchases(
            every.take(o), kind[o], price[o], _loyal(every, kind, price, customers, self.cutoff)
        )


def _loyal(lines: Lines, kind: Ints, price: Floats, customers: int, cutoff: int) -> Bools:
    """High RFM: customers in the top quarter of sales value in the last 365 days."""
    recent = (kind == 0) & (lines.who >= 0) & (lines.when >= cutoff - YEAR)
    value = np.bincount(lines.who[recent], (price * lines.quantity)[recent], customers)
    top = np.quantile(value[value > 0], 0.75) if (value > 0).any() else np.inf
    return (value > 0) & (value >= top)


def _tidy(lines: Lines) -> Ints:
    """Lines to keep, grouped by order: no repeats of an item, at most 5 lines per order."""
    index = np.argsort(lines.order, kind="stable")
    _, first = np.unique(lines.order[index] * 1_000_000 + lines.item[index], return_index=True)
    index = index[np.sort(first)]
    order = lines.order[index]
    kept: Ints = index[np.arange(len(order)) - np.searchsorted(order, order) < MAX_LINES]
    return kept
