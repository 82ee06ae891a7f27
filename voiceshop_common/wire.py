"""The MQTT wire formats shared by the device and the cloud: topics, payloads, versioning, limits.

It lives in `voiceshop_common`, the one package both `cloud/` and `edge/` import: both sides must
agree byte for byte, so the payload dataclasses, their JSON encoding and their validation live here once. Every payload is a
UTF-8 JSON object carrying ``"v"`` (the wire version) and ``"type"``. Within a version, fields may be
added but never removed or re-typed, so a decoder ignores fields it does not know; a payload with a
different ``"v"`` is refused whole, because guessing at a future format is how orders go wrong.

Decoders never trust their input: anything malformed, oversized, of an unknown version or type, or
out of range raises `WireError` with a message that says what was wrong, and callers log and drop.
Money is integer cents; times are Unix seconds (float).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import unquote, urlsplit

WIRE_VERSION = 1
TOPIC_ROOT = "voiceshop/v1"
CATALOG_DELTAS_TOPIC = f"{TOPIC_ROOT}/catalog/deltas"
DEVICE_LEAVES = ("orders", "acks", "status", "presence")

MAX_PAYLOAD_BYTES = 64 * 1024
"""Largest order/ack/status/presence payload either side accepts (bytes)."""
MAX_DELTA_BYTES = 32 * 1024 * 1024
"""Largest catalog delta handed to the catalog (bytes); its own parser checks the content."""
MAX_LINES = 100
MAX_QUANTITY = 1000
MAX_CENTS = 100_000_000  # one million in major units: far beyond any grocery order, well inside int64.

ORDER_STATUSES = ("accepted", "shipped", "delivered", "cancelled", "rejected")
ACK_CODES = ("price_increased", "key_conflict", "implausible", "unavailable", "other")
"""Machine-readable refusal reasons in an Ack's `code` (see Ack)."""

_DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class WireError(ValueError):
    """A payload or topic that does not follow the wire format; the message says what is wrong."""


def valid_device_id(device_id: str) -> bool:
    """Device ids become topic segments and MQTT usernames: no wildcards, slashes or spaces."""
    return isinstance(device_id, str) and _DEVICE_ID.fullmatch(device_id) is not None


def device_topic(device_id: str, leaf: str) -> str:
    """voiceshop/v1/devices/{device_id}/{leaf} for leaf in orders, acks, status, presence."""
    if not valid_device_id(device_id):
        raise WireError(f"invalid device id {device_id!r} (letters, digits, '_', '-', '.'; at most 64)")
    if leaf not in DEVICE_LEAVES:
        raise WireError(f"unknown device topic {leaf!r}; known: {', '.join(DEVICE_LEAVES)}")
    return f"{TOPIC_ROOT}/devices/{device_id}/{leaf}"


def device_filter(leaf: str) -> str:
    """The wildcard filter matching one leaf for every device (what the cloud subscribes to)."""
    if leaf not in DEVICE_LEAVES:
        raise WireError(f"unknown device topic {leaf!r}")
    return f"{TOPIC_ROOT}/devices/+/{leaf}"


def parse_device_topic(topic: str) -> tuple[str, str]:
    """(device_id, leaf) from a device topic, or WireError."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != f"{TOPIC_ROOT}/devices" or parts[4] not in DEVICE_LEAVES:
        raise WireError(f"not a device topic: {topic[:200]!r}")
    if not valid_device_id(parts[3]):
        raise WireError(f"invalid device id in topic: {parts[3][:80]!r}")
    return parts[3], parts[4]


# ---------------------------------------------------------------------------------------------------
# Field readers: each takes the decoded object and a field name and returns a checked value.


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise WireError(f"missing field {name!r}")
    return data[name]


def _str(data: dict[str, Any], name: str, *, max_len: int = 200, pattern: re.Pattern[str] | None = None,
         empty: bool = True) -> str:
    value = _field(data, name)
    if not isinstance(value, str):
        raise WireError(f"field {name!r} must be a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise WireError(f"field {name!r} is longer than {max_len} characters")
    if not empty and not value.strip():
        raise WireError(f"field {name!r} must not be empty")
    if pattern is not None and not pattern.fullmatch(value):
        raise WireError(f"field {name!r} has an invalid value {value[:80]!r}")
    return value


def _int(data: dict[str, Any], name: str, lo: int, hi: int) -> int:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"field {name!r} must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise WireError(f"field {name!r} must be between {lo} and {hi}, got {value}")
    return value


def _time(data: dict[str, Any], name: str) -> float:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise WireError(f"field {name!r} must be a finite number of seconds")
    if not 0 <= value < 1e11:
        raise WireError(f"field {name!r} is not a plausible Unix time: {value}")
    return float(value)


def _bool(data: dict[str, Any], name: str) -> bool:
    value = _field(data, name)
    if not isinstance(value, bool):
        raise WireError(f"field {name!r} must be true or false")
    return value


def _key(data: dict[str, Any], name: str = "key") -> str:
    value = _str(data, name, max_len=36)
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise WireError(f"field {name!r} is not a UUID: {value!r}") from None
    if str(parsed) != value:
        raise WireError(f"field {name!r} must be a lower-case canonical UUID")
    return value


def new_idempotency_key() -> str:
    """A fresh idempotency key (UUID4, canonical lower-case form)."""
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------------------------------
# Payloads.


@dataclass(frozen=True)
class OrderLine:
    """One product line of an order, as the device showed it to the user."""

    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    """The price the device quoted; the cloud re-prices from its own catalog and never trusts it."""

    @classmethod
    def from_dict(cls, data: Any) -> OrderLine:
        if not isinstance(data, dict):
            raise WireError("each order line must be an object")
        return cls(
            sku=_str(data, "sku", max_len=64, empty=False),
            name=_str(data, "name", max_len=200),
            quantity=_int(data, "quantity", 1, MAX_QUANTITY),
            unit_price_cents=_int(data, "unit_price_cents", 0, MAX_CENTS),
        )


@dataclass(frozen=True)
class OrderMessage:
    """Device → cloud on …/orders: a confirmed order, identified by its idempotency key.

    No device id inside: the topic names the device and the broker's ACL ties that topic to the
    authenticated user, so there is nothing in the payload that could disagree with it. That also
    lets the outbox encode the payload once, at confirmation, and re-send the very same bytes.
    """

    key: str
    lines: tuple[OrderLine, ...]
    total_cents: int
    currency: str
    confirmed_at: float
    TYPE = "order"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderMessage:
        raw_lines = _field(data, "lines")
        if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES:
            raise WireError(f"field 'lines' must be a list of 1 to {MAX_LINES} lines")
        return cls(
            key=_key(data),
            lines=tuple(OrderLine.from_dict(line) for line in raw_lines),
            total_cents=_int(data, "total_cents", 0, MAX_CENTS),
            currency=_str(data, "currency", max_len=3, pattern=_CURRENCY),
            confirmed_at=_time(data, "confirmed_at"),
        )


@dataclass(frozen=True)
class CancelRequest:
    """Device → cloud on …/orders: the user cancelled an order that may already be in the cloud."""

    key: str
    requested_at: float
    TYPE = "cancel"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CancelRequest:
        return cls(key=_key(data), requested_at=_time(data, "requested_at"))


@dataclass(frozen=True)
class Ack:
    """Cloud → device on …/acks: the order with this key is stored (accepted) or refused (rejected)."""

    key: str
    accepted: bool
    total_cents: int
    """The total the cloud charges, from its own prices (0 when rejected)."""
    currency: str
    order_ref: str
    """The cloud's reference for the order (empty when rejected)."""
    reason: str = ""
    code: str = ""
    """Why, for machines: "" (accepted at the quoted total or less, or an older cloud), or one of
    ACK_CODES. With "price_increased" the order is refused and total_cents is what the cloud would
    charge now, so the device can tell the user and ask again. Added within wire v1: optional on
    decode (an older cloud sends none), and ignored by older devices as an unknown field."""
    TYPE = "ack"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ack:
        code = _str(data, "code", max_len=40) if "code" in data else ""
        if code and code not in ACK_CODES:
            code = "other"  # a newer cloud's reason: still a refusal, just not one this side knows
        return cls(
            key=_key(data), accepted=_bool(data, "accepted"), total_cents=_int(data, "total_cents", 0, MAX_CENTS),
            currency=_str(data, "currency", max_len=3, pattern=_CURRENCY),
            order_ref=_str(data, "order_ref", max_len=64), reason=_str(data, "reason", max_len=500), code=code,
        )


@dataclass(frozen=True)
class StatusUpdate:
    """Cloud → device on …/status: the order moved (shipped, delivered, cancelled)."""

    key: str
    status: str
    at: float
    detail: str = ""
    TYPE = "status"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatusUpdate:
        status = _str(data, "status", max_len=20)
        if status not in ORDER_STATUSES:
            raise WireError(f"field 'status' must be one of {', '.join(ORDER_STATUSES)}, got {status[:40]!r}")
        return cls(key=_key(data), status=status, at=_time(data, "at"), detail=_str(data, "detail", max_len=500))


@dataclass(frozen=True)
class Presence:
    """Device → anyone on …/presence (retained): online at connect, offline as the Last Will."""

    device_id: str
    online: bool
    at: float
    TYPE = "presence"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Presence:
        return cls(device_id=_str(data, "device_id", max_len=64, pattern=_DEVICE_ID),
                   online=_bool(data, "online"), at=_time(data, "at"))


Message = OrderMessage | CancelRequest | Ack | StatusUpdate | Presence
_BY_TYPE: dict[str, Callable[[dict[str, Any]], Message]] = {
    cls.TYPE: cls.from_dict for cls in (OrderMessage, CancelRequest, Ack, StatusUpdate, Presence)
}
_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in (OrderMessage, CancelRequest, Ack, StatusUpdate, Presence)}
# Which payload types may appear on which device topic.
TOPIC_TYPES: dict[str, tuple[str, ...]] = {
    "orders": (OrderMessage.TYPE, CancelRequest.TYPE),
    "acks": (Ack.TYPE,),
    "status": (StatusUpdate.TYPE,),
    "presence": (Presence.TYPE,),
}


def encode(message: Message) -> bytes:
    """Compact UTF-8 JSON with the wire version and type first.

    Fields are read directly rather than through dataclasses.asdict, whose recursive deep copy was
    a third of the device's per-order cost when flushing a backlog.
    """
    body: dict[str, Any] = {"v": WIRE_VERSION, "type": message.TYPE}
    for name in _FIELDS[type(message)]:
        body[name] = getattr(message, name)
    if isinstance(message, OrderMessage):
        body["lines"] = [{"sku": ln.sku, "name": ln.name, "quantity": ln.quantity,
                          "unit_price_cents": ln.unit_price_cents} for ln in message.lines]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(payload: bytes, leaf: str) -> Message:
    """Decode a payload received on the device topic `leaf`; WireError if it is not acceptable there."""
    if leaf not in TOPIC_TYPES:
        raise WireError(f"no payloads are defined for topic leaf {leaf!r}")
    if not isinstance(payload, (bytes, bytearray)):
        raise WireError("payload must be bytes")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(f"payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit")
    try:
        data = json.loads(bytes(payload).decode("utf-8"))
    except UnicodeDecodeError:
        raise WireError("payload is not UTF-8") from None
    except (json.JSONDecodeError, RecursionError):
        raise WireError("payload is not valid JSON") from None
    if not isinstance(data, dict):
        raise WireError(f"payload must be a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if isinstance(version, bool) or version != WIRE_VERSION:
        raise WireError(f"unsupported wire version {str(version)[:20]!r} (this side speaks v{WIRE_VERSION})")
    kind = data.get("type")
    if kind not in TOPIC_TYPES[leaf]:
        raise WireError(f"payload type {str(kind)[:40]!r} is not allowed on …/{leaf}")
    return _BY_TYPE[kind](data)


# ---------------------------------------------------------------------------------------------------
# Broker addresses: both sides read the same URL format.


@dataclass(frozen=True)
class BrokerAddress:
    """Where a broker listens, parsed from mqtt://[user:pass@]host:port or mqtts://…"""

    host: str
    port: int
    tls: bool
    username: str = ""
    password: str = ""

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def redact_url(url: str) -> str:
    """url with the password of its user:password@ part replaced by ***, for messages and logs.

    Anything we cannot parse is returned with everything between "://" and the last "@" masked, so
    even a malformed URL never shows its credentials.
    """
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text if "@" not in text else "***@" + text.rsplit("@", 1)[1]
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return text
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse a broker URL; ValueError with the URL named (password masked) when it is not one."""
    parts = urlsplit(url.strip())
    shown = redact_url(url.strip())
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL {shown!r}: scheme must be mqtt:// or mqtts://")
    if not parts.hostname:
        raise ValueError(f"broker URL {shown!r}: no host")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"broker URL {shown!r}: bad port") from None
    return BrokerAddress(host=parts.hostname, port=port, tls=tls, username=unquote(parts.username or ""),
                         password=unquote(parts.password or ""))
