"""Per-stage latency of one turn, from the two clocks the loop keeps (audio stream and wall)."""

from __future__ import annotations

from edge.turns import Job


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000.0 * seconds, 1)


def latencies(job: Job, nlu_s: float | None, dialog_s: float | None, tts_first_s: float | None,
              first_audio_wall: float | None) -> dict[str, float | None]:
    """Per-stage latency of one turn (milliseconds; None where a stage did not run).

    endpoint: audio from the end of speech to the end of the frame where the endpoint fired (the
    VAD's silence hold); asr: recognizer compute on that frame; nlu, dialog: compute; tts_first_audio:
    from the reply text to its first clause's audio; endpoint_to_first_audio: wall time from the
    endpoint frame's arrival to the first clause; eos_to_first_audio: what the user waits, end of
    speech to the first reply audio = endpoint (audio clock) + everything after the frame arrived
    (wall clock). Fed in real time the two clocks run at the same rate, so the sum is exact; fed
    faster than real time it is what a real-time device that keeps up would show.
    """
    endpoint = after = eos = None
    if job.endpoint_at is not None and job.speech_end is not None:
        endpoint = max(0.0, job.endpoint_at - job.speech_end)
    if first_audio_wall is not None and job.endpoint_wall is not None:
        after = first_audio_wall - job.endpoint_wall
    if endpoint is not None and after is not None:
        eos = endpoint + after
    return {"wake": job.wake_ms, "endpoint": _ms(endpoint), "asr": job.asr_ms, "nlu": _ms(nlu_s),
            "dialog": _ms(dialog_s), "tts_first_audio": _ms(tts_first_s), "endpoint_to_first_audio": _ms(after),
            "eos_to_first_audio": _ms(eos)}
