"""`python -m bench task` (bench/task*.py): the harness's own invariants, never one CPU's figures.

Fast tests check the scoring on hand-made cases (what counts as the product meant, slot F1, pooling)
and the audio conditions (seeded, at the SNR asked, car noise low, far field reverberant). The
end-to-end test runs `--quick` on the real bundles (VAD, Whisper tiny.en and base, NLU, demo
catalog) and checks the JSON it writes: every cell present, rates in [0, 1], the anchor, clean
speech no worse than 5 dB noise (within one small sample's noise), the typed text understood.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench.task_audio import Condition, car_cabin, far_room, music, under
from bench.task_chain import expected_slots, is_meant, picked_product, slot_counts
from bench.task_commands import COMMANDS, QUICK, Command
from bench.task_report import goals, grouped, pool
from export.speech_noise import active_rms
from tests.conftest import MODELS_DIR, run_cli

APPLES = Command("how much are the Fuji apples", "price_query", {"product": "Fuji apples"}, ("Fuji apples",))
EGGS = Command("how much do the Happy Cow eggs cost", "price_query", {"brand": "Happy Cow", "product": "eggs"},
               ("large eggs", "brown eggs"), "Happy Cow")


def test_product_meant_is_the_spec_under_any_variant_and_the_brand_named():
    assert is_meant(APPLES, "Fuji apples", "Green Valley")
    assert is_meant(APPLES, "organic Fuji apples", "Orchard Lane")  # a variant of the product meant
    assert not is_meant(APPLES, "Gala apples", "Green Valley")
    assert not is_meant(APPLES, "Fuji apples juice", "Sunburst")  # the name must end with the product
    assert is_meant(EGGS, "brown eggs", "Happy Cow")
    assert not is_meant(EGGS, "large eggs", "Sunny Farms")  # the brand said must be the brand picked


def test_picked_product_reads_actions_then_the_pending_question_then_focus():
    state = SimpleNamespace(pending=None, focus=None)
    assert picked_product([{"type": "add_to_cart", "product_id": 7, "quantity": 2}], state) == 7
    assert picked_product([{"type": "results", "product_ids": [3, 9]}], state) == 3  # the top result
    assert picked_product([{"type": "not_found", "query": "boat milk"}], state) is None
    asked = SimpleNamespace(pending=SimpleNamespace(data={"item": SimpleNamespace(product_id=11)}), focus=None)
    assert picked_product([], asked) == 11  # "... Shall I add 2?" carries no action
    assert picked_product([], SimpleNamespace(pending=None, focus=SimpleNamespace(product_id=5))) == 5


def test_product_correct_on_a_hand_made_turn():
    """The whole computation: a turn's actions -> the product id -> its catalog row -> meant or not."""
    catalog = {1: ("Fuji apples", "Green Valley"), 2: ("Gala apples", "Green Valley")}
    state = SimpleNamespace(pending=None, focus=None)
    for actions, right in (([{"type": "price", "product_id": 1, "price_cents": 499}], True),
                           ([{"type": "price", "product_id": 2, "price_cents": 399}], False),
                           ([{"type": "results", "product_ids": [2, 1]}], False),  # only the top one counts
                           ([{"type": "fallback"}], False)):
        picked = picked_product(actions, state)
        assert (picked is not None and is_meant(APPLES, *catalog[picked])) is right


def test_slot_counts_compare_normalized_values():
    command = Command("add three gallons of whole milk", "add_to_cart",
                      {"quantity": "three", "unit": "gallons", "product": "whole milk"})
    expected = expected_slots(command)
    assert slot_counts(expected, {"quantity": 3, "unit": "gallon", "product": "Whole milk"}) == (3, 0, 0)
    assert slot_counts(expected, {"quantity": 2, "product": "whole milk"}) == (1, 1, 2)
    assert slot_counts(expected, {}) == (0, 0, 3)


def _record(snr: str, intent_ok: bool, product_ok: bool | None, model: str = "tiny.en", field: str = "near"):
    return {"model": model, "voice": "v", "field": field, "noise": "pink", "snr": snr, "intent_ok": intent_ok,
            "product_ok": product_ok, "tp": 1, "fp": 0, "fn": int(not intent_ok), "errors": 1, "words": 4}


def test_pooling_and_goals():
    records = [_record("clean", True, True), _record("clean", True, None), _record("10", False, False),
               _record("5", False, False), _record("typed", True, True, model="-", field="-")]
    row = pool(records[:3])
    assert row["n"] == 3 and row["intent_accuracy"] == pytest.approx(2 / 3)
    assert row["product_n"] == 2 and row["product_correct"] == 0.5  # commands naming no product don't count
    assert row["slot_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1)) and row["wer"] == pytest.approx(3 / 12)
    judged = goals(records, "tiny.en")
    assert judged["at_least_10db"]["n"] == 3  # the 5 dB record is not judged
    assert not judged["intent_goal_met"] and judged["no_drop_on_clean"]
    assert [r["snr"] for r in grouped(records, ("snr",))] == ["clean", "10", "5", "typed"]


def test_the_commands_name_catalog_products_and_the_quick_set_covers_the_product_intents():
    from voiceshop_common import vocab

    names = set(vocab.product_names())
    assert all(p in names for c in COMMANDS for p in (*c.products, *c.cart))
    assert {"add_to_cart", "search", "price_query", "remove_from_cart"} <= {c.intent for c in QUICK}
    assert all(c.cart[0] in c.products for c in COMMANDS if c.cart)
    assert all(expected_slots(c).keys() == c.slots.keys() for c in COMMANDS)  # every slot readable


@pytest.mark.parametrize("noise", ["pink", "music", "car"])
def test_noise_is_seeded_and_at_the_snr_asked(noise):
    rng = np.random.default_rng(0)
    speech = (np.sin(np.arange(32000) * 2 * np.pi * 220 / 16000) * rng.uniform(0.5, 1, 32000) * 0.05).astype(np.float32)
    condition = Condition(noise, 10.0, "near")
    noisy = under(speech, condition, "key")
    assert np.array_equal(noisy, under(speech, condition, "key"))  # the same clip hears the same noise
    assert not np.array_equal(noisy, under(speech, condition, "other"))
    clean = under(speech, Condition("clean", None, "near"), "key")
    measured = 20 * np.log10(active_rms(speech) / np.sqrt(np.mean((noisy - clean) ** 2)))
    assert measured == pytest.approx(10.0, abs=0.5)


def test_car_noise_is_low_and_music_has_a_beat():
    rng = np.random.default_rng(1)
    car = car_cabin(48000, rng)
    power = np.abs(np.fft.rfft(car)) ** 2
    freqs = np.fft.rfftfreq(len(car), 1 / 16000)
    assert power[freqs < 500].sum() / power.sum() > 0.9
    song = music(48000, rng)
    envelope = np.abs(song[: 48000 // 400 * 400]).reshape(-1, 400).mean(axis=1)
    assert envelope.max() > 2 * np.median(envelope)  # notes and drums start and decay
    assert np.sqrt(np.mean(song ** 2)) == pytest.approx(1.0, rel=1e-3)


def test_far_field_is_2_to_4_m_in_a_reverberant_room():
    for seed in range(20):
        response, params = far_room(np.random.default_rng(seed))
        assert 0.4 <= params["rt60"] <= 0.7 and 2 <= params["distance_m"] <= 4
        tail = float(np.sum(response[1:].astype(np.float64) ** 2))
        assert 10 * np.log10(1.0 / tail) == pytest.approx(params["drr_db"], abs=0.1)
        assert -20 < params["drr_db"] < 0  # at 2-4 m the room is louder than the direct path


def test_quick_run_end_to_end_on_the_real_models(bundle, tmp_path: Path):
    for name in ("nlu", "vad", "asr", "asr-base"):
        bundle(name)
    out = tmp_path / "task.json"
    result = run_cli("bench", "task", "--quick", "--fresh", "--hearing-changes", "--cache", str(tmp_path / "cache"), "--out", str(out),
                     "--models-dir", str(MODELS_DIR), env={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)}, timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "anchor" in result.stdout and "Rhino" in result.stdout and "product-correct" in result.stdout
    report = json.loads(out.read_text())
    assert report["anchor"]["rate"] == 0.976
    cells = report["cells"]
    voices, conditions = report["voices"], report["conditions"]
    assert len(voices) >= 3 and report["decoded"] == 2 * len(voices) * len(QUICK) * len(conditions)
    for model in ("tiny.en", "base"):
        for voice in voices:
            for label in conditions:
                field, noise, snr = label.split("/")
                found = [c for c in cells if (c["model"], c["voice"], c["field"], c["noise"], c["snr"])
                         == (model, voice, field, noise, snr)]
                assert len(found) == 1 and found[0]["n"] == len(QUICK), (model, voice, label)
    for cell in cells:
        for rate in ("intent_accuracy", "product_correct", "slot_f1", "wer"):
            assert cell[rate] is None or 0.0 <= cell[rate] <= (1.0 if rate != "wer" else 5.0)
    typed = [c for c in cells if c["snr"] == "typed"]
    assert len(typed) == 1 and typed[0]["intent_accuracy"] >= 0.75 and typed[0]["product_correct"] >= 0.75
    records = report["records"]
    for model in ("tiny.en", "base"):
        clean = pool(r for r in records if r["model"] == model and r["snr"] == "clean")
        noisy = pool(r for r in records if r["model"] == model and r["snr"] == "5")
        # 24 commands a cell: allow two commands' worth of sampling noise in clean's favour being absent
        assert clean["intent_accuracy"] >= noisy["intent_accuracy"] - 2 / clean["n"], (model, clean, noisy)
    assert {g["model"] for g in report["goals"]} == {"tiny.en", "base"}
    # the same transcripts scored again without the recognizer's other readings (edge/dialog/hearing.py)
    assert "answering the best-understood reading's changes" in result.stdout
    assert all(isinstance(r["intent_ok_without_hearing"], bool) for r in records)


def test_the_dev_split_shares_no_voice_or_command_with_the_held_out_bench():
    """`bench task --dev` is what the chain after the recognizer is tuned on: other voices, other lines."""
    from bench.task_audio import EXTRA_VOICES, VOICES
    from bench.task_dev import DEV_COMMANDS, DEV_VOICES

    assert not set(DEV_VOICES) & set(VOICES + EXTRA_VOICES)
    assert not {c.text.lower() for c in DEV_COMMANDS} & {c.text.lower() for c in COMMANDS}
    assert all(c.intent and (not c.products or c.slots.get("product")) for c in DEV_COMMANDS)


def test_transcripts_are_cached_apart_per_prompt_bias_beam_and_second_opinion():
    from bench.task import prompt_key

    def asr(**kw: object) -> SimpleNamespace:
        base = {"prompt": "dialog", "prompt_tokens": 160, "bias_bonus": 4.0, "bias_start_bonus": 3.0, "beam_size": 4,
                "runtime": "onnxruntime", "model": "tiny.en", "second_model": "", "second_hearing": "",
                "second_hearing_below": 10.0}
        return SimpleNamespace(**{**base, **kw})

    keys = {prompt_key(asr()), prompt_key(asr(beam_size=1)), prompt_key(asr(bias_bonus=0.0, bias_start_bonus=0.0)),
            prompt_key(asr(prompt="off", bias_bonus=0.0, bias_start_bonus=0.0)), prompt_key(asr(second_model="base")),
            prompt_key(asr(prompt="off", bias_bonus=0.0, bias_start_bonus=0.0, beam_size=1, second_model="base")),
            prompt_key(asr(second_hearing="slower")), prompt_key(asr(second_hearing="slower", second_hearing_below=0.0))}
    assert "-second-hearing-slower-" in prompt_key(asr(second_hearing="slower"))
    assert "-second-hearing-slower-below0-" in prompt_key(asr(second_hearing="slower", second_hearing_below=0.0))
    assert len(keys) == 8 and "-beam4-" in prompt_key(asr()) and "-second-base-" in prompt_key(asr(second_model="base"))
    assert prompt_key(asr(prompt="off", bias_bonus=0.0, bias_start_bonus=0.0, beam_size=1)) == ""  # plain greedy
    assert prompt_key(asr(runtime="sherpa")) == ""  # sherpa takes none of them: its one cache
