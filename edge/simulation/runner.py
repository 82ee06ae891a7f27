"""`python -m edge.simulate`: one device, its MCU, the broker and the cloud, in a scripted conversation.

Order of a run: check the scenario and the bundles (fail fast, before any model loads); build or
reuse the demo catalog; start the cloud service (with the embedded broker unless --broker);
synthesize the user's lines in the user's voice; load the device's models once; then, per session,
open the device on the same data dir (the dialogue starts afresh, the outbox remembers), play the
turns through the real chain and check each one, wait for the orders to reach the cloud and count
them there. Everything lands in the output folder named at the end: the user's and the device's
WAVs, conversation.wav, run.jsonl, latency.png and report.html. Exit status 0 only when every
expectation held; 1 when one failed; 2 when the run could not start.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import secrets
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from edge.audio import AudioError, WavSink, read_audio, write_wav
from edge.config import ConfigError, Settings, load_settings
from edge.device import DeviceError, check_bundles, load_models, open_device, open_mcu
from edge.redact import hide_secrets_in_logs
from edge.simulation.checks import check_turn
from edge.simulation.driver import Recorder, User
from edge.simulation.report import latency_chart, latency_summary, write_html, write_jsonl
from edge.simulation.scenario import Scenario, ScenarioError, Session, load_scenario, scenario_for
from edge.simulation.timeline import Timeline
from edge.simulation.voice import UserSpeaker
from edge.simulation.world import Cloud, WorldError, demo_catalog, device_dir
from edge.wire import redact_url

log = logging.getLogger("edge.simulate")
DEFAULT_OUT = Path("~/.cache/voiceshop/simulations").expanduser()
SETTLE_SECONDS = 20.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edge.simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("speaker", "car"), help="device profile (default: the scenario's)")
    parser.add_argument("--scenario", metavar="FILE", help="scenario YAML (default: the profile's own, "
                        "edge/scenarios/<profile>.yaml, else edge/scenarios/default.yaml)")
    parser.add_argument("--broker", metavar="URL", help="use this MQTT broker instead of the embedded one")
    parser.add_argument("--interactive", action="store_true", help="type lines (spoken in the user's voice) "
                        "against the same device instead of the script")
    parser.add_argument("--mic", action="store_true", help="with --interactive: speak into the microphone")
    parser.add_argument("--json", action="store_true", help="one JSON record per turn on stdout")
    parser.add_argument("--out", metavar="DIR", help=f"output folder (default: a new one under {DEFAULT_OUT})")
    parser.add_argument("--realtime", action="store_true", help="feed audio at the microphone's pace")
    parser.add_argument("--speaker", action="store_true", help="also play the device's replies on the speaker")
    parser.add_argument("--config", metavar="FILE", help="device config TOML (as python -m edge --config)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")
    return parser


class Simulation:
    """One run: the world, the user, the device (re-opened per session) and what they said."""

    def __init__(self, settings: Settings, scenario: Scenario, out: Path, args: argparse.Namespace,
                 console: Console) -> None:
        self.settings, self.scenario, self.out, self.args, self.console = settings, scenario, out, args, console
        self.recorder = Recorder()
        self.rows: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.cloud: Cloud | None = None
        self.cloud_orders: list[dict[str, Any]] = []
        self.timeline: Timeline | None = None
        self.replies = 0
        self.turn_replies: list[str] = []
        """Reply WAVs written since the current turn began."""
        self.pieces: list[Path] = []
        """The conversation's WAVs in the order they were heard."""

    # -- set-up ------------------------------------------------------------------------------------
    def _open_reply(self, _n: int) -> Any:
        self.replies += 1
        name = f"reply-{self.replies:02d}.wav"
        self.turn_replies.append(name)
        sink = WavSink(self.out / name, self.settings.audio.output_rate)
        if not self.args.speaker:
            return sink
        from edge.audio import open_sink

        return _Tee(sink, open_sink("speaker", self.settings.audio.output_rate))

    def run(self) -> int:
        status = "started"
        try:
            catalog = demo_catalog(self.settings.models.path, self.settings.device.language)
            data = device_dir(catalog, self.out)
            self.cloud = Cloud(catalog, self.out / "cloud.sqlite", self.args.broker)
            url = self.cloud.start()
            self.console.print(f"[dim]cloud service up, broker {redact_url(url)}; device {self.settings.device.id}[/dim]")
            speaker = UserSpeaker(self.settings, self.scenario.voice, language=self.scenario.language)
            audio = self._synthesize(speaker)
            models = load_models(self.settings)
            mcu = open_mcu(self.settings, None, simulate=True)
            try:
                self.timeline = Timeline(self.console, live=None if not self.args.json else False,
                                         title=f"{self.scenario.name} ({self.settings.device.profile})")
                with self.timeline as timeline:
                    self.recorder.listeners.append(timeline.on_record)
                    user = User(self.settings.audio.sample_rate, self.settings.audio.frame_ms,
                                realtime=self.args.realtime, mcu=mcu[1])
                    if self.args.interactive:
                        self._interactive(data, url, models, mcu, user, speaker, timeline)
                    else:
                        for session in self.scenario.sessions:
                            self._session(session, data, url, models, mcu, user, audio, timeline)
            finally:
                if mcu[0] is not None:
                    mcu[0].close()
                if mcu[1] is not None:
                    mcu[1].stop()
            status = "passed" if not self.failures else "failed"
        except (WorldError, DeviceError, AudioError) as exc:
            self.failures.append(str(exc))
            status = "error"
            print(f"python -m edge.simulate: {exc}", file=sys.stderr)
        finally:
            if self.cloud is not None:
                self.cloud.stop()
            self._report(status)
        return {"passed": 0, "failed": 1}.get(status, 2)

    def _synthesize(self, speaker: UserSpeaker) -> dict[tuple[int, int], Any]:
        """Every scripted line in the user's voice (cached after the first run)."""
        audio = {}
        phrase = self.settings.wake.phrase
        for s, session in enumerate(self.scenario.sessions):
            for t, turn in enumerate(session.turns):
                if turn.say:
                    voice = dataclasses.replace(self.scenario.voice, **turn.voice)
                    audio[s, t] = speaker.wake_and_say(phrase, turn.say, voice) if turn.wake else \
                        speaker.say(turn.say, voice)
        return audio

    # -- sessions ----------------------------------------------------------------------------------
    def _open(self, data: Path, url: str, models: Any, mcu: Any, user: User) -> Any:
        device = open_device(self.settings, data, broker_url=url, emit=self.recorder, models=models, mcu=mcu,
                             open_reply=self._open_reply)
        user.attach(device.loop, self.recorder)
        return device

    def _session(self, session: Session, data: Path, url: str, models: Any, mcu: Any, user: User,
                 audio: dict[tuple[int, int], Any], timeline: Timeline) -> None:
        s = self.scenario.sessions.index(session)
        timeline.note(f"session {s + 1}: {session.name}")
        device = self._open(data, url, models, mcu, user)
        try:
            for t, turn in enumerate(session.turns):
                clip = audio.get((s, t))
                played = user.play(clip, turn.say, button=turn.button,
                                   timeout=self.settings.dialog.turn_timeout_seconds)
                failures = check_turn(turn.say, turn.expect, played.record, played.state_after,
                                      self.scenario.wer_tolerance, self.scenario.language)
                self._row(session.name, turn.say, clip, played.record, failures, timeline)
            user.end_session(self.settings.dialog.turn_timeout_seconds)
            self._check_cloud(session, device, timeline)
        finally:
            device.close()

    def _row(self, session: str, said: str, clip: Any, record: dict[str, Any] | None, failures: list[str],
             timeline: Timeline) -> None:
        number = len(self.rows) + 1
        user_wav = None
        if clip is not None:
            user_wav = f"turn-{number:02d}-user.wav"
            write_wav(self.out / user_wav, clip, self.settings.audio.sample_rate)
            self.pieces.append(self.out / user_wav)
        self.pieces += [self.out / name for name in self.turn_replies]
        row = {"turn": number, "session": session, "said": said, "record": record, "failures": failures,
               "user_wav": user_wav, "reply_wav": self.turn_replies[-1] if self.turn_replies else None}
        self.turn_replies = []
        self.rows.append(row)
        self.failures += [f"turn {number}: {f}" for f in failures]
        timeline.add(row)
        if self.args.json:
            record = record or {}
            print(json.dumps({"event": "turn", "turn": number, "session": session, "said": said,
                              "transcript": record.get("transcript"), "wer": record.get("wer"),
                              "intent": record.get("intent"), "slots": record.get("slots"),
                              "reply": record.get("reply"), "actions": record.get("actions"),
                              "latency_ms": record.get("latency_ms"), "failures": failures, "ok": not failures},
                             ensure_ascii=False, default=str), flush=True)

    def _check_cloud(self, session: Session, device: Any, timeline: Timeline) -> None:
        """The session's orders reach the cloud, each stored exactly once."""
        outbox = device.session.outbox
        deadline = time.monotonic() + SETTLE_SECONDS
        while outbox.unsettled() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.cloud is not None
        stored = self.cloud.orders()
        keys = Counter(order["key"] for order in stored)
        problems = [f"order {key} stored {n} times in the cloud" for key, n in keys.items() if n != 1]
        sent = [order.key for order in outbox.list() if order.key and order.state != "cancelled"]
        problems += [f"order {key} confirmed on the device never reached the cloud" for key in sent if key not in keys]
        wanted = session.expect_after.get("cloud_orders")
        if wanted is not None and len(stored) != wanted:
            problems.append(f"the cloud has {len(stored)} order(s), expected {wanted}")
        timeline.note(f"after {session.name!r}: the cloud stored {len(stored)} order(s)"
                      + (f"; {'; '.join(problems)}" if problems else ", each exactly once"))
        self.failures += [f"{session.name}: {p}" for p in problems]
        self.cloud_orders = stored

    def _interactive(self, data: Path, url: str, models: Any, mcu: Any, user: User, speaker: UserSpeaker,
                     timeline: Timeline) -> None:
        from edge.simulation.interactive import interact

        device = self._open(data, url, models, mcu, user)
        try:
            interact(self, device, user, speaker, timeline)
        finally:
            device.close()

    # -- the report --------------------------------------------------------------------------------
    def _report(self, status: str) -> None:
        write_jsonl(self.out / "run.jsonl", self.recorder.records)
        self._conversation()
        chart = latency_chart(self.rows, self.out / "latency.png") if self.rows else None
        picture = None
        if self.timeline is not None and self.rows:
            picture = self.out / "timeline.svg"
            self.timeline.save_svg(picture)
        summary = {"scenario": str(self.scenario.path), "profile": self.settings.device.profile,
                   "device": self.settings.device.id, "status": status, "passed": status == "passed",
                   "turns": len(self.rows), "failures": self.failures,
                   "end_of_speech_to_first_audio": latency_summary(self.rows),
                   "cloud_orders": len(getattr(self, "cloud_orders", []))}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        write_html(self.out / "report.html", title=f"voiceshop simulation: {self.scenario.name}", rows=self.rows,
                   summary=summary, chart=chart, timeline=picture)
        if self.args.json:
            print(json.dumps({"event": "summary", **summary, "out": str(self.out)}, default=str), flush=True)
        verdict = "[green]all expectations held[/green]" if status == "passed" else f"[red]{status}[/red]"
        lat = summary["end_of_speech_to_first_audio"]
        if lat["p50_ms"] is not None:
            self.console.print(f"end of speech -> first reply audio: p50 {lat['p50_ms']:.0f} ms, "
                               f"p95 {lat['p95_ms']:.0f} ms over {lat['turns']} turns")
        for failure in self.failures:
            self.console.print(f"[red]✗ {escape(failure)}[/red]")  # a failure may quote "[asr] ..."
        self.console.print(f"{verdict}. Output folder: {self.out}\n  report: {self.out / 'report.html'}")

    def _conversation(self) -> None:
        """conversation.wav: the user's lines and the device's replies in order, at the speaker's rate."""
        import numpy as np

        rate = self.settings.audio.output_rate
        gap = np.zeros(int(0.3 * rate), dtype=np.float32)
        parts = []
        for path in self.pieces:
            if path.is_file() and path.stat().st_size > 44:
                parts += [read_audio(path, rate), gap]
        if parts:
            write_wav(self.out / "conversation.wav", np.concatenate(parts), rate)


class _Tee:
    """A reply sink that writes to a WAV file and plays on the speaker."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks, self.sample_rate = sinks, sinks[0].sample_rate

    def write(self, samples: Any) -> None:
        for sink in self.sinks:
            sink.write(samples)

    def stop(self) -> None:
        for sink in self.sinks:
            sink.stop()

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


def _logging(console: Console, level: int, out: Path | None) -> None:
    """Log lines through the timeline's console (so they print above the live table, not through it),
    and everything from INFO up into the output folder's simulate.log."""
    from rich.logging import RichHandler

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    screen = RichHandler(console=console, show_path=False, level=level)
    root.addHandler(screen)
    root.setLevel(level)
    if out is not None:
        file_log = logging.FileHandler(out / "simulate.log")
        file_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        file_log.setLevel(logging.INFO)
        root.addHandler(file_log)
        root.setLevel(min(level, logging.INFO))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=args.json)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    _logging(console, level, None)
    if args.mic and not args.interactive:
        print("python -m edge.simulate: --mic needs --interactive", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.config)
        scenario = load_scenario(args.scenario or scenario_for(args.profile))
        if scenario.language != settings.device.language:  # the scenario's language is the device's for this run
            settings = load_settings(args.config, {**os.environ, "VOICESHOP_DEVICE__LANGUAGE": scenario.language})
    except (ConfigError, ScenarioError) as exc:
        print(f"python -m edge.simulate: {exc}", file=sys.stderr)
        return 2
    profile = args.profile or scenario.profile or settings.device.profile
    settings = dataclasses.replace(settings, device=dataclasses.replace(
        settings.device, profile=profile, id=f"sim-{secrets.token_hex(3)}"))
    try:
        check_bundles(settings)
    except DeviceError as exc:
        print(f"python -m edge.simulate: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out).expanduser() if args.out else DEFAULT_OUT / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    _logging(console, level, out)
    hide_secrets_in_logs(settings)
    return Simulation(settings, scenario, out, args, console).run()
