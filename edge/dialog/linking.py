"""Entity linking: the words the NLU tagged (product, brand) -> catalog products the user meant.

Two jobs:

- *Lookup*: a product/brand slot goes through the catalog's hybrid search (bm25 + embeddings +
  fuzzy/phonetic), which is what makes ASR errors like "fugi apples" land on Fuji apples. A spoken
  brand is first snapped to a catalog brand with rapidfuzz ("sunny farm" -> "Sunny Farms") so it can
  be used as a filter; if the brand filter empties the result, the brand is searched as words
  instead, because a misheard brand must not hide the product.
- *Reference*: "the second one", "that one", "the Sunny Farms one" and a product name said again
  are resolved against what was last read out (DialogState.last_results) and the product in focus,
  before any new search, since that is what a person means mid-conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process, utils

from edge.dialog.ports import CatalogPort
from edge.dialog.replies import SIZE_WORDS
from edge.dialog.state import DialogState, Item
from edge.dialog.words_zh import has_cjk, squeeze

BRAND_MATCH = 80
"""rapidfuzz WRatio (0-100) above which a spoken brand is taken as a catalog brand."""
NAME_MATCH = 80
"""name_score (0-100) above which a spoken product name refers to a result already read out."""


def name_score(spoken: str, name: str) -> float:
    """How well spoken words name a product (0-100): token_set_ratio for English, where "apples" is a
    subset of "Fuji apples"; for Chinese, which has no spaces to make tokens, the best partial match
    of the shorter string in the longer one, so 苹果 names 红富士苹果 the way "apples" names "Fuji apples"."""
    if has_cjk(spoken) or has_cjk(name):
        said, written = squeeze(spoken), squeeze(name)
        return float(fuzz.partial_ratio(said, written)) if said and written else 0.0
    return float(fuzz.token_set_ratio(spoken, name, processor=utils.default_process))


def to_item(product: Any) -> Item:
    """Snapshot a catalog product row as the dialogue's Item."""
    return Item(
        product_id=int(product.id), sku=str(product.sku), name=str(product.name), brand=str(product.brand or ""),
        unit=str(product.unit or ""), size=str(product.pack_size or ""), price_cents=int(product.price_cents),
        category=str(product.category or ""), in_stock=bool(product.in_stock),
        currency=str(getattr(product, "currency", "") or "USD"),
    )


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def name_fit(spoken: str, name: str) -> int:
    """How well a product name fits the spoken words: 2 = the name's head noun was said and the
    words match closely, 1 = the head noun was said, 0 = neither.

    English product names put the kind of thing last ("apple juice" is a juice, "Fuji apples"
    are apples), so "apples" should find apples before apple juice, which bm25 alone cannot tell
    apart. Within a tier the catalog's own ranking (fuzzy, phonetic, semantic, popularity) stands,
    so an ASR-mangled or alias query ("fugi apples", "oj") still lands where search put it.
    """
    if has_cjk(spoken) or has_cjk(name):
        return _name_fit_zh(spoken, name)
    said = {_stem(w) for w in utils.default_process(spoken).split()}
    words = utils.default_process(name).split()
    if not words or _stem(words[-1]) not in said:
        return 0
    return 2 if name_score(spoken, name) >= NAME_MATCH else 1


def _name_fit_zh(spoken: str, name: str) -> int:
    """Chinese names put the kind of thing last too (红富士苹果 are apples, 苹果汁 is juice): 2 when the
    name ends with what was said, 1 when it ends with its last two characters (the head noun)."""
    said, written = squeeze(spoken), squeeze(name)
    if not said or not written:
        return 0
    if written.endswith(said):
        return 2
    return 1 if written.endswith(said[-2:]) else 0


def unit_fit(spoken_unit: str, item: Item) -> int:
    """2 when the spoken unit is the pack size itself ("gallon" for "1 gal"), 1 when it is the selling
    unit ("bag" for a 3 lb bag), else 0. The NLU gives units singular ("bag", "gallon", "pound")."""
    if not spoken_unit:
        return 0
    unit = spoken_unit.lower().strip()
    parts = item.size.lower().split()
    if len(parts) == 2 and parts[0] in ("1", "one") and SIZE_WORDS.get(parts[1], parts[1]) == unit:
        return 2
    return 1 if item.unit.lower() == unit or (parts and SIZE_WORDS.get(parts[-1], parts[-1]) == unit) else 0


@dataclass(frozen=True)
class Found:
    """A lookup's outcome: the items, and the spoken query they answer (for the reply)."""

    items: list[Item]
    query: str


class Linker:
    """Resolve product and brand slots against the catalog and the conversation so far."""

    def __init__(self, catalog: CatalogPort, replies: Any = None) -> None:
        """replies: the dialogue's Replies (its language words a price cap in the query said back)."""
        self.catalog = catalog
        self.replies = replies
        self._brands: list[str] | None = None

    # --- brands -------------------------------------------------------------------------
    def brands(self) -> list[str]:
        if self._brands is None:
            self._brands = list(self.catalog.brands())
        return self._brands

    def brand(self, spoken: str | None) -> str | None:
        """The catalog brand a spoken brand means, or None when nothing is close enough."""
        if not spoken:
            return None
        best = process.extractOne(spoken, self.brands(), scorer=fuzz.WRatio, processor=utils.default_process,
                                  score_cutoff=BRAND_MATCH)
        return best[0] if best else None

    def by_sku(self, sku: str) -> Item | None:
        """Today's row for a SKU (reorders re-price from the catalog, never from the old order)."""
        row = self.catalog.conn.execute(
            "SELECT id, sku, name, brand, category, unit, pack_size, price_cents, in_stock, currency FROM products "
            "WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            return None
        return Item(product_id=int(row[0]), sku=str(row[1]), name=str(row[2]), brand=str(row[3] or ""),
                    category=str(row[4] or ""), unit=str(row[5] or ""), size=str(row[6] or ""),
                    price_cents=int(row[7]), in_stock=bool(row[8]), currency=str(row[9] or "USD"))

    # --- lookup --------------------------------------------------------------------------
    def lookup(self, slots: dict[str, Any], limit: int) -> Found:
        """Search the catalog for the product/brand/max_price slots; in-stock first."""
        product = str(slots.get("product") or "").strip()
        spoken_brand = str(slots.get("brand") or "").strip()
        max_price = slots.get("max_price")
        brand = self.brand(spoken_brand)
        query = product or spoken_brand
        if not query:
            return Found([], "")
        unit = str(slots.get("unit") or "")
        hits = self._search(query, max_price, brand, limit, unit)
        if not hits and brand:
            hits = self._search(f"{spoken_brand} {product}".strip(), max_price, None, limit, unit)
        spoken = " ".join(part for part in (spoken_brand, product) if part) or query
        if isinstance(max_price, (int, float)):
            spoken = self.replies.under_price(spoken, max_price) if self.replies else f"{spoken} under ${max_price:g}"
        return Found(hits, spoken)

    def _search(self, query: str, max_price: Any, brand: str | None, limit: int, unit: str = "") -> list[Item]:
        """The catalog's hits, re-ranked for what a shopper's phrase names (see `name_fit`), then
        for the unit they said ("a gallon of milk" prefers the 1 gallon jug to the half gallon)."""
        price = float(max_price) if isinstance(max_price, (int, float)) and max_price > 0 else None
        hits = list(self.catalog.search(query, max_price=price, brand=brand, limit=max(limit * 4, 12)))
        items = [to_item(hit.product) for hit in hits]
        ranked = sorted(range(len(items)),
                        key=lambda n: (-name_fit(query, items[n].name), -unit_fit(unit, items[n]), n))
        return [items[n] for n in ranked][:limit]

    def refine(self, slots: dict[str, Any], state: DialogState, limit: int) -> Found:
        """A brand said alone about what is being discussed ("the Sunny Farms ones" after a list of
        Fuji apples none of which was Sunny Farms): the same product under that brand."""
        about = state.focus or (state.last_results[0] if state.last_results else None)
        if about is None or slots.get("product") or not slots.get("brand"):
            return Found([], "")
        return self.lookup({**slots, "product": about.name}, limit)

    # --- references ------------------------------------------------------------------------
    def refer(self, slots: dict[str, Any], state: DialogState) -> Item | None:
        """The item a turn points at among what was said before, or None.

        Order of evidence: an ordinal ("the second one"); a brand among the last results ("the
        Sunny Farms one"); a product name matching a last result; then, with no product words at
        all, the product in focus ("that one", "add it").
        """
        results = state.last_results
        ordinal = slots.get("ordinal")
        if isinstance(ordinal, (int, float)) and results:
            index = int(ordinal)
            if index == -1 or index > len(results):  # "the last one"
                index = len(results) if index == -1 else 0
            if 1 <= index <= len(results):
                return results[index - 1]
        product = str(slots.get("product") or "").strip()
        spoken_brand = str(slots.get("brand") or "").strip()
        if spoken_brand and results:
            by_brand = self._match(spoken_brand, results, lambda i: i.brand, BRAND_MATCH)
            if by_brand:
                named = self._match(product, by_brand, lambda i: i.name, NAME_MATCH) if product else by_brand
                if named:
                    return named[0]
        if product:
            pool = list(results) + ([state.focus] if state.focus and state.focus not in results else [])
            named = self._match(product, pool, lambda i: f"{i.brand} {i.name}", NAME_MATCH)
            # Several equally named results (one product, several brands) are not a reference.
            return named[0] if len(named) == 1 else None
        if not spoken_brand:
            return state.focus
        return None

    @staticmethod
    def _match(spoken: str, items: Sequence[Item], key: Any, cutoff: int) -> list[Item]:
        """Items whose key matches the spoken words, best first."""
        scored = [(name_score(spoken, key(item)), n, item)
                  for n, item in enumerate(items)]
        return [item for score, _n, item in sorted(scored, key=lambda t: (-t[0], t[1])) if score >= cutoff]
