"""The words around the NLU's phrasing patterns: openers, politeness, endings, price caps, off-catalog products.

Beside `export.nlu_templates` (the patterns per intent); `export.nlu_data` and `export.nlu_render` draw from
both. Part of the NLU bundle's source key (`export.nlu._CODE`): a change here retrains the model.
"""

from __future__ import annotations

FILLERS: tuple[str, ...] = ("um", "uh", "umm", "hmm", "so", "okay", "ok", "well", "oh", "hey", "alright",
                            "like", "hey shop", "okay so", "uh so", "yeah so")
"""Spoken openers and hesitations; also dropped between words inside a few utterances."""

POLITE_PREFIXES: tuple[str, ...] = ("please", "could you", "can you", "would you", "could you please",
                                    "can you please", "would you mind to", "i'd like you to")
"""Put before imperative patterns (the ones marked with ``!``)."""

SUFFIXES: tuple[str, ...] = ("please", "thanks", "thank you", "for me", "now", "right now", "real quick",
                             "if you can", "thx")
"""Appended to some utterances of any intent but confirm, deny and other."""

PRICE_CAPS: tuple[str, ...] = ("under", "below", "less than", "for less than", "no more than", "cheaper than",
                               "up to", "at most", "for under", "within", "max", "that costs less than",
                               "not over", "around")
"""Words before a max_price amount inside {search_item} (not part of the slot)."""

EXTRA_PRODUCTS: tuple[str, ...] = (
    "hummus", "salsa", "dill pickles", "firm tofu", "quinoa", "frozen pizza", "ice cubes", "sushi rice",
    "tahini", "coconut milk", "frozen peas", "pineapple", "mangoes", "peaches", "kiwis", "celery",
    "zucchini", "kale", "cauliflower", "green beans", "sliced almonds", "pesto", "feta cheese",
    "goat cheese", "brie", "turkey bacon", "lamb chops", "cod fillets", "crab legs", "egg noodles",
    "lasagna sheets", "couscous", "canned corn", "kidney beans", "refried beans", "taco shells",
    "barbecue sauce", "sriracha", "apple cider vinegar", "sesame oil", "paprika", "chili powder",
    "oregano", "cornstarch", "yeast", "powdered sugar", "chocolate chips", "whipped cream",
    "frozen waffles", "bagel bites", "chicken nuggets", "fish sticks", "popsicles", "sherbet",
    "tonic water", "club soda", "almond butter", "rice milk", "sparkling cider", "veggie burgers",
    "sunflower seeds", "pumpkin seeds", "cheese puffs", "pork rinds", "animal crackers", "fig bars",
    "sponges", "mouthwash", "razors", "shaving cream", "cotton balls", "lip balm", "sunscreen",
    "bug spray", "cat food", "dog food", "kitty litter", "baby formula", "car wax", "antifreeze",
    "phone charger", "road flares", "duct tape", "ziploc bags", "coffee filters", "matches",
)
"""Off-catalog products shoppers ask for anyway, so the model learns the slot, not a product list."""
