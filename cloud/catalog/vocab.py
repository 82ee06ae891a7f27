"""The demo catalog's vocabulary: categories, product specs, brands and spoken units.

This is the one place the words of the demo shop live. Three consumers read it and must agree:
the catalog generator (`cloud.catalog.generate`) turns specs into SKUs, the NLU training-data
generator samples product names, brands and units into utterances, and tests use it to pick
realistic queries. Keep it importable with no heavy dependencies (stdlib only) and keep the API
stable; add products freely, but do not rename fields.

Stable API
----------
- ``ProductSpec``: one sellable thing as a shopper says it.
- ``CATEGORIES: dict[str, tuple[ProductSpec, ...]]``: category name -> its products.
- ``BRANDS: dict[str, tuple[str, ...]]``: category name -> invented brand names.
- ``UNITS: tuple[str, ...]``: every spoken unit (singular) a spec may use.
- ``UNIT_PLURALS: dict[str, str]``: the spoken plural of each unit ("box" -> "boxes").
- ``product_names()``, ``brand_names()``, ``all_specs()``, ``aliases()``, ``spec_by_name(name)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One product as a shopper names it; the generator makes many SKUs (brand x size) from it."""

    name: str
    """Spoken product name, lower case except proper nouns ("Fuji apples", "whole milk")."""
    unit: str
    """Spoken selling unit, singular, one of UNITS ("bag", "gallon", "each")."""
    sizes: tuple[str, ...]
    """Pack-size options as printed on the shelf ("3 lb", "1 gal", "12 ct"); first is the common one."""
    price_cents: tuple[int, int]
    """Typical shelf price range for the first size, in US cents (low, high)."""
    tags: tuple[str, ...] = ()
    """Searchable attributes ("organic", "fruit", "gluten free")."""
    aliases: tuple[str, ...] = ()
    """Other ways people say it, including ASR-prone short forms ("oj")."""


def _p(name: str, unit: str, sizes: str, lo: float, hi: float, tags: str = "", aliases: str = "") -> ProductSpec:
    """Compact constructor: sizes/tags/aliases are '|'-separated; prices in dollars for readability."""
    def split(text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split("|") if part.strip())
    return ProductSpec(name, unit, split(sizes), (round(lo * 100), round(hi * 100)), split(tags), split(aliases))


CATEGORIES: dict[str, tuple[ProductSpec, ...]] = {
    "produce": (
        _p("Fuji apples", "bag", "3 lb|5 lb|1 lb", 4.49, 5.49, "fruit|apple|fresh", "fuji apple|fuji"),
        _p("Gala apples", "bag", "3 lb|5 lb", 3.99, 4.99, "fruit|apple|fresh", "gala apple"),
        _p("Honeycrisp apples", "bag", "2 lb|3 lb", 5.49, 6.99, "fruit|apple|fresh", "honey crisp apples"),
        _p("Granny Smith apples", "bag", "3 lb|1 lb", 3.99, 4.99, "fruit|apple|green|fresh", "green apples"),
        _p("bananas", "bunch", "2 lb|3 lb", 0.99, 1.79, "fruit|fresh", "banana"),
        _p("organic bananas", "bunch", "2 lb", 1.49, 2.29, "fruit|organic|fresh", "organic banana"),
        _p("navel oranges", "bag", "4 lb|8 lb", 4.99, 6.49, "fruit|citrus|fresh", "oranges"),
        _p("lemons", "bag", "2 lb|1 lb", 3.49, 4.49, "fruit|citrus|fresh", "lemon"),
        _p("limes", "bag", "2 lb|1 lb", 2.99, 3.99, "fruit|citrus|fresh", "lime"),
        _p("strawberries", "carton", "1 lb|2 lb", 3.49, 4.99, "fruit|berries|fresh", "strawberry"),
        _p("blueberries", "carton", "6 oz|18 oz", 3.49, 4.99, "fruit|berries|fresh", "blueberry"),
        _p("raspberries", "carton", "6 oz|12 oz", 3.99, 5.49, "fruit|berries|fresh", "raspberry"),
        _p("seedless grapes", "bag", "2 lb|3 lb", 4.99, 6.99, "fruit|fresh", "grapes|green grapes|red grapes"),
        _p("avocados", "bag", "4 ct|6 ct", 4.49, 5.99, "fruit|fresh", "avocado|hass avocados"),
        _p("baby carrots", "bag", "1 lb|2 lb", 1.29, 2.29, "vegetable|fresh|snack", "carrots"),
        _p("romaine lettuce", "each", "3 ct|1 ct", 2.99, 4.49, "vegetable|salad|fresh", "romaine|lettuce"),
        _p("baby spinach", "box", "5 oz|10 oz", 2.99, 4.49, "vegetable|salad|fresh", "spinach"),
        _p("broccoli crowns", "pound", "1 lb|2 lb", 1.79, 2.79, "vegetable|fresh", "broccoli"),
        _p("yellow onions", "bag", "3 lb|5 lb", 2.99, 3.99, "vegetable|fresh", "onions|onion"),
        _p("russet potatoes", "bag", "5 lb|10 lb", 3.49, 4.99, "vegetable|fresh", "potatoes|potato"),
        _p("sweet potatoes", "pound", "3 lb|1 lb", 1.29, 1.99, "vegetable|fresh", "yams|sweet potato"),
        _p("Roma tomatoes", "pound", "1 lb|2 lb", 1.49, 2.49, "vegetable|fresh", "tomatoes|tomato"),
        _p("cucumbers", "each", "1 ct|3 ct", 0.69, 1.29, "vegetable|salad|fresh", "cucumber"),
        _p("red bell peppers", "each", "1 ct|3 ct", 1.29, 1.99, "vegetable|fresh", "bell pepper|red pepper"),
        _p("garlic", "each", "3 ct|1 ct", 0.79, 1.99, "vegetable|fresh", "garlic bulbs"),
        _p("white mushrooms", "carton", "8 oz|16 oz", 2.29, 3.29, "vegetable|fresh", "mushrooms"),
        _p("sweet corn", "each", "4 ct|1 ct", 0.50, 0.99, "vegetable|fresh", "corn on the cob|corn"),
        _p("watermelon", "each", "1 ct", 4.99, 7.99, "fruit|fresh|summer", "water melon"),
    ),
    "dairy": (
        _p("whole milk", "gallon", "1 gal|half gal", 3.49, 4.79, "milk", "milk|vitamin d milk"),
        _p("two percent milk", "gallon", "1 gal|half gal", 3.39, 4.69, "milk|reduced fat", "2% milk|2 percent milk"),
        _p("skim milk", "gallon", "1 gal|half gal", 3.29, 4.49, "milk|fat free", "fat free milk|nonfat milk"),
        _p("chocolate milk", "carton", "half gal|1 qt", 2.99, 3.99, "milk|chocolate", "choc milk"),
        _p("oat milk", "carton", "64 fl oz|32 fl oz", 3.99, 5.49, "milk alternative|dairy free|vegan", "oatmilk"),
        _p("almond milk", "carton", "64 fl oz|32 fl oz", 3.49, 4.49, "milk alternative|dairy free|vegan",
           "almondmilk"),
        _p("large eggs", "dozen", "12 ct|18 ct", 2.99, 4.99, "eggs|protein", "eggs|dozen eggs"),
        _p("brown eggs", "dozen", "12 ct|18 ct", 3.99, 5.49, "eggs|cage free", "brown egg"),
        _p("salted butter", "pack", "16 oz|8 oz", 4.49, 5.99, "butter", "butter"),
        _p("unsalted butter", "pack", "16 oz|8 oz", 4.49, 5.99, "butter|baking", "sweet butter"),
        _p("Greek yogurt", "tub", "32 oz|5.3 oz", 5.49, 6.99, "yogurt|protein", "greek yoghurt"),
        _p("strawberry yogurt", "cup", "6 oz|4 ct", 0.89, 1.29, "yogurt|fruit", "strawberry yoghurt"),
        _p("cheddar cheese", "block", "8 oz|16 oz", 3.49, 4.99, "cheese", "cheddar|sharp cheddar"),
        _p("shredded mozzarella", "bag", "8 oz|16 oz", 3.29, 4.99, "cheese|pizza", "mozzarella|mozz"),
        _p("sliced Swiss cheese", "pack", "8 oz", 3.99, 4.99, "cheese|sandwich", "swiss cheese|swiss"),
        _p("cream cheese", "block", "8 oz|12 oz", 2.49, 3.49, "cheese|spread", "philly cream cheese"),
        _p("cottage cheese", "tub", "16 oz|24 oz", 2.99, 3.99, "cheese|protein", "cottage"),
        _p("sour cream", "tub", "16 oz|8 oz", 1.99, 2.79, "cream", "soured cream"),
        _p("heavy cream", "carton", "1 pt|1 qt", 3.49, 4.99, "cream|baking", "heavy whipping cream|whipping cream"),
        _p("half and half", "carton", "1 qt|1 pt", 2.49, 3.49, "cream|coffee", "half n half|half & half"),
        _p("grated parmesan", "jar", "8 oz", 3.99, 5.49, "cheese|pasta", "parmesan|parmesan cheese"),
        _p("string cheese", "pack", "12 ct|24 ct", 4.49, 6.99, "cheese|snack|kids", "cheese sticks"),
    ),
    "bakery": (
        _p("sourdough bread", "loaf", "24 oz|16 oz", 3.99, 5.49, "bread|fresh baked", "sourdough|sour dough"),
        _p("white sandwich bread", "loaf", "20 oz", 2.29, 3.29, "bread|sandwich", "white bread|sandwich bread"),
        _p("whole wheat bread", "loaf", "20 oz|24 oz", 2.79, 3.99, "bread|whole grain", "wheat bread"),
        _p("multigrain bread", "loaf", "24 oz", 3.49, 4.49, "bread|whole grain", "multi grain bread"),
        _p("rye bread", "loaf", "16 oz", 3.29, 4.29, "bread", "rye"),
        _p("French baguette", "each", "12 oz", 1.99, 2.99, "bread|fresh baked", "baguette|french bread"),
        _p("ciabatta rolls", "pack", "4 ct|6 ct", 3.49, 4.49, "bread|rolls", "ciabatta"),
        _p("hamburger buns", "pack", "8 ct|12 ct", 2.29, 3.49, "bread|buns|grilling", "burger buns"),
        _p("hot dog buns", "pack", "8 ct", 2.29, 3.29, "bread|buns|grilling", "hotdog buns"),
        _p("plain bagels", "pack", "6 ct|12 ct", 3.49, 4.49, "bagels|breakfast", "bagels|bagel"),
        _p("everything bagels", "pack", "6 ct", 3.49, 4.49, "bagels|breakfast", "everything bagel"),
        _p("English muffins", "pack", "6 ct|12 ct", 2.99, 3.99, "breakfast", "english muffin"),
        _p("butter croissants", "pack", "4 ct|6 ct", 4.49, 5.99, "pastry|breakfast|fresh baked", "croissants|croissant"),
        _p("blueberry muffins", "pack", "4 ct|6 ct", 4.49, 5.99, "pastry|breakfast|fresh baked", "muffins|muffin"),
        _p("glazed donuts", "box", "6 ct|12 ct", 4.99, 7.99, "pastry|sweet|fresh baked", "doughnuts|donuts|donut"),
        _p("flour tortillas", "pack", "10 ct|20 ct", 2.49, 3.99, "tortillas|mexican", "tortillas|tortilla"),
        _p("corn tortillas", "pack", "30 ct", 2.29, 3.29, "tortillas|mexican|gluten free", "corn tortilla"),
        _p("pita bread", "pack", "6 ct", 2.49, 3.49, "bread|mediterranean", "pita"),
        _p("chocolate chip cookies", "box", "12 ct|24 ct", 3.99, 5.49, "cookies|sweet|fresh baked", "cookies"),
        _p("cinnamon rolls", "pack", "4 ct|6 ct", 4.99, 6.49, "pastry|sweet|breakfast", "cinnamon buns"),
    ),
    "meat": (
        _p("boneless chicken breasts", "pound", "2 lb|1 lb", 3.99, 5.99, "chicken|poultry|protein",
           "chicken breast|chicken breasts"),
        _p("chicken thighs", "pound", "2 lb|3 lb", 2.49, 3.99, "chicken|poultry|protein", "chicken thigh"),
        _p("chicken wings", "pound", "3 lb|2 lb", 3.49, 4.99, "chicken|poultry|game day", "wings"),
        _p("whole chicken", "each", "5 lb", 6.99, 9.99, "chicken|poultry", "roaster chicken"),
        _p("rotisserie chicken", "each", "2 lb", 5.99, 7.99, "chicken|ready to eat", "roast chicken"),
        _p("ground beef", "pound", "1 lb|2 lb|3 lb", 4.99, 6.99, "beef|protein", "hamburger meat|mince"),
        _p("ribeye steak", "pound", "1 lb|2 lb", 12.99, 17.99, "beef|steak|grilling", "rib eye|ribeye"),
        _p("sirloin steak", "pound", "1 lb|2 lb", 8.99, 11.99, "beef|steak|grilling", "sirloin"),
        _p("beef stew meat", "pound", "1 lb|2 lb", 6.99, 8.99, "beef", "stew meat"),
        _p("pork chops", "pound", "1 lb|2 lb", 3.99, 5.49, "pork", "pork chop"),
        _p("pork tenderloin", "pound", "1 lb|2 lb", 4.49, 5.99, "pork", "tenderloin"),
        _p("thick cut bacon", "pack", "16 oz|12 oz", 5.99, 7.99, "pork|breakfast", "bacon"),
        _p("breakfast sausage", "pack", "12 oz|16 oz", 3.99, 5.49, "pork|breakfast", "sausage links"),
        _p("Italian sausage", "pack", "19 oz", 4.49, 5.99, "pork|grilling", "italian sausages"),
        _p("beef hot dogs", "pack", "8 ct", 3.99, 5.49, "beef|grilling|kids", "hot dogs|hotdogs|franks"),
        _p("sliced turkey breast", "pack", "9 oz|16 oz", 4.49, 6.49, "deli|turkey|sandwich", "deli turkey|turkey slices"),
        _p("sliced ham", "pack", "9 oz|16 oz", 3.99, 5.99, "deli|pork|sandwich", "deli ham|ham"),
        _p("ground turkey", "pound", "1 lb|3 lb", 4.49, 5.99, "turkey|poultry|protein", "turkey mince"),
        _p("Atlantic salmon fillets", "pound", "1 lb|2 lb", 9.99, 13.99, "seafood|fish|protein", "salmon|salmon fillet"),
        _p("raw shrimp", "bag", "1 lb|2 lb", 8.99, 12.99, "seafood|frozen", "shrimp|prawns"),
        _p("tilapia fillets", "bag", "2 lb", 7.99, 10.99, "seafood|fish|frozen", "tilapia"),
        _p("pepperoni slices", "pack", "6 oz", 2.99, 3.99, "pork|pizza", "pepperoni"),
    ),
    "pantry": (
        _p("spaghetti", "box", "16 oz|32 oz", 1.29, 1.99, "pasta|italian", "spaghetti pasta"),
        _p("penne pasta", "box", "16 oz", 1.29, 1.99, "pasta|italian", "penne"),
        _p("macaroni and cheese", "box", "7.25 oz|5 ct", 1.09, 1.79, "pasta|kids|dinner", "mac and cheese|mac n cheese"),
        _p("marinara sauce", "jar", "24 oz|32 oz", 2.99, 4.49, "sauce|italian|pasta", "pasta sauce|tomato sauce"),
        _p("long grain white rice", "bag", "2 lb|5 lb", 2.49, 3.99, "rice|grains", "white rice|rice"),
        _p("brown rice", "bag", "2 lb", 2.79, 3.79, "rice|grains|whole grain", "brown rice grains"),
        _p("jasmine rice", "bag", "5 lb|2 lb", 6.99, 8.99, "rice|grains|asian", "jasmine"),
        _p("all purpose flour", "bag", "5 lb|2 lb", 3.49, 4.49, "baking|flour", "flour|plain flour"),
        _p("granulated sugar", "bag", "4 lb|2 lb", 3.29, 4.29, "baking|sweetener", "sugar|white sugar"),
        _p("brown sugar", "bag", "2 lb", 2.49, 3.29, "baking|sweetener", "light brown sugar"),
        _p("extra virgin olive oil", "bottle", "500 ml|1 l", 6.99, 9.99, "oil|cooking", "olive oil|evoo"),
        _p("vegetable oil", "bottle", "48 fl oz", 3.99, 5.49, "oil|cooking", "canola oil|cooking oil"),
        _p("creamy peanut butter", "jar", "16 oz|28 oz", 2.99, 4.49, "spread|protein", "peanut butter|pb"),
        _p("strawberry jam", "jar", "18 oz", 2.99, 3.99, "spread|fruit", "strawberry jelly|jam"),
        _p("clover honey", "bottle", "12 oz|24 oz", 4.49, 6.99, "sweetener|spread", "honey"),
        _p("maple syrup", "bottle", "12 fl oz", 7.99, 10.99, "breakfast|sweetener", "syrup|pancake syrup"),
        _p("pancake mix", "box", "32 oz", 2.99, 3.99, "breakfast|baking", "pancake batter|waffle mix"),
        _p("rolled oats", "canister", "42 oz|18 oz", 3.99, 5.49, "breakfast|whole grain", "oatmeal|oats"),
        _p("honey nut cereal", "box", "15 oz|19 oz", 3.99, 5.29, "breakfast|cereal", "cheerios|honey cheerios"),
        _p("corn flakes", "box", "18 oz", 3.49, 4.49, "breakfast|cereal", "cornflakes"),
        _p("granola", "bag", "12 oz", 4.49, 5.99, "breakfast|cereal", "granola cereal"),
        _p("black beans", "can", "15 oz", 0.89, 1.29, "beans|canned|protein", "black bean"),
        _p("chickpeas", "can", "15 oz", 0.89, 1.29, "beans|canned|protein", "garbanzo beans"),
        _p("diced tomatoes", "can", "14.5 oz|28 oz", 0.99, 1.49, "canned|vegetable", "canned tomatoes"),
        _p("chicken noodle soup", "can", "10.75 oz|18.6 oz", 1.29, 2.49, "soup|canned", "chicken soup"),
        _p("tomato soup", "can", "10.75 oz", 0.99, 1.49, "soup|canned", "cream of tomato"),
        _p("chunk light tuna", "can", "5 oz|4 ct", 1.19, 1.79, "seafood|canned|protein", "tuna|canned tuna"),
        _p("chicken broth", "carton", "32 oz", 2.29, 3.29, "soup|cooking", "chicken stock|broth"),
        _p("ketchup", "bottle", "32 oz|20 oz", 2.99, 3.99, "condiment", "catsup|tomato ketchup"),
        _p("yellow mustard", "bottle", "14 oz", 1.49, 2.29, "condiment", "mustard"),
        _p("mayonnaise", "jar", "30 oz|15 oz", 4.49, 5.99, "condiment", "mayo"),
        _p("ranch dressing", "bottle", "16 oz", 3.29, 4.29, "condiment|salad", "ranch"),
        _p("soy sauce", "bottle", "15 fl oz", 2.49, 3.49, "condiment|asian", "soya sauce"),
        _p("hot sauce", "bottle", "12 fl oz|5 fl oz", 2.49, 3.49, "condiment|spicy", "chili sauce"),
        _p("table salt", "canister", "26 oz", 0.99, 1.49, "spices|baking", "salt"),
        _p("ground black pepper", "jar", "4 oz", 3.49, 4.99, "spices", "black pepper|pepper"),
        _p("ground cinnamon", "jar", "2.37 oz", 2.49, 3.49, "spices|baking", "cinnamon"),
        _p("vanilla extract", "bottle", "2 fl oz", 4.99, 7.99, "baking", "vanilla"),
        _p("baking soda", "box", "16 oz", 0.99, 1.49, "baking|cleaning", "bicarbonate of soda|bicarb"),
        _p("instant ramen", "pack", "12 ct|6 ct", 3.99, 5.99, "noodles|asian|quick meal", "ramen|ramen noodles"),
    ),
    "drinks": (
        _p("orange juice", "carton", "52 fl oz|89 fl oz", 3.99, 5.49, "juice|breakfast|citrus",
           "oj|o j|orange juice no pulp|fresh orange juice"),
        _p("apple juice", "bottle", "64 fl oz", 2.99, 3.99, "juice|kids", "apple cider"),
        _p("cranberry juice", "bottle", "64 fl oz", 3.49, 4.49, "juice", "cran juice"),
        _p("lemonade", "bottle", "52 fl oz|89 fl oz", 2.49, 3.99, "juice|summer", "lemon aid"),
        _p("sparkling water", "pack", "12 ct|8 ct", 4.49, 5.99, "water|sparkling|zero sugar",
           "seltzer|fizzy water|soda water"),
        _p("spring water", "pack", "24 ct|12 ct", 3.99, 5.99, "water", "bottled water|water bottles|water"),
        _p("cola", "pack", "12 ct|6 ct", 5.99, 7.49, "soda|soft drink|caffeine", "coke|soda|pop"),
        _p("diet cola", "pack", "12 ct|6 ct", 5.99, 7.49, "soda|soft drink|zero sugar", "diet coke|diet soda"),
        _p("lemon lime soda", "pack", "12 ct", 5.99, 7.49, "soda|soft drink", "sprite|7 up"),
        _p("ginger ale", "pack", "12 ct", 5.49, 6.99, "soda|soft drink", "ginger beer"),
        _p("root beer", "pack", "12 ct", 5.49, 6.99, "soda|soft drink", "rootbeer"),
        _p("iced tea", "bottle", "59 fl oz", 2.49, 3.49, "tea|summer", "ice tea|sweet tea"),
        _p("green tea bags", "box", "20 ct|40 ct", 2.99, 4.49, "tea|hot drinks", "green tea"),
        _p("black tea bags", "box", "100 ct|20 ct", 3.99, 5.99, "tea|hot drinks", "black tea|tea bags"),
        _p("ground coffee", "bag", "12 oz|24 oz", 6.99, 9.99, "coffee|caffeine|hot drinks", "coffee grounds|coffee"),
        _p("whole bean coffee", "bag", "12 oz|2 lb", 8.99, 12.99, "coffee|caffeine|hot drinks", "coffee beans"),
        _p("coffee pods", "box", "12 ct|24 ct", 7.99, 12.99, "coffee|caffeine|hot drinks", "k cups|coffee capsules"),
        _p("sports drink", "bottle", "28 fl oz|8 ct", 1.29, 1.99, "sports|electrolytes", "gatorade|electrolyte drink"),
        _p("energy drink", "can", "16 fl oz|4 ct", 2.49, 3.29, "caffeine|energy", "red bull|monster"),
        _p("cold brew coffee", "bottle", "48 fl oz", 4.99, 6.49, "coffee|caffeine", "bottled cold brew"),
        _p("coconut water", "carton", "33.8 fl oz", 3.99, 4.99, "water|electrolytes", "coconut drink"),
        _p("kombucha", "bottle", "16 fl oz", 2.99, 3.99, "tea|probiotic", "booch"),
    ),
    "snacks": (
        _p("potato chips", "bag", "8 oz|13 oz", 3.49, 4.99, "chips|salty", "chips|crisps"),
        _p("sour cream and onion chips", "bag", "8 oz", 3.49, 4.99, "chips|salty", "sour cream chips"),
        _p("tortilla chips", "bag", "13 oz|11 oz", 3.49, 4.79, "chips|salty|mexican", "nacho chips"),
        _p("pretzels", "bag", "16 oz|10 oz", 2.99, 3.99, "salty", "pretzel twists"),
        _p("microwave popcorn", "box", "3 ct|6 ct", 3.29, 4.49, "popcorn|movie night", "popcorn"),
        _p("salted peanuts", "jar", "16 oz", 2.99, 3.99, "nuts|protein|salty", "peanuts"),
        _p("roasted almonds", "bag", "16 oz|6 oz", 6.99, 8.99, "nuts|protein", "almonds"),
        _p("cashews", "canister", "18 oz|8 oz", 7.99, 10.99, "nuts|protein", "cashew nuts"),
        _p("trail mix", "bag", "26 oz|10 oz", 6.99, 9.99, "nuts|road trip", "scroggin|gorp"),
        _p("beef jerky", "bag", "3.25 oz|10 oz", 5.99, 8.99, "protein|road trip", "jerky"),
        _p("granola bars", "box", "12 ct|6 ct", 3.49, 4.99, "bars|breakfast|road trip", "granola bar|cereal bars"),
        _p("protein bars", "box", "12 ct|4 ct", 12.99, 19.99, "bars|protein", "protein bar"),
        _p("cheddar crackers", "box", "7 oz|20 oz", 2.49, 3.99, "crackers|kids", "cheese crackers|goldfish"),
        _p("saltine crackers", "box", "16 oz", 2.49, 3.49, "crackers|salty", "saltines"),
        _p("graham crackers", "box", "14.4 oz", 3.49, 4.49, "crackers|sweet|kids", "grahams"),
        _p("milk chocolate bar", "each", "1.55 oz|6 ct", 1.29, 1.99, "chocolate|candy|sweet", "chocolate bar|chocolate"),
        _p("dark chocolate bar", "each", "3.5 oz", 2.49, 3.99, "chocolate|candy|sweet", "dark chocolate"),
        _p("gummy bears", "bag", "5 oz|12 oz", 1.99, 3.49, "candy|sweet|kids", "gummies|gummy candy"),
        _p("sandwich cookies", "pack", "14.3 oz", 3.49, 4.79, "cookies|sweet", "oreos|oreo cookies"),
        _p("rice cakes", "pack", "4.47 oz", 2.49, 3.29, "light|gluten free", "rice cake"),
        _p("fruit snacks", "box", "10 ct|22 ct", 2.99, 4.99, "kids|sweet|fruit", "fruit gummies"),
        _p("mixed nuts", "canister", "15 oz", 7.99, 9.99, "nuts|protein|salty", "nut mix"),
        _p("dried mango", "bag", "6 oz", 3.99, 5.49, "fruit|sweet", "mango slices"),
        _p("vanilla ice cream", "tub", "48 oz|1.5 qt", 4.49, 6.49, "frozen|dessert|sweet", "ice cream"),
    ),
    "cleaning": (
        _p("paper towels", "pack", "6 rolls|12 rolls|2 rolls", 7.99, 12.99, "paper|kitchen",
           "paper towel|kitchen roll|bounty"),
        _p("dish soap", "bottle", "19.4 fl oz|28 fl oz", 2.49, 3.99, "dishes|kitchen", "dishwashing liquid|washing up liquid"),
        _p("dishwasher pods", "box", "32 ct|62 ct", 8.99, 14.99, "dishes|kitchen", "dishwasher tablets|cascade pods"),
        _p("laundry detergent", "bottle", "92 fl oz|46 fl oz", 11.99, 15.99, "laundry", "washing liquid|detergent"),
        _p("laundry pods", "pack", "42 ct|81 ct", 12.99, 19.99, "laundry", "detergent pods|tide pods"),
        _p("fabric softener", "bottle", "64 fl oz", 5.99, 7.99, "laundry", "softener"),
        _p("dryer sheets", "box", "120 ct|240 ct", 5.49, 8.99, "laundry", "dryer sheet"),
        _p("bleach", "bottle", "81 fl oz|121 fl oz", 3.99, 5.49, "disinfectant|laundry", "clorox"),
        _p("disinfecting wipes", "canister", "75 ct|3 ct", 4.99, 6.99, "disinfectant|surfaces", "clorox wipes|cleaning wipes"),
        _p("all purpose cleaner", "bottle", "32 fl oz", 3.49, 4.99, "surfaces|spray", "multi surface cleaner|spray cleaner"),
        _p("glass cleaner", "bottle", "26 fl oz", 3.29, 4.49, "glass|spray", "windex|window cleaner"),
        _p("toilet bowl cleaner", "bottle", "24 fl oz|2 ct", 2.99, 4.49, "bathroom", "toilet cleaner"),
        _p("scrub sponges", "pack", "6 ct|3 ct", 3.49, 5.49, "dishes|kitchen", "sponges|sponge"),
        _p("tall kitchen trash bags", "box", "45 ct|90 ct", 8.99, 14.99, "trash|kitchen", "trash bags|garbage bags|bin bags"),
        _p("rubber gloves", "pair", "1 pr|3 pr", 2.99, 4.99, "kitchen|bathroom", "cleaning gloves|dish gloves"),
        _p("floor cleaner", "bottle", "48 fl oz", 4.49, 6.49, "floors", "mopping liquid"),
        _p("mop refills", "pack", "24 ct|12 ct", 9.99, 13.99, "floors", "swiffer refills|swiffer pads"),
        _p("stain remover", "bottle", "22 fl oz", 3.99, 5.49, "laundry|spray", "spot remover"),
    ),
    "pet": (
        _p("dry dog food", "bag", "30 lb|15 lb|5 lb", 29.99, 44.99, "dog|pet food", "dog food|kibble|dog kibble"),
        _p("wet dog food", "can", "13.2 oz|12 ct", 1.79, 2.99, "dog|pet food", "canned dog food"),
        _p("dog treats", "bag", "24 oz|10 oz", 6.99, 11.99, "dog|treats", "dog biscuits|milk bones"),
        _p("dental chews", "bag", "17 ct|36 ct", 12.99, 22.99, "dog|treats|dental", "dentastix|greenies"),
        _p("dry cat food", "bag", "16 lb|7 lb|3 lb", 18.99, 29.99, "cat|pet food", "cat food|cat kibble"),
        _p("wet cat food", "can", "5.5 oz|24 ct", 0.89, 1.49, "cat|pet food", "canned cat food"),
        _p("cat treats", "bag", "6 oz|3 oz", 3.49, 5.99, "cat|treats", "temptations"),
        _p("clumping cat litter", "box", "25 lb|40 lb", 12.99, 19.99, "cat|litter", "cat litter|kitty litter|litter"),
        _p("poop bags", "box", "120 ct|300 ct", 6.99, 12.99, "dog|walks", "dog poop bags|waste bags|doggy bags"),
        _p("chew toy", "each", "1 ct", 5.99, 12.99, "dog|toys", "dog toy|squeaky toy"),
        _p("cat toy mice", "pack", "6 ct", 3.99, 6.99, "cat|toys", "toy mice|cat toy"),
        _p("puppy pads", "pack", "50 ct|100 ct", 14.99, 24.99, "dog|puppy|training", "pee pads|training pads"),
        _p("flea and tick treatment", "pack", "3 ct|6 ct", 29.99, 49.99, "dog|cat|health", "flea treatment|flea drops"),
        _p("bird seed", "bag", "10 lb|20 lb", 7.99, 14.99, "bird|pet food", "birdseed|wild bird food"),
        _p("fish flakes", "canister", "2.2 oz", 3.99, 5.99, "fish|pet food", "fish food"),
        _p("dog shampoo", "bottle", "16 fl oz", 6.99, 9.99, "dog|grooming", "pet shampoo"),
    ),
    "baby": (
        _p("diapers size 1", "pack", "44 ct|88 ct", 12.99, 24.99, "diapers|newborn", "size one diapers|newborn diapers"),
        _p("diapers size 3", "pack", "36 ct|84 ct", 12.99, 24.99, "diapers", "size three diapers|diapers"),
        _p("diapers size 5", "pack", "28 ct|66 ct", 12.99, 24.99, "diapers|toddler", "size five diapers"),
        _p("baby wipes", "pack", "72 ct|3 ct|216 ct", 2.99, 11.99, "wipes|diapering", "wipes|wet wipes"),
        _p("infant formula", "canister", "12.4 oz|30.9 oz", 17.99, 37.99, "formula|feeding", "baby formula|formula"),
        _p("baby food pouches", "pack", "4 ct|12 ct", 4.99, 12.99, "feeding|fruit", "baby food|food pouches"),
        _p("rice cereal", "canister", "8 oz", 3.49, 4.49, "feeding|cereal", "baby cereal|baby oatmeal"),
        _p("teething wafers", "pack", "12 ct", 3.99, 5.49, "feeding|snack", "teething biscuits"),
        _p("baby shampoo", "bottle", "13.6 fl oz", 4.99, 6.99, "bath|gentle", "tear free shampoo|baby wash"),
        _p("baby lotion", "bottle", "13.6 fl oz", 5.49, 7.49, "bath|skin", "baby moisturizer"),
        _p("diaper rash cream", "tube", "4 oz|2 oz", 6.99, 9.99, "diapering|skin", "rash cream|desitin|butt cream"),
        _p("training pants", "pack", "22 ct|50 ct", 11.99, 24.99, "potty|toddler", "pull ups|pullups"),
        _p("sippy cups", "pack", "2 ct", 6.99, 9.99, "feeding|toddler", "sippy cup|toddler cups"),
        _p("baby bottles", "pack", "3 ct", 11.99, 17.99, "feeding", "bottles|feeding bottles"),
        _p("pacifiers", "pack", "2 ct", 4.99, 7.99, "soothing", "binky|dummy|pacifier"),
        _p("baby sunscreen", "tube", "3 fl oz", 7.99, 10.99, "skin|summer", "kids sunscreen"),
    ),
    "coffee to go": (
        _p("oat milk latte", "cup", "12 fl oz|16 fl oz|20 fl oz", 4.49, 5.79, "coffee|espresso|hot drinks|dairy free",
           "oat latte|oatmilk latte"),
        _p("caffe latte", "cup", "12 fl oz|16 fl oz|20 fl oz", 3.99, 5.29, "coffee|espresso|hot drinks", "latte|cafe latte"),
        _p("cappuccino", "cup", "12 fl oz|16 fl oz", 3.99, 4.99, "coffee|espresso|hot drinks", "capuccino|cappucino"),
        _p("flat white", "cup", "12 fl oz", 4.29, 5.29, "coffee|espresso|hot drinks", "flatwhite"),
        _p("americano", "cup", "12 fl oz|16 fl oz|20 fl oz", 2.99, 3.99, "coffee|espresso|hot drinks", "caffe americano"),
        _p("espresso", "cup", "2 fl oz|4 fl oz", 2.49, 3.29, "coffee|espresso|hot drinks", "double espresso|shot of espresso"),
        _p("drip coffee", "cup", "12 fl oz|16 fl oz|20 fl oz", 2.29, 2.99, "coffee|hot drinks", "coffee of the day|regular coffee|black coffee"),
        _p("iced coffee", "cup", "16 fl oz|24 fl oz", 3.29, 4.29, "coffee|cold drinks", "ice coffee"),
        _p("cold brew", "cup", "16 fl oz|24 fl oz", 3.79, 4.79, "coffee|cold drinks", "cold brew coffee to go"),
        _p("caramel macchiato", "cup", "12 fl oz|16 fl oz|20 fl oz", 4.79, 5.99, "coffee|espresso|sweet", "macchiato"),
        _p("mocha", "cup", "12 fl oz|16 fl oz|20 fl oz", 4.49, 5.79, "coffee|chocolate|hot drinks", "caffe mocha|mocha latte"),
        _p("vanilla latte", "cup", "12 fl oz|16 fl oz|20 fl oz", 4.49, 5.79, "coffee|espresso|sweet", "vanilla coffee"),
        _p("chai tea latte", "cup", "12 fl oz|16 fl oz", 4.29, 5.29, "tea|hot drinks|spiced", "chai latte|chai"),
        _p("matcha latte", "cup", "12 fl oz|16 fl oz", 4.79, 5.79, "tea|hot drinks", "matcha|green tea latte"),
        _p("hot chocolate", "cup", "12 fl oz|16 fl oz", 3.29, 4.29, "chocolate|hot drinks|kids", "hot cocoa|cocoa"),
        _p("breakfast sandwich", "each", "1 ct", 4.99, 6.49, "food|breakfast|hot", "egg sandwich|bacon egg and cheese"),
        _p("butter croissant to go", "each", "1 ct", 2.99, 3.79, "food|pastry|breakfast", "croissant to go"),
        _p("blueberry scone", "each", "1 ct", 2.99, 3.79, "food|pastry", "scone"),
        _p("banana bread slice", "each", "1 ct", 2.99, 3.49, "food|pastry|sweet", "banana bread"),
        _p("fruit cup", "each", "1 ct", 3.99, 4.99, "food|fruit|healthy", "fruit salad"),
    ),
    "car accessories": (
        _p("windshield washer fluid", "gallon", "1 gal|2 ct", 2.99, 5.99, "car|winter|maintenance",
           "washer fluid|wiper fluid|screen wash"),
        _p("wiper blades", "pair", "22 in|24 in|20 in", 19.99, 34.99, "car|maintenance|rain", "windshield wipers|wipers"),
        _p("motor oil", "bottle", "5 qt|1 qt", 24.99, 34.99, "car|maintenance|engine", "engine oil|oil 5w30"),
        _p("engine coolant", "gallon", "1 gal", 14.99, 19.99, "car|maintenance|engine", "antifreeze|coolant"),
        _p("phone car mount", "each", "1 ct", 14.99, 29.99, "car|phone|electronics", "phone holder|dash mount"),
        _p("USB car charger", "each", "1 ct", 9.99, 24.99, "car|phone|electronics", "car charger|usb charger"),
        _p("charging cable", "each", "3 ft|6 ft", 9.99, 19.99, "phone|electronics", "phone cable|usb c cable|lightning cable"),
        _p("car air freshener", "pack", "3 ct|1 ct", 3.99, 7.99, "car|scent", "air freshener|little trees"),
        _p("tire pressure gauge", "each", "1 ct", 5.99, 14.99, "car|tires|maintenance", "tire gauge|pressure gauge"),
        _p("portable tire inflator", "each", "1 ct", 39.99, 69.99, "car|tires|emergency", "tire pump|air compressor"),
        _p("jumper cables", "set", "16 ft|20 ft", 24.99, 39.99, "car|emergency|battery", "jump leads|booster cables"),
        _p("jump starter", "each", "1 ct", 59.99, 99.99, "car|emergency|battery", "battery booster|jump pack"),
        _p("ice scraper", "each", "1 ct", 4.99, 9.99, "car|winter", "snow brush|windshield scraper"),
        _p("car wash soap", "bottle", "64 fl oz", 7.99, 11.99, "car|cleaning", "car shampoo"),
        _p("microfiber towels", "pack", "6 ct|12 ct", 9.99, 15.99, "car|cleaning", "microfibre cloths|detailing towels"),
        _p("interior detailing wipes", "pack", "30 ct", 4.99, 7.99, "car|cleaning", "car wipes|dashboard wipes"),
        _p("tire shine", "bottle", "24 fl oz", 6.99, 9.99, "car|cleaning|tires", "tyre shine"),
        _p("emergency roadside kit", "kit", "1 ct", 29.99, 49.99, "car|emergency|safety", "roadside kit|emergency kit"),
        _p("first aid kit", "kit", "1 ct", 14.99, 29.99, "car|emergency|safety", "first-aid kit|medical kit"),
        _p("LED flashlight", "each", "1 ct|2 ct", 9.99, 19.99, "emergency|electronics", "flashlight|torch"),
        _p("AA batteries", "pack", "8 ct|24 ct|4 ct", 5.99, 17.99, "batteries|electronics", "double a batteries|aa battery"),
        _p("AAA batteries", "pack", "8 ct|24 ct|4 ct", 5.99, 17.99, "batteries|electronics", "triple a batteries|aaa battery"),
        _p("car trash can", "each", "1 ct", 9.99, 16.99, "car|organization", "car garbage bin|car bin"),
        _p("seat organizer", "each", "1 ct", 14.99, 24.99, "car|organization|kids", "back seat organizer"),
        _p("sunshade", "each", "1 ct", 12.99, 24.99, "car|summer", "windshield sunshade|sun shade"),
    ),
    "household": (
        _p("toilet paper", "pack", "12 rolls|24 rolls|6 rolls", 8.99, 16.99, "paper|bathroom",
           "toilet tissue|bath tissue|loo roll"),
        _p("facial tissues", "box", "160 ct|3 ct", 1.99, 5.99, "paper|cold and flu", "tissues|kleenex|kleenex tissues"),
        _p("paper plates", "pack", "100 ct|50 ct", 5.99, 9.99, "paper|party|disposable", "disposable plates"),
        _p("plastic cups", "pack", "50 ct|100 ct", 3.99, 6.99, "party|disposable", "party cups|solo cups"),
        _p("paper napkins", "pack", "250 ct", 3.49, 4.99, "paper|kitchen", "napkins|serviettes"),
        _p("aluminum foil", "roll", "75 sq ft|200 sq ft", 4.99, 9.99, "kitchen|storage", "tin foil|foil"),
        _p("plastic wrap", "roll", "200 sq ft", 3.49, 4.99, "kitchen|storage", "cling wrap|cling film|saran wrap"),
        _p("zipper storage bags", "box", "50 ct|20 ct", 3.99, 5.99, "kitchen|storage", "ziploc bags|sandwich bags|freezer bags"),
        _p("parchment paper", "roll", "45 sq ft", 3.99, 5.49, "kitchen|baking", "baking paper"),
        _p("hand soap", "bottle", "7.5 fl oz|56 fl oz", 1.99, 7.99, "bathroom|personal care", "liquid hand soap|handwash"),
        _p("body wash", "bottle", "18 fl oz", 5.99, 8.99, "bathroom|personal care", "shower gel"),
        _p("shampoo", "bottle", "12.6 fl oz|28 fl oz", 4.99, 8.99, "hair|personal care", "hair shampoo"),
        _p("conditioner", "bottle", "12.6 fl oz", 4.99, 8.99, "hair|personal care", "hair conditioner"),
        _p("toothpaste", "tube", "4.8 oz|2 ct", 2.99, 5.99, "dental|personal care", "tooth paste"),
        _p("toothbrushes", "pack", "4 ct|2 ct", 3.99, 7.99, "dental|personal care", "toothbrush|tooth brushes"),
        _p("dental floss", "pack", "2 ct|1 ct", 2.99, 4.99, "dental|personal care", "floss"),
        _p("deodorant", "each", "2.6 oz|2 ct", 4.99, 8.99, "personal care", "antiperspirant"),
        _p("hand sanitizer", "bottle", "8 fl oz|2 fl oz", 2.49, 4.99, "personal care|cold and flu", "sanitiser|purell"),
        _p("cotton swabs", "pack", "500 ct|300 ct", 2.99, 4.99, "personal care", "q tips|qtips|cotton buds"),
        _p("pain reliever", "bottle", "100 ct|50 ct", 6.99, 11.99, "medicine|health", "ibuprofen|tylenol|advil"),
        _p("cold and flu medicine", "box", "24 ct", 8.99, 12.99, "medicine|health|cold and flu", "cold medicine|dayquil"),
        _p("adhesive bandages", "box", "30 ct|100 ct", 3.99, 7.99, "first aid|health", "band aids|bandaids|plasters"),
        _p("light bulbs", "pack", "4 ct|8 ct", 7.99, 14.99, "home|electronics|LED", "led bulbs|bulbs"),
        _p("scented candle", "jar", "14.5 oz", 9.99, 19.99, "home|scent", "candle|candles"),
        _p("trash bags for bathroom", "box", "80 ct", 3.99, 5.99, "trash|bathroom", "small trash bags"),
        _p("lint roller", "each", "2 ct|1 ct", 3.99, 6.99, "laundry|clothes", "lint brush"),
    ),
}
"""Category name -> its product specs. Names are unique across the whole catalog."""


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
