"""The shopping commands `python -m bench task` speaks: held-out phrasings with what each one means.

Most lines come from the hand-written NLU held-out set (tests/data/nlu_heldout.jsonl, which
export.nlu_data keeps out of training: none is a rendering of export/nlu_templates.py), rewritten
the way a person *says* them (numbers as words, no "$"), restricted to products the demo catalog
sells, so that "the product meant" is a catalog fact. Each command carries:

- the intent and the slot words as they appear in the text (scored like the NLU's own held-out set);
- `products`: the catalog product names (vocab spec names) that count as the one meant. A catalog
  SKU is that product when its name is the spec name, or the spec name under a variant prefix
  ("organic whole milk" is whole milk); `brand`, when the user named one, must match too;
- `cart`: for remove requests, the cart the user is looking at (the product meant and another).

Commands that name no product (view cart, checkout, FAQ, ...) count for intent accuracy and slot
F1 only. QUICK is the small subset the test runs: one command per product intent plus two others.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Command:
    text: str
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    """Slot name -> the words of the text that fill it."""
    products: tuple[str, ...] = ()
    """Catalog product (spec) names that count as the product meant; () = names none."""
    brand: str = ""
    """The brand the user named (the picked SKU must carry it)."""
    cart: tuple[str, ...] = ()
    """Product names in the cart before the command (remove requests), the product meant first."""


def _c(text: str, intent: str, products: str = "", maker: str = "", cart: str = "", **slots: str) -> Command:
    """products and cart are "|"-separated names; maker is the brand the picked SKU must carry."""
    return Command(text, intent, dict(slots), tuple(p for p in products.split("|") if p), maker,
                   tuple(p for p in cart.split("|") if p))


COMMANDS: tuple[Command, ...] = (
    # add_to_cart
    _c("I'd love a couple bags of Fuji apples", "add_to_cart", "Fuji apples",
       quantity="a couple", unit="bags", product="Fuji apples"),
    _c("can you put three gallons of whole milk in there", "add_to_cart", "whole milk",
       quantity="three", unit="gallons", product="whole milk"),
    _c("grab me two loaves of sourdough bread", "add_to_cart", "sourdough bread",
       quantity="two", unit="loaves", product="sourdough bread"),
    _c("um I'll grab four cans of black beans", "add_to_cart", "black beans",
       quantity="four", unit="cans", product="black beans"),
    _c("could I also get ten bottles of spring water", "add_to_cart", "spring water",
       quantity="ten", unit="bottles", product="spring water"),
    _c("add five pounds of russet potatoes to the order", "add_to_cart", "russet potatoes",
       quantity="five", unit="pounds", product="russet potatoes"),
    _c("add another carton of oat milk", "add_to_cart", "oat milk", unit="carton", product="oat milk"),
    _c("uh yeah can I get like five avocados", "add_to_cart", "avocados", quantity="five", product="avocados"),
    _c("pop a bag of tortilla chips in the cart", "add_to_cart", "tortilla chips",
       quantity="a", unit="bag", product="tortilla chips"),
    _c("I want the Green Valley bananas", "add_to_cart", "bananas", "Green Valley",
       brand="Green Valley", product="bananas"),
    _c("twelve rolls of toilet paper please", "add_to_cart", "toilet paper",
       quantity="twelve", unit="rolls", product="toilet paper"),
    _c("I'm running low on dish soap so add a bottle", "add_to_cart", "dish soap",
       product="dish soap", quantity="a", unit="bottle"),
    _c("we ran out of paper towels", "add_to_cart", "paper towels", product="paper towels"),
    _c("toss in a dozen large eggs", "add_to_cart", "large eggs", quantity="a", unit="dozen", product="large eggs"),
    _c("add one kilo of jasmine rice", "add_to_cart", "jasmine rice", quantity="one", unit="kilo",
       product="jasmine rice"),
    # search
    _c("show me the cheapest olive oil", "search", "extra virgin olive oil", product="olive oil"),
    _c("is there any Greek yogurt in stock", "search", "Greek yogurt", product="Greek yogurt"),
    _c("I'm trying to find windshield washer fluid", "search", "windshield washer fluid",
       product="windshield washer fluid"),
    _c("search for paper plates", "search", "paper plates", product="paper plates"),
    _c("let me see the ice cream options", "search", "vanilla ice cream", product="ice cream"),
    _c("show me dog food under thirty dollars", "search", "dry dog food|wet dog food",
       product="dog food", max_price="thirty dollars"),
    _c("do you guys carry kombucha", "search", "kombucha", product="kombucha"),
    # price_query
    _c("how much are the Fuji apples", "price_query", "Fuji apples", product="Fuji apples"),
    _c("how much for two pounds of ground beef", "price_query", "ground beef",
       quantity="two", unit="pounds", product="ground beef"),
    _c("how much do the Happy Cow eggs cost", "price_query", "large eggs|brown eggs", "Happy Cow",
       brand="Happy Cow", product="eggs"),
    _c("what would three cartons of oat milk come to", "price_query", "oat milk",
       quantity="three", unit="cartons", product="oat milk"),
    _c("how pricey is the ribeye steak", "price_query", "ribeye steak", product="ribeye steak"),
    _c("what are bananas going for today", "price_query", "bananas", product="bananas"),
    # remove_from_cart (the cart holds the product meant and another)
    _c("take the bananas out", "remove_from_cart", "bananas", cart="bananas|whole milk", product="bananas"),
    _c("I changed my mind on the strawberries, take them out", "remove_from_cart", "strawberries",
       cart="strawberries|sourdough bread", product="strawberries"),
    _c("can you remove the kombucha", "remove_from_cart", "kombucha", cart="kombucha|paper towels",
       product="kombucha"),
    _c("get rid of the milk", "remove_from_cart", "whole milk", cart="whole milk|avocados", product="milk"),
    # no product named: intent (and slots) only
    _c("what's in my basket right now", "view_cart"),
    _c("okay I think I'm ready to check out", "checkout"),
    _c("has my stuff shipped yet", "order_status"),
    _c("reorder my usual", "reorder"),
    _c("I need to cancel the order I just placed", "cancel_order"),
    _c("so what can you actually do", "help"),
    _c("do you charge for delivery", "faq"),
    _c("what goes well with salmon", "recommend", product="salmon"),
    _c("nah I'm good", "deny"),
    _c("what's the weather tomorrow", "other"),
)

QUICK: tuple[Command, ...] = tuple(COMMANDS[i] for i in (1, 7, 12, 16, 22, 28, 32, 38))
"""The test's subset: add x3, search, price, remove, view cart, FAQ."""
