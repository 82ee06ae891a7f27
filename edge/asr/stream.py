"""VAD-segmented streaming recognition: push 16 kHz frames, get speech events back.

The recognizer owns one Silero VoiceActivityDetector (edge.asr.vad_ort, or sherpa-onnx's) and one offline decoder. Silero
is set to a short `pause_seconds` of silence so that every pause surfaces as a finished VAD segment;
our own logic decides what a pause means:

- speech begins  -> SpeechStarted; an utterance opens (with a little audio before the VAD's start);
- speech goes on -> every `partial_interval_seconds` of new audio the utterance so far is decoded
                    again -> PartialTranscript;
- a pause begins -> the utterance is decoded *speculatively* right away, while we wait. A pause
                    begins when the last 100 ms are quieter than a pause (edge.asr.pauses: energy
                    against the utterance's own level and noise), or when Silero reports its
                    segment's end, whichever comes first (Silero's end comes ~0.3 s after the sound
                    stops: its probability decays, then it waits `pause_seconds`);
- the pause lasts `early_endpoint_seconds` and the speculative text is a complete request (the
  injected `complete` check: NLU confident, no dangling "of"/"and"/"um" at its end) -> Endpoint
  early; the user who pauses mid-phrase is not cut off, because that text is not complete;
- the pause lasts `min_silence_seconds` (or the relaxed value) -> Endpoint in any case, unless the
  last 100 ms, or any 100 ms after the segment's tail, are louder than a pause (talking again, before Silero
  notices: HOLD_GRACE). Either way
  the speculative text is committed as the FinalTranscript without decoding again; if speech (any
  sound louder than the pause threshold) came back meanwhile the speculation is dropped and the
  utterance simply continues;
- an utterance reaching `max_segment_seconds` is cut at its quietest 30 ms in the last 3 s and the
  part before is committed (Whisper decodes at most 29.5 s at once; sherpa drops the rest).

Every text goes through edge.asr.guard before it becomes an event. Decoding happens inside
process(): on a real-time source the frames that arrive meanwhile wait in the source's buffer, and
because the speculative decode ran during the endpoint wait, the final is ready when the endpoint is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from edge.asr import guard
from edge.asr.buffer import StreamAudio, clean_samples
from edge.asr.packing import Packer
from edge.asr.pauses import WINDOW, pause_threshold, quietest_point, window_levels
from edge.asr.pauses import level_dbfs as _level
from edge.asr.recognition import Alternatives, Complete, Decode, Endpointing, Speculation, Utterance
from edge.events import AudioChunk, Endpoint, FinalTranscript, PartialTranscript, SpeechStarted

log = logging.getLogger("edge.asr")

RATE = 16000
PREROLL = int(0.5 * RATE)
"""Audio decoded before the VAD's speech start. Whisper wants silence before the first word and
Silero starts late on soft onsets: on 100 synthesized commands 0.15 s gave WER 0.056 (Piper) /
0.260 (espeak-ng), 0.5 s gave 0.021 / 0.208 (the anchor, faster-whisper on padded clips: 0.027 / 0.232)."""
TAIL = int(0.3 * RATE)
"""Audio decoded after the VAD's speech end (final plosives fall below Silero's threshold: "cart"
came out "car" with 0.2 s). The speculative decode takes what has arrived when the pause is noticed."""
HOLD_GRACE = int(0.3 * RATE)
"""How long the silence hold waits beyond min_silence_seconds while the last 100 ms are louder than
a pause: the user is talking again and Silero has not said so yet (it needs ~0.25 s). Capped, so a
noise that never stops cannot hold the endpoint off (samples)."""
SPLIT_SEARCH = 3 * RATE
"""How far back from the length limit to look for a quiet place to cut (samples)."""
LATE_SPEECH = int(0.25 * RATE)
"""A speculation Silero's segment outlasts by more than this is stale even if nothing was louder than the
pause: the quiet was a stop inside a word ("I want to buy app|les", the soft "-les" under the pause level).
Silero's segment ends ~0.1 s after the quiet we speculate at when the speech really ended (samples)."""

class VadRecognizer:
    """The streaming interface over Silero VAD + an offline decoder (Whisper on sherpa-onnx)."""

    def __init__(self, make_vad: Callable[[], Any], decode: Decode, endpointing: Endpointing,
                 complete: Complete | None = None) -> None:
        self._make_vad = make_vad
        self._decode = decode
        self.endpointing = endpointing
        self.complete = complete
        """text -> is it a whole request? (edge.asr.complete); None: never endpoint early. It runs on
        the thread that feeds frames (the device's audio thread) and calls the NLU there."""
        self.prompt: Any = None
        """Whisper's prompt for every decode (an edge.asr.prompt.AsrPrompt, handed to the decoder), or None.
        Set by whoever knows the shop (the device builder, bench task); `decode` stays unprompted."""
        self.stats = {"decodes": 0, "decode_seconds": 0.0, "speculative_hits": 0, "speculative_misses": 0,
                      "speculative_retries": 0, "dropped_by_guard": 0, "early_endpoints": 0}
        if endpointing.pack and (endpointing.partials or endpointing.speculative):
            raise ValueError("packing utterances holds their finals back: only without partials and speculation")
        self._packer = Packer(endpointing.pack,
                              lambda audio, speech, spans: self._decode_group(audio, speech, spans)[:2]) \
            if endpointing.pack else None
        self.reset()

    @property
    def decode(self) -> Decode:
        """samples -> text with this recognizer's Whisper (the wake word's second look borrows it: one copy)."""
        return self._decode

    # -- the Recognizer protocol ------------------------------------------------------------

    def reset(self) -> None:
        """Forget the stream: fresh VAD state, no open utterance, clock restarts at the next frame."""
        # sherpa's reset() clears the detector's state and its sample count in microseconds;
        # building a new one reloads the model (~1 s on a busy device).
        if getattr(self, "_vad", None) is None:
            self._vad = self._make_vad()
        else:
            self._vad.reset()
        self._audio = StreamAudio()
        self._utt: Utterance | None = None
        self._t0: float | None = None
        self._swallow = False
        """An early endpoint came before Silero's segment ended: that segment is already committed."""
        self._threshold: tuple[int, int, float] = (-1, -1, 0.0)
        """(from, to, dBFS): the pause threshold last computed, reused within one frame."""
        if self._packer is not None:
            self._packer.reset()

    def process(self, chunk: AudioChunk) -> list[Any]:
        samples = clean_samples(chunk)
        if self._t0 is None:
            self._t0 = chunk.timestamp
        self._audio.push(samples)
        self._vad.accept_waveform(samples)
        events: list[Any] = []
        self._check_speculation(len(samples))
        self._drain_segments(events)
        if self._vad.is_speech_detected():
            self._in_speech(events)
        self._maybe_speculate()
        self._maybe_split(events)
        self._maybe_endpoint(events)
        if self._packer is not None and self._packer.overdue(self._audio.end):
            events += self._packer.flush()
        if self._utt is None:
            keep = self._audio.end - PREROLL - RATE
            self._audio.forget_before(self._packer.keep_from(keep) if self._packer is not None else keep)
        return events

    def flush(self) -> list[Any]:
        """The input ended (file end, push-to-talk released): commit whatever is open."""
        events: list[Any] = []
        self._vad.flush()
        self._drain_segments(events, speculate=False)
        utt = self._utt
        if utt is not None:
            stop = self._audio.end if utt.last_end is None else min(self._audio.end, utt.last_end + TAIL)
            if utt.last_end is None:
                utt.speech += max(0, self._audio.end - utt.start - utt.speech)
            self._commit(utt, stop, events)
            events.append(Endpoint(self._time(self._audio.end)))
        if self._packer is not None:
            events += self._packer.flush()
        self.reset()
        return events

    # -- internals ----------------------------------------------------------------------------

    def _time(self, index: int) -> float:
        return (self._t0 or 0.0) + index / RATE

    def _run_decode(self, audio: np.ndarray, spans: Sequence[tuple[float, float]] | None = None,
                    partial: bool = False) -> tuple[str, float, Alternatives]:
        """(text, seconds, the beam's alternatives); spans: a packed window's utterances (edge.asr.packing),
        decoded in timestamp mode. A partial is heard once, by the first of a pair (edge.asr.pair: `once`): it is
        only shown, and a second hearing while the user still speaks would take the CPU the microphone needs."""
        started = time.perf_counter()
        alternatives: Alternatives = ()
        decode = getattr(self._decode, "once", self._decode) if partial else self._decode
        if spans is not None:  # a packed window (edge.asr.packing)
            text = decode(audio, self.prompt, timed=True, spans=spans)
        elif hasattr(decode, "scored"):
            text, _, alternatives = decode.scored(audio, self.prompt)
        else:
            text = decode(audio, self.prompt) if self.prompt is not None else decode(audio)
        seconds = time.perf_counter() - started
        self.stats["decodes"] += 1
        self.stats["decode_seconds"] += seconds
        return text, seconds, alternatives

    def _open(self, vad_start: int, events: list[Any]) -> Utterance:
        self._utt = Utterance(start=max(self._audio.base, vad_start - PREROLL))
        self._utt.partial_at = self._utt.start
        events.append(SpeechStarted(self._time(vad_start)))
        return self._utt

    def _drain_segments(self, events: list[Any], speculate: bool = True) -> None:
        while not self._vad.empty():
            segment = self._vad.front
            start, end = segment.start, segment.start + len(segment.samples)
            self._vad.pop()
            if self._swallow and self._utt is None:  # its words were committed by an early endpoint
                self._swallow = False
                continue
            self._swallow = False
            utt = self._utt or self._open(start, events)
            utt.last_end = end
            utt.speech += end - max(start, utt.start)
            if utt.speculation is not None and end > utt.speculation.stop + LATE_SPEECH:
                self.stats["speculative_misses"] += 1
                utt.speculation = None
            if (speculate and self.endpointing.speculative and not self._vad.is_speech_detected()
                    and utt.speculation is None):
                self._speculate(utt, min(self._audio.end, end + TAIL), end)

    def _in_speech(self, events: list[Any]) -> None:
        utt = self._utt
        if utt is None:
            if self._swallow and not self._loud(self._audio.end - WINDOW, self._audio.base):
                return  # Silero still in the segment an early endpoint committed; nothing new said
            current = self._vad.current_segment
            start = current.start if current is not None else self._audio.end
            if self._swallow:  # new speech inside that segment: the new request starts now
                start = self._audio.end - WINDOW
                self._swallow = False
            utt = self._open(start, events)
        if utt.last_end is not None:  # speech resumed before the endpoint: the utterance goes on
            utt.last_end = None
            if utt.speculation is not None:
                self.stats["speculative_misses"] += 1
                utt.speculation = None
        # Partials at least every partial_interval of audio, but never more than half the time
        # spent decoding them: on a slow or busy CPU, falling behind real time is worse than a
        # partial that comes a little later.
        # A partial is also put off while the last 100 ms are quiet: that may be a pause beginning,
        # and a partial decode started there would delay the speculative one (and the endpoint).
        interval = max(self.endpointing.partial_interval, 2.0 * utt.partial_seconds)
        due = self.endpointing.partials and self._audio.end - utt.partial_at >= interval * RATE
        if due and not self._quiet_now(utt) and utt.speculation is None:
            utt.partial_at = self._audio.end
            text, utt.partial_seconds, _ = self._run_decode(self._audio.slice(utt.start, self._audio.end),
                                                          partial=True)
            text = guard.accept(text, self._audio.slice(utt.start, self._audio.end), self._speech_so_far(utt) / RATE)
            if text and text != utt.last_partial:
                utt.last_partial = text
                events.append(PartialTranscript(text, self._time(self._audio.end)))

    def _pause_level(self, start: int) -> float:
        """pauses.pause_threshold of the audio from `start` to now (computed once per frame)."""
        if self._threshold[:2] != (start, self._audio.end):
            level = pause_threshold(self._audio.slice(start, self._audio.end))
            self._threshold = (start, self._audio.end, level)
        return self._threshold[2]

    def _quiet_now(self, utt: Utterance) -> bool:
        """The last 100 ms are a pause (edge.asr.pauses)."""
        return not self._loud(self._audio.end - WINDOW, utt.start)

    def _loud(self, since: int, start: int) -> bool:
        """Audio from `since` to now is louder than a pause of the utterance that began at `start`
        (between utterances: of the audio kept, which still holds the last request's speech)."""
        recent = self._audio.slice(since, self._audio.end)
        return len(recent) > 0 and _level(recent) >= self._pause_level(start)

    def _resumed(self, utt: Utterance) -> bool:
        """Some 100 ms louder than a pause came after Silero's segment end and the last word's tail (TAIL): the user
        went on, and Silero has not said so yet. A short word followed by a gap ("add a gallon of | milk  to my
        cart") leaves the last 100 ms quiet while Silero is still deciding; without this the hold ended there and
        the request was cut inside the word."""
        assert utt.last_end is not None
        levels = window_levels(self._audio.slice(utt.last_end + TAIL, self._audio.end))
        return bool(levels.size) and float(levels.max()) >= self._pause_level(utt.start)

    def _check_speculation(self, new_samples: int) -> None:
        """A sound louder than the pause threshold after a speculation makes it stale: drop it."""
        utt = self._utt
        spec = utt.speculation if utt is not None else None
        if spec is not None and self._loud(max(spec.stop, self._audio.end - new_samples), utt.start):
            self.stats["speculative_misses"] += 1
            utt.speculation = None

    def _maybe_speculate(self) -> None:
        """Decode at once when the sound has stopped, before Silero's segment end says so."""
        utt = self._utt
        if utt is not None and self.endpointing.speculative and utt.speculation is None and self._quiet_now(utt):
            self._speculate(utt, self._audio.end, self._audio.end - WINDOW)

    def _speculate(self, utt: Utterance, stop: int, quiet_from: int) -> None:
        text, seconds, alternatives = self._guarded(utt, stop)
        utt.speculation = Speculation(stop, quiet_from, text, seconds, alternatives=alternatives)

    def _speech_so_far(self, utt: Utterance) -> int:
        """Samples the VAD called speech, the segment it has not closed yet included (a pause found
        by its quiet comes before Silero closes the segment)."""
        current = self._vad.current_segment if self._vad.is_speech_detected() else None
        live = self._audio.end - max(current.start, utt.start) if current is not None and current.start >= 0 else 0
        return utt.speech + max(0, live)

    def _guarded(self, utt: Utterance, stop: int) -> tuple[str, float, Alternatives]:
        return self._decode_group(self._audio.slice(utt.start, stop), self._speech_so_far(utt) / RATE)

    def _decode_group(self, audio: np.ndarray, speech: float,
                      spans: Sequence[tuple[float, float]] | None = None) -> tuple[str, float, Alternatives]:
        raw, seconds, alternatives = self._run_decode(audio, spans)
        text = guard.accept(raw, audio, speech)
        if raw.strip() and not text:
            self.stats["dropped_by_guard"] += 1
            log.info("guard dropped %r (%.2f s of speech)", raw, speech)
        return text, seconds, guard.accept_alternatives(text, alternatives, audio, speech)

    def _commit(self, utt: Utterance, stop: int, events: list[Any]) -> None:
        end = utt.last_end if utt.last_end is not None else stop
        alternatives: Alternatives = ()
        if self._packer is not None:  # decoded with its neighbours, when a window is full or the input ends
            text = ""
            begin = max(self._packer.resume(utt.start), self._audio.base)
            speech = min(self._speech_so_far(utt), stop - utt.start)  # as _guarded counts it (Silero may be open)
            events += self._packer.add(self._audio.slice(begin, stop), begin, utt.start, stop, speech,
                                       self._time(utt.start), self._time(end))
        elif utt.speculation is not None and utt.speculation.complete is not False:
            # still valid: nothing louder than a pause came after it. One the completeness check refused is
            # decoded again with the whole segment: Whisper base heard "按上次的再买一次" cut at the pause as
            # "按上次的在哪一次？" (the NLU unsure: a reprompt) and right with the hold's silence after it.
            self.stats["speculative_hits"] += 1
            text, seconds, alternatives = utt.speculation.text, utt.speculation.seconds, utt.speculation.alternatives
        else:
            text, seconds, alternatives = self._guarded(utt, stop)
        if text:
            events.append(FinalTranscript(text, self._time(utt.start), self._time(end), round(seconds, 4),
                                          alternatives))
        self._utt = None
        self._audio.forget_before(stop - PREROLL)

    def _maybe_endpoint(self, events: list[Any]) -> None:
        utt = self._utt
        if utt is None:
            return
        if self._complete_now(utt):
            self.stats["early_endpoints"] += 1
            assert utt.speculation is not None
            end = utt.speculation.stop
            if utt.last_end is None or self._vad.is_speech_detected():  # Silero has not closed the segment
                utt.last_end = min(end, utt.speculation.quiet_from)
                self._swallow = True
            self._commit(utt, end, events)
            events.append(Endpoint(self._time(self._audio.end)))
            return
        if utt.last_end is None or self._vad.is_speech_detected():
            return
        waited = self._audio.end - utt.last_end - int(self.endpointing.silence * RATE)
        if waited >= 0 and (waited >= HOLD_GRACE or not (self._loud(self._audio.end - WINDOW, utt.start)
                                                         or self._resumed(utt))):
            self._commit(utt, min(self._audio.end, utt.last_end + TAIL), events)
            events.append(Endpoint(self._time(self._audio.end)))

    def _complete_now(self, utt: Utterance) -> bool:
        """The pause has lasted early_silence and its speculative text is a whole request."""
        spec, early = utt.speculation, self.endpointing.early_silence
        if spec is None or early <= 0 or self.complete is None:
            return False
        if self._audio.end - spec.quiet_from < early * RATE:
            return False
        if spec.complete is None:
            spec.complete = bool(spec.text) and self.complete(spec.text)
            if not spec.complete and self._audio.end > spec.stop:
                # decoded where the quiet began, "Two bags, please." came out "Too bad is, please." (AVX2 EPYC):
                # once per pause (the new decode is judged here, so this branch never sees it again), decode
                # again with the quiet heard so far rather than wait out the hold
                self.stats["speculative_retries"] += 1
                self._speculate(utt, self._audio.end, spec.quiet_from)
                spec = utt.speculation
                assert spec is not None
                spec.complete = bool(spec.text) and self.complete(spec.text)
        return spec.complete

    def _maybe_split(self, events: list[Any]) -> None:
        utt = self._utt
        limit = int(self.endpointing.max_segment * RATE)
        if utt is None or self._audio.end - utt.start < limit:
            return
        cut = quietest_point(self._audio.slice(utt.start + limit - SPLIT_SEARCH, utt.start + limit))
        cut += utt.start + limit - SPLIT_SEARCH
        spoken = utt.speech
        utt.last_end = cut
        utt.speculation = None
        utt.speech = min(spoken, cut - utt.start)
        self._commit(utt, cut, events)
        # the rest of the speech continues as a new utterance, without a second SpeechStarted
        self._utt = Utterance(start=cut, partial_at=cut, speech=max(0, spoken - (cut - utt.start)))
