"""Runs inside the reference venv (bench/wyoming_reference.py): wyoming-bench's own measurements, as JSON.

`python bench/wyoming_driver.py tts|stt|latency SPEC` with SPEC a JSON object. It imports only
wyoming-bench, wyoming and the standard library (the reference venv has nothing of ours), and
prints wyoming-bench's own summary tables, then one JSON line with the aggregated figures.

- tts: wyoming-bench's `measure_once` (non-streaming `synthesize` and streaming text), round by
  round with the servers' order rotating, so machine load hits them alike; `summarize_mode` per
  server and mode (TTFT = time to the first audio byte after the request was sent).
- stt: `measure_stt_once` on the corpus, sent at full speed with 0.5 s of trailing silence (the
  CLI's defaults); `summarize_stt_mode` (total time, RTF, WER).
- latency: the corpus streamed in real time, the way a satellite's microphone sends it (1024-sample
  chunks paced at their duration, 0.5 s of trailing silence), then `audio-stop`; the figure is the
  time from writing `audio-stop` to reading `transcript`: what a user waits after they stop talking.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming_bench.const import MODE_NON_STREAMING, MODE_STREAMING
from wyoming_bench.stt.client import measure_stt_once
from wyoming_bench.stt.corpus import load_corpus
from wyoming_bench.stt.reporting import print_stt_summary, summarize_stt_mode
from wyoming_bench.tts.client import measure_once
from wyoming_bench.tts.reporting import print_summary, summarize_mode
from wyoming_bench.tts.texts import DEFAULT_TEXTS

TIMEOUT = 120.0


def rotated(items: list, shift: int) -> list:
    shift %= len(items)
    return items[shift:] + items[:shift]


async def tts(spec: dict) -> dict:
    servers, rounds = spec["servers"], spec["rounds"]
    texts = spec.get("texts") or DEFAULT_TEXTS
    by_server: dict[str, list] = {s["label"]: [] for s in servers}
    for mode in (MODE_NON_STREAMING, MODE_STREAMING):
        for server in servers:  # warm-up: wyoming-piper loads its voice on the first request
            await measure_once("127.0.0.1", server["port"], mode, texts[0], None, None, TIMEOUT, TIMEOUT)
        for round_no in range(rounds):
            for index, text in enumerate(texts):
                for server in rotated(servers, round_no + index):
                    m = await measure_once("127.0.0.1", server["port"], mode, f"{text} {round_no}{index}", None, None,
                                           TIMEOUT, TIMEOUT)
                    by_server[server["label"]].append(m)
    print_summary(list(by_server), by_server)
    return {label: {mode: summarize_mode(ms, mode) for mode in (MODE_NON_STREAMING, MODE_STREAMING)}
            for label, ms in by_server.items()}


async def stt(spec: dict) -> dict:
    servers, rounds = spec["servers"], spec["rounds"]
    samples = load_corpus(spec["corpus"])
    by_server: dict[str, list] = {s["label"]: [] for s in servers}
    request = Transcribe(language="en")
    for server in servers:  # warm-up
        await measure_stt_once("127.0.0.1", server["port"], MODE_NON_STREAMING, samples[0], request, 1024,
                               TIMEOUT, TIMEOUT, 0.0, 0.5)
    for round_no in range(rounds):
        for index, sample in enumerate(samples):
            for server in rotated(servers, round_no + index):
                m = await measure_stt_once("127.0.0.1", server["port"], MODE_NON_STREAMING, sample, request, 1024,
                                           TIMEOUT, TIMEOUT, 0.0, 0.5)
                by_server[server["label"]].append(m)
    print_stt_summary(list(by_server), by_server)
    failed = {label: [m.error for m in ms if not m.ok][:3] for label, ms in by_server.items()}
    return {label: {**summarize_stt_mode(ms, MODE_NON_STREAMING), "errors": failed[label]}
            for label, ms in by_server.items()}


async def after_stop(port: int, sample, chunk_samples: int = 1024, trailing: float = 0.5) -> tuple[float, str]:
    """Stream one sample in real time; seconds from audio-stop to transcript, and the text."""
    frame = sample.width * sample.channels
    pcm = sample.pcm + bytes(round(trailing * sample.rate) * frame)
    step = chunk_samples * frame
    async with AsyncTcpClient("127.0.0.1", port, connect_timeout=TIMEOUT, read_timeout=TIMEOUT) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=sample.rate, width=sample.width, channels=sample.channels).event())
        began = time.perf_counter()
        for offset in range(0, len(pcm), step):
            await client.write_event(AudioChunk(rate=sample.rate, width=sample.width, channels=sample.channels,
                                                audio=pcm[offset:offset + step]).event())
            due = began + (offset + step) / frame / sample.rate  # real time: never ahead of the microphone
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await client.write_event(AudioStop().event())
        stopped = time.perf_counter()
        while True:
            event = await client.read_event()
            if event is None:
                raise RuntimeError("connection closed before the transcript")
            if Transcript.is_type(event.type):
                return time.perf_counter() - stopped, Transcript.from_event(event).text


async def latency(spec: dict) -> dict:
    samples = load_corpus(spec["corpus"])[: spec.get("samples", 10)]
    servers = spec["servers"]
    results: dict[str, list[float]] = {s["label"]: [] for s in servers}
    for server in servers:  # warm-up
        await after_stop(server["port"], samples[0])
    # one stream at a time, the servers alternating: the figure is one user's wait, not a contention test
    for index, sample in enumerate(samples):
        for server in rotated(servers, index):
            seconds, _text = await after_stop(server["port"], sample)
            results[server["label"]].append(seconds)
    return {label: {"mean": statistics.fmean(v), "median": statistics.median(v), "max": max(v), "n": len(v)}
            for label, v in results.items()}


def main() -> int:
    kind, spec = sys.argv[1], json.loads(sys.argv[2])
    run = {"tts": tts, "stt": stt, "latency": latency}[kind]
    result = asyncio.run(run(spec))
    print(json.dumps({"kind": kind, "result": result}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
