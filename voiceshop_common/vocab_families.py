"""Product families and shopping missions of the demo shop: what counts as "the same thing".

A *family* is what a shopper would call one product regardless of brand, size or variant:
"Harvest Hill organic bananas, 2 lb" and "Fresh Fields bananas, 3 lb" are both bananas, and
Fuji and Gala apples are both apples. Recommendations use it so "you may also like" never offers
another copy of what is already in the cart. Each spec belongs to exactly one family; specs not
grouped here are a family of their own (their lower-cased name).

A *mission* is why a basket is bought (breakfast, baking, cleaning ...): the synthetic purchase
histories draw baskets from missions, so co-purchase statistics have real structure to learn.
Pure data (stdlib only), read through ``voiceshop_common.vocab``.
"""

from __future__ import annotations

FAMILY_GROUPS: dict[str, tuple[str, ...]] = {
    "apples": ("Fuji apples", "Gala apples", "Honeycrisp apples", "Granny Smith apples"),
    "bananas": ("bananas", "organic bananas"),
    "milk": ("whole milk", "two percent milk", "skim milk"),
    "plant milk": ("oat milk", "almond milk"),
    "eggs": ("large eggs", "brown eggs"),
    "butter": ("salted butter", "unsalted butter"),
    "yogurt": ("Greek yogurt", "strawberry yogurt"),
    "sliced bread": ("white sandwich bread", "whole wheat bread", "multigrain bread"),
    "bagels": ("plain bagels", "everything bagels"),
    "tortillas": ("flour tortillas", "corn tortillas"),
    "steak": ("ribeye steak", "sirloin steak"),
    "sausage": ("breakfast sausage", "Italian sausage"),
    "deli meat": ("sliced turkey breast", "sliced ham"),
    "pasta": ("spaghetti", "penne pasta"),
    "rice": ("long grain white rice", "brown rice", "jasmine rice"),
    "sugar": ("granulated sugar", "brown sugar"),
    "cooking oil": ("extra virgin olive oil", "vegetable oil"),
    "cereal": ("honey nut cereal", "corn flakes", "granola"),
    "canned soup": ("chicken noodle soup", "tomato soup"),
    "cola": ("cola", "diet cola"),
    "bottled water": ("sparkling water", "spring water"),
    "tea bags": ("green tea bags", "black tea bags"),
    "coffee": ("ground coffee", "whole bean coffee", "coffee pods"),
    "cold brew": ("cold brew", "cold brew coffee"),
    "latte": ("caffe latte", "oat milk latte", "vanilla latte"),
    "chips": ("potato chips", "sour cream and onion chips"),
    "nuts": ("salted peanuts", "roasted almonds", "cashews", "mixed nuts"),
    "chocolate bar": ("milk chocolate bar", "dark chocolate bar"),
    "laundry detergent": ("laundry detergent", "laundry pods"),
    "trash bags": ("tall kitchen trash bags", "trash bags for bathroom"),
    "dog food": ("dry dog food", "wet dog food"),
    "cat food": ("dry cat food", "wet cat food"),
    "diapers": ("diapers size 1", "diapers size 3", "diapers size 5"),
    "batteries": ("AA batteries", "AAA batteries"),
}
"""Family key -> the specs in it (every other spec is its own family)."""

MISSIONS: dict[str, tuple[str, ...]] = {
    "breakfast": ("bananas", "organic bananas", "honey nut cereal", "corn flakes", "granola", "whole milk",
                  "two percent milk", "large eggs", "thick cut bacon", "English muffins", "orange juice",
                  "ground coffee", "Greek yogurt", "creamy peanut butter", "strawberry jam", "white sandwich bread",
                  "rolled oats", "blueberries", "maple syrup", "pancake mix", "salted butter"),
    "baking": ("all purpose flour", "granulated sugar", "brown sugar", "unsalted butter", "large eggs",
               "vanilla extract", "baking soda", "ground cinnamon", "heavy cream", "parchment paper",
               "dark chocolate bar"),
    "cleaning": ("all purpose cleaner", "glass cleaner", "disinfecting wipes", "scrub sponges", "dish soap",
                 "paper towels", "rubber gloves", "floor cleaner", "mop refills", "toilet bowl cleaner", "bleach"),
    "laundry": ("laundry detergent", "laundry pods", "fabric softener", "dryer sheets", "stain remover",
                "bleach", "lint roller"),
    "pasta night": ("spaghetti", "penne pasta", "marinara sauce", "grated parmesan", "ground beef",
                    "Italian sausage", "garlic", "extra virgin olive oil", "French baguette", "romaine lettuce"),
    "taco night": ("ground beef", "flour tortillas", "corn tortillas", "cheddar cheese", "sour cream",
                   "tortilla chips", "Roma tomatoes", "avocados", "limes", "hot sauce", "black beans"),
    "barbecue": ("hamburger buns", "hot dog buns", "ground beef", "beef hot dogs", "ketchup", "yellow mustard",
                 "chicken wings", "cola", "potato chips", "sweet corn", "ribeye steak"),
    "baby": ("diapers size 1", "diapers size 3", "diapers size 5", "baby wipes", "infant formula",
             "baby food pouches", "diaper rash cream", "baby shampoo"),
    "dog": ("dry dog food", "wet dog food", "dog treats", "poop bags", "dental chews", "chew toy"),
    "cat": ("dry cat food", "wet cat food", "cat treats", "clumping cat litter", "cat toy mice"),
    "road trip": ("beef jerky", "trail mix", "granola bars", "sports drink", "energy drink", "spring water",
                  "USB car charger", "car air freshener", "windshield washer fluid"),
    "car care": ("car wash soap", "microfiber towels", "tire shine", "interior detailing wipes", "wiper blades",
                 "windshield washer fluid"),
    "movie night": ("microwave popcorn", "potato chips", "cola", "gummy bears", "milk chocolate bar",
                    "vanilla ice cream"),
    "coffee run": ("caffe latte", "cappuccino", "drip coffee", "americano", "cold brew", "butter croissant to go",
                   "blueberry scone", "breakfast sandwich", "banana bread slice"),
    "salad": ("romaine lettuce", "baby spinach", "cucumbers", "Roma tomatoes", "red bell peppers",
              "ranch dressing", "avocados"),
    "bathroom": ("toilet paper", "toothpaste", "toothbrushes", "dental floss", "hand soap", "body wash",
                 "shampoo", "conditioner", "deodorant"),
    "cold and flu": ("facial tissues", "cold and flu medicine", "pain reliever", "chicken noodle soup",
                     "orange juice", "hand sanitizer"),
    "party": ("paper plates", "plastic cups", "paper napkins", "tortilla chips", "cola", "lemon lime soda",
              "salted peanuts"),
}
"""Mission -> the specs a basket for it draws from."""
