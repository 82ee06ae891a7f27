"""What an English device imports: libraries it never uses stay out of its memory (issue 21).

Each is measured in `python -m bench e2e`'s memory steps; here only whether they are imported at all,
each probe in a fresh interpreter (an earlier test's imports would hide one). Resident sizes when
imported, for the record: pypinyin ~55 MB (its phrase dictionary), cryptography ~9 MB, sqlite-utils
with click, dateutil and pluggy ~8 MB, cn2an (Mandarin numerals) ~4 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

KEPT_OUT = ("pypinyin", "cn2an", "sqlite_utils", "cryptography", "click", "sherpa_onnx")
"""Top-level modules an English device must not import: the Mandarin voice's front end and numerals, the catalog's
migration tool (an up-to-date catalog needs none), the signature check (only when a payload or key is used),
sherpa-onnx and its second onnxruntime (Whisper and the VAD run on the onnxruntime package by default)."""


def _imported(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run code in a fresh interpreter; the top-level modules of KEPT_OUT it left imported."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({list(KEPT_OUT)!r}))))
    """)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=600,
                            env={**environ, **(env or {})})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


DEVICE_IMPORTS = """
    import edge.cli, edge.device, edge.pipeline
    from edge.asr import recognizer_for_settings
    from edge.catalog.catalog import Catalog
    from edge.dialog.session import ShopSession
    from edge.nlu import Understander
    from edge.orders import Outbox
    from edge.tts import Synthesizer, synthesizer_for_settings
    from edge.wake import detector_for_settings
"""


def test_the_device_modules_import_none_of_them():
    assert _imported(DEVICE_IMPORTS) == []


def test_the_mandarin_voice_is_still_one_attribute_away():
    # edge.tts.ZhVoice resolves on first use, and only then brings pypinyin and cn2an (the probe can fail)
    assert _imported(textwrap.dedent(DEVICE_IMPORTS) + "from edge.tts import ZhVoice, load_zh_bundle\n") == ["cn2an", "pypinyin"]


def test_an_up_to_date_catalog_opens_without_sqlite_utils(tmp_path):
    db = tmp_path / "catalog.db"
    # a new file needs every migration: sqlite-utils comes in
    assert _imported(f"from edge.catalog.schema import open_catalog; open_catalog({str(db)!r})") == ["click", "sqlite_utils"]
    assert _imported(f"""
        from edge.catalog.schema import LATEST, open_catalog, schema_version
        assert schema_version(open_catalog({str(db)!r})) == LATEST
    """) == []


def test_verifying_a_payload_still_checks_its_signature(tmp_path):
    # cryptography loads where a payload is verified: a payload signed by another key is refused as before
    code = """
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from voiceshop_common.catalog_wire import PayloadError, open_payload, pack
        private, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        signed = pack("snapshot", 1, 0, "2026-01-01T00:00:00Z", {"products": []}, private.sign, "k")
        try:
            open_payload(signed, other.public_key())
        except PayloadError as exc:
            print("refused" if "signature does not verify" in str(exc) else exc)
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "refused"


@pytest.mark.slow
def test_a_loaded_english_device_has_none_of_them(bundle, tmp_path):
    for name in ("tts", "nlu", "vad", "asr", "wake"):
        bundle(name)
    code = f"""
        import tempfile
        from pathlib import Path
        from edge.config import load_settings
        from edge.device import load_models, warm_up_session
        from edge.dialog.session import ShopSession
        from edge.simulation.world import demo_catalog, device_dir
        settings = load_settings()
        data = device_dir(demo_catalog(settings.models.path), Path({str(tmp_path)!r}))
        import sys
        for name in [m for m in sys.modules if m.split(".")[0] in {list(KEPT_OUT)!r}]:
            del sys.modules[name]  # the demo catalog's builder (the cloud's code) may have used them
        models = load_models(settings)
        session = ShopSession(settings, data, broker_url="", nlu=models.nlu)
        warm_up_session(session, settings.device.id)
        session.turn("add two bags of apples")
        models.synthesizer.voice.synthesize("Added two bags of apples.")
    """
    assert _imported(code, env={"VOICESHOP_DEVICE__LANGUAGE": "en"}) == []


def test_sherpa_onnx_comes_in_only_with_a_sherpa_runtime(bundle):
    bundle("vad")
    bundle("asr")
    build = """
        from edge.config import load_settings
        from edge.asr import recognizer_for_settings
        recognizer_for_settings(load_settings())
    """
    assert _imported(build, env={"VOICESHOP_DEVICE__LANGUAGE": "en"}) == []
    assert _imported(build, env={"VOICESHOP_DEVICE__LANGUAGE": "en", "VOICESHOP_ASR__VAD_RUNTIME": "sherpa"}) == [
        "sherpa_onnx"]
    assert _imported(build, env={"VOICESHOP_DEVICE__LANGUAGE": "en", "VOICESHOP_ASR__RUNTIME": "sherpa"}) == [
        "sherpa_onnx"]


def test_the_synthesizer_still_knows_a_mandarin_voice():
    # the check no longer imports edge.tts.voice_zh; a ZhVoice (whose module is then loaded) is still one
    from edge.tts.stream import _is_mandarin
    from edge.tts.voice_zh import ZhVoice

    assert _is_mandarin(object.__new__(ZhVoice))
    assert not _is_mandarin(object())
