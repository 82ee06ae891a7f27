"""The provider setting: passed through when present, one warning and CPU when not, or strict."""

from __future__ import annotations

import logging

import pytest

from edge import providers
from edge.config import RuntimeSettings


def test_cpu_is_plain_cpu():
    assert providers.ort_providers(RuntimeSettings()) == ["CPUExecutionProvider"]
    assert providers.sherpa_provider(RuntimeSettings()) == "cpu"


def test_missing_provider_warns_once_and_falls_back(caplog):
    providers._warned.clear()
    runtime = RuntimeSettings(provider="qnn")
    with caplog.at_level(logging.WARNING):
        assert providers.ort_providers(runtime) == ["CPUExecutionProvider"]
        assert providers.ort_providers(runtime) == ["CPUExecutionProvider"]
        assert providers.sherpa_provider(runtime) == "cpu"
    warnings = [r.getMessage() for r in caplog.records if "qnn" in r.getMessage()]
    assert len(warnings) == 2  # one for onnxruntime, one for sherpa-onnx; not one per session
    assert "falling back to CPU" in warnings[0]


def test_strict_provider_fails_clearly():
    with pytest.raises(providers.ProviderError, match="strict_provider"):
        providers.ort_providers(RuntimeSettings(provider="nnapi", strict_provider=True))
    with pytest.raises(providers.ProviderError, match="strict_provider"):
        providers.sherpa_provider(RuntimeSettings(provider="nnapi", strict_provider=True))
