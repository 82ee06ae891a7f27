"""The demo catalog's vocabulary: categories, product specs, brands and spoken units.

This is the one place the words of the demo shop live; it sits in the shared package because the
cloud and the model toolchain (`export/`, which may not import the cloud) both read it. Three
consumers read it and must agree: the catalog generator (`cloud.catalog.generate`) turns specs
into SKUs, the NLU training-data generator (`export.nlu_data`) samples product names, brands and
units into utterances, and tests use it to pick realistic queries. Keep it importable with no heavy dependencies (stdlib only) and keep the API
stable; add products freely, but do not rename fields.

Stable API
----------
- ``ProductSpec``: one sellable thing as a shopper says it.
- ``CATEGORIES: dict[str, tuple[ProductSpec, ...]]``: category name -> its products.
- ``BRANDS: dict[str, tuple[str, ...]]``: category name -> invented brand names.
- ``UNITS: tuple[str, ...]``: every spoken unit (singular) a spec may use.
- ``UNIT_PLURALS: dict[str, str]``: the spoken plural of each unit ("box" -> "boxes").
- ``product_names()``, ``brand_names()``, ``all_specs()``, ``aliases()``, ``spec_by_name(name)``.
- ``family(spec_name)``: the product family key ("Gala apples" -> "apples"); ``MISSIONS``: why
  baskets are bought (see ``vocab_families``).
"""

from __future__ import annotations

from voiceshop_common.vocab_families import FAMILY_GROUPS, MISSIONS
from voiceshop_common.vocab_products import CATEGORIES, ProductSpec

__all__ = ["BRANDS", "CATEGORIES", "MISSIONS", "UNITS", "UNIT_PLURALS", "ProductSpec", "aliases", "all_specs",
           "brand_names", "family", "product_names", "spec_by_name"]

_FAMILY_OF = {spec.lower(): key for key, specs in FAMILY_GROUPS.items() for spec in specs}

BRANDS: dict[str, tuple[str, ...]] = {
    "produce": ("Green Valley", "Sunny Farms", "Orchard Lane", "Harvest Hill", "Fresh Fields"),
    "dairy": ("Meadow Gold Creek", "Sunny Farms", "Happy Cow", "Clover Ridge", "Alpine Dairy"),
    "bakery": ("Hearth & Crumb", "Golden Loaf", "Morning Oven", "Baker's Row", "Stonemill"),
    "meat": ("Prairie Ranch", "Blue River", "Butcher's Block", "Oak Smoke", "Coastline Seafood"),
    "pantry": ("Pantry Pride", "Nonna's Table", "Golden Grain", "Red Barn", "Blue Harbor", "Sunny Farms"),
    "drinks": ("Crystal Springs", "Sunburst", "Peak Brew", "Fizz Co", "Tea Garden", "Bold Bean"),
    "snacks": ("Crunch Time", "Trailhead", "Munch Box", "Cocoa Hill", "Happy Snack"),
    "cleaning": ("Sparkle", "PureHome", "Fresh Breeze", "Bright Side", "Tidy Up"),
    "pet": ("Happy Tails", "Whisker Works", "Paw Pantry", "Canine Choice", "Feather & Fin"),
    "baby": ("Little Sprout", "Tiny Steps", "Cuddle Care", "Baby Bloom", "Bright Start"),
    "coffee to go": ("Corner Roast", "Daily Grind", "Road Cup", "Bean Street"),
    "car accessories": ("RoadReady", "AutoPro", "DriveSafe", "Volt Line", "ClearView"),
    "household": ("HomeBasics", "PureHome", "Soft Cloud", "Everyday Essentials", "Bright Side"),
}
"""Category name -> invented brand names (a brand may serve several categories)."""


UNITS: tuple[str, ...] = (
    "bag", "pound", "gallon", "loaf", "pack", "dozen", "bottle", "can", "jar", "carton", "roll", "box",
    "each", "bunch", "tub", "cup", "block", "canister", "tube", "pair", "set", "kit",
)
"""Every spoken selling unit, singular. 'each' means the item itself (no unit word is spoken)."""

UNIT_PLURALS: dict[str, str] = {
    "bag": "bags", "pound": "pounds", "gallon": "gallons", "loaf": "loaves", "pack": "packs",
    "dozen": "dozen", "bottle": "bottles", "can": "cans", "jar": "jars", "carton": "cartons",
    "roll": "rolls", "box": "boxes", "each": "each", "bunch": "bunches", "tub": "tubs", "cup": "cups",
    "block": "blocks", "canister": "canisters", "tube": "tubes", "pair": "pairs", "set": "sets", "kit": "kits",
}
"""Spoken plural of each unit ("two loaves of sourdough bread")."""


def all_specs() -> list[tuple[str, ProductSpec]]:
    """(category, spec) for every product spec, in a stable order."""
    return [(category, spec) for category, specs in CATEGORIES.items() for spec in specs]


def product_names() -> list[str]:
    """Every distinct spoken product name, in a stable order."""
    return [spec.name for _category, spec in all_specs()]


def brand_names() -> list[str]:
    """Every distinct brand name, in a stable order (first appearance)."""
    return list(dict.fromkeys(brand for brands in BRANDS.values() for brand in brands))


def aliases() -> dict[str, str]:
    """Lower-cased alias -> canonical product name (the first product claiming an alias wins)."""
    table: dict[str, str] = {}
    for _category, spec in all_specs():
        for alias in spec.aliases:
            table.setdefault(alias.lower(), spec.name)
    return table


def spec_by_name(name: str) -> tuple[str, ProductSpec] | None:
    """(category, spec) for a product name (case-insensitive), or None."""
    wanted = name.strip().lower()
    for category, spec in all_specs():
        if spec.name.lower() == wanted:
            return category, spec
    return None


def family(spec_name: str) -> str:
    """The family key of a spec ("Gala apples" -> "apples"); an ungrouped spec is its own family."""
    return _FAMILY_OF.get(spec_name.strip().lower(), spec_name.strip().lower())
