"""The simulated user: speaks each scripted turn into the device's microphone and waits for the answer.

Frames go into the device loop exactly as a microphone's would (16 kHz float32, frame_ms long,
consecutive stream-clock timestamps), through the mute gate, wake word, VAD and ASR. Like a person,
the user speaks, stays quiet until the device has answered, and then says the next line; buttons
are pressed on the simulated MCU, so they travel the serial protocol to the bridge. By default
frames are fed as fast as the device takes them and the user waits (without feeding) while the
device thinks and speaks, which makes a run take compute time rather than conversation time;
`realtime` paces frames to the wall clock and keeps the microphone open (silence) throughout.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.events import AudioChunk, LoopEvent
from edge.records import to_record

LEAD_IN_SECONDS = 0.4
"""Silence before each utterance (the wake word needs some context before the phrase)."""
BUTTON_WAIT_SECONDS = 3.0


def voiced_end(samples: np.ndarray, rate: int, window_s: float = 0.01, below_peak_db: float = 35.0) -> float:
    """Seconds from the clip's start to the end of its last window within below_peak_db of the loudest one:
    where the user's speech really ends (synthesized clips carry a little trailing silence)."""
    window = max(1, int(window_s * rate))
    frames = len(samples) // window
    if frames == 0:
        return len(samples) / rate
    energy = np.square(samples[:frames * window].reshape(frames, window)).mean(axis=1)
    loud = np.nonzero(energy >= energy.max() * 10 ** (-below_peak_db / 10))[0]
    return (int(loud[-1]) + 1) * window / rate


class Recorder:
    """The loop's emit callback: keeps every event as its JSON record (edge.records, plus the wall
    time it arrived) and passes it on to listeners (timeline, log)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.listeners: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: LoopEvent) -> None:
        with self._lock:
            record = {**to_record(event), "wall": round(time.time(), 3)}
            self.records.append(record)
        for listener in self.listeners:
            listener(record)

    def since(self, index: int, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.records[index:] if r["event"] == event]

    def __len__(self) -> int:
        with self._lock:
            return len(self.records)


@dataclass
class Played:
    """One scripted turn as it happened."""

    said: str
    audio_seconds: float
    record: dict[str, Any] | None
    """The device's turn record answering it (None if it never answered)."""
    state_after: str
    states: list[str] = field(default_factory=list)
    """States the device went through during the turn."""
    speech_end: float | None = None
    """Where the user's speech really ended on the stream clock (seconds)."""


def add_true_latency(record: dict[str, Any], speech_end: float, said_wall: float | None = None) -> None:
    """latency_ms["true_eos_to_first_audio"]: from where the user's speech really ended (known here,
    estimated by the VAD on the device) to the first reply audio.

    Fed in real time, `said_wall` is the perf_counter() moment the speech end reached the microphone,
    and the figure is plain wall time from then to the first audio: a frame the device took late
    (because it was still decoding the one before) counts, as it would for a person waiting. Fed
    faster than real time, it is the audio the VAD waited plus the compute after the endpoint frame.
    """
    latency = record.get("latency_ms") or {}
    first_wall = record.get("first_audio_wall")
    after, endpoint_at = latency.get("endpoint_to_first_audio"), record.get("endpoint_at")
    if said_wall is not None and first_wall is not None:
        latency["true_eos_to_first_audio"] = round(1000 * (first_wall - said_wall), 1)
        if after is not None and endpoint_at is not None:  # the endpoint frame's wait for the busy device
            due = said_wall + endpoint_at - speech_end
            latency["frame_behind"] = round(1000 * (first_wall - after / 1000 - due), 1)
        return
    if after is not None and endpoint_at is not None:
        latency["true_eos_to_first_audio"] = round(1000 * (endpoint_at - speech_end) + after, 1)


class User:
    """Feeds one device loop; the stream clock runs on across turns and sessions."""

    def __init__(self, sample_rate: int, frame_ms: int, *, realtime: bool = False, mcu: Any = None) -> None:
        self.rate, self.frame = sample_rate, sample_rate * frame_ms // 1000
        self.realtime, self.mcu = realtime, mcu
        self.clock = 0.0
        self._wall0: float | None = None
        self.loop: Any = None
        self.recorder: Recorder | None = None

    def attach(self, loop: Any, recorder: Recorder) -> None:
        self.loop, self.recorder = loop, recorder

    # -- the microphone ----------------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        """Samples into the microphone, frame by frame (paced to the wall clock when realtime)."""
        for start in range(0, len(samples), self.frame):
            block = np.ascontiguousarray(samples[start:start + self.frame], dtype=np.float32)
            if self.realtime:
                if self._wall0 is None:
                    self._wall0 = time.perf_counter() - self.clock
                time.sleep(max(0.0, self._wall0 + self.clock + len(block) / self.rate - time.perf_counter()))
            self.loop.feed(AudioChunk(samples=block, sample_rate=self.rate, timestamp=self.clock))
            self.clock += len(block) / self.rate

    def silence(self, seconds: float) -> None:
        self.feed(np.zeros(int(seconds * self.rate), dtype=np.float32))

    def _silence_while(self, busy: Any, limit_seconds: float) -> None:
        """Stay quiet (one frame at a time) while busy() holds, for at most limit_seconds of audio."""
        end = self.clock + limit_seconds
        while busy() and self.clock < end:
            self.silence(self.frame / self.rate)

    def _wait_answer(self, limit_seconds: float) -> None:
        """Quiet until the device has answered and stopped speaking."""
        if self.realtime:
            self._silence_while(lambda: self.loop.busy,
                                limit_seconds)
        else:
            self.loop.wait_quiet(limit_seconds)

    def _press(self, kind: str, until_state: str | None) -> None:
        """A button on the simulated MCU; the press travels the serial link and the bridge."""
        if self.mcu is None:
            raise RuntimeError("a button turn needs the simulated MCU")
        self.mcu.press(kind, "talk" if kind.startswith("ptt") else "action")
        deadline = time.monotonic() + BUTTON_WAIT_SECONDS
        while until_state and self.loop.state != until_state and time.monotonic() < deadline:
            time.sleep(0.02)
            self.silence(self.frame / self.rate)

    # -- one turn ----------------------------------------------------------------------------------
    def play(self, audio: np.ndarray | None, said: str, *, button: str | None, timeout: float) -> Played:
        """Say one line (None/empty audio: stay silent) and wait for the device to answer it."""
        assert self.loop is not None and self.recorder is not None
        mark = len(self.recorder)
        speech_end = None
        if audio is None or not len(audio):
            self._silence_while(lambda: self.loop.state in ("wake", "listening"), timeout + 2.0)
        else:
            if button == "tap":
                self._press("short", "listening")
            elif button == "ptt":
                self._press("ptt_down", "listening")
            self.silence(LEAD_IN_SECONDS)
            speech_end = self.clock + voiced_end(audio, self.rate)
            self.feed(audio)
            if button == "ptt":
                self._press("ptt_up", None)
            self._silence_while(lambda: self.loop.state in ("wake", "listening"), timeout + 2.0)
        self._wait_answer(120.0)
        turns = [r for r in self.recorder.since(mark, "turn") if r.get("kind") == "turn" or not said]
        states = [r["state"] for r in self.recorder.since(mark, "state")]
        if turns and speech_end is not None:
            said_wall = self._wall0 + speech_end if self.realtime and self._wall0 is not None else None
            add_true_latency(turns[-1], speech_end, said_wall)
        return Played(said=said, audio_seconds=0.0 if audio is None else len(audio) / self.rate,
                      record=turns[-1] if turns else None, state_after=str(self.loop.state), states=states,
                      speech_end=speech_end)

    def end_session(self, timeout: float) -> None:
        """The user walks away: silence until the device stops listening, and any last answer is done."""
        self._silence_while(lambda: self.loop.state in ("wake", "listening"), timeout + 2.0)
        self._wait_answer(120.0)
