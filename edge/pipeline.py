"""The device loop: from microphone to speaker, top to bottom.

    mic frame
      -> mute gate         muted: the frame stops here, no later stage sees a sample
      -> idle:             wake word (frames also kept in a short pre-roll ring buffer)
      -> listening:        VAD + ASR, pre-roll first, so "hey voice shop, I want apples" loses nothing
      -> endpoint:         transcript -> responder thread: NLU -> dialogue -> TTS clauses -> sink
      -> thinking/speaking: the wake word keeps listening for a barge-in

States go idle -> wake -> listening -> thinking -> speaking -> idle; a reply that expects an
answer goes speaking -> listening without a wake word, and silence there times out to idle (a
pending question gets its "I didn't hear an answer" said first). Every state change sets the
MCU's LED; muted and offline take precedence (edge.leds). The loop reports typed events
(edge.events.LoopEvent: StateChanged, TurnFinished, BargeIn, StageFailed) to one `emit` callable;
edge.records turns them into JSON at the edge.

Threads: the caller feeds frames (`feed`, or `run` over a source) and that thread alone touches the
wake detector and the recognizer. One responder thread owns the dialogue and synthesis, so a slow
turn (an order waiting for the cloud's ack) never stalls the microphone. MCU events arrive on the
bridge thread and are queued for the audio thread, except that a barge-in stops speech at once. A
failing stage is logged, flashes the error LED and returns to idle: it never ends the loop.
The recognizer may call the NLU on the audio thread (its early-endpoint check, wired in by
edge.device when it builds the recognizer).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from edge.config import Settings
from edge.controls import ControlInbox, Press, button_action, stops_speech
from edge.events import AudioChunk, BargeIn, Emit, RecognizerEvent, StageFailed, State, StateChanged
from edge.latency import latencies
from edge.leds import Leds
from edge.playback import Ending, Played, speak_reply
from edge.stages import Speech, Stages
from edge.turns import Job, Listen, finished_turn
from edge.wake_handover import Preroll
from firmware_bridge.events import ButtonPressed, DspWake, MuteChanged

log = logging.getLogger("edge.pipeline")

BUSY = (State.THINKING, State.SPEAKING)
OPEN = (State.WAKE, State.LISTENING)
"""States in which the microphone's frames go to the recognizer."""


class DeviceLoop:
    """One device's loop. start(), then feed frames (or run a source), then close()."""

    def __init__(self, stages: Stages, settings: Settings, emit: Emit | None = None) -> None:
        self.stages, self.emit = stages, emit if emit is not None else (lambda record: None)
        self.phrase = settings.wake.phrase
        self.push_to_talk = settings.profile.push_to_talk
        self.turn_timeout = settings.dialog.turn_timeout_seconds
        self.max_request = settings.asr.max_segment_seconds
        self.state = State.IDLE
        self.leds = Leds(stages.set_led, stages.online)
        self.counts = {"frames": 0, "blocked": 0, "wake_in": 0, "asr_in": 0, "turns": 0, "barge_ins": 0,
                       "errors": 0}
        """Frames fed, stopped by the mute gate, and handed to the wake word and the recognizer."""
        self._lock = threading.RLock()
        self._quiet = threading.Condition(self._lock)
        self._inbox = ControlInbox()
        self._on_control = {MuteChanged: self._muted, DspWake: self._dsp_wake, ButtonPressed: self._button}
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._pending = 0
        self._generation = 0
        self._listen: Listen | None = None
        self._speech: Speech | None = None
        self._preroll = Preroll(settings.wake.request_preroll_seconds, settings.audio.frame_ms)
        self._clock = 0.0
        self._worker = threading.Thread(target=self._respond_forever, name="responder", daemon=True)
        self._closed = False
        stages.gate.add_listener(self._on_mute)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> DeviceLoop:
        self._worker.start()
        self._show()
        return self

    def close(self) -> None:
        self._closed = True  # a reused MCU bridge still calls our subscribers: they go quiet
        self._barge_in(record=False)
        self._jobs.put(None)
        self._worker.join(timeout=10.0)

    def run(self, source: Iterable[AudioChunk], *, realtime: bool = False, pause_while_busy: bool = False) -> None:
        """Feed a whole source, then finish. realtime paces frames to the wall clock (a file played like
        a microphone); pause_while_busy holds the source while the device thinks and speaks (a file that
        is the user's side of a conversation, waiting for each answer)."""
        began, first = time.perf_counter(), None
        for chunk in source:
            first = chunk.timestamp if first is None else first
            if realtime:
                time.sleep(max(0.0, began + chunk.timestamp + chunk.duration - first - time.perf_counter()))
            self.feed(chunk)
            if pause_while_busy and self.busy:
                self.wait_quiet()
        self.finish()

    def finish(self, timeout: float | None = 120.0) -> None:
        """End of input: let the answer in progress finish, and treat a still-open turn as silence."""
        self.wait_quiet(timeout)
        with self._lock:
            listen = self._listen if self.state in OPEN else None
        if listen is not None:
            if listen.heard:
                self._force_end(listen)
            else:
                self._timed_out()
            self.wait_quiet(timeout)

    @property
    def busy(self) -> bool:
        """An answer is being worked on or spoken."""
        return self._pending > 0 or self.state in BUSY

    def wait_quiet(self, timeout: float | None = 120.0) -> bool:
        """Block until no answer is being worked on or spoken (state idle or listening)."""
        with self._quiet:
            return self._quiet.wait_for(lambda: not self.busy, timeout)

    # -- the audio thread ----------------------------------------------------------------------------
    def feed(self, chunk: AudioChunk) -> None:
        """One microphone frame through the gate and the stage the current state listens with."""
        self._inbox.drain(self._on_control)
        self.counts["frames"] += 1
        self._clock = chunk.timestamp + chunk.duration
        self._show()  # picks up the broker going online or offline
        frame = self.stages.gate.passes(chunk)
        if frame is None:
            self.counts["blocked"] += 1
            return
        if self.state in OPEN:
            self._hear(frame)
            return
        self._wake(frame)

    def _wake(self, frame: AudioChunk) -> None:
        """The wake word on one frame (idle, or busy: a barge-in); frames also fill the pre-roll."""
        if self._preroll.add(frame):  # a gap (listening, muted): start afresh
            self.stages.wake.reset()
        self.counts["wake_in"] += 1
        began = time.perf_counter()
        try:
            fired = self.stages.wake.process(frame)
        except Exception as exc:
            self._error("wake", exc)
            return
        if fired:
            if self.state in BUSY:
                self._barge_in()
            heard = fired[0]
            self._open(heard.source, heard.timestamp, score=heard.score,
                       wake_ms=round(1000 * (time.perf_counter() - began), 1))

    def _open(self, source: str, at: float, *, score: float | None = None, wake_ms: float | None = None,
              hold: bool = False) -> None:
        """Open the microphone for a request; the pre-roll from just before `at` goes first."""
        with self._lock:
            self._listen = Listen(source, since=at, wake_score=score, wake_ms=wake_ms, hold=hold)
            self._set(State.WAKE, source=source, score=score)
            self._set(State.LISTENING)
        handover = self._preroll.handover(at)
        if handover is not None and self._listen is not None and self.state == State.LISTENING:
            self._hear(handover)

    def _hear(self, frame: AudioChunk) -> None:
        """One frame into the recognizer while a request is open; endpoint -> the responder."""
        listen = self._listen
        if listen is None:
            return
        if listen.needs_reset:
            self.stages.asr.reset()
            listen.needs_reset = False
        if listen.since is None:
            listen.since = frame.timestamp
        self.counts["asr_in"] += 1
        arrived = time.perf_counter()
        events = self._recognize(lambda: self.stages.asr.process(frame))
        if events is None:
            return
        asr_ms = round(1000 * (time.perf_counter() - arrived), 1)
        if listen.take(events) and not listen.hold:
            self._endpoint(listen, frame.timestamp + frame.duration, arrived, asr_ms)
        elif self._listen is listen:
            self._check_timeout(listen)

    def _recognize(self, call: Callable[[], list[RecognizerEvent]]) -> list[RecognizerEvent] | None:
        """A recognizer call; on failure the request is dropped (error LED, idle) and None returned."""
        try:
            return call()
        except Exception as exc:
            self._error("asr", exc)
            self._close_listen(State.IDLE)
            return None

    def _endpoint(self, listen: Listen, at: float, arrived: float, asr_ms: float | None) -> None:
        text = listen.transcript(self.phrase)
        if not text:  # noise, or only the wake phrase: keep listening until the timeout
            listen.finals.clear()
            return
        job = Job("turn", self._generation, text, listen.source, listen.alternatives(self.phrase),
                  speech_end=listen.finals[-1].end, endpoint_at=at,
                  endpoint_wall=arrived, asr_ms=asr_ms, wake_ms=listen.wake_ms, wake_score=listen.wake_score)
        self._close_listen(None)
        self._submit(job)

    def _check_timeout(self, listen: Listen) -> None:
        elapsed = self._clock - (listen.since if listen.since is not None else self._clock)
        if not listen.heard and elapsed >= self.turn_timeout:
            self._timed_out()
        elif elapsed >= self.max_request:  # someone (or something) talks on and on: decide now
            self._force_end(listen)

    def _force_end(self, listen: Listen) -> None:
        """Push-to-talk released, or a request too long: the recognizer commits what it has."""
        arrived = time.perf_counter()
        events = self._recognize(self.stages.asr.flush)
        if events is None:
            return
        listen.take(events)
        if listen.finals:
            self._endpoint(listen, self._clock, arrived, round(1000 * (time.perf_counter() - arrived), 1))
        if self._listen is listen:
            self._timed_out()

    def _timed_out(self) -> None:
        """Nobody spoke: a pending question gets its answer said, otherwise back to idle."""
        self._close_listen(None)
        if self.stages.responder.waiting_for_answer():
            self._submit(Job("timeout", self._generation, source="timeout"))
        else:
            with self._lock:
                self._set(State.IDLE, reason="timeout")

    def _close_listen(self, state: State | None) -> None:
        with self._lock:
            self._listen = None
            if state is not None:
                self._set(state)

    # -- MCU events (bridge thread) and their handling (audio thread) -------------------------------
    def _on_mute(self, muted: bool) -> None:
        """MuteGate listener (bridge thread): the LED now; dropping buffered audio on the audio thread."""
        if self._closed:
            return
        self._inbox.put(MuteChanged(muted, "gate", time.monotonic()))
        self._show()

    def on_mcu_event(self, event: object) -> None:
        """McuBridge subscriber: buttons and the DSP wake trigger; stopping speech happens at once."""
        if self._closed or not isinstance(event, (ButtonPressed, DspWake)):
            return  # the mute switch reaches the loop through the gate (_on_mute)
        if isinstance(event, ButtonPressed) and stops_speech(event.kind, push_to_talk=self.push_to_talk) \
                and self.state in BUSY:
            self._barge_in()
        self._inbox.put(event)

    def _muted(self, event: MuteChanged) -> None:
        if event.muted:
            self._preroll.clear()
            if self.state in OPEN:
                self._close_listen(State.IDLE)

    def _dsp_wake(self, event: DspWake) -> None:
        if self.state == State.IDLE and not self.stages.gate.muted:
            self._open("dsp", self._clock, score=event.score)

    def _button(self, event: ButtonPressed) -> None:
        listen = self._listen if self.state in OPEN else None
        action = button_action(event.kind, push_to_talk=self.push_to_talk, state=self.state,
                               listening=listen is not None, held=listen is not None and listen.hold)
        if self.stages.gate.muted or action is None:
            return
        if listen is not None and action is Press.RELEASE:
            self._force_end(listen)
        elif listen is not None and action is Press.HOLD:
            listen.hold = True
        else:
            self._open("button", self._clock, hold=action is Press.OPEN_HELD)

    # -- the responder thread ----------------------------------------------------------------------
    def _submit(self, job: Job) -> None:
        with self._lock:
            self._pending += 1
            self._set(State.THINKING, source=job.source)
        self._jobs.put(job)

    def _respond_forever(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._respond(job)
            except Exception as exc:  # the loop outlives any one bad turn
                self._error("respond", exc)
                with self._lock:
                    if job.generation == self._generation:
                        self._set(State.IDLE)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._quiet.notify_all()

    def _respond(self, job: Job) -> None:
        nlu_s = dialog_s = None
        responder = self.stages.responder
        if job.kind == "turn":
            turn, nlu_s, dialog_s = responder.answer(job.text, job.alternatives)
        else:
            turn = responder.timeout()
        self.counts["turns"] += 1
        number = self.counts["turns"]
        ending = Ending(turn, responder.settle)
        played = Played()
        if turn.reply.text and job.generation == self._generation:
            played = self._say((lambda: turn.reply.text, ending.words), job, number)
        turn = ending.settled()
        latency = latencies(job, nlu_s, dialog_s, played.first_audio_seconds, played.first_audio_wall)
        with self._lock:
            current = job.generation == self._generation
            self.emit(finished_turn(number, job, turn, latency, spoken_seconds=played.audio_seconds,
                                    barged_in=not current, error=played.error, first_audio_wall=played.first_audio_wall))
            if current:
                follow_up = turn.reply.expects_answer and job.kind == "turn" and played.error is None
                if follow_up and not self.stages.gate.muted:
                    self._listen = Listen("follow-up")
                    self._set(State.LISTENING)
                else:
                    self._set(State.IDLE)

    def _say(self, parts: tuple[Callable[[], str], ...], job: Job, number: int) -> Played:
        """Synthesize and play a reply's parts in turn, unless a barge-in replaces them."""

        def claim(speech: Speech) -> bool:
            with self._lock:
                if job.generation != self._generation:
                    speech.cancel()
                    return False
                self._speech = speech
                return True

        def first_audio() -> None:
            with self._lock:
                if job.generation == self._generation:
                    self._set(State.SPEAKING)

        try:
            played = speak_reply(parts, self.stages.synthesizer.speak, claim, lambda: self.stages.open_sink(number),
                                 first_audio)
        finally:
            with self._lock:
                self._speech = None
        if played.error is not None:
            self._error("tts", RuntimeError(played.error))
        return played

    def _barge_in(self, record: bool = True) -> None:
        """Stop the answer in progress (thread-safe): its speech is cancelled, its state changes dropped."""
        with self._lock:
            self._generation += 1
            speech = self._speech
            busy = self.state in BUSY
        if speech is not None:
            speech.cancel()
        if record and busy:
            self.counts["barge_ins"] += 1
            self.emit(BargeIn(self._clock))

    # -- state, LEDs, errors -----------------------------------------------------------------------
    def _set(self, state: State, *, source: str | None = None, score: float | None = None,
             reason: str | None = None) -> None:
        """Move to state (caller holds the lock), tell the listener and the LED."""
        if state == self.state:
            return
        previous, self.state = self.state, state
        self.emit(StateChanged(state, previous, self._clock, source=source, score=score, reason=reason))
        self._show()
        self._quiet.notify_all()

    def _show(self) -> None:
        with self._lock:
            pattern = self.leds.change(self.state, self.stages.gate.muted)
        if pattern is not None:
            self.leds.send(pattern)

    @property
    def led(self) -> str:
        """The LED pattern last sent to the MCU."""
        return self.leds.pattern

    def _error(self, stage: str, exc: Exception) -> None:
        log.error("%s failed: %s", stage, exc, exc_info=exc)
        self.counts["errors"] += 1
        self.emit(StageFailed(stage, str(exc)))
        self.leds.error()
