"""No command prints a secret: a PIN and passwords are planted in the config, the environment, a broker
URL and a password file, then every `python -m edge` and `python -m cloud` command runs (its help, its
ordinary use, its error paths, with debug logging) and stdout + stderr are scanned for them.

Positive controls in the same runs (the masked "***" where a secret was, the host of a rejected URL)
show the commands reached the code that handles the secret, so a clean scan means something.
"""

from __future__ import annotations

import json
import logging
import re

import pytest

from edge.cli import SUBCOMMANDS
from edge.config import load_settings
from edge.redact import MASK, SecretFilter, redact_settings, secret_values
from edge.wire import parse_broker_url, redact_url
from tests.conftest import MODELS_DIR, run_cli

PIN = "7319"
PASSWORD = "pl4nted-Broker-pw"
URL_PASSWORD = "pl4nted-Url-pw"
CLOUD_PASSWORD = "pl4nted-Cloud-pw"
SECRETS = (PASSWORD, URL_PASSWORD, CLOUD_PASSWORD)


def leaks(text: str) -> list[str]:
    """Planted secrets found in text (the PIN as a number of its own, not inside a longer one)."""
    found = [secret for secret in SECRETS if secret in text]
    if re.search(rf"(?<![\d.]){PIN}(?![\d])", text):
        found.append(PIN)
    return found


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets")
    config = root / "device.toml"
    config.write_text(f'[dialog]\npin = "{PIN}"\nspending_limit_cents = 0\n[broker]\npassword = "{PASSWORD}"\n')
    password_file = root / "cloud-password"
    password_file.write_text(CLOUD_PASSWORD + "\n")
    env = {"VOICESHOP_CONFIG": str(config), "VOICESHOP_DEVICE__DATA_DIR": str(root / "data"),
           "VOICESHOP_BROKER__URL": f"mqtt://dev-0001:{URL_PASSWORD}@127.0.0.1:1",
           "VOICESHOP_BROKER__BACKOFF_MAX_SECONDS": "0.2", "VOICESHOP_MODELS__DIR": str(MODELS_DIR),
           "VOICESHOP_CLOUD_PASSWORD": CLOUD_PASSWORD}
    return root, env, password_file


def scan(env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 300) -> str:
    result = run_cli(*args, env=env, stdin=stdin, timeout=timeout)
    output = result.stdout + result.stderr
    assert leaks(output) == [], f"{' '.join(args)} printed a secret:\n{output[-3000:]}"
    assert "Traceback" not in output, f"{' '.join(args)}:\n{output[-3000:]}"
    return output


def test_every_edge_command_keeps_the_secrets(planted):
    root, env, _ = planted
    missing = str(root / "missing.wav")
    for name in SUBCOMMANDS:
        scan(env, "edge", name, "--help")
    shown = scan(env, "edge", "config", "--json", "-vv")
    settings = json.loads(shown.splitlines()[0])
    assert settings["dialog"]["pin"] == MASK and settings["broker"]["password"] == MASK
    assert settings["broker"]["url"] == f"mqtt://dev-0001:{MASK}@127.0.0.1:1"
    assert MASK in scan(env, "edge", "config", "--section", "dialog")
    assert MASK in scan(env, "edge", "config", "--section", "broker", "--json")
    scan(env, "edge", "orders", "-vv", "list")
    scan(env, "edge", "orders", "-vv", "cancel", "1")
    synced = scan(env, "edge", "orders", "-vv", "--log-json", "sync", "--once", "--timeout", "1")
    assert "127.0.0.1:1" in synced  # it did try the broker whose URL carries the password
    bad_url = f"mqtt://dev-0001:{URL_PASSWORD}@127.0.0.1:notaport"
    rejected = scan(env, "edge", "orders", "sync", "--once", "--broker", bad_url)
    assert "bad port" in rejected and MASK in rejected
    scan(env, "edge", "catalog", "-vv", "stats")
    scan(env, "edge", "catalog", "-vv", "search", "milk")
    scan(env, "edge", "catalog", "apply", missing)
    scan(env, "edge", "wake", missing, "--json", "-vv")
    scan(env, "edge", "transcribe", missing, "--json", "-vv")
    scan(env, "edge", "listen", "--wav", missing, "--fast", "-vv")
    scan(env, "edge", "run", "--wav", missing, "--sim-mcu", "-vv")
    scan(env, "edge", "mcu", "-vv")
    scan(env, "edge", "nlu", "--json", "-vv", "my pin is 7 3 1 9", "add milk")
    scan(env, "edge", "say", "--null", "-vv", "hello")
    scan(env, "edge", "chat", "--unlock-purchasing", "--db", str(root / "data"))
    scan(env, "edge.simulate", "--help")


@pytest.mark.parametrize(("text", "secret"), [
    (f'[dialog]\npin = "{PIN}9"\n', PIN),
    (f"[dialog]\npin = {PIN}\n", PIN),
    (f'[broker]\npassword = 7{PIN}\n', PIN),
])
def test_config_errors_about_secrets_keep_them(planted, text, secret):
    root, env, _ = planted
    bad = root / f"bad-{abs(hash(text))}.toml"
    bad.write_text(text)
    output = scan({**env, "VOICESHOP_CONFIG": str(bad)}, "edge", "config")
    assert "config error" in output and "hidden value" in output


@pytest.mark.slow
def test_a_spoken_pin_is_never_echoed_by_chat(planted, bundle, tmp_path):
    from edge.simulation.world import demo_catalog, device_dir

    _root, env, _ = planted
    bundle("nlu")
    data = device_dir(demo_catalog(MODELS_DIR), tmp_path)
    lines = ["add two bags of fuji apples", "check out", "yes", "seven three one nine", "what's in my cart"]
    output = scan({**env, "VOICESHOP_BROKER__URL": ""}, "edge", "chat", "--json", "-vv", "--db", str(data),
                  stdin="\n".join(lines) + "\n")
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records[3]["user"] == "****"
    assert any(a["type"] == "order_queued" for a in records[3]["actions"]), records[3]  # the PIN was right
    rejected = scan(env, "edge", "chat", "--db", str(data), "--broker", f"http://dev:{URL_PASSWORD}@host",
                    stdin="hi\n")
    assert "scheme must be mqtt" in rejected and MASK in rejected  # the session got as far as the URL


def test_every_cloud_command_keeps_the_secrets(planted):
    root, env, password_file = planted
    for group in ("catalog", "recs", "serve", "orders"):
        scan(env, "cloud", group, "--help")
    scan(env, "cloud", "--help")
    url = f"mqtt://cloud-1:{URL_PASSWORD}@127.0.0.1:1"
    common = ["--db", str(root / "cloud.sqlite"), "--catalog", str(root / "none.db")]
    scan(env, "cloud", "serve", "--broker", url, *common, "-vv")
    scan(env, "cloud", "serve", "--broker", f"mqtt://cloud-1:{URL_PASSWORD}@127.0.0.1:bad", *common)
    scan(env, "cloud", "serve", "--broker", "mqtt://127.0.0.1:1", "--password-file", str(password_file), *common)
    unreadable = scan(env, "cloud", "serve", "--broker", "mqtt://127.0.0.1:1", "--password-file",
                      str(root / "nope"), *common)
    assert "--password-file" in unreadable
    warned = scan(env, "cloud", "serve", "--broker", "mqtt://127.0.0.1:1", "--password", PASSWORD[:3] + "x", *common)
    assert "visible" in warned
    scan(env, "cloud", "orders", "list", "--pg", f"postgresql://voiceshop:{URL_PASSWORD}@127.0.0.1:1/none")


def test_cloud_serve_reads_the_password_from_a_file_or_the_environment(planted):
    import argparse

    from cloud.serve.cli import PASSWORD_ENV, mqtt_password

    _root, _env, password_file = planted
    args = argparse.Namespace(password_file=str(password_file), password="")
    assert mqtt_password(args, "from-url") == CLOUD_PASSWORD
    args = argparse.Namespace(password_file="", password="")
    import os

    old = os.environ.pop(PASSWORD_ENV, None)
    try:
        assert mqtt_password(args, "from-url") == "from-url"
        os.environ[PASSWORD_ENV] = "from-env"
        assert mqtt_password(args, "from-url") == "from-env"
    finally:
        os.environ.pop(PASSWORD_ENV, None)
        if old is not None:
            os.environ[PASSWORD_ENV] = old


def test_log_filter_masks_secrets_in_messages_and_tracebacks(planted, tmp_path):
    _root, env, _ = planted
    settings = load_settings(environ=env)
    assert set(secret_values(settings)) == {PIN, PASSWORD, URL_PASSWORD}
    stream = tmp_path / "log.txt"
    handler = logging.FileHandler(stream)
    handler.addFilter(SecretFilter(secret_values(settings)))
    logger = logging.getLogger("test.secrets")
    logger.addHandler(handler)
    try:
        logger.warning("connecting with %s and pin %s", PASSWORD, PIN)
        try:
            raise RuntimeError(f"auth failed for {URL_PASSWORD}")
        except RuntimeError:
            logger.exception("broker said no")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = stream.read_text()
    assert leaks(text) == [] and text.count(MASK) == 3 and "RuntimeError" in text


def test_url_and_settings_redaction():
    assert redact_url(f"mqtts://dev:{URL_PASSWORD}@h:8883") == f"mqtts://dev:{MASK}@h:8883"
    assert redact_url("mqtt://h:1883") == "mqtt://h:1883"
    with pytest.raises(ValueError) as info:
        parse_broker_url(f"ftp://dev:{URL_PASSWORD}@h")
    assert URL_PASSWORD not in str(info.value) and MASK in str(info.value)
    shown = redact_settings({"dialog": {"pin": ""}, "broker": {"password": "", "url": "mqtt://h:1"}})
    assert shown == {"dialog": {"pin": ""}, "broker": {"password": "", "url": "mqtt://h:1"}}  # unset stays visible
