"""Overlay TOML tables and environment variables onto frozen settings dataclasses, checking each value.

Kept apart from `edge.config` so that module holds only what the device reads (one dataclass per
stage, each field with its default, docstring and bound) while this one holds how a value is read
and checked. Nothing here knows the device's sections: it walks whatever dataclass it is given.
A field's bound sits in its metadata (`bound`, `between`) so the range is read next to the default.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from edge.redact import is_secret

BOUND = "bound"
"""The metadata key of a field's range check: (predicate, what the value must be)."""


class ConfigError(ValueError):
    """A config value is unknown, mistyped or out of range; the message names key and source."""


def bound(ok: Callable[[Any], bool], must_be: str) -> dict[str, Any]:
    """Field metadata for a check types alone cannot express; must_be finishes "'key' must be ..."."""
    return {BOUND: (ok, must_be)}


def between(low: float, high: float) -> dict[str, Any]:
    """Field metadata for an inclusive range, the common case."""
    return bound(lambda v: low <= v <= high, f"between {low} and {high}")


def _show(value: Any, secret: bool) -> str:
    """How an error message quotes a value: a secret (the PIN, a password) is never echoed."""
    return "a hidden value" if secret else repr(value)


def _check_type(value: Any, hint: Any, where: str, secret: bool = False) -> Any:
    """Return value coerced to hint (int -> float only), or raise ConfigError naming where (not a secret's value)."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{where}: must be one of {', '.join(map(repr, allowed))}, got {_show(value, secret)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {type(value).__name__} {_show(value, secret)}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {type(value).__name__} {_show(value, secret)}")
        return value
    if hint in (str, bool):
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: expected {hint.__name__}, got {type(value).__name__} {_show(value, secret)}")
        return value
    if origin in (types.UnionType, typing.Union):  # pragma: no cover - no optional fields yet
        raise ConfigError(f"{where}: unsupported union type")
    raise ConfigError(f"{where}: unsupported type {hint!r}")


def overlay(cls: type, data: Mapping[str, Any], base: Any, path: str, source: str) -> Any:
    """Overlay data onto the dataclass instance base, validating each key against cls and its bounds."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{dotted}' (known: {', '.join(sorted(known))})")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: '{dotted}' must be a table, got {type(value).__name__}")
            changes[key] = overlay(hint, value, getattr(base, key), dotted, source)
            continue
        secret = is_secret(path, key)
        value = _check_type(value, hint, f"{source}: '{dotted}'", secret)
        check = known[key].metadata.get(BOUND)
        if check and not check[0](value):
            raise ConfigError(f"{source}: '{dotted}' must be {check[1]}, got {_show(value, secret)}")
        changes[key] = value
    return dataclasses.replace(base, **changes)


def _parse_env_value(raw: str, hint: Any, where: str) -> Any:
    """Environment values are strings; read them as the field's type wants."""
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected a boolean (true/false), got {raw!r}")
    if hint is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{where}: expected an integer, got {raw!r}") from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {raw!r}") from None
    return raw


def env_overrides(root: type, environ: Mapping[str, str], prefix: str, skip: str) -> dict[str, Any]:
    """Turn <prefix>A__B=v variables into a nested dict {a: {b: v}} with leaves typed by root's fields.

    skip names one variable with the prefix that is not a setting (the config file's path).
    """
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(prefix) or "__" not in name or name == skip:
            continue
        parts = name[len(prefix):].lower().split("__")
        cls: Any = root
        for part in parts[:-1]:
            hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
            cls = hints.get(part)
            if cls is None or not dataclasses.is_dataclass(cls):
                raise ConfigError(f"environment: unknown section in {name}")
        hints = typing.get_type_hints(cls)
        if parts[-1] not in hints:
            raise ConfigError(f"environment: unknown key in {name}")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_env_value(raw, hints[parts[-1]], f"environment: {name}")
    return tree


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, or ConfigError naming the file when it is missing or not TOML."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
