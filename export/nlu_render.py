"""Fill one pattern's placeholders with labelled words (used by `export.nlu_data`).

Every choice comes from the seeded rng the caller passes in. A placeholder becomes one or more
segments (text, slot or None); spans are computed later from the segments, so labels are exact
whatever the surface style. Labelling conventions are those of `edge.nlu.schema`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from export.nlu_phrasing import PRICE_CAPS
from voiceshop_common.numbers import cardinal, ordinal

if TYPE_CHECKING:
    from export.nlu_data import Vocabulary

_ORDINAL_WORDS = tuple(ordinal(n) for n in range(1, 7))
"""The list positions a shopper names, first to sixth."""
_ORDINAL_DIGITS = ("1st", "2nd", "3rd", "4th", "5th", "6th")


def number_words(n: int) -> str:
    """n in words as a recognizer without digits prints them: separate words, no hyphen ("twenty four").

    The words are `voiceshop_common.numbers`', the ones the voice speaks and the WER normalizer spells.
    """
    return cardinal(n, hyphen=" ")


Segment = tuple[str, str | None]  # (text, slot or None)


class Renderer:
    """Fills one pattern with words; every choice comes from the seeded rng passed in."""

    def __init__(self, rng: random.Random, words: Vocabulary, digits: bool, tag: bool) -> None:
        self.rng, self.words, self.digits, self.tag = rng, words, digits, tag
        self.last_quantity = 2

    def s(self, text: str, slot: str | None) -> Segment:
        return (text, slot if self.tag else None)

    def number(self, n: int) -> str:
        return str(n) if self.digits else number_words(n)

    def quantity_value(self) -> int:
        r = self.rng.random()
        if r < 0.70:
            return self.rng.randint(2, 6)
        if r < 0.90:
            return self.rng.randint(7, 12)
        if r < 0.97:
            return self.rng.choice([15, 18, 20, 24, 30, 36, 48])
        return self.rng.choice([50, 100, 200, 500, 1000])

    def quantity(self, allow_one: bool = True) -> list[Segment]:
        if allow_one and self.rng.random() < 0.15:
            self.last_quantity = 1
            lead = [(self.rng.choice(["just", "only"]), None)] if self.rng.random() < 0.3 else []
            return [*lead, self.s("1" if self.digits and self.rng.random() < 0.5 else "one", "quantity")]
        n = self.quantity_value()
        self.last_quantity = n
        if n == 2 and self.rng.random() < 0.1:
            return [self.s("a couple", "quantity")]
        return [self.s(self.number(n), "quantity")]

    def unit(self, product: str | None = None) -> str:
        own = self.words.product_units.get(product or "", "each")
        unit = own if own != "each" and self.rng.random() < 0.55 else self.rng.choice(list(self.words.units))
        if self.last_quantity == 1:
            return unit
        plurals = self.words.units[unit]
        return self.rng.choice(plurals) if self.rng.random() < 0.3 else plurals[0]

    def units_seg(self) -> list[Segment]:
        return [self.s(self.unit(), "unit")]

    def product(self) -> str:
        return self.rng.choice(self.words.products)

    def brand(self) -> str:
        return self.rng.choice(self.words.brands)

    def max_price(self) -> list[Segment]:
        rng = self.rng
        dollars = rng.choice([1, 2, 3, 5, 5, 8, 10, 10, 12, 15, 20, 20, 25, 30, 40, 50, 75, 100])
        cents = rng.choice([0, 0, 0, 0, 49, 50, 99])
        if cents and dollars < 30:
            forms = [f"${dollars}.{cents:02d}", f"{dollars}.{cents:02d}",
                     f"{number_words(dollars)} {number_words(cents)}",
                     f"{number_words(dollars)} dollars and {number_words(cents)} cents"]
        else:
            forms = [f"${dollars}", f"{dollars} dollars", f"{dollars} bucks", f"{number_words(dollars)} dollars",
                     f"{number_words(dollars)} bucks", f"{number_words(dollars)}", f"{dollars}"]
        return [self.s(rng.choice(forms), "max_price")]

    def ordinal(self) -> list[Segment]:
        r = self.rng.random()
        if r < 0.15:
            return [self.s(self.rng.choice(["last", "second to last"]), "ordinal")]
        pool = _ORDINAL_DIGITS if self.digits and r < 0.4 else _ORDINAL_WORDS
        return [self.s(self.rng.choice(pool[:4] if self.rng.random() < 0.8 else pool), "ordinal")]

    def ordinal_num(self) -> list[Segment]:
        return [self.s(self.number(self.rng.randint(1, 5)), "ordinal")]

    def item(self) -> list[Segment]:
        """A product as shoppers say it when buying: maybe with quantity, unit and brand."""
        rng, p, out = self.rng, self.product(), []
        kind = rng.choices(["p", "bp", "qp", "qup", "aup", "qubp", "pfb", "qbp", "some", "size", "qu_p"],
                           weights=[26, 8, 12, 20, 10, 6, 4, 5, 4, 2, 3])[0]
        self.last_quantity = 2
        if kind == "p":
            return [self.s(p, "product")]
        if kind == "some":
            return [("some", None), self.s(p, "product")]
        if kind == "bp":
            return [self.s(self.brand(), "brand"), self.s(p, "product")]
        if kind == "pfb":
            return [self.s(p, "product"), (rng.choice(["from", "by"]), None), self.s(self.brand(), "brand")]
        if kind in ("qp", "qbp"):
            out = self.quantity()
            if kind == "qbp":
                out.append(self.s(self.brand(), "brand"))
            return [*out, self.s(p, "product")]
        if kind in ("aup", "size"):
            self.last_quantity = 1
            sizes = self.words.product_sizes.get(p) or ("2 lb",)
            size = [(self._spoken_size(rng.choice(sizes)), None)] if kind == "size" else []
            unit = self.unit(p)
            article = "an" if not size and unit[0] in "aeiou" else "a"
            return [self.s(article, "quantity"), *size, self.s(unit, "unit"), ("of", None), self.s(p, "product")]
        out = self.quantity()
        out.append(self.s(self.unit(p), "unit"))
        if kind != "qu_p":
            out.append(("of", None))
        if kind == "qubp":
            out.append(self.s(self.brand(), "brand"))
        return [*out, self.s(p, "product")]

    def _spoken_size(self, size: str) -> str:
        amount, _, unit = size.partition(" ")
        spoken_unit = {"lb": "pound", "oz": "ounce", "ct": "count", "gal": "gallon"}.get(unit, unit)
        if not amount.isdigit():
            return size
        return f"{self.number(int(amount))} {spoken_unit}"

    def search_item(self) -> list[Segment]:
        rng, p = self.rng, self.product()
        kind = rng.choices(["p", "bp", "pfb", "b", "p$", "bp$", "cheap"], weights=[40, 12, 6, 4, 24, 6, 4])[0]
        if kind == "b":
            return [self.s(self.brand(), "brand")]
        if kind == "cheap":  # evaluative words are not the product ("organic" would be: it describes it)
            return [(rng.choice(["cheap", "good", "nice", "decent"]), None), self.s(p, "product")]
        out = [self.s(p, "product")]
        if kind in ("bp", "bp$"):
            out.insert(0, self.s(self.brand(), "brand"))
        if kind == "pfb":
            out += [(rng.choice(["from", "by"]), None), self.s(self.brand(), "brand")]
        if kind.endswith("$"):
            out += [(rng.choice(PRICE_CAPS), None), *self.max_price()]
        return out

    def price_item(self) -> list[Segment]:
        rng, p = self.rng, self.product()
        kind = rng.choices(["p", "bp", "the_p", "aup", "qup"], weights=[40, 15, 20, 15, 10])[0]
        if kind == "p":
            return [self.s(p, "product")]
        if kind == "bp":
            return [self.s(self.brand(), "brand"), self.s(p, "product")]
        if kind == "the_p":
            return [("the", None), self.s(p, "product")]
        if kind == "aup":
            self.last_quantity = 1
            unit = self.unit(p)
            return [self.s("an" if unit[0] in "aeiou" else "a", "quantity"), self.s(unit, "unit"),
                    ("of", None), self.s(p, "product")]
        out = self.quantity(allow_one=False)
        return [*out, self.s(self.unit(p), "unit"), ("of", None), self.s(p, "product")]

    def fill(self, name: str) -> list[Segment]:
        if name == "number":
            return [(self.number(self.rng.randint(2, 45)), None)]
        if name == "quantity":
            return self.quantity()
        if name == "units":
            return self.units_seg()
        if name in ("product", "brand"):
            return [self.s(getattr(self, name)(), name)]
        method = getattr(self, name, None)
        if method is None:
            raise KeyError(f"unknown placeholder {{{name}}}")
        return method()
