"""Config: defaults load, files and the environment override, and mistakes are named precisely."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from edge.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings, whisper_runtime


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "device.toml"
    path.write_text(text)
    return path


def test_shipped_defaults_match_dataclass_defaults():
    # The TOML is what device makers read; it must not drift from the code's defaults. Loading resolves
    # [asr] runtime "auto" for the model (tiny.en: onnxruntime), as the device would.
    defaults = Settings()
    assert defaults.asr.runtime == "auto"
    assert load_settings(environ={}) == dataclasses.replace(
        defaults, asr=dataclasses.replace(defaults.asr, runtime=whisper_runtime(defaults.asr)))
    assert whisper_runtime(defaults.asr) == "onnxruntime"


def test_shipped_toml_lists_every_key():
    shipped = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    defaults = Settings().to_dict()
    assert set(shipped) == set(defaults)
    for section, values in defaults.items():
        assert set(shipped[section]) == set(values), section


def test_profiles_differ_for_car_and_speaker():
    speaker = load_settings(environ={})
    car = load_settings(environ={"VOICESHOP_DEVICE__PROFILE": "car"})
    assert speaker.profile.max_results == 3 and not speaker.profile.short_replies
    assert car.profile.max_results == 2 and car.profile.short_replies and car.profile.push_to_talk


def test_file_overrides_defaults(tmp_path):
    path = write(tmp_path, '[broker]\nurl = "mqtt://10.0.0.5:1883"\n[threads]\nasr = 2\n[runtime]\nprovider = "qnn"\n')
    settings = load_settings(path, environ={})
    assert settings.broker.url == "mqtt://10.0.0.5:1883"
    assert settings.threads.asr == 2
    assert settings.runtime.provider == "qnn"  # passed through, checked when sessions are made
    assert settings.threads.tts == 1  # untouched keys keep defaults


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, "[threads]\nasr = 2\n")
    settings = load_settings(path, environ={"VOICESHOP_THREADS__ASR": "3", "VOICESHOP_PROFILES__CAR__MAX_RESULTS": "1",
                                            "VOICESHOP_DIALOG__PURCHASING_ENABLED": "false"})
    assert settings.threads.asr == 3
    assert settings.profiles.car.max_results == 1
    assert settings.dialog.purchasing_enabled is False


def test_config_file_from_environment(tmp_path):
    path = write(tmp_path, '[device]\nid = "car-42"\n')
    assert load_settings(environ={"VOICESHOP_CONFIG": str(path)}).device.id == "car-42"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[broker]\nurll = 'x'\n", "unknown key 'broker.urll'"),
        ("[brokr]\nurl = 'x'\n", "unknown key 'brokr'"),
        ("[threads]\nasr = 'two'\n", "'threads.asr': expected an integer"),
        ("[threads]\nasr = 1.5\n", "'threads.asr': expected an integer"),
        ("[threads]\nasr = 0\n", "'threads.asr' must be between 1 and 64"),
        ("[dialog]\npurchasing_enabled = 'yes'\n", "'dialog.purchasing_enabled': expected bool"),
        ("[device]\nprofile = 'tv'\n", "'device.profile': must be one of 'speaker', 'car'"),
        ("[dialog]\npin = '12a4'\n", "'dialog.pin' must be empty or 4 digits"),
        ("[audio]\nframe_ms = 500\n", "'audio.frame_ms' must be between 10 and 100"),
        ("[profiles]\ncar = 3\n", "'profiles.car' must be a table"),
        ("[profiles.car]\nmax_result = 3\n", "unknown key 'profiles.car.max_result'"),
        ("broker = 'x'\n", "'broker' must be a table"),
        ("[broker\n", "not valid TOML"),
    ],
)
def test_bad_file_is_rejected_naming_key_and_file(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_int_is_accepted_where_float_expected(tmp_path):
    assert load_settings(write(tmp_path, "[asr]\nmin_silence_seconds = 1\n"), environ={}).asr.min_silence_seconds == 1.0


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"VOICESHOP_THREADS__ASR": "many"}, "VOICESHOP_THREADS__ASR: expected an integer"),
        ({"VOICESHOP_THREADS__GPU": "1"}, "unknown key in VOICESHOP_THREADS__GPU"),
        ({"VOICESHOP_NOPE__X": "1"}, "unknown section in VOICESHOP_NOPE__X"),
        ({"VOICESHOP_DIALOG__PURCHASING_ENABLED": "maybe"}, "expected a boolean"),
    ],
)
def test_bad_environment_is_rejected(env, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings(environ=env)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[dialog]\nspending_limit_cents = -1\n", "'dialog.spending_limit_cents' must be 0 or more"),
        ("[dialog]\ncancel_window_seconds = -60\n", "'dialog.cancel_window_seconds' must be 0 or more"),
        ("[dialog]\nturn_timeout_seconds = -8.0\n", "'dialog.turn_timeout_seconds' must be more than 0"),
        ("[dialog]\nturn_timeout_seconds = 0\n", "'dialog.turn_timeout_seconds' must be more than 0"),
        ("[dialog]\nsync_wait_seconds = -1\n", "'dialog.sync_wait_seconds' must be between 0 and 60"),
        ("[device]\nid = 'dev/+#'\n", "'device.id' must be 1-64 letters"),
        ("[device]\nid = 'dev 1'\n", "'device.id' must be 1-64 letters"),
        ("[device]\nid = ''\n", "'device.id' must be 1-64 letters"),
        ("[device]\nid = '" + "d" * 65 + "'\n", "'device.id' must be 1-64 letters"),
    ],
)
def test_out_of_range_limits_and_device_ids_are_rejected_at_start_up(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert needle in str(info.value)


def test_device_id_wildcards_are_rejected_from_the_environment_too():
    with pytest.raises(ConfigError, match="'device.id' must be"):
        load_settings(environ={"VOICESHOP_DEVICE__ID": "dev-#"})
    assert load_settings(environ={"VOICESHOP_DEVICE__ID": "car-42.eu_1"}).device.id == "car-42.eu_1"


def test_zero_limits_stay_allowed(tmp_path):
    # 0 is meaningful: every order needs the PIN; orders cannot be cancelled by voice.
    settings = load_settings(write(tmp_path, "[dialog]\nspending_limit_cents = 0\ncancel_window_seconds = 0\n"),
                             environ={})
    assert settings.dialog.spending_limit_cents == 0 and settings.dialog.cancel_window_seconds == 0


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("[dialog]\npin = '98x6'\n", "98x6"),
        ("[dialog]\npin = 98765\n", "98765"),
        ("[dialog]\npin = '987654'\n", "987654"),
        ("[broker]\npassword = 4711815\n", "4711815"),
    ],
)
def test_errors_about_secret_settings_do_not_echo_the_value(tmp_path, text, secret):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert secret not in message
    assert "hidden value" in message and str(path) in message


def test_errors_about_ordinary_settings_still_show_the_value(tmp_path):
    with pytest.raises(ConfigError, match="got 500"):
        load_settings(write(tmp_path, "[audio]\nframe_ms = 500\n"), environ={})


def test_auto_runtime_follows_the_model_and_the_forced_look_follows_the_runtime():
    zh = load_settings(environ={"VOICESHOP_DEVICE__LANGUAGE": "zh"})
    assert (zh.asr.model, zh.asr.runtime, zh.wake.second_look) == ("base", "sherpa", False)
    chosen = load_settings(environ={"VOICESHOP_DEVICE__LANGUAGE": "zh", "VOICESHOP_ASR__RUNTIME": "onnxruntime"})
    assert (chosen.asr.runtime, chosen.wake.second_look) == ("onnxruntime", True)
    en = load_settings(environ={})
    assert (en.asr.runtime, en.wake.second_look, en.wake.second_look_method) == ("onnxruntime", True, "forced")
    assert load_settings(environ={"VOICESHOP_ASR__MODEL": "base"}).asr.runtime == "sherpa"
    with pytest.raises(ConfigError, match="runtime"):
        load_settings(environ={"VOICESHOP_ASR__RUNTIME": "tflite"})
