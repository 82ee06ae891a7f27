"""What the demo catalog is made of, per language: products, brands, variants, units, currency, FAQ.

The generator (cloud.catalog.generate) is the same for every language; a `Lexicon` holds what
differs. English reads ``voiceshop_common.vocab`` (dollars, "Green Valley Fuji apples, 3 lb bag");
Chinese reads ``voiceshop_common.catalog_zh`` (yuan, "绿源果园富士苹果，3斤"): names are written
without spaces, so a variant is a prefix glued to the name (有机富士苹果), invented brands are two
characters, and shelf prices are whole yuan or end in .90 instead of ending in 9 cents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voiceshop_common import catalog_zh, vocab
from voiceshop_common.vocab_products import ProductSpec

LANGUAGES = ("en", "zh")

VARIANTS: dict[str, tuple[tuple[str, float], ...]] = {
    # category -> (prefix, price factor); the empty prefix is the plain product.
    "produce": (("", 1.0), ("organic", 1.35)),
    "dairy": (("", 1.0), ("organic", 1.4), ("lactose free", 1.25)),
    "bakery": (("", 1.0), ("gluten free", 1.5)),
    "meat": (("", 1.0), ("organic", 1.5), ("family pack", 1.8)),
    "pantry": (("", 1.0), ("organic", 1.3)),
    "drinks": (("", 1.0), ("organic", 1.3)),
    "snacks": (("", 1.0), ("family size", 1.6)),
    "cleaning": (("", 1.0), ("unscented", 1.0), ("lavender", 1.05)),
    "pet": (("", 1.0), ("grain free", 1.3)),
    "baby": (("", 1.0), ("organic", 1.3)),
    "coffee to go": (("", 1.0), ("decaf", 1.0)),
    "car accessories": (("", 1.0),),
    "household": (("", 1.0), ("unscented", 1.0)),
}
VARIANT_TAGS = {"organic", "juice", "tea", "coffee", "milk", "cheese", "yogurt", "eggs", "butter", "cream",
                "bread", "chicken", "beef", "pork", "laundry", "dishes", "surfaces", "personal care",
                "dog", "cat", "feeding", "fruit", "vegetable", "chips", "nuts", "espresso", "rice",
                "pasta", "cereal", "bars", "paper", "bathroom"}
"""A variant applies only to specs carrying one of these tags ("decaf" espresso, not "decaf scone")."""

BRAND_WORDS_A = ("Maple", "Silver", "Golden", "River", "Blue", "Red", "Green", "Stone", "Oak", "Pine", "Cedar",
                 "Sunny", "Morning", "Harbor", "Prairie", "Summit", "Willow", "Copper", "North", "Bright",
                 "Misty", "Wild", "Honey", "Clear", "True", "Little", "Grand", "Amber", "Rose", "Valley")
BRAND_WORDS_B = ("Creek", "Farms", "Table", "Market", "Kitchen", "Works", "Fields", "Ridge", "Grove", "Hollow",
                 "Harvest", "Goods", "Co", "Brothers", "Basics", "Pantry", "Mill", "Orchard", "Lane", "Garden",
                 "Point", "Springs", "Home", "Select", "Essentials", "Trail", "Bay", "Meadow", "Peak", "House")
CURRENCY = "USD"
IN_STOCK_RATE = 0.95

FAQ: tuple[tuple[str, str, str], ...] = (
    ("What is your return policy?", "Unopened items can be returned within 30 days with the receipt; fresh "
     "food within 7 days if it was not as expected.", "returns refunds"),
    ("How much is delivery?", "Delivery is free on orders over $35; below that it costs $4.99.",
     "delivery fees shipping"),
    ("When do you deliver?", "We deliver every day from 8 am to 9 pm in two-hour windows.", "delivery hours times"),
    ("What are your store hours?", "Stores are open 7 am to 10 pm, seven days a week.", "hours opening"),
    ("Can I cancel my order?", "Yes, within 15 minutes of confirming it, or any time before it is packed.",
     "cancel orders"),
    ("What happens if an item is out of stock?", "We substitute the closest match at the same or lower price, "
     "unless you asked for no substitutions.", "substitutions stock"),
    ("How do I pay?", "Orders are charged to the card saved in your account when they are packed.",
     "payment card billing"),
    ("Is there a minimum order?", "There is no minimum order; delivery is free over $35.", "minimum order"),
    ("Can I pick up my order?", "Yes, choose curbside pickup and we will bring it to your car.",
     "pickup curbside"),
    ("Do you sell alcohol?", "Not through the voice assistant; please order it in the app with ID checks.",
     "alcohol policy"),
    ("How do I change my delivery address?", "Say 'change my address' in the app or update it online; "
     "the voice assistant uses the address saved in your account.", "address delivery account"),
    ("How do I track my order?", "Ask 'where is my order' and I will tell you its status.", "tracking status"),
)



def _describe_en(brand: str, name: str, size: str, unit: str) -> str:
    return f"{brand} {name}, {size}{'' if unit in ('each', 'pound') else ' ' + unit}."


def _describe_zh(brand: str, name: str, size: str, unit: str) -> str:
    return f"{brand}{name}，{size}。"


def _shelf_price_en(cents: np.ndarray) -> np.ndarray:
    """US shelf prices end in 9 cents ($4.99)."""
    return (np.maximum(np.floor(cents / 10), 0) * 10 + 9).astype(np.int64)


def _shelf_price_zh(fen: np.ndarray) -> np.ndarray:
    """Chinese shelf prices: whole yuan when the fen part is under 50, else x.90 (39元, 12.90元); at least 0.90."""
    yuan = np.floor(fen / 100)
    jiao = np.where(fen - yuan * 100 >= 50, 90, 0)
    return np.maximum(yuan * 100 + jiao, 90).astype(np.int64)


@dataclass(frozen=True)
class Lexicon:
    """Everything language-specific the generator needs (see the module docstring)."""

    language: str
    categories: dict[str, tuple[ProductSpec, ...]]
    brands: dict[str, tuple[str, ...]]
    brand_words: tuple[tuple[str, ...], tuple[str, ...]]
    """Parts of invented brands for large catalogs (first x second)."""
    separator: str
    """Between words of a name, a variant prefix and the name, brand parts: " " (en) or "" (zh)."""
    variants: dict[str, tuple[tuple[str, float], ...]]
    variant_tags: frozenset[str]
    currency: str
    faq: tuple[tuple[str, str, str], ...]
    aliases: dict[str, str]
    family: Callable[[str], str]
    describe: Callable[[str, str, str, str], str]
    shelf_price: Callable[[np.ndarray], np.ndarray]
    sku_prefix: dict[str, str]

    def all_specs(self) -> list[tuple[str, ProductSpec]]:
        return [(category, spec) for category, specs in self.categories.items() for spec in specs]

    def brand_names(self) -> list[str]:
        return list(dict.fromkeys(b for brands in self.brands.values() for b in brands))

    def name(self, prefix: str, spec_name: str) -> str:
        return f"{prefix}{self.separator}{spec_name}" if prefix else spec_name

    def has_word(self, spec_name: str, prefix: str) -> bool:
        """The name already says the prefix ("organic bananas" + "organic"; 有机 in a zh name)."""
        if self.separator:
            return bool(set(spec_name.lower().split()) & set(prefix.split()))
        return prefix in spec_name


def for_language(language: str = "en") -> Lexicon:
    """The lexicon of a catalog language ("en" or "zh"); ValueError for any other."""
    if language == "en":
        return Lexicon("en", vocab.CATEGORIES, vocab.BRANDS, (BRAND_WORDS_A, BRAND_WORDS_B), " ", VARIANTS,
                       frozenset(VARIANT_TAGS), CURRENCY, FAQ, vocab.aliases(), vocab.family, _describe_en,
                       _shelf_price_en, {c: "".join(ch for ch in c.upper() if "A" <= ch <= "Z")[:3]
                                         for c in vocab.CATEGORIES})
    if language == "zh":
        return Lexicon("zh", catalog_zh.CATEGORIES, catalog_zh.BRANDS, catalog_zh.BRAND_PARTS, "",
                       catalog_zh.VARIANTS, catalog_zh.VARIANT_TAGS, catalog_zh.CURRENCY, catalog_zh.FAQ,
                       catalog_zh.aliases(), catalog_zh.family, _describe_zh, _shelf_price_zh,
                       catalog_zh.SKU_PREFIX)
    raise ValueError(f"--language {language!r}: the demo catalog speaks {', '.join(LANGUAGES)}")
