"""The `detect` service: the device's wake word over a Wyoming audio stream.

Every stream gets its own WakeDetector (its feature buffers and trigger state) over the one
loaded wake model, with the device's threshold and refractory period, so what fires here is what
would fire on the device. A detection is sent as soon as it fires, stamped with the stream's
audio clock in milliseconds; the stream goes on (a later utterance may fire again after the
refractory period), and `audio-stop` after none gives `not-detected`.
"""

from __future__ import annotations

from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.event import Event
from wyoming.wake import Detect, Detection, NotDetected

from edge.config import Settings
from edge.events import AudioChunk
from edge.wake import WakeDetector, WakeModel, detector_for_settings
from edge.wyoming.audio import InputStream, WyomingInputError
from edge.wyoming.info import wake_name


def check_detect(event: Event, model: WakeModel) -> Detect:
    """The request, or WyomingInputError when it names only wake words this server does not have."""
    request = Detect.from_event(event)
    ours = wake_name(model.phrase)
    if request.names and ours not in request.names:
        raise WyomingInputError(f"no wake word named {', '.join(map(repr, request.names))}; this server "
                                f"detects {ours!r} ('{model.phrase}')", "unknown-wake-word")
    return request


class Listening:
    """One audio stream after `detect`: frames in (on a worker thread), detections out."""

    def __init__(self, settings: Settings, model: WakeModel, start: AudioStart, request: Detect | None) -> None:
        self.input = InputStream(start)
        self.request = request or Detect()
        self.name = wake_name(model.phrase)
        self._detector: WakeDetector = detector_for_settings(settings, model=model)
        self.detections = 0

    def feed(self, chunk: WyomingChunk) -> list[Event]:
        return self._detect(self.input.convert(chunk))

    def finish(self) -> list[Event]:
        tail = self.input.finish()
        events = self._detect(tail) if tail is not None else []
        if not self.detections:
            events.append(NotDetected(context=self.request.context).event())
        return events

    def close(self) -> None:
        """Nothing shared to give back: the detector is this stream's own."""

    def _detect(self, frame: AudioChunk) -> list[Event]:
        if not len(frame.samples):
            return []
        fired = self._detector.process(frame)
        self.detections += len(fired)
        return [Detection(name=self.name, timestamp=round(1000 * hit.timestamp), context=self.request.context).event()
                for hit in fired]
