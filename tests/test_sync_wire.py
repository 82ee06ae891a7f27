"""Wire formats: valid payloads round-trip; anything else is a WireError (never another exception)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.wire import (
    DEVICE_LEAVES,
    MAX_PAYLOAD_BYTES,
    Ack,
    CancelRequest,
    OrderLine,
    OrderMessage,
    Presence,
    StatusUpdate,
    WireError,
    decode,
    device_topic,
    encode,
    parse_broker_url,
    parse_device_topic,
)

KEY = "3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8"
ORDER = OrderMessage(KEY, (OrderLine("PRO-1", "Fuji apples", 2, 499),), 998, "USD", 1.8e9)
EXAMPLES = {
    "orders": [ORDER, CancelRequest(KEY, 1.8e9)],
    "acks": [Ack(KEY, True, 1000, "USD", "42", "repriced"), Ack(KEY, False, 4999, "USD", "", "up", "price_increased")],
    "status": [StatusUpdate(KEY, "shipped", 1.8e9, "")],
    "presence": [Presence("dev-1", False, 1.8e9)],
}


@pytest.mark.parametrize(("leaf", "message"), [(leaf, m) for leaf, ms in EXAMPLES.items() for m in ms])
def test_round_trip(leaf, message):
    assert decode(encode(message), leaf) == message


def test_ack_code_is_optional_and_unknown_codes_are_other():
    """Ack.code was added within wire v1: an older cloud's ack (no code) decodes, and a newer
    cloud's unknown code is still a refusal the device can handle."""
    body = json.loads(encode(Ack(KEY, False, 0, "USD", "", "out of stock", "unavailable")))
    assert body["code"] == "unavailable"
    del body["code"]
    assert decode(json.dumps(body).encode(), "acks").code == ""
    body["code"] = "a_future_reason"
    assert decode(json.dumps(body).encode(), "acks").code == "other"
    body["code"] = 7
    with pytest.raises(WireError):
        decode(json.dumps(body).encode(), "acks")


def test_topics():
    assert device_topic("dev-1", "orders") == "voiceshop/v1/devices/dev-1/orders"
    assert parse_device_topic("voiceshop/v1/devices/dev-1/acks") == ("dev-1", "acks")
    for bad in ("voiceshop/v1/devices/dev-1/secrets", "voiceshop/v2/devices/dev-1/acks", "x",
                "voiceshop/v1/devices/+/acks", "voiceshop/v1/devices/a/b/acks"):
        with pytest.raises(WireError):
            parse_device_topic(bad)
    with pytest.raises(WireError, match="invalid device id"):
        device_topic("dev/1", "orders")


def body(message) -> dict:
    return json.loads(encode(message))


@pytest.mark.parametrize(("leaf", "data", "needle"), [
    ("orders", {**body(ORDER), "v": 2}, "unsupported wire version '2'"),
    ("orders", {**body(ORDER), "v": True}, "unsupported wire version"),
    ("orders", {k: v for k, v in body(ORDER).items() if k != "v"}, "unsupported wire version"),
    ("acks", body(ORDER), "type 'order' is not allowed on …/acks"),
    ("orders", {**body(ORDER), "key": "not-a-uuid"}, "not a UUID"),
    ("orders", {**body(ORDER), "key": KEY.upper()}, "canonical"),
    ("orders", {**body(ORDER), "lines": []}, "1 to 100 lines"),
    ("orders", {**body(ORDER), "lines": [{"sku": "A", "name": "", "quantity": 10**6, "unit_price_cents": 1}]},
     "'quantity' must be between"),
    ("orders", {**body(ORDER), "currency": "usd"}, "'currency'"),
    ("orders", {**body(ORDER), "total_cents": 1.5}, "must be an integer"),
    ("orders", {**body(ORDER), "confirmed_at": float("nan")}, "finite"),
    ("presence", {**body(EXAMPLES["presence"][0]), "device_id": "a/#"}, "'device_id'"),
    ("status", {**body(EXAMPLES["status"][0]), "status": "teleported"}, "'status' must be one of"),
    ("presence", {**body(EXAMPLES["presence"][0]), "online": "yes"}, "true or false"),
])
def test_bad_payloads_are_named(leaf, data, needle):
    with pytest.raises(WireError, match=needle):
        decode(json.dumps(data).encode(), leaf)


def test_malformed_and_oversized():
    for payload, needle in [(b"\xff\xfe", "not UTF-8"), (b"{", "not valid JSON"), (b"[1]", "JSON object"),
                            (b"[" * 60_000, "not valid JSON"), (b" " * (MAX_PAYLOAD_BYTES + 1), "exceeds")]:
        with pytest.raises(WireError, match=needle):
            decode(payload, "orders")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated_payloads(draw) -> tuple[str, bytes]:
    """A valid payload with one field removed, re-typed or replaced — or plain random bytes."""
    leaf = draw(st.sampled_from(DEVICE_LEAVES))
    data = body(draw(st.sampled_from(EXAMPLES[leaf])))
    how = draw(st.sampled_from(["drop", "retype", "random", "bytes", "nested-line"]))
    if how == "bytes":
        return leaf, draw(st.binary(max_size=300))
    field = draw(st.sampled_from(sorted(data)))
    if how == "drop":
        del data[field]
    elif how == "retype":
        data[field] = draw(json_values)
    elif how == "random":
        data = draw(json_values)
    elif "lines" in data:
        data["lines"][0][draw(st.sampled_from(["sku", "quantity", "unit_price_cents"]))] = draw(json_values)
    return leaf, json.dumps(data).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads())
def test_fuzzed_payloads_decode_or_raise_wire_error_only(case):
    leaf, payload = case
    try:
        message = decode(payload, leaf)
    except WireError:
        return
    # The few mutations that stay valid (e.g. a retyped field given a valid value) must round-trip.
    assert decode(encode(message), leaf) == message


def test_broker_urls():
    a = parse_broker_url("mqtts://dev-1:s%40cret@broker.example:8884")
    assert (a.host, a.port, a.tls, a.username, a.password) == ("broker.example", 8884, True, "dev-1", "s@cret")
    assert parse_broker_url("mqtt://localhost").port == 1883
    assert parse_broker_url("mqtts://localhost").port == 8883
    for bad in ("http://x", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(ValueError, match="broker URL"):
            parse_broker_url(bad)
