"""The one CLI convention of `python -m edge` and `python -m cloud`: JSON lines out, one way to fail.

- `--json` output is one JSON object per line on stdout (`emit_json`), nothing else; logs go to stderr.
- A command fails with `fail(message, code)`: the dispatcher prints one line, "<prog>: <message>", on
  stderr (never a traceback) and exits with the code: `BAD_INPUT` (2) when the caller can fix it
  (a flag, a path, the config), `WORLD_FAILED` (1) when the world failed (a port vanished, a disk is
  full, a broker refused). argparse's own errors exit 2 as well; Ctrl-C exits 130.
- A program is a table of commands, each a module exposing ``add_arguments(parser)`` and a run
  function, imported only when chosen so `--help` stays fast and light (`Program.main`).

Secrets stay out of all of it: commands print redacted settings (edge/redact.py), and a message
passed to `fail` names a key, never its value.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NoReturn

BAD_INPUT = 2
"""Exit code when the command line, a file it names or the config is wrong: the caller can fix it."""
WORLD_FAILED = 1
"""Exit code when the input was fine but the world failed (hardware, disk, network, a damaged store)."""
INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as a shell reports it."""


class CliFailure(Exception):
    """Raised by `fail`; `Program.main` prints it as one line and returns its code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def emit_json(record: Any) -> None:
    """Print one JSON record as one line on stdout and flush, so pipes see it at once."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """End the command: one line on stderr naming the program, then exit code (2 bad input, 1 the world)."""
    raise CliFailure(message, code)


def _no_common(parser: argparse.ArgumentParser) -> None:
    """Programs without options shared by every command."""


@dataclass(frozen=True)
class Program:
    """A `python -m NAME COMMAND ...` front: a table of lazily imported command modules."""

    prog: str
    """How the program is invoked, e.g. "python -m edge"; every message starts with it."""
    description: str
    """The line --help prints above the commands."""
    commands: Mapping[str, tuple[str, str]]
    """Command name -> (module path, one-line help)."""
    noun: str = "subcommand"
    """What a command is called in messages ("subcommand", "group")."""
    add_common: Callable[[argparse.ArgumentParser], None] = field(default=_no_common)
    """Adds the options every command takes (e.g. --config, --json) to a command's parser."""

    def build_parser(self) -> argparse.ArgumentParser:
        """The top-level parser (help and usage only: each command parses its own arguments)."""
        parser = argparse.ArgumentParser(prog=self.prog, description=self.description)
        sub = parser.add_subparsers(dest="command", metavar=self.noun.upper())
        for name, (_module, help_text) in self.commands.items():
            sub.add_parser(name, help=help_text, add_help=False)
        return parser

    def main(self, argv: Sequence[str] | None, run: Callable[[ModuleType, argparse.Namespace], int | None]) -> int:
        """Parse argv, import the chosen command's module and return run(module, args)'s exit code.

        run is the program's glue (logging set-up, loading settings) around the module's own run.
        """
        argv = list(sys.argv[1:] if argv is None else argv)
        top = self.build_parser()
        if not argv or argv[0] in ("-h", "--help"):
            top.print_help()
            return 0
        name, rest = argv[0], argv[1:]
        if name not in self.commands:
            top.print_usage(sys.stderr)
            print(f"{self.prog}: unknown {self.noun} {name!r}", file=sys.stderr)
            return BAD_INPUT
        module_path, help_text = self.commands[name]
        module = importlib.import_module(module_path)
        parser = argparse.ArgumentParser(prog=f"{self.prog} {name}", description=help_text)
        self.add_common(parser)
        module.add_arguments(parser)
        args = parser.parse_args(rest)
        try:
            return int(run(module, args) or 0)
        except CliFailure as failure:
            sys.stdout.flush()
            action = getattr(args, "action", None)  # "catalog publish", "orders sync": say which one failed
            print(f"{parser.prog}{f' {action}' if action else ''}: {failure.message}", file=sys.stderr)
            return failure.code
        except KeyboardInterrupt:
            return INTERRUPTED
