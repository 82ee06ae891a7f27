"""The signed catalog payload (snapshot or delta): the one wire format cloud and device share.

Layout (all integers big-endian)::

    b"VSCATLG1"                      8-byte magic (format version 1)
    u32 header length, header        canonical JSON: kind, version, base_version, published_at,
                                     key_id, body_sha256, body_bytes
    64-byte Ed25519 signature        over magic + header length + header
    body                             zlib-compressed JSON (see ``validate_body``)

The signature covers the header and the header pins the body's SHA-256, so a flipped bit
anywhere is caught before a single byte of the body is decompressed or parsed. The device only
ever verifies (it holds the public key); signing lives in ``cloud.catalog.signing``. This module
is pure (no database), so the MQTT transport can reject garbage early; it lives in
`voiceshop_common` because the cloud packs what the device opens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # cryptography (~10 MB resident) is imported when a payload is verified, not with the device
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAGIC = b"VSCATLG1"
SIGNATURE_BYTES = 64
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 2 * 1024 * 1024 * 1024
"""Largest decompressed body accepted (bytes); a 1M-product snapshot is a few hundred MB."""
KINDS = ("snapshot", "delta")

PRODUCT_COLUMNS: tuple[str, ...] = (
    "id", "sku", "name", "brand", "category", "unit", "pack_size", "price_cents", "currency",
    "in_stock", "tags", "description", "popularity", "embedding_id",
)
"""Column order of a product row in ``products.upsert`` (tags are space-separated words)."""

MAX_PRICE_CENTS = 100_000_000

BLEND_WEIGHTS = ("complement_weight", "popularity_weight")
"""What ``recs.blend`` may set: how the device weighs learned complements and popularity
against the ALS score (the cloud picks them with the factors they go with)."""


class PayloadError(ValueError):
    """The payload is malformed, unsigned, tampered with, or not for this device's key."""


@dataclass(frozen=True)
class Header:
    """What a payload claims to be; trusted only after ``open_payload`` verified the signature."""

    kind: str
    version: int
    base_version: int
    published_at: str
    key_id: str
    body_sha256: str
    body_bytes: int

    def to_bytes(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True, separators=(",", ":")).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short fingerprint of a public key, so a log line can say which key signed a payload."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def pack(kind: str, version: int, base_version: int, published_at: str, body: dict[str, Any],
         sign: Callable[[bytes], bytes], signer_key_id: str) -> bytes:
    """Serialize and sign a payload; ``sign`` is the cloud's Ed25519 private key's sign method."""
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    compressed = zlib.compress(raw, 6)
    header = Header(kind, version, base_version, published_at, signer_key_id,
                    hashlib.sha256(compressed).hexdigest(), len(raw)).to_bytes()
    signed = MAGIC + struct.pack(">I", len(header)) + header
    signature = sign(signed)
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an Ed25519 signature is 64 bytes")
    return signed + signature + compressed


def read_header(payload: bytes) -> tuple[Header, bytes, bytes, bytes]:
    """Split a payload into (header, signed bytes, signature, compressed body) without trusting it."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise PayloadError("payload is not bytes")
    payload = bytes(payload)
    if len(payload) < len(MAGIC) + 4 + SIGNATURE_BYTES or not payload.startswith(MAGIC):
        raise PayloadError("not a catalog payload (bad magic or too short)")
    (header_len,) = struct.unpack_from(">I", payload, len(MAGIC))
    if header_len > MAX_HEADER_BYTES:
        raise PayloadError(f"header length {header_len} exceeds {MAX_HEADER_BYTES}")
    start = len(MAGIC) + 4
    end = start + header_len
    if len(payload) < end + SIGNATURE_BYTES:
        raise PayloadError("payload truncated inside header or signature")
    try:
        fields = json.loads(payload[start:end])
        header = Header(**{name: fields[name] for name in Header.__dataclass_fields__})
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError(f"header is not valid JSON with the expected fields: {exc}") from None
    if header.kind not in KINDS:
        raise PayloadError(f"unknown payload kind {header.kind!r}")
    for name in ("version", "base_version", "body_bytes"):
        value = getattr(header, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PayloadError(f"header field {name} must be a non-negative integer")
    if header.body_bytes > MAX_BODY_BYTES:
        raise PayloadError(f"body of {header.body_bytes} bytes exceeds {MAX_BODY_BYTES}")
    if header.kind == "delta" and header.version != header.base_version + 1:
        raise PayloadError("a delta must move exactly one version (version == base_version + 1)")
    return header, payload[:end], payload[end:end + SIGNATURE_BYTES], payload[end + SIGNATURE_BYTES:]


def open_payload(payload: bytes, public_key: Ed25519PublicKey) -> tuple[Header, dict[str, Any]]:
    """Verify signature and body hash, then decompress and validate; raise PayloadError otherwise."""
    from cryptography.exceptions import InvalidSignature

    header, signed, signature, compressed = read_header(payload)
    try:
        public_key.verify(signature, signed)
    except InvalidSignature:
        raise PayloadError(f"signature does not verify with this device's key (payload claims key "
                           f"{header.key_id}, device has {key_id(public_key)})") from None
    if hashlib.sha256(compressed).hexdigest() != header.body_sha256:
        raise PayloadError("body does not match the signed SHA-256 (tampered or truncated)")
    try:
        decompressor = zlib.decompressobj()
        raw = decompressor.decompress(compressed, header.body_bytes + 1)
        body = json.loads(raw)
    except (zlib.error, ValueError) as exc:
        raise PayloadError(f"body is not zlib-compressed JSON: {exc}") from None
    if len(raw) != header.body_bytes:
        raise PayloadError("body length differs from the signed length")
    validate_body(body)
    return header, body


def encode_matrix(matrix: np.ndarray) -> str:
    """float16 row-major bytes, base64: how embeddings and factors travel."""
    return base64.b64encode(np.ascontiguousarray(matrix, dtype="<f2").tobytes()).decode()


def decode_matrix(data: str, rows: int, dim: int) -> np.ndarray:
    """Inverse of encode_matrix with a shape check; raises PayloadError on a mismatch."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"matrix is not base64: {exc}") from None
    if len(raw) != rows * dim * 2:
        raise PayloadError(f"matrix has {len(raw)} bytes, expected {rows}x{dim} float16")
    matrix = np.frombuffer(raw, dtype="<f2").reshape(rows, dim)
    if not np.isfinite(matrix).all():
        raise PayloadError("matrix holds NaN or infinity")
    return matrix


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PayloadError(message)


def _is_int(value: Any, lo: int = 0, hi: int = 2**62) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _is_number(value: Any, lo: float, hi: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and lo <= value <= hi


def _check_product(row: Any) -> None:
    _require(isinstance(row, list) and len(row) == len(PRODUCT_COLUMNS),
             f"product row must be a list of {len(PRODUCT_COLUMNS)} values")
    pid, sku, name, brand, category, unit, pack_size, price, currency, in_stock, tags, desc, pop, emb = row
    _require(_is_int(pid, 1), f"product id {pid!r} is not a positive integer")
    for label, text, limit in (("sku", sku, 64), ("name", name, 200), ("brand", brand, 100),
                               ("category", category, 64), ("unit", unit, 32), ("pack_size", pack_size, 32),
                               ("tags", tags, 500), ("description", desc, 2000)):
        _require(isinstance(text, str) and len(text) <= limit, f"product {pid}: {label} must be text ≤ {limit}")
    _require(bool(sku) and bool(name.strip()), f"product {pid}: empty sku or name")
    _require(_is_int(price, 0, MAX_PRICE_CENTS), f"product {pid}: price_cents {price!r} out of range")
    _require(isinstance(currency, str) and len(currency) == 3 and currency.isupper(),
             f"product {pid}: currency must be 3 capital letters")
    _require(in_stock in (0, 1), f"product {pid}: in_stock must be 0 or 1")
    _require(isinstance(pop, int | float) and not isinstance(pop, bool) and 0 <= pop <= 1e9,
             f"product {pid}: popularity out of range")
    _require(emb is None or _is_int(emb, 1), f"product {pid}: embedding_id must be null or positive")


def _check_pairs(rows: Any, label: str, check: Callable[[Any, Any], bool]) -> None:
    _require(isinstance(rows, list), f"{label} must be a list")
    for row in rows:
        _require(isinstance(row, list) and len(row) == 2 and check(row[0], row[1]), f"bad {label} entry {row!r:.80}")


def _check_matrix_block(block: Any, label: str, id_check: Callable[[Any], bool]) -> None:
    _require(isinstance(block, dict), f"{label} must be an object")
    _require(_is_int(block.get("dim"), 1, 4096), f"{label}.dim must be 1..4096")
    ids = block.get("ids")
    _require(isinstance(ids, list) and all(id_check(i) for i in ids), f"{label}.ids malformed")
    _require(len(set(ids)) == len(ids), f"{label}.ids has duplicates")
    _require(isinstance(block.get("data"), str), f"{label}.data must be base64 text")
    decode_matrix(block["data"], len(ids), block["dim"])


def validate_body(body: Any) -> None:
    """Check every field's type and range, so apply never meets a surprise half-way through."""
    _require(isinstance(body, dict), "body must be a JSON object")
    known = {"products", "aliases", "faq", "embeddings", "recs", "families"}
    _require(not set(body) - known, f"unknown body sections {sorted(set(body) - known)}")
    products = body.get("products", {})
    _require(isinstance(products, dict), "products must be an object")
    _require(not set(products) - {"upsert", "delete", "price", "stock"}, "unknown products operation")
    for row in products.get("upsert", []):
        _check_product(row)
    _check_pairs([[i, 0] for i in products.get("delete", [])], "products.delete", lambda a, _b: _is_int(a, 1))
    _check_pairs(products.get("price", []), "products.price",
                 lambda a, b: _is_int(a, 1) and _is_int(b, 0, MAX_PRICE_CENTS))
    _check_pairs(products.get("stock", []), "products.stock", lambda a, b: _is_int(a, 1) and b in (0, 1))
    aliases = body.get("aliases", {})
    _require(isinstance(aliases, dict), "aliases must be an object")
    _check_pairs(aliases.get("upsert", []), "aliases.upsert",
                 lambda a, b: isinstance(a, str) and isinstance(b, str) and 0 < len(a) <= 100 and 0 < len(b) <= 200)
    _require(all(isinstance(a, str) for a in aliases.get("delete", [])), "aliases.delete must be strings")
    faq = body.get("faq", {})
    _require(isinstance(faq, dict), "faq must be an object")
    for row in faq.get("upsert", []):
        _require(isinstance(row, list) and len(row) == 4 and _is_int(row[0], 1)
                 and all(isinstance(x, str) and len(x) <= 2000 for x in row[1:]), f"bad faq entry {row!r:.80}")
    _require(all(_is_int(i, 1) for i in faq.get("delete", [])), "faq.delete must be positive integers")
    families = body.get("families", {})
    _require(isinstance(families, dict) and not set(families) - {"upsert"}, "families must be an object of upserts")
    _check_pairs(families.get("upsert", []), "families.upsert",
                 lambda a, b: isinstance(a, str) and isinstance(b, str) and 0 < len(a) <= 200 and 0 < len(b) <= 200)
    if "embeddings" in body:
        block = body["embeddings"]
        _check_matrix_block(block, "embeddings", lambda i: _is_int(i, 1))
        texts = block.get("texts")
        _require(isinstance(texts, list) and len(texts) == len(block["ids"])
                 and all(isinstance(t, str) for t in texts), "embeddings.texts must match ids")
        _require(isinstance(block.get("model"), str), "embeddings.model must name the encoder")
    if "recs" in body:
        recs = body["recs"]
        _require(isinstance(recs, dict), "recs must be an object")
        _check_matrix_block(recs.get("items"), "recs.items", lambda i: _is_int(i, 1))
        _check_matrix_block(recs.get("users"), "recs.users", lambda u: isinstance(u, str) and 0 < len(u) <= 64)
        _require(recs["items"]["dim"] == recs["users"]["dim"], "recs item and user factors differ in dim")
        recent = recs.get("recent", [])
        _require(isinstance(recent, list) and all(
            isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and _is_int(r[1], 1)
            and isinstance(r[2], str) for r in recent), "recs.recent must be [user, product_id, iso time] rows")
        complements = recs.get("complements", [])
        _require(isinstance(complements, list) and all(
            isinstance(r, list) and len(r) == 3 and all(isinstance(x, str) and 0 < len(x) <= 200 for x in r[:2])
            and _is_number(r[2], 0.0, 1e3) for r in complements),
            "recs.complements must be [family, other family, score] rows")
        blend = recs.get("blend", {})
        _require(isinstance(blend, dict) and set(blend) <= set(BLEND_WEIGHTS)
                 and all(_is_number(v, 0.0, 1e3) for v in blend.values()), f"recs.blend takes {BLEND_WEIGHTS}")
