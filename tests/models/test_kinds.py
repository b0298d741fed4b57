"""Product kinds from descriptions written the way the Online Retail catalog writes them."""

import numpy as np

from models.kinds import count_in_name, kinds_of, nouns, plural, product_kinds, singular

# Enough of each noun that it counts as a product noun (3+ descriptions end with it).
CATALOG = [
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "RED HANGING HEART T-LIGHT HOLDER",
    "CREAM HEART CARD HOLDER",
    "GLASS STAR FROSTED T-LIGHT HOLDER",
    "JUMBO BAG RED RETROSPOT",
    "LUNCH BAG DOLLY GIRL DESIGN",
    "JUMBO SHOPPER VINTAGE RED PAISLEY",
    "CHARLOTTE BAG PINK POLKADOT",
    "RECYCLING BAG",
    "SET OF 3 CAKE TINS PANTRY DESIGN",
    "ROUND CAKE TIN VINTAGE GREEN",
    "REGENCY CAKE TIN",
    "HEART OF WICKER LARGE",
    "FELT HANGING HEART",
    "PINK HEART",
    "WOODEN HEART CHRISTMAS",
    "LUNCH BOX WITH CUTLERY RETROSPOT",
    "MONEY BOX HOUSEKEEPING DESIGN",
    "SWEETHEART TRINKET BOX",
    "STRAWBERRY CERAMIC TRINKET BOX",
    "DIAMANTE NECKLACE",
    "BEADED NECKL",
    "CRYSTAL NECKLACE",
    "PEARL NECKLACE",
    "PHOTO CUBE",
]


def kind_of(names: list[str]) -> dict[str, str | None]:
    kind, labels = product_kinds(names)
    return {n: labels[k] if k >= 0 else None for n, k in zip(names, kind.tolist(), strict=True)}


def test_the_product_noun_is_found_where_a_last_word_rule_fails() -> None:
    kinds = kind_of(CATALOG)
    assert kinds["WHITE HANGING HEART T-LIGHT HOLDER"] == "holder"  # not the heart motif
    assert kinds["JUMBO BAG RED RETROSPOT"] == "bag"  # the pattern comes after the noun
    assert kinds["LUNCH BAG DOLLY GIRL DESIGN"] == "bag"
    assert kinds["SET OF 3 CAKE TINS PANTRY DESIGN"] == "tin"  # plural, then a design
    assert kinds["LUNCH BOX WITH CUTLERY RETROSPOT"] == "box"  # what comes with it is not it
    assert kinds["HEART OF WICKER LARGE"] == "heart"  # a heart decoration is a heart


def test_a_truncated_description_counts_as_its_noun() -> None:
    assert kind_of(CATALOG)["BEADED NECKL"] == "necklace"


def test_a_noun_too_rare_to_be_a_kind_leaves_the_item_without_one() -> None:
    kinds = kind_of(CATALOG)
    assert kinds["PHOTO CUBE"] is None
    assert kinds["JUMBO SHOPPER VINTAGE RED PAISLEY"] is None  # one shopper only


def test_kinds_do_not_depend_on_the_order_of_the_catalog() -> None:
    reordered = list(reversed(CATALOG))
    assert kind_of(reordered) == kind_of(CATALOG)


def test_words_are_singular_lower_case_without_colours_sizes_or_patterns() -> None:
    assert nouns("PACK OF 72 RETROSPOT CAKE CASES") == ["cake", "case"]
    assert nouns("SMALL WHITE RETROSPOT MUG IN BOX") == ["mug", "box"]
    assert [singular(w) for w in ("boxes", "doilies", "glass", "tins", "bus")] == [
        "box",
        "doily",
        "glass",
        "tin",
        "bus",
    ]
    assert [plural(w) for w in ("holder", "box", "doily", "cutlery")] == [
        "holders",
        "boxes",
        "doilies",
        "cutlery",
    ]


def test_an_item_with_a_category_keeps_it_as_its_kind() -> None:
    names = ["Alder Basic Cameras 1", *CATALOG]
    category = np.array([0] + [-1] * len(CATALOG), dtype=np.int32)
    kind, labels = kinds_of(names, category, ["cameras"])
    assert labels[0] == "cameras" and kind[0] == 0
    assert labels[kind[1]] == "holder"
    assert (kind[1:] != 0).all()  # the derived kinds come after the categories


def test_a_catalog_with_categories_everywhere_derives_nothing() -> None:
    kind, labels = kinds_of(["a bag", "a box"], np.array([1, 0], dtype=np.int32), ["x", "y"])
    assert kind.tolist() == [1, 0] and labels == ["x", "y"]


def test_the_count_a_name_gives_is_its_pack_size() -> None:
    counts = {
        "PACK OF 72 RETROSPOT CAKE CASES": 72,
        "SET/6 RED SPOTTY PAPER CUPS": 6,
        "S/4 ICON COASTER,ELVIS LIVES": 4,
        "36 PENCILS TUBE RED RETROSPOT": 36,
        "3 TIER CAKE TIN RED AND CREAM": 1,  # tiers, not tins
        "3 WICK CHRISTMAS BRIAR CANDLE": 1,
        "15CM CHRISTMAS GLASS BALL 20 LIGHTS": 1,
        "DOOR SIGN 3": 1,
        "WHITE HANGING HEART T-LIGHT HOLDER": 1,
    }
    assert {name: count_in_name(name) for name in counts} == counts
