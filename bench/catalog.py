"""Catalog benchmark: search, recommend, delta apply and size at up to 1,000,000 products.

`python -m bench catalog [--products N] [--queries Q] [--rebuild]`

The world is built through the real paths and cached under ~/.cache/voiceshop/bench/catalog-N:
generate the master, train ALS and family complements over the 100,000 most popular products, publish a signed
snapshot (with embeddings when the NLU bundle exists), bootstrap a device from it. Then, in this
process: search p50/p95 without and with the sentence encoder, the anchor being SQLite's own
FTS5 bm25 query for the same words (what our ranking adds on top); recommend p95; a 10,000-change
signed delta applied to a copy of the device catalog; the file size. A Chinese world (`--zh-products`,
generate --language zh, no sentence vectors) times zh search: product names, requests and ASR
homophones (平果), through per-character FTS and pinyin keys. Goals from issue 6 are
printed beside the figures; nothing here fails a build. On a shared machine wall time includes
waiting for a core, so each row also shows this process's CPU time (time.process_time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np

from bench import summary
from cloud.catalog import changes, generate, publish, signing, store
from cloud.recs import complements
from cloud.recs.synth import make_history
from cloud.recs.train import fit, interaction_matrix, publish_factors
from edge.catalog.apply import apply_delta, checkpoint, load_public_key
from edge.catalog.matching import content_words
from edge.catalog.recommend import Recommender
from edge.catalog.schema import LATEST, open_catalog, schema_version
from edge.catalog.search import Searcher
from voiceshop_common import vocab

CACHE = Path(os.environ.get("VOICESHOP_BENCH_DIR", "~/.cache/voiceshop/bench")).expanduser()
NLU_BUNDLE = Path(os.environ.get("VOICESHOP_MODELS_DIR", "~/.cache/voiceshop/models")).expanduser() / "nlu"
GOALS = {"lexical": 10.0, "hybrid": 25.0, "recommend": 5.0, "delta": 1.0}
MISHEARD = ["fugi apples", "sour dough bread", "capuccino", "bannanas", "paper tows", "windsheild washer fluid",
            "honey crisp apples", "kitty litter", "oj", "wiper fluid", "cheerios", "tp", "mac n cheese",
            "something for breakfast", "snacks for a road trip", "green valley apples", "organic milk"]


MISHEARD_ZH = ["平果", "香焦", "鸡旦", "流奶", "矿全水", "皮酒", "我想买两斤富士苹果", "有没有纯牛奶", "来一箱啤酒",
               "有机苹果", "绿源果园香蕉", "水果", "番茄", "把香椒从购物车里删掉"]


def build_zh(n_products: int) -> Path:
    """Cached zh master + device (search only: no recommendations, no vectors); returns the directory."""
    root = CACHE / f"catalog-zh-{n_products}"
    if (root / "device.db").is_file() and _current_schema(root / "device.db"):
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    generate.generate(root / "master.db", n_products, seed=0, language="zh")
    signing.generate_keypair(root / "keys")
    conn = store.open_master(root / "master.db")
    result = publish.publish(conn, signing.load_private_key(root / "keys"), root / "out", bundle_dir=None)
    conn.close()
    _install(root, Path(result["snapshot"]), "zh bootstrap")
    return root


def _install(root: Path, snapshot: Path, what: str) -> None:
    """Apply the signed snapshot to a fresh device file as a device does, then move it into place."""
    device = open_catalog(root / "device.db.tmp")
    applied = apply_delta(device, snapshot.read_bytes(), load_public_key(root / "keys" / signing.PUBLIC_NAME))
    device.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    device.close()
    if applied.status != "applied":
        raise RuntimeError(f"{what} failed: {applied}")
    (root / "device.db.tmp").rename(root / "device.db")


def _current_schema(device: Path) -> bool:
    with sqlite3.connect(device) as conn:
        try:
            return schema_version(conn) == LATEST
        except sqlite3.DatabaseError:
            return False


def bench_search_zh(n_products: int, n_queries: int, rows: list[list[str]]) -> None:
    """zh search p50/p95 over product names and the MISHEARD_ZH requests and homophones."""
    from voiceshop_common import catalog_zh

    conn = open_catalog(build_zh(n_products) / "device.db")
    names = catalog_zh.product_names()
    rng = np.random.default_rng(0)
    queries = [names[i] for i in rng.integers(0, len(names), max(1, n_queries - len(MISHEARD_ZH)))] + MISHEARD_ZH
    searcher = Searcher(conn)
    searcher.search("苹果")  # loads the word tables and the pinyin keys
    samples, cpu = [], []
    for query in queries:
        t, c = time.perf_counter(), time.process_time()
        searcher.search(query, semantic=False)
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    p50, p95 = _percentiles(samples)
    rows.append([f"search zh, {n_products:,} SKUs (ms)", f"{p50:.2f}", f"{p95:.2f}", f"{statistics.median(cpu):.2f}",
                 f"<= {GOALS['lexical']:g}", "characters + pinyin, no vectors"])
    conn.close()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def build(n_products: int, rebuild: bool) -> Path:
    """Cached master + device for n_products; returns the directory."""
    root = CACHE / f"catalog-{n_products}"
    if (root / "device.db").is_file() and not rebuild and _current(root / "device.db"):
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    t = time.perf_counter()
    generate.generate(root / "master.db", n_products, seed=0)
    print(f"  generated {n_products:,} products in {time.perf_counter() - t:.1f} s", flush=True)
    signing.generate_keypair(root / "keys")
    conn = store.open_master(root / "master.db")
    t = time.perf_counter()
    history = make_history(conn, users=3000, max_items=100_000, seed=0)
    users, items = fit(interaction_matrix(history), factors=32, iterations=10)
    publish_factors(conn, history, users, items, complements.rows(history, complements.learn(history)))
    print(f"  ALS on {len(history.item_ids):,} items, {len(history.users):,} users in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    result = publish.publish(conn, signing.load_private_key(root / "keys"), root / "out",
                             bundle_dir=NLU_BUNDLE if (NLU_BUNDLE / "manifest.json").is_file() else None)
    conn.close()  # checkpoints the WAL, so the master file is complete on its own
    print(f"  published snapshot v{result['version']} in {time.perf_counter() - t:.1f} s "
          f"({Path(result['snapshot']).stat().st_size / 1e6:.0f} MB)", flush=True)
    t = time.perf_counter()
    _install(root, Path(result["snapshot"]), "bootstrap")
    print(f"  device bootstrapped from the snapshot in {time.perf_counter() - t:.1f} s", flush=True)
    return root


def _current(device: Path) -> bool:
    """A cached world made by older code (an older schema, or recs without families and complements)
    would time something the device no longer does: rebuild it."""
    with sqlite3.connect(device) as conn:
        try:
            return schema_version(conn) == LATEST and bool(conn.execute("SELECT 1 FROM families LIMIT 1").fetchone()
                                                           and conn.execute("SELECT 1 FROM complements LIMIT 1").fetchone())
        except sqlite3.DatabaseError:
            return False


def _encoder(conn: sqlite3.Connection):
    """The device's encoder when the NLU bundle is present (same check as Catalog.from_settings)."""
    try:
        from edge.config import Settings
        from edge.nlu.embed import Embedder

        embedder = Embedder.from_bundle(NLU_BUNDLE, Settings().runtime, 1)
        return embedder.encode_one
    except Exception as exc:
        print(f"  hybrid: no sentence encoder ({exc})")
        return None


def bench_search(conn: sqlite3.Connection, queries: list[str], rows: list[list[str]]) -> None:
    anchor = []
    for query in queries:
        match = " OR ".join(f'"{w}"' for w in content_words(query))
        t = time.perf_counter()
        conn.execute("SELECT rowid FROM products_fts WHERE products_fts MATCH ? ORDER BY rank LIMIT 5",
                     (match,)).fetchall()
        anchor.append((time.perf_counter() - t) * 1000)
    a50, a95 = _percentiles(anchor)
    rows.append(["anchor: FTS5 bm25 over all SKUs", f"{a50:.2f}", f"{a95:.2f}", "", "", "1.00x"])
    encode = _encoder(conn)
    for label, searcher, semantic in (("lexical", Searcher(conn), False),
                                      ("hybrid", Searcher(conn, encode), True)):
        if semantic and encode is None:
            rows.append(["search hybrid (ms)", "n/a", "n/a", "", f"<= {GOALS['hybrid']:g}", "no NLU bundle"])
            continue
        searcher.search("warm up", semantic=semantic)
        samples, cpu = [], []
        for query in queries:
            t, c = time.perf_counter(), time.process_time()
            searcher.search(query, semantic=semantic)
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        p50, p95 = _percentiles(samples)
        rows.append([f"search {label} (ms)", f"{p50:.2f}", f"{p95:.2f}", f"{statistics.median(cpu):.2f}",
                     f"<= {GOALS[label]:g}", f"{p95 / a95:.2f}x"])


def bench_recommend(conn: sqlite3.Connection, rows: list[list[str]]) -> None:
    """Known users and cold-start users, each with a cart of 1-4 products drawn from the factored
    items: ALS + complements + one-per-family diverse pick, as the dialogue asks for it."""
    rec = Recommender(conn)
    rec.refresh()
    users = [r[0] for r in conn.execute("SELECT user_id FROM user_factors ORDER BY RANDOM() LIMIT 300")]
    rng = np.random.default_rng(0)
    for label, names in (("", users), (", cold start", [f"new-{n}" for n in range(len(users))])):
        samples, cpu = [], []
        for user in names:
            cart = [int(p) for p in rng.choice(rec.ids, size=int(rng.integers(1, 5)), replace=False)]
            t, c = time.perf_counter(), time.process_time()
            rec.recommend(user, cart, k=10)
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        p50, p95 = _percentiles(samples)
        rows.append([f"recommend k=10 over {len(rec.ids):,} items{label} (ms)", f"{p50:.2f}", f"{p95:.2f}",
                     f"{statistics.median(cpu):.2f}", f"<= {GOALS['recommend']:g}", "ALS + complements, diverse"])


def bench_delta(root: Path, rows: list[list[str]]) -> None:
    master = root / "master-delta.db"
    source = store.open_master(root / "master.db")
    conn = sqlite3.connect(master)
    source.backup(conn)  # a consistent copy even if a WAL is still around
    source.close()
    conn.close()
    conn = store.open_master(master)
    changes.random_changes(conn, prices=4000, stock=3000, edits=2000, new=500, delete_count=500, seed=42)
    result = publish.publish(conn, signing.load_private_key(root / "keys"), root / "delta-out", snapshot=False)
    conn.close()
    payload = Path(result["delta"]).read_bytes()
    device = root / "device-delta.db"
    shutil.copyfile(root / "device.db", device)
    dev = open_catalog(device)
    c = time.process_time()
    applied = apply_delta(dev, payload, load_public_key(root / "keys" / signing.PUBLIC_NAME))
    cpu = time.process_time() - c
    folded = checkpoint(dev)
    dev.close()
    rows.append([f"apply {result['delta_changes']:,}-change delta (s)", f"{applied.seconds:.3f}", "",
                 f"{cpu:.3f}", f"<= {GOALS['delta']:g}", f"{applied.status}; verify+parse+commit"])
    rows.append(["  then WAL checkpoint, when idle (s)", f"{folded:.3f}", "", "", "", ""])
    for path in (master, device, Path(f"{device}-wal"), Path(f"{device}-shm")):
        path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench catalog")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="search queries timed per mode")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached world")
    parser.add_argument("--zh-products", type=int, default=100_000, help="zh catalog size for zh search (0 skips)")
    args = parser.parse_args(argv)
    print(f"catalog benchmark: {args.products:,} products (cache {CACHE})", flush=True)
    root = build(args.products, args.rebuild)
    conn = open_catalog(root / "device.db")
    rng = np.random.default_rng(0)
    names = vocab.product_names()
    queries = [names[i] for i in rng.integers(0, len(names), max(1, args.queries - len(MISHEARD)))] + MISHEARD
    rows: list[list[str]] = []
    bench_search(conn, queries, rows)
    if args.zh_products:
        bench_search_zh(args.zh_products, args.queries, rows)
    bench_recommend(conn, rows)
    bench_delta(root, rows)
    size = sum(p.stat().st_size for p in root.glob("device.db*"))
    rows.append(["device catalog size (MB)", f"{size / 1e6:.0f}", "", "", "", ""])
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times include waiting for "
          f"the CPU; 'cpu p50' is this process's own CPU time")
    for row in rows:
        if row[4]:
            summary.add(f"catalog ({args.products:,})", row[0], f"p50 {row[1]}, p95 {row[2]}, cpu p50 {row[3]}",
                        row[4], row[5])
    header = ["measure", "p50", "p95", "cpu p50", "goal", "vs anchor / note"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0
