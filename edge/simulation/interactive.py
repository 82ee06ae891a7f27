"""`python -m edge.simulate --interactive [--mic]`: talk to the simulated device yourself.

Typed lines are spoken in the simulated user's voice and go through the same chain as the script
(wake word, VAD, ASR, NLU, dialogue, TTS): when the device is idle the wake phrase is put in front
of the line, when it is still listening for an answer the line is said as is. An empty line is
silence (a pending question times out). With --mic the microphone feeds the device in real time
and the replies play on the speaker; Ctrl-C ends either mode.
"""

from __future__ import annotations

import sys
from typing import Any

from edge.audio import open_source


def _lines() -> Any:
    while True:
        print("you> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            return
        yield line.strip()


def interact(sim: Any, device: Any, user: Any, speaker: Any, timeline: Any) -> None:
    settings = sim.settings
    if sim.args.mic:
        timeline.note(f"speak into the microphone (\"{settings.wake.phrase}, ...\"); Ctrl-C ends")
        sim.recorder.listeners.append(
            lambda r: r["event"] == "turn" and sim._row("microphone", "", None, r, [], timeline))
        source = open_source("mic", settings.audio.sample_rate, settings.audio.frame_ms)
        try:
            device.loop.run(source)
        except KeyboardInterrupt:
            pass
        finally:
            source.close()
        return
    timeline.note("type what the user says (empty line: silence, Ctrl-D ends)")
    try:
        for line in _lines():
            clip = None
            if line:
                wake = device.loop.state == "idle"
                clip = speaker.wake_and_say(settings.wake.phrase, line) if wake else speaker.say(line)
            played = user.play(clip, line, button=None, timeout=settings.dialog.turn_timeout_seconds)
            sim._row("interactive", line, clip, played.record, [], timeline)
    except KeyboardInterrupt:
        pass
    user.end_session(settings.dialog.turn_timeout_seconds)
