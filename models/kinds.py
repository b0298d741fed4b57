"""Product kinds from item names, for catalogs without categories.

Why: a premium alternative must be the same kind of thing (a dearer holder for a
holder, not a clock), and a catalog like Online Retail has no categories, only
descriptions such as "WHITE HANGING HEART T-LIGHT HOLDER" or "JUMBO BAG RED RETROSPOT".
The kind is the description's product noun, found with two facts of the catalog itself:

- English puts the product noun last ("... T-LIGHT HOLDER"), but this kind of catalog
  often puts a pattern or colour after it ("JUMBO BAG RED RETROSPOT", "CARD DOLLY GIRL").
  So colour, size, quantity and pattern words are skipped, and so is everything after
  "with" ("LUNCH BOX WITH CUTLERY RETROSPOT" is a box).
- A word is a product noun when at least `min_items` descriptions end with it (after the
  skipping). A *head* noun ends more descriptions than it appears in earlier in them:
  "holder" ends 91 and precedes another word in 21, while "heart" (a motif: "HEART
  T-LIGHT HOLDER") ends 75 and precedes 173. The kind is the last head noun of the
  name, else its last product noun, else none.

Words are lower-cased and made singular ("tins" → "tin"), and a truncated word
("NECKL") counts as the more common noun it starts ("necklace").
"""

import bisect
import re
from collections import Counter

import numpy as np

_TOKEN = re.compile(r"[A-Za-z]+")
_STOP_AT = frozenset({"with", "w"})
_COLOURS = """white black red pink blue green yellow orange purple ivory cream gold silver grey
gray brown turquoise lilac pastel amber amethyst aqua bronze copper clear colour colours
coloured col multicolour peach teal violet jade rose raspberry natural"""
_PATTERNS = """retrospot polkadot polka dot dots spot spotty spots paisley gingham stripe stripes
striped floral design designs pattern print vintage retro antique classic spaceboy dolly girl
woodland london christmas easter birthday babushka bakelike edwardian montana scandinavian
pantry park suki style finish gloss calm away love apple garden font billboard campagne"""
_SIZES = "large small mini medium med jumbo giant big tiny cm tier size"
_QUANTITIES = "set sets pack packs of assorted asst piece pieces pc pcs"
_GRAMMAR = "and the in on for to my your our no you"
SKIPPED = frozenset(" ".join([_COLOURS, _PATTERNS, _SIZES, _QUANTITIES, _GRAMMAR]).split())
TRUNCATED_EXTRA = 3  # letters a truncated word may miss ("neckl" → "necklace")
# "PACK OF 72 ...", "SET/6 ...", "BOX OF 24 ...", "S/6 ...", or a leading count "36 PENCILS ..."
# (but "3 TIER CAKE TIN" is one tin).
_COUNT = re.compile(
    r"\b(?:pack|set|box|bag|tube|jar|tin|s)\s*(?:of\s*|/\s*)?(\d{1,3})\b"
    r"|^\s*(\d{1,3})\s+(?!tiers?\b|hooks?\b|drawers?\b|wicks?\b)[a-z]",
    re.IGNORECASE,
)


def product_kinds(names: list[str], min_items: int = 3) -> tuple[np.ndarray, list[str]]:
    """(kind per item as an int32 index into the labels, -1 for none; the labels, sorted).

    Deterministic: the same names give the same kinds, whatever their order.
    """
    words = [nouns(name) for name in names]
    ends = Counter(w[-1] for w in words if w)
    before = Counter(x for w in words for x in set(w[:-1]) if x != w[-1])
    alias = _truncations(ends, min_items)
    ends = _merged(ends, alias)
    before = _merged(before, alias)
    chosen = [_kind([alias.get(x, x) for x in w], ends, before, min_items) for w in words]
    labels = sorted({k for k in chosen if k})
    code = {k: i for i, k in enumerate(labels)}
    return np.array([code[k] if k else -1 for k in chosen], dtype=np.int32), labels


def kinds_of(
    names: list[str], category: np.ndarray, categories: list[str], min_items: int = 3
) -> tuple[np.ndarray, list[str]]:
    """Each item's kind: its category where it has one, else its name's product noun.

    The labels start with `categories` (so a category's code is its kind), followed by
    the nouns found among the names of items without a category; a noun equal to a
    category name is that category.
    """
    labels = list(categories)
    kind = category.astype(np.int32).copy()
    missing = np.flatnonzero(category < 0)
    if not len(missing):
        return kind, labels
    derived, nouns_found = product_kinds([names[i] for i in missing.tolist()], min_items)
    position = {label: n for n, label in enumerate(labels)}
    for noun in nouns_found:
        position.setdefault(noun, len(labels))
        if len(labels) == position[noun]:
            labels.append(noun)
    code = np.array([position[n] for n in nouns_found] + [-1], dtype=np.int32)
    kind[missing] = code[derived]  # -1 picks the trailing -1: no kind
    return kind, labels


def count_in_name(name: str) -> int:
    """How many units a name says one sale holds ("PACK OF 72 CAKE CASES": 72), else 1.

    Why: a premium alternative sells the same quantity; twelve baking cases for more
    money than seventy-two are not a better product.
    """
    found = _COUNT.search(name or "")
    count = int(found.group(1) or found.group(2)) if found else 1
    return count if count > 0 else 1


def plural(noun: str) -> str:
    """A derived kind in the plural, for reasons ("customers who buy holders")."""
    if noun.endswith(("ery", "ware")):
        return noun  # cutlery, glassware: no plural
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


def nouns(name: str) -> list[str]:
    """The name's words that may name the product: singular, lower case, modifiers out."""
    kept: list[str] = []
    for token in _TOKEN.findall(name or ""):
        word = token.lower()
        if word in _STOP_AT and kept:
            break
        if len(word) >= 2 and word not in SKIPPED:
            single = singular(word)
            if single not in SKIPPED:
                kept.append(single)
    return kept


def singular(word: str) -> str:
    """A plural's singular by the regular rules; other words unchanged."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _kind(words: list[str], ends: Counter[str], before: Counter[str], least: int) -> str | None:
    """The last head noun, else the last product noun, else None."""
    nouns_here = [w for w in words if ends[w] >= least]
    heads = [w for w in nouns_here if ends[w] > before[w]]
    found = heads or nouns_here
    return found[-1] if found else None


def _truncations(ends: Counter[str], least: int) -> dict[str, str]:
    """Words of 5+ letters that start a product noun ending more names (cut-off text)."""
    nouns = sorted(w for w in ends if ends[w] >= least)
    alias = {}
    for word in ends:
        if len(word) < 5:
            continue
        start = bisect.bisect_right(nouns, word)
        longer = []
        for noun in nouns[start:]:
            if not noun.startswith(word):
                break
            if len(noun) - len(word) <= TRUNCATED_EXTRA and ends[noun] > ends[word]:
                longer.append(noun)
        if longer:
            alias[word] = min(longer, key=lambda n: (-ends[n], n))
    return alias


def _merged(counts: Counter[str], alias: dict[str, str]) -> Counter[str]:
    merged: Counter[str] = Counter()
    for word, n in counts.items():
        merged[alias.get(word, word)] += n
    return merged
