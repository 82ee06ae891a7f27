"""Which LED pattern the device shows: one rule, so the privacy indicator can never be outranked."""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge.events import State

log = logging.getLogger("edge.leds")


def led_for(state: State | str, muted: bool, online: bool | None) -> str:
    """The LED pattern to show: muted above all (a privacy switch must be visible), then offline
    while idle (a broker is configured but unreachable), else the state's own pattern."""
    if muted:
        return "muted"
    if state == State.IDLE and online is False:
        return "offline"
    return State(state).value


class Leds:
    """The MCU's LED as the loop drives it: the rule's pattern, sent only when it changes.

    The loop calls `change` under its own lock (so the pattern follows the state it read) and
    `send` outside it. A failing send (an absent or rebooting MCU) is logged and never reaches the loop.
    """

    def __init__(self, set_led: Callable[[str], None] | None, online: Callable[[], bool | None]) -> None:
        self._set_led, self._online = set_led, online
        self.pattern = ""
        """The pattern last chosen ("" before the first)."""

    def change(self, state: State, muted: bool) -> str | None:
        """The pattern to send now, or None when the LED already shows it."""
        pattern = led_for(state, muted, self._online())
        if pattern == self.pattern:
            return None
        self.pattern = pattern
        return pattern

    def error(self) -> None:
        """Flash the error pattern; the next change replaces it."""
        self.pattern = "error"
        self.send("error")

    def send(self, pattern: str) -> None:
        if self._set_led is not None:
            try:
                self._set_led(pattern)
            except Exception:
                log.exception("setting LED %s failed", pattern)
