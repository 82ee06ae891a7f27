"""Issue 22: recommendations that go with the cart, never a copy of it, and lists a person would say.

Everything runs on the real small catalog world (generated master, ALS + complements trained,
signed snapshot applied to a device file), except the generator checks, which read its rows.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from cloud.catalog import changes, generate, publish, signing, store
from cloud.recs import complements
from cloud.recs.evaluate import blend_list
from cloud.recs.synth import make_history
from cloud.recs.train import fit, interaction_matrix
from edge.catalog import wire
from edge.catalog.apply import apply_delta, load_public_key
from edge.catalog.catalog import Catalog
from edge.catalog.recommend import Recommender
from edge.catalog.schema import open_catalog
from edge.config import load_settings
from edge.dialog import Dialog, PurchaseGuard
from edge.dialog.replies import Replies, spoken_list
from edge.dialog.state import Item
from edge.events import Understanding
from edge.orders import Outbox
from tests.catalog_world import World, build_world
from voiceshop_common import vocab
from voiceshop_common.recs import caps


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return build_world(tmp_path_factory.mktemp("catalog_world"))


def _family_of(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    return Recommender(conn).families(ids)


def test_generator_never_doubles_a_word_and_names_families():
    rows = generate.generate_rows(20_000, seed=3)
    doubled = [r[2] for r in rows if re.search(r"\b(\w+) \1\b", r[2].lower())]
    assert not doubled, doubled[:5]
    assert any(r[2] == "organic bananas" for r in rows)  # the spec itself is still sold
    families = dict(generate.family_rows())
    assert {r[2] for r in rows} <= set(families)  # every name the generator writes has a family
    assert families["organic bananas"] == families["bananas"] == "bananas"
    assert families["organic Fuji apples"] == families["Gala apples"] == "apples"
    assert families["ketchup"] == "ketchup" and vocab.family("diapers size 3") == "diapers"


def test_device_gets_families_and_complements_through_the_snapshot(world):
    conn = open_catalog(world.device)
    master = store.open_master(world.master)
    assert conn.execute("SELECT COUNT(*) FROM families").fetchone()[0] == \
        master.execute("SELECT COUNT(*) FROM families WHERE name IN (SELECT name FROM products)").fetchone()[0] > 250
    assert set(conn.execute("SELECT family, other, score FROM complements")) == \
        set(master.execute("SELECT family, other, score FROM complements"))
    comps = {other for (other,) in conn.execute("SELECT other FROM complements WHERE family = 'bananas'")}
    assert comps & {"cereal", "milk", "creamy peanut butter"}, comps  # learned from breakfast baskets
    pasta = {other for (other,) in conn.execute("SELECT other FROM complements WHERE family = 'pasta'")}
    assert "marinara sauce" in pasta, pasta
    assert float(conn.execute("SELECT value FROM catalog_meta WHERE key = 'recs_complement_weight'").fetchone()[0]) > 0


def test_a_delta_carries_the_families_of_new_products(world):
    master = world.master_copy("fam_master.db")
    conn = store.open_master(master)
    conn.execute("DELETE FROM families WHERE name = 'organic whole milk'")  # a name the device has not seen
    changes.random_changes(conn, new=300, seed=5)
    new_names = {r[0] for r in conn.execute("SELECT name FROM products WHERE id IN (SELECT product_id FROM changes)")}
    conn.execute("INSERT OR REPLACE INTO families VALUES ('organic whole milk', 'milk')")
    result = publish.publish(conn, signing.load_private_key(world.keys), world.root / "fam_out", snapshot=False)
    payload = Path(result["delta"]).read_bytes()
    _, body = wire.open_payload(payload, load_public_key(world.public_key))
    assert {name for name, _ in body["families"]["upsert"]} == new_names & set(store.family_map(conn))
    device = open_catalog(world.device_copy("fam_dev.db"))
    assert apply_delta(device, payload, load_public_key(world.public_key)).status == "applied"
    assert dict(device.execute("SELECT name, family FROM families"))["organic whole milk"] == "milk"


@pytest.mark.parametrize("body", [
    {"families": {"upsert": [["bananas", ""]]}},
    {"families": {"delete": ["bananas"]}},
    {"families": [["bananas", "bananas"]]},
])
def test_malformed_families_are_rejected(body):
    with pytest.raises(wire.PayloadError):
        wire.validate_body(body)


def test_malformed_complements_or_blend_are_rejected(world):
    _, body = wire.open_payload(world.snapshot.read_bytes(), load_public_key(world.public_key))
    wire.validate_body(body)
    for bad in ([["bananas", "cereal", "high"]], [["bananas", "cereal", -1.0]], [["bananas", 0.5]]):
        with pytest.raises(wire.PayloadError, match="complements"):
            wire.validate_body({**body, "recs": {**body["recs"], "complements": bad}})
    with pytest.raises(wire.PayloadError, match="blend"):
        wire.validate_body({**body, "recs": {**body["recs"], "blend": {"surprise_weight": 1.0}}})


def _random_baskets(conn: sqlite3.Connection, n: int, seed: int) -> list[list[int]]:
    """n carts of 1-4 in-stock products drawn by popularity, as shoppers fill them."""
    rng = np.random.default_rng(seed)
    ids, pop = zip(*conn.execute("SELECT id, popularity FROM products WHERE in_stock = 1"), strict=True)
    p = np.array(pop) + 1e-3
    return [[int(x) for x in rng.choice(ids, size=int(rng.integers(1, 5)), replace=False, p=p / p.sum())]
            for _ in range(n)]


def test_100_scripted_baskets_never_get_a_cart_family_or_a_repeat(world):
    conn = open_catalog(world.device)
    rec = Recommender(conn)
    users = [r[0] for r in conn.execute("SELECT user_id FROM user_factors ORDER BY user_id LIMIT 50")]
    lists = 0
    for n, cart in enumerate(_random_baskets(conn, 100, seed=22)):
        user = users[n] if n < 50 else f"new-user-{n}"  # half known, half cold start
        for k in (3, 10):
            got = rec.recommend(user, cart, k=k)
            assert len(got) == k
            ids = [r.product.id for r in got]
            families = _family_of(conn, ids)
            cart_families = set(_family_of(conn, cart).values())
            assert not set(ids) & set(cart)
            assert not set(families.values()) & cart_families, (cart_families, families)
            assert len(set(families.values())) == k  # one per family
            assert all(r.product.in_stock for r in got)
            brand_cap, category_cap = caps(k)
            assert max(np.unique([r.product.brand for r in got], return_counts=True)[1]) <= brand_cap + 1
            assert len({r.product.category for r in got}) >= min(2, k)
            lists += 1
    assert lists == 200


def test_bananas_bring_breakfast_not_more_bananas(world):
    conn = open_catalog(world.device)
    rec = Recommender(conn)
    bananas = conn.execute("SELECT id FROM products WHERE name = 'organic bananas' AND in_stock = 1").fetchone()[0]
    for user in ("new-user", conn.execute("SELECT user_id FROM user_factors LIMIT 1").fetchone()[0]):
        got = rec.recommend(user, [bananas], k=3)
        families = set(_family_of(conn, [r.product.id for r in got]).values())
        assert "bananas" not in families
    cold = rec.recommend("new-user", [bananas], k=3)
    expected = {o for (o,) in conn.execute("SELECT other FROM complements WHERE family = 'bananas' "
                                           "ORDER BY score DESC LIMIT 6")}
    assert set(_family_of(conn, [r.product.id for r in cold]).values()) & expected
    with_it = rec.often_bought_with(bananas, k=3)
    assert with_it and "bananas" not in set(_family_of(conn, [r.product.id for r in with_it]).values())


def test_alternatives_are_the_same_family_and_cheaper_when_asked(world):
    conn = open_catalog(world.device)
    rec = Recommender(conn)
    pid, price = conn.execute("SELECT id, price_cents FROM products WHERE name = 'Fuji apples' AND in_stock = 1 "
                              "ORDER BY price_cents DESC LIMIT 1").fetchone()
    like = rec.alternatives(pid, k=3)
    assert len(like) == 3 and pid not in {r.product.id for r in like}
    assert set(_family_of(conn, [r.product.id for r in like]).values()) == {"apples"}
    cheaper = rec.alternatives(pid, k=3, cheaper=True)
    assert cheaper and all(r.product.price_cents < price for r in cheaper)
    assert [r.product.price_cents for r in cheaper] == sorted(r.product.price_cents for r in cheaper)


def test_device_blend_matches_the_cloud_evaluation(world, tmp_path):
    """The figures `cloud recs train` reports are for the lists the device really makes."""
    master = store.open_master(world.master_copy("parity.db"))
    history = make_history(master, users=300, seed=7)  # the world's own training run
    matrix = interaction_matrix(history)
    users, items = fit(matrix, factors=16, iterations=8, seed=7)
    pairs = complements.learn(history)
    device = open_catalog(world.device)
    rec = Recommender(device)
    weights = {"complement_weight": float(store.get_meta(master, "recs_complement_weight")),
               "popularity_weight": float(store.get_meta(master, "recs_popularity_weight"))}
    col = {int(pid): j for j, pid in enumerate(history.item_ids)}
    out_of_stock = [col[p] for (p,) in device.execute("SELECT id FROM products WHERE in_stock = 0") if p in col]
    # The device holds float16 factors: score the cloud side with the same numbers.
    users16 = users.astype("<f2").astype(np.float32)
    items16 = items.astype("<f2").astype(np.float32)
    rng = np.random.default_rng(1)
    for u in rng.choice(len(history.users), size=20, replace=False):
        name = history.users[u]
        cart = [int(history.item_ids[j]) for j in history.test[u][:2]]
        recent = [col[p] for p in rec.recent(name)]
        cloud = blend_list(users16[u] @ items16.T, [col[p] for p in cart], np.array(recent + out_of_stock, int),
                           history, pairs, 5, **weights)
        edge = [r.product.id for r in rec.recommend(name, cart, k=5)]
        assert [int(history.item_ids[j]) for j in cloud] == edge, name


def test_spoken_lists_read_like_a_person_says_them():
    def item(brand: str, name: str, cents: int) -> Item:
        return Item(1, "S", name, brand, "bunch", "2 lb", cents)

    three = [item("Harvest Hill", "organic bananas", 239), item("Fresh Fields", "organic bananas", 249),
             item("Green Valley", "bananas", 129)]
    text = Replies(max_results=3, short=False).recommendations(three)
    assert text == ("You may like Harvest Hill organic bananas, 2 pound bunch, $2.39; Fresh Fields organic bananas, "
                    "2 pound bunch, $2.49, or Green Valley bananas, 2 pound bunch, $1.29. Shall I add one?")
    assert ".;" not in text and ". ;" not in text
    assert spoken_list(["milk", "eggs", "bread"], "and") == "milk, eggs and bread"
    assert spoken_list(["A, $1"]) == "A, $1" and spoken_list([]) == ""


def test_dialogue_suggests_what_goes_with_the_cart(world, tmp_path):
    path = world.device_copy("dialog_dev.db")
    catalog = Catalog(path)
    base = load_settings(environ={})
    dialog = Dialog(base, catalog, Outbox(tmp_path / "outbox.sqlite"), PurchaseGuard(tmp_path / "g.sqlite", "1234"))
    added = dialog.handle(Understanding("add three bunches of organic bananas", "add_to_cart", 0.97,
                                       {"quantity": 3, "product": "organic bananas"}))
    assert "you may also like" in added.text.lower()
    assert "banana" not in added.text.lower().split("you may also like", 1)[1], added.text
    recommended = dialog.handle(Understanding("what do you recommend", "recommend", 0.95))
    ids = [a for a in recommended.actions if a["type"] == "recommendations"][0]["product_ids"]
    families = _family_of(catalog.conn, ids)
    assert len(ids) == dataclasses.asdict(base)["profiles"]["speaker"]["max_results"]
    assert "bananas" not in families.values() and len(set(families.values())) == len(ids)
    assert ".;" not in recommended.text
    like = dialog.handle(Understanding("something cheaper like this", "recommend", 0.95,
                                       {"product": "organic bananas"}))
    alt = [a for a in like.actions if a["type"] == "recommendations"][0]["product_ids"]
    assert alt and set(_family_of(catalog.conn, alt).values()) == {"bananas"}
    dialog.handle(Understanding("no", "deny", 0.95))
    cheaper = dialog.handle(Understanding("do you have cheaper ones", "search", 0.9))  # how the NLU hears it
    ids = [a for a in cheaper.actions if a["type"] == "recommendations"][0]["product_ids"]
    banana_price = dialog.state.cart[0].item.price_cents
    prices = dict(catalog.conn.execute(f"SELECT id, price_cents FROM products WHERE id IN ({','.join(map(str, ids))})"))
    assert ids and all(prices[i] < banana_price for i in ids)
    assert set(_family_of(catalog.conn, ids).values()) == {"bananas"}
    catalog.close()


def test_a_v4_catalog_upgrades_and_recommends_with_names_as_families(world, tmp_path):
    """A device that synced before families existed keeps recommending after the upgrade: every
    product is then its own family (its name), and the next snapshot brings the real ones."""
    from edge.catalog.schema import LATEST, connect, migrate, schema_version

    path = tmp_path / "v4.db"
    old = connect(path)
    migrate(old, target=4)
    source = sqlite3.connect(world.device)
    columns = "id, sku, name, brand, category, unit, pack_size, price_cents, currency, in_stock, tags, popularity"
    old.executemany(f"INSERT INTO products ({columns}) VALUES ({','.join('?' * 12)})",
                    source.execute(f"SELECT {columns} FROM products"))
    old.executemany("INSERT INTO item_factors VALUES (?, ?)", source.execute("SELECT * FROM item_factors"))
    old.execute("INSERT INTO catalog_meta VALUES ('version', '0')")  # the world's snapshot (v1) is next
    old.close()
    conn = open_catalog(path)
    assert schema_version(conn) == LATEST == 5
    rec = Recommender(conn)
    cart = [r[0] for r in conn.execute("SELECT product_id FROM item_factors LIMIT 2")]
    got = rec.recommend("someone", cart, k=5)
    names = [r.product.name.lower() for r in got]
    cart_names = {r[0].lower() for r in conn.execute(f"SELECT name FROM products WHERE id IN ({cart[0]}, {cart[1]})")}
    assert len(got) == 5 and len(set(names)) == 5 and not set(names) & cart_names
    assert apply_delta(conn, world.snapshot.read_bytes(), load_public_key(world.public_key)).status == "applied"
    assert conn.execute("SELECT COUNT(*) FROM complements").fetchone()[0] > 0
