"""`python -m edge SUBCOMMAND`: a thin front over the library, one module per subcommand.

Conventions every subcommand follows (tests hold them to it), shared with `python -m cloud` through
`voiceshop_common.cli`: `--json` prints one JSON object per line and nothing else on stdout
(`emit_json`); logs go to stderr (`--log-json` makes them JSON too); a subcommand ends with
`fail(message)`: a bad config or bad input exits 2 with a one-line message, never a traceback, and a
failure of the world (`fail(message, WORLD_FAILED)`) exits 1.

A subcommand lives in its own module under `edge/commands/` exposing
``add_arguments(parser)`` and ``run(args, settings) -> int``; it is listed in SUBCOMMANDS with its
help line, and imported only when chosen so `--help` stays fast and light.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from edge.config import ConfigError, Settings, load_settings
from edge.logs import setup_logging
from edge.redact import hide_secrets_in_logs
from voiceshop_common.cli import WORLD_FAILED, Program, emit_json, fail

# emit_json, fail and WORLD_FAILED are re-exported: subcommands take the shared convention from here.
__all__ = ["PROGRAM", "SUBCOMMANDS", "WORLD_FAILED", "add_demo_catalog_option", "emit_json", "fail",
           "load_demo_catalog_if_asked", "main", "with_data_dir"]

# name -> (module, one-line help). Add a line here when a subcommand lands.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "config": ("edge.commands.config", "show the effective settings (defaults + file + environment)"),
    "wake": ("edge.commands.wake", "run the wake word over a WAV file and list the detections"),
    "catalog": ("edge.commands.catalog", "the offline catalog: search, recommend, stats, apply a signed delta"),
    "orders": ("edge.commands.orders", "the order outbox: list, sync with the cloud (--once), cancel"),
    "mcu": ("edge.commands.mcu", "talk to the microcontroller: handshake, set LED/volume, watch its events"),
    "chat": ("edge.commands.chat", "the shopping dialogue as a text REPL (NLU + dialogue + catalog + outbox)"),
    "nlu": ("edge.commands.nlu", "intent and slots of each TEXT (or of each stdin line with -)"),
    "say": ("edge.commands.say", "speak TEXT with the device's voice (speaker, -o out.wav, or --null)"),
    "transcribe": ("edge.commands.transcribe", "recognize WAV files of any length (VAD + Whisper), one result per file"),
    "listen": ("edge.commands.listen", "live speech events (partials, finals, endpoints) from --wav FILE or --mic"),
    "run": ("edge.commands.run", "the device loop: mic or WAV -> wake -> ASR -> NLU -> dialogue -> TTS, LEDs on the MCU"),
    "wyoming": ("edge.commands.wyoming", "serve asr, tts, wake and the shopping dialogue over Wyoming (Home Assistant)"),
}

log = logging.getLogger("edge.cli")


def with_data_dir(settings: Settings, data_dir: str | Path | None) -> Settings:
    """settings with [device] data_dir set to a subcommand's `--db DIR` (unchanged without one), so
    every file under it (catalog.db, its public key, outbox.sqlite) follows, as in `chat --db DIR`."""
    if not data_dir:
        return settings
    import dataclasses

    return dataclasses.replace(settings, device=dataclasses.replace(settings.device, data_dir=str(data_dir)))


def add_demo_catalog_option(parser: argparse.ArgumentParser) -> None:
    """`--demo-catalog` for the subcommands that need a catalog (chat, run): one wording, one behaviour."""
    parser.add_argument("--demo-catalog", action="store_true",
                        help="build and apply the demo catalog into the data dir first if it has none")


def load_demo_catalog_if_asked(args: argparse.Namespace, data_dir: Path, settings: Settings) -> str | None:
    """With --demo-catalog and no usable catalog in data_dir, build and apply the demo one.

    Opt-in, never implied: a device in the field must not fill itself with invented products.
    Returns why the build failed (the subcommand exits 2 with it), or None; a data dir that cannot
    be made (a file in the way, no permission) is such a failure, not a traceback.
    """
    if not args.demo_catalog:
        return None
    from edge.dialog.demo import DemoCatalogError, install_demo_catalog
    from edge.dialog.session import catalog_problem

    if catalog_problem(data_dir) is None:
        return None
    print(f"building the demo catalog into {data_dir} (about half a minute)...", file=sys.stderr)
    try:
        install_demo_catalog(data_dir, models_dir=settings.models.path, language=settings.device.language)
    except DemoCatalogError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot build the demo catalog in {data_dir}: {exc.strerror or exc}"
    return None


def corrector_if_asked(args: argparse.Namespace, settings: Settings) -> Any:
    """With --correct, the catalog-aware corrector over --db (or the data dir); bad input when there is no
    catalog to correct against. `edge nlu` and `edge transcribe` share it so both say the same thing."""
    if not args.correct:
        return None
    from edge.catalog.correction import corrector_for_data_dir

    try:
        return corrector_for_data_dir(Path(args.db).expanduser() if args.db else settings.device.data_path)
    except ValueError as exc:
        fail(str(exc))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML file overriding edge/default_config.toml")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout, nothing else")
    parser.add_argument("--log-json", action="store_true", help="structured JSON logs on stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")


PROGRAM = Program("python -m edge", "voiceshop-edge device runtime: on-device voice shopping.", SUBCOMMANDS,
                  add_common=_common)


def _run(module: ModuleType, args: argparse.Namespace) -> int | None:
    """The device's glue around a subcommand: logging, then the settings (a bad config is bad input)."""
    setup_logging(json_logs=args.log_json, verbose=args.verbose)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        fail(f"config error: {exc}")
    hide_secrets_in_logs(settings)
    return module.run(args, settings)


def main(argv: Sequence[str] | None = None) -> int:
    return PROGRAM.main(argv, _run)
