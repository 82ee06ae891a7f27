"""Speech recognition: push 16 kHz frames, receive SpeechStarted, PartialTranscript,
FinalTranscript and Endpoint events (edge.events).

Two engines behind one interface (process(chunk) -> events, reset(), flush() -> events):

- `VadRecognizer` (edge.asr.stream): Silero VAD (on onnxruntime, edge.asr.vad_ort, or with
  `[asr] vad_runtime = "sherpa"` sherpa-onnx's VoiceActivityDetector) segments the stream, Whisper tiny.en INT8 on
  sherpa-onnx's OfflineRecognizer (or, with `[asr] runtime = "onnxruntime"`, on onnxruntime directly:
  edge.asr.whisper_ort, same files) decodes each segment, partials by re-decoding, speculative
  decoding at pauses, hallucination guard. The default; its models are the shipped bundles.
- `OnlineRecognizerStream` (edge.asr.online): sherpa-onnx's OnlineRecognizer on a streaming
  transducer the device maker provides (`asr.engine = "online"`).

`recognizer_for_settings(settings)` builds the configured one; callers never see which.
`completeness_check(settings, understand)` is the early-endpoint test (edge.asr.complete) the
device builder passes to `recognizer_for_settings(..., complete=...)` over its loaded NLU: a
request that is already complete ends after [asr] early_endpoint_seconds of quiet instead of the
full min_silence_seconds. The check runs on the thread that feeds the recognizer frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge.asr.complete import CompleteRequest, ends_open
from edge.asr.models import AsrError, online_recognizer, vad_maker, whisper_recognizer
from edge.asr.online import OnlineEvents, OnlineRecognizerStream
from edge.asr.recognition import Endpointing, Scored
from edge.asr.stream import VadRecognizer
from edge.config import Settings

__all__ = ["AsrError", "CompleteRequest", "Endpointing", "OnlineEvents", "OnlineRecognizerStream", "VadRecognizer",
           "completeness_check", "endpointing_for", "ends_open", "recognizer_for_settings", "whisper_decoder"]

VAD_BUFFER_MARGIN_SECONDS = 10.0
"""Room in the VAD's sample buffer beyond the longest segment it may hold (max_speech).

The buffer is a ring of float samples (64 KB per second at 16 kHz) that a long-running device
touches end to end, so its size is resident memory: sized from the segment limit it holds 48 s
at the defaults, ~3 MB, where a fixed 120 s held 7.7 MB."""


def endpointing_for(settings: Settings, *, partials: bool = True, speculative: bool = True,
                    pack: bool = False) -> Endpointing:
    """Endpointing from settings.asr (relaxed mode swaps in the longer silence). pack: offline input whose
    finals may come late (a file), so utterances are decoded in windows of [asr] pack_seconds."""
    asr = settings.asr
    silence = asr.relaxed_min_silence_seconds if asr.relaxed else asr.min_silence_seconds
    early = 0.0 if asr.relaxed or not speculative else min(asr.early_endpoint_seconds, silence)
    return Endpointing(pause=min(asr.pause_seconds, 0.8 * silence), silence=silence, early_silence=early,
                       partial_interval=asr.partial_interval_seconds, max_segment=asr.max_segment_seconds,
                       partials=partials, speculative=speculative,
                       pack=settings.asr.pack_seconds if pack and not (partials or speculative) else 0.0)


def completeness_check(settings: Settings, understand: Callable[[str], Any]) -> CompleteRequest:
    """The early-endpoint check over an NLU's understand(text) (the device passes edge.nlu's)."""
    return CompleteRequest(understand, settings.asr.early_endpoint_confidence)


def whisper_decoder(recognizer: Any, language: str = "en"):  # -> Callable[[np.ndarray], str]
    """A decode(samples, prompt=None, timed=False) -> text function over a sherpa OfflineRecognizer or an
    edge.asr.whisper_ort.WhisperOrt. prompt: an edge.asr.prompt.AsrPrompt, which only WhisperOrt takes
    (sherpa's recognizer decodes without it); a transcript that echoes it is decoded again without.
    timed: Whisper's timestamp mode (edge.asr.timestamps), for packed windows; WhisperOrt only. spans: a
    timed window's utterances, (start, stop) in seconds (edge.asr.packing): where a decode that stopped early resumes.

    language "zh": Whisper's Traditional characters become Simplified, U+FFFD and other garbage go
    and punctuation takes the Chinese forms (edge.asr.mandarin), for partials and finals alike."""
    from edge.asr import mandarin

    takes_prompt = hasattr(recognizer, "transcribe_ids")  # WhisperOrt; sherpa's streams have no previous text
    tidy = mandarin.clean if language == "zh" else str

    def once(samples: np.ndarray, ids: Sequence[int], timed: bool, spans: Sequence[tuple[float, float]],
             bias: Any = None) -> Scored:
        stream = recognizer.create_stream()
        stream.accept_waveform(16000, samples)
        if ids and takes_prompt:
            stream.prompt = tuple(ids)
        if bias is not None and takes_prompt and not timed:
            stream.bias = bias
        if timed and takes_prompt:
            stream.timed = True
            stream.spans = tuple(spans)
        recognizer.decode_stream(stream)
        others = tuple((tidy(t.strip()), score) for t, score in getattr(stream.result, "alternatives", ()))
        return tidy(stream.result.text.strip()), getattr(stream.result, "logprob", None), others

    def scored(samples: np.ndarray, prompt: Any = None, timed: bool = False,
               spans: Sequence[tuple[float, float]] = ()) -> Scored:
        ids = prompt.ids() if prompt is not None and takes_prompt else ()
        bias = getattr(prompt, "bias", None)
        heard = once(samples, ids, timed, spans, bias)
        if ids and prompt.echoes(heard[0]):  # Whisper copied the prompt (noise the VAD let through): hear it plain
            heard = once(samples, (), timed, spans, bias)
        elif ids and not timed and prompt.copies_style(heard[0]):  # "tuna": said, or filled in from the style sentence?
            again = once(samples, prompt.recheck_ids(), timed, spans, bias)
            if prompt.recheck_clean(again[0]):
                heard = again
        if ids:  # a hypothesis that copies the prompt is no alternative to what was heard
            text, logprob, others = heard
            heard = text, logprob, tuple(a for a in others if a[0] == text or not (
                prompt.echoes(a[0]) or (not timed and prompt.copies_style(a[0]))))
        return heard

    def decode(samples: np.ndarray, prompt: Any = None, timed: bool = False,
               spans: Sequence[tuple[float, float]] = ()) -> str:
        return scored(samples, prompt, timed, spans)[0]

    # (text, log-probability per token, the beam's alternatives): edge.asr.pair compares two, the stream keeps the rest
    decode.scored = scored  # type: ignore[attr-defined]
    decode.recognizer = recognizer  # type: ignore[attr-defined]  # the wake word's forced second look scores with it
    decode.takes_timed = takes_prompt  # type: ignore[attr-defined]  # packing (edge.asr.packing) needs timestamp mode
    return decode


def recognizer_for_settings(settings: Settings, *, partials: bool = True, speculative: bool = True,
                            threads: int | None = None, pack: bool = False,
                            complete: Callable[[str], bool] | None = None) -> VadRecognizer | OnlineRecognizerStream:
    """The configured recognizer, ready to take frames. Raises AsrError with the fix in its message.

    complete: the early-endpoint check (completeness_check); None never ends a request early.
    pack: a file or other input nobody waits on (endpointing_for; without partials and speculation). The
    online engine has its own endpointing and takes none.
    """
    if settings.asr.engine == "online":
        if not settings.asr.online_model_dir:
            raise AsrError('asr.engine = "online" needs asr.online_model_dir (a sherpa-onnx streaming transducer)')
        return OnlineRecognizerStream(online_recognizer(settings, Path(settings.asr.online_model_dir).expanduser(),
                                                        threads))
    endpointing = endpointing_for(settings, partials=partials, speculative=speculative, pack=pack)
    max_speech = endpointing.max_segment + 10.0
    make_vad = vad_maker(settings, endpointing.pause, max_speech, max_speech + VAD_BUFFER_MARGIN_SECONDS)
    decode = whisper_decoder(whisper_recognizer(settings, threads), settings.asr.language)
    if settings.asr.second_model:
        from edge.asr.pair import paired_decoder, second_settings

        decode = paired_decoder(decode, whisper_decoder(whisper_recognizer(second_settings(settings), threads),
                                                        settings.asr.language))
    elif settings.asr.second_hearing:
        from edge.asr.pair import paired_decoder, second_hearing
        from edge.config import EVERY_REQUEST

        below = settings.asr.second_hearing_below
        decode = paired_decoder(decode, decode, second_hearing(settings), None if below >= EVERY_REQUEST else below)
    if endpointing.pack and not decode.takes_timed:  # sherpa's recognizer has no timestamp mode: decode one by one
        endpointing = dataclasses.replace(endpointing, pack=0.0)
    return VadRecognizer(make_vad, decode, endpointing, complete)
