"""`python -m edge wyoming` driven by the `wyoming` package's AsyncTcpClient (what Home Assistant uses).

One server for the module, started by its CLI on the real bundles, a demo-catalog device dir, a real
Mosquitto and the cloud's ingest worker: describe, one test per service (asr, tts, wake, handle) and
the malformed input that must never take the server down.
"""

from __future__ import annotations

import asyncio
import json
import socket

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop
from wyoming.wake import Detect

from cloud.serve import Store
from edge.simulation.world import demo_catalog, device_dir
from export.speech_corpus import PIPER_JOE, SENTENCES, clip, read_wav_16k
from export.wake_data import PiperSynth, trim
from export.wer import normalize, wer
from tests.brokers import Mosquitto
from tests.conftest import MODELS_DIR, run_cli
from tests.orders_rig import cloud_worker
from tests.wyoming_rig import WyomingServer, audio_events, exchange, of_type, pcm, run

pytestmark = [pytest.mark.slow, pytest.mark.broker]

DEVICE = "wyoming-test"
ENV = {"VOICESHOP_DIALOG__PIN": "1234", "VOICESHOP_DIALOG__SPENDING_LIMIT_CENTS": "500",
       "VOICESHOP_DEVICE__ID": DEVICE, "VOICESHOP_DIALOG__SYNC_WAIT_SECONDS": "10"}


@pytest.fixture(scope="module")
def world(bundle):
    for name in ("wake", "vad", "asr", "nlu", "tts"):
        bundle(name)
    return demo_catalog(MODELS_DIR)


@pytest.fixture(scope="module")
def server(world, tmp_path_factory):
    root = tmp_path_factory.mktemp("wyoming")
    data = device_dir(world, root)
    with Mosquitto(root / "broker") as broker, \
            cloud_worker(broker.url, world / "demo-cloud" / "master.db", db=root / "cloud.db"):
        srv = WyomingServer(data, root / "server.log", broker=broker.url, env=ENV)
        srv.data_dir, srv.cloud_db = data, root / "cloud.db"
        try:
            yield srv
        finally:
            status = srv.stop()
    log = srv.log_path.read_text(errors="replace")
    assert status == 0, log[-3000:]  # SIGTERM: a clean stop, exit status 0
    assert "Traceback" not in log, log[-3000:]


def speech(index: int = 0, pad: float = 0.5) -> np.ndarray:
    silence = np.zeros(int(pad * 16000), np.float32)
    return np.concatenate([silence, read_wav_16k(clip(SENTENCES[index], PIPER_JOE).path), silence])


async def transcribe(port: int, audio: np.ndarray, rate: int = 16000, width: int = 2, channels: int = 1,
                     pace: bool = False) -> list[Event]:
    events = [Transcribe(language="en").event(), *audio_events(pcm(audio, rate, width, channels), rate, width,
                                                               channels)]
    return await exchange(port, events, lambda e: e.type in ("transcript-stop", "error"), pace=0.064 if pace else 0)


def test_describe_advertises_asr_tts_wake_and_handle(server):
    [event] = run(exchange(server.port, [Describe().event()], lambda e: e.type == "info"))
    info = Info.from_event(event)
    programs = [*info.asr, *info.tts, *info.wake, *info.handle]
    assert [len(info.asr), len(info.tts), len(info.wake), len(info.handle)] == [1, 1, 1, 1]
    for program in programs:
        assert program.name and program.description and program.attribution.name and program.installed
        assert program.version
    assert info.asr[0].models[0].languages == ["en"] and info.asr[0].supports_transcript_streaming
    assert info.tts[0].voices[0].name == "en_US-joe-medium" and info.tts[0].supports_synthesize_streaming
    assert info.wake[0].models[0].phrase == "hey voice shop" and info.wake[0].models[0].name == "hey_voice_shop"
    assert info.handle[0].models[0].languages == ["en"]
    assert "bundle" in info.asr[0].models[0].version  # which build of the weights answers


def test_asr_streams_each_sentence_while_audio_comes_then_the_transcript_in_any_format(server):
    audio = np.concatenate([speech(0, pad=0.3), np.zeros(16000, np.float32), speech(4, pad=0.5)])
    stream = audio_events(pcm(audio, 44100, 2, 2), 44100, 2, 2)

    async def live() -> tuple[list[Event], int]:
        """Real-time pacing, like a microphone; how many replies came before audio-stop was sent."""
        received: list[Event] = []
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            async def read() -> None:
                while not received or received[-1].type not in ("transcript-stop", "error"):
                    received.append(await asyncio.wait_for(client.read_event(), 60))

            reader = asyncio.create_task(read())
            await client.write_event(Transcribe(language="en").event())
            for event in stream:
                if event.type == "audio-stop":
                    before_stop = len(received)
                await client.write_event(event)
                await asyncio.sleep(0.064 if event.type == "audio-chunk" else 0)
            await reader
        return received, before_stop

    received, before_stop = run(live())
    kinds = [e.type for e in received]
    assert kinds[0] == "transcript-start" and kinds[-2:] == ["transcript", "transcript-stop"], kinds
    assert "transcript-chunk" in kinds[:before_stop], f"nothing streamed before audio-stop: {kinds}"
    chunks = "".join(e.data["text"] for e in of_type(received, "transcript-chunk"))
    text = Transcript.from_event(of_type(received, "transcript")[0]).text
    assert chunks == text, (chunks, text)  # what was streamed is never taken back
    assert wer([(f"{SENTENCES[0]} {SENTENCES[4]}", text)]) <= 0.25, text
    formats = ((8000, 1, 1), (48000, 4, 1))  # two clients at once, at full speed, as files would be sent

    async def both() -> list[list[Event]]:
        return await asyncio.gather(*(transcribe(server.port, speech(1), *fmt) for fmt in formats))

    for fmt, events in zip(formats, run(both()), strict=True):
        text = Transcript.from_event(of_type(events, "transcript")[0]).text
        assert wer([(SENTENCES[1], text)]) <= 0.35, (fmt, text)
    silent = run(transcribe(server.port, np.zeros(32000, np.float32)))
    assert Transcript.from_event(of_type(silent, "transcript")[0]).text == ""


def test_tts_speaks_whole_requests_and_text_streams_clause_by_clause(server):
    text = "Sure, I added two bags of coffee to your cart."
    heard_lines = []
    for _ in range(2):
        events = run(exchange(server.port, [Synthesize(text=text).event()], lambda e: e.type in ("audio-stop", "error")))
        start = AudioStart.from_event(events[0])
        assert (start.rate, start.width, start.channels) == (22050, 2, 1)
        audio = b"".join(AudioChunk.from_event(e).audio for e in of_type(events, "audio-chunk"))
        samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32768
        assert 1.5 < len(samples) / 22050 < 6.0 and np.sqrt(np.mean(samples ** 2)) > 0.02
        heard = run(transcribe(server.port, samples, rate=22050))  # our own ears: the words are there
        said = Transcript.from_event(of_type(heard, "transcript")[0]).text
        heard_lines.append(said)
        # the request's words must be heard, the line near enough
        if {"two", "bags", "coffee"} <= set(normalize(said)) and wer([(text, said)]) <= 0.4:
            break
    else:
        # the voice samples its noise afresh each time and tiny.en mishears some renderings ("to you, Carl";
        # "I have a tea bags of coffee to you, Corn" once in a CI run): one of two renderings must be heard right
        raise AssertionError(heard_lines)

    async def streamed() -> tuple[list[Event], int]:
        received: list[Event] = []
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(SynthesizeStart().event())
            await client.write_event(SynthesizeChunk(text="Sure, I added two bags of coffee to your cart. ").event())
            while not received or received[-1].type != "audio-chunk":  # audio before the text is complete
                received.append(await asyncio.wait_for(client.read_event(), 60))
            before_stop = len(received)
            for event in (SynthesizeChunk(text="Anything else").event(), Synthesize(text=text).event(),
                          SynthesizeChunk(text=" for you today?").event(), SynthesizeStop().event()):
                await client.write_event(event)
            while received[-1].type not in ("synthesize-stopped", "error"):
                received.append(await asyncio.wait_for(client.read_event(), 60))
        return received, before_stop

    received, before_stop = run(streamed())
    assert before_stop >= 2 and received[-1].type == "synthesize-stopped", [e.type for e in received]
    # one audio cycle per finished piece; the compatibility `synthesize` inside the stream adds none
    assert len(of_type(received, "audio-start")) == len(of_type(received, "audio-stop")) == 2


def test_wake_detects_the_phrase_and_says_not_detected_otherwise(server):
    piper = PiperSynth()
    phrase = trim(piper("Hey voice shop,", length_scale=1.0, noise_scale=0.0, noise_w=0.0))
    phrase = (phrase / np.abs(phrase).max() * 0.4).astype(np.float32)
    noise = (np.random.default_rng(1).standard_normal(19200) * 0.0018).astype(np.float32)
    audio = np.concatenate([noise, phrase, noise, noise])
    stream = audio_events(pcm(audio, 16000), 16000, 2, 1, chunk_seconds=0.03)
    events = _wake(server.port, stream)
    detections = of_type(events, "detection")
    assert len(detections) == 1 and detections[0].data["name"] == "hey_voice_shop", [e.type for e in events]
    start_ms, end_ms = 1200, 1200 + 1000 * len(phrase) / 16000
    assert start_ms <= detections[0].data["timestamp"] <= end_ms + 1000, detections[0].data
    quiet = run(exchange(server.port, [Detect().event(), *audio_events(pcm(np.tile(noise, 5)), 16000, 2, 1)],
                         lambda e: e.type in ("not-detected", "detection", "error")))
    assert [e.type for e in quiet] == ["not-detected"]
    other = run(exchange(server.port, [Detect(names=["alexa"]).event()], lambda e: e.type == "error"))
    assert other[0].data["code"] == "unknown-wake-word"


def _wake(port: int, stream: list[Event]) -> list[Event]:
    """Detect + the stream; read until audio-stop has been answered (a detection, then nothing more)."""
    async def go() -> list[Event]:
        received: list[Event] = []
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Detect(names=["hey_voice_shop"]).event())
            for event in stream:
                await client.write_event(event)
            await client.write_event(Describe().event())  # a marker: answered after audio-stop's replies
            while not received or received[-1].type != "info":
                received.append(await asyncio.wait_for(client.read_event(), 60))
        return received[:-1]
    return run(go())


def handle(port: int, texts: list[str], context: dict | None = None) -> list[Event]:
    async def go() -> list[Event]:
        replies = []
        async with AsyncTcpClient("127.0.0.1", port) as client:
            for text in texts:
                await client.write_event(Transcript(text=text, context=context).event())
                replies.append(await asyncio.wait_for(client.read_event(), 60))
        return replies
    return run(go())


def test_handle_keeps_a_cart_per_conversation_and_orders_only_after_confirm_and_pin(server):
    kitchen = {"conversation_id": "kitchen"}
    first = handle(server.port, ["add two bags of fuji apples", "check out"], kitchen)
    assert [e.type for e in first] == ["handled", "handled"], [e.data for e in first]
    assert "apple" in first[0].data["text"].lower() and first[1].data["context"]["conversation_id"] == "kitchen"
    other = handle(server.port, ["what's in my cart", "yes", "turn on the living room lights"])
    assert other[0].type == "handled" and "apple" not in other[0].data["text"].lower(), other[0].data
    assert other[2].type == "not-handled", other[2].data
    assert _orders(server) == [], "a 'yes' in another conversation confirmed the kitchen's read-back"
    # a new connection, the same conversation: its read-back is still pending
    last = handle(server.port, ["yes", "one two three four"], kitchen)
    assert "pin" in last[0].data["text"].lower(), last[0].data  # over the 5 dollar limit: the PIN first
    placed = Handled.from_event(last[1])
    assert "received by the store" in placed.text or "sent to the store" in placed.text, placed.text
    stored = _orders(server)
    assert [o["state"] for o in stored] == ["acked"], stored
    cloud = Store.open(db=server.cloud_db)
    try:
        assert len(cloud.keys(DEVICE)) == 1
    finally:
        cloud.close()


def _orders(server) -> list[dict]:
    result = run_cli("edge", "orders", "list", "--json", env={"VOICESHOP_DEVICE__DATA_DIR": str(server.data_dir)})
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _raw(port: int, data: bytes, read: bool = True) -> bytes:
    """Bytes straight onto the socket (what no library would send); what comes back before the close.

    A server that closes with our bytes still unread makes the kernel reset the connection: that is a
    close too, with nothing answered."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(data)
            if not read:
                return b""
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:  # reset, or not connected any more when we shut our side
            pass
    return b"".join(chunks)


def test_malformed_input_gets_an_error_or_a_clean_close_and_never_crashes(server):
    def errors_for(events: list[Event], count: int) -> list[str]:
        async def go() -> list[str]:
            codes = []
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                for event in events:
                    await client.write_event(event)
                while len(codes) < count:
                    event = await asyncio.wait_for(client.read_event(), 60)
                    assert event is not None, codes
                    if event.type == "error":
                        codes.append(event.data["code"])
            return codes
        return run(go())

    good = pcm(speech(3), 16000)
    assert errors_for([Event(type="frobnicate"), AudioChunk(rate=16000, width=2, channels=1, audio=good[:640]).event(),
                       AudioStop().event(), AudioStart(rate=0, width=2, channels=1).event(),
                       AudioStart(rate=16000, width=7, channels=1).event(), Event(type="audio-start", data={}),
                       Event(type="synthesize", data={})],
                      7) == ["unknown-event", "no-audio-stream", "no-audio-stream", "bad-audio-format",
                             "bad-audio-format", "bad-event", "bad-event"]
    # a conversation client reads until handled / not-handled: a refused transcript is a not-handled
    refused = run(exchange(server.port, [Transcript(text="x" * 5000).event(), Event(type="transcript", data={})],
                           lambda e: e.type == "not-handled" and "malformed" in e.data.get("text", "")))
    assert [e.type for e in refused] == ["not-handled", "not-handled"] and "too long" in refused[0].data["text"]
    # inside a stream: bad chunks are dropped with an error and the stream goes on, losing nothing
    stream = audio_events(good, 16000, 2, 1)
    bad = [AudioChunk(rate=16000, width=2, channels=1, audio=bytes(10 * 2**20)).event(),
           AudioChunk(rate=8000, width=2, channels=1, audio=good[:640]).event(),
           AudioChunk(rate=16000, width=2, channels=1, audio=good[:641]).event()]
    events = run(exchange(server.port, [Transcribe().event(), stream[0], *bad, *stream[1:]],
                          lambda e: e.type == "transcript-stop"))
    assert [e.data["code"] for e in of_type(events, "error")] == ["chunk-too-large", "audio-format-changed",
                                                                 "bad-audio-chunk"]
    text = Transcript.from_event(of_type(events, "transcript")[0]).text
    assert wer([(SENTENCES[3], text)]) <= 0.25, text
    # not Wyoming at all: the connection is closed, nothing is answered
    assert _raw(server.port, b"this is not json\n") == b""
    assert _raw(server.port, b'{"type": "audio-chunk"' + b" " * 200_000 + b"}\n") == b""
    # closed mid-payload, mid-stream, mid-speech
    _raw(server.port, b'{"type": "audio-chunk", "data": {"rate": 16000, "width": 2, "channels": 1}, '
                      b'"payload_length": 1000}\n' + bytes(10), read=False)

    async def hang_up(events: list[Event]) -> None:
        client = AsyncTcpClient("127.0.0.1", server.port)
        await client.connect()
        for event in events:
            await client.write_event(event)
        await asyncio.sleep(0.3)
        await client.disconnect()

    run(hang_up([Transcribe().event(), *stream[:20]]))
    run(hang_up([Synthesize(text=" ".join(["This is a long reply that nobody will hear."] * 20)).event()]))
    assert server.alive(), server.log()[-3000:]
    # and everything still works: describe, a whole transcription (the dropped stream's recognizer came back)
    [info] = run(exchange(server.port, [Describe().event()], lambda e: e.type == "info"))
    assert Info.from_event(info).asr
    events = run(transcribe(server.port, speech(2)))
    assert wer([(SENTENCES[2], Transcript.from_event(of_type(events, "transcript")[0]).text)]) <= 0.25
    log = server.log()
    for logged in ("unknown-event", "chunk-too-large", "transcript-too-long", "not Wyoming events",
                   "audio stream dropped"):
        assert logged in log, logged
    assert "Traceback" not in log, log[-3000:]
