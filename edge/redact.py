"""Keeping the device's secrets (voice PIN, broker password) out of everything it prints or logs.

Why a module of its own: `config` output, config errors, URL errors and log lines all show settings,
and a secret added later must be hidden in all of them by adding it here once. Two layers:
`redact_settings` masks the known secret fields (and passwords inside URLs) wherever settings are
shown on purpose, and `SecretFilter` masks the configured secret values in every log record, so a
message that quotes one by accident (an exception text, a library's debug line) still hides it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from edge.wire import redact_url

MASK = "***"

# (section path, key) of every secret setting; config.py hides their values in its errors too.
SECRET_FIELDS: frozenset[tuple[str, str]] = frozenset({("dialog", "pin"), ("broker", "password")})
# Settings that may carry a password inside a URL (mqtt://user:password@host).
URL_FIELDS: frozenset[tuple[str, str]] = frozenset({("broker", "url")})


def is_secret(path: str, key: str) -> bool:
    """True if the setting path.key holds a secret."""
    return (path, key) in SECRET_FIELDS


def redact_settings(data: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """A copy of a Settings.to_dict() tree with secrets masked; an empty secret stays "" (shows "not set")."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out[key] = redact_settings(value, f"{path}.{key}" if path else key)
        elif (path, key) in SECRET_FIELDS and value not in ("", None):
            out[key] = MASK
        elif (path, key) in URL_FIELDS and isinstance(value, str):
            out[key] = redact_url(value)
        else:
            out[key] = value
    return out


def secret_values(settings: Any) -> list[str]:
    """The non-empty secret values of a Settings (and the password of its broker URL), longest first."""
    values = [str(getattr(getattr(settings, section), key, "") or "") for section, key in SECRET_FIELDS]
    url = settings.broker.url
    if "@" in url and "://" in url:
        userinfo = url.split("://", 1)[1].rpartition("@")[0]
        if ":" in userinfo:
            values.append(userinfo.split(":", 1)[1])
    return sorted({v for v in values if v}, key=len, reverse=True)


class SecretFilter(logging.Filter):
    """Masks given secret values in a record's message, arguments and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print a set exc_text instead of formatting exc_info again.
            record.exc_text = self._mask(record.exc_text or logging.Formatter().formatException(record.exc_info))
        return True


def hide_secrets_in_logs(settings: Any) -> None:
    """Install a SecretFilter with settings' secrets on every handler of the root logger."""
    secrets = secret_values(settings)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        if secrets:
            handler.addFilter(SecretFilter(secrets))
