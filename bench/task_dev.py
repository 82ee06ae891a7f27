"""The dev split of `python -m bench task` (`--dev`): what the chain after the recognizer is tuned on.

bench/task_commands.py and the voices in bench/task_audio.py are the held-out set: nothing is
tuned on them. This split has its own commands (other phrasings, other demo-catalog products; none
is a bench command or an NLU template rendering) spoken by other voices (flite awb and kal16,
espeak-ng en-us+m3, festival kal_diphone; none is a bench voice), under a few of the bench's
conditions. Correction thresholds, dialogue product resolution and the like are judged here first
and reported on the held-out bench once, afterwards.
"""

from __future__ import annotations

from bench.task_audio import Condition, TaskVoice
from bench.task_commands import Command, _c

DEV_VOICES = (TaskVoice("flite", "awb"), TaskVoice("flite", "kal16"), TaskVoice("espeak", "en-us+m3"),
              TaskVoice("festival", "kal_diphone"))
DEV_CONDITIONS = (Condition("clean", None, "near"), Condition("pink", 10.0, "near"),
                  Condition("babble", 20.0, "near"), Condition("music", 10.0, "near"),
                  Condition("car", 10.0, "far"))

DEV_COMMANDS: tuple[Command, ...] = (
    # add_to_cart
    _c("could you add two jars of creamy peanut butter", "add_to_cart", "creamy peanut butter",
       quantity="two", unit="jars", product="creamy peanut butter"),
    _c("put three cans of chickpeas in my cart", "add_to_cart", "chickpeas",
       quantity="three", unit="cans", product="chickpeas"),
    _c("I need a pound of ground turkey", "add_to_cart", "ground turkey",
       quantity="a", unit="pound", product="ground turkey"),
    _c("add a box of honey nut cereal", "add_to_cart", "honey nut cereal",
       quantity="a", unit="box", product="honey nut cereal"),
    _c("get me six bottles of ginger ale", "add_to_cart", "ginger ale",
       quantity="six", unit="bottles", product="ginger ale"),
    _c("throw in a pack of dryer sheets", "add_to_cart", "dryer sheets",
       quantity="a", unit="pack", product="dryer sheets"),
    _c("add two bags of baby carrots please", "add_to_cart", "baby carrots",
       quantity="two", unit="bags", product="baby carrots"),
    _c("can I get some blueberries", "add_to_cart", "blueberries", product="blueberries"),
    _c("add a jar of marinara sauce to my order", "add_to_cart", "marinara sauce",
       quantity="a", unit="jar", product="marinara sauce"),
    _c("I'll take two boxes of penne pasta", "add_to_cart", "penne pasta",
       quantity="two", unit="boxes", product="penne pasta"),
    _c("order a bottle of maple syrup for me", "add_to_cart", "maple syrup",
       quantity="a", unit="bottle", product="maple syrup"),
    _c("we need four cucumbers", "add_to_cart", "cucumbers", quantity="four", product="cucumbers"),
    _c("add two rolls of aluminum foil", "add_to_cart", "aluminum foil",
       quantity="two", unit="rolls", product="aluminum foil"),
    _c("pick up a carton of almond milk", "add_to_cart", "almond milk",
       quantity="a", unit="carton", product="almond milk"),
    _c("I want three packs of string cheese", "add_to_cart", "string cheese",
       quantity="three", unit="packs", product="string cheese"),
    # search
    _c("do you have any cottage cheese", "search", "cottage cheese", product="cottage cheese"),
    _c("find me some pretzels", "search", "pretzels", product="pretzels"),
    _c("look for dishwasher pods", "search", "dishwasher pods", product="dishwasher pods"),
    _c("search for coconut water", "search", "coconut water", product="coconut water"),
    _c("show me the wet cat food", "search", "wet cat food", product="wet cat food"),
    _c("are there any baby wipes", "search", "baby wipes", product="baby wipes"),
    _c("what sort of granola bars have you got", "search", "granola bars", product="granola bars"),
    # price_query
    _c("how much is the sour cream", "price_query", "sour cream", product="sour cream"),
    _c("what does a pound of sirloin steak cost", "price_query", "sirloin steak",
       quantity="a", unit="pound", product="sirloin steak"),
    _c("how much are the pork chops", "price_query", "pork chops", product="pork chops"),
    _c("what's the price of cranberry juice", "price_query", "cranberry juice", product="cranberry juice"),
    _c("how much is a bag of trail mix", "price_query", "trail mix", quantity="a", unit="bag", product="trail mix"),
    _c("what do the blueberry muffins cost", "price_query", "blueberry muffins", product="blueberry muffins"),
    # remove_from_cart
    _c("remove the chickpeas please", "remove_from_cart", "chickpeas", cart="chickpeas|orange juice",
       product="chickpeas"),
    _c("take the pretzels off my list", "remove_from_cart", "pretzels", cart="pretzels|baby spinach",
       product="pretzels"),
    _c("actually delete the cheddar cheese", "remove_from_cart", "cheddar cheese", cart="cheddar cheese|lemons",
       product="cheddar cheese"),
    _c("drop the orange juice from my cart", "remove_from_cart", "orange juice", cart="orange juice|rolled oats",
       product="orange juice"),
    _c("I don't want the strawberry yogurt anymore", "remove_from_cart", "strawberry yogurt",
       cart="strawberry yogurt|ground coffee", product="strawberry yogurt"),
    # no product named
    _c("what have I got in my cart", "view_cart"),
    _c("let's check out now", "checkout"),
    _c("where is my order", "order_status"),
    _c("please cancel my last order", "cancel_order"),
    _c("how does this work", "help"),
    _c("no thanks", "deny"),
)
