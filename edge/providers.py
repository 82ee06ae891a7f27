"""Execution providers: one place that turns the config's `provider` into what each engine takes.

Device makers switch hardware by config alone (e.g. provider = "qnn" with a QNN build of
onnxruntime/sherpa-onnx). A provider the installed wheel lacks gets one clear warning and CPU,
or a hard error when `strict_provider` is set, instead of a crash deep inside a session.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import onnxruntime as ort

from edge.config import RuntimeSettings

log = logging.getLogger(__name__)

# Config name -> onnxruntime execution provider name.
ORT_NAMES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "qnn": "QNNExecutionProvider",
    "nnapi": "NnapiExecutionProvider",
    "rknpu": "RknpuExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "xnnpack": "XnnpackExecutionProvider",
    "directml": "DmlExecutionProvider",
    "acl": "ACLExecutionProvider",
    "armnn": "ArmNNExecutionProvider",
}

_warned: set[str] = set()


class ProviderError(RuntimeError):
    """The configured provider is not in this build and strict_provider is set."""


def _fallback(name: str, what: str, runtime: RuntimeSettings) -> None:
    message = (f"execution provider {name!r} is not available in the installed {what}; "
               f"falling back to CPU (install a build with {name!r} or set provider = \"cpu\")")
    if runtime.strict_provider:
        raise ProviderError(message.replace("falling back to CPU", "and strict_provider is set"))
    if (name, what) not in _warned:
        _warned.add((name, what))
        log.warning(message)


def ort_providers(runtime: RuntimeSettings) -> list[str]:
    """Providers list for onnxruntime.InferenceSession, always ending with CPU."""
    name = runtime.provider.lower()
    if name == "cpu":
        return ["CPUExecutionProvider"]
    ort_name = ORT_NAMES.get(name, runtime.provider)
    if ort_name in ort.get_available_providers():
        return [ort_name, "CPUExecutionProvider"]
    _fallback(runtime.provider, "onnxruntime wheel", runtime)
    return ["CPUExecutionProvider"]


def ort_session(path: str, runtime: RuntimeSettings, threads: int,
                initializers: Mapping[str, ort.OrtValue] | None = None) -> ort.InferenceSession:
    """An onnxruntime session with the configured provider and thread count.

    `initializers` replace the graph's tensors of the same names with buffers the caller owns,
    so two sessions given the same OrtValue hold one copy of it (edge.nlu.bundle.shared_weights).
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    for name, value in (initializers or {}).items():
        options.add_initializer(name, value)
    return ort.InferenceSession(str(path), sess_options=options, providers=ort_providers(runtime))


def sherpa_provider(runtime: RuntimeSettings) -> str:
    """The provider string for sherpa-onnx configs ("cpu", "cuda", "coreml", ...).

    sherpa-onnx's Python wheel does not list its providers, but it wraps the onnxruntime it was
    built with; the CPU wheels from PyPI carry only CPU. We check the onnxruntime that sherpa-onnx
    loads (sherpa_onnx_core ships its own) by asking onnxruntime in this process, which is what a
    device's matching builds report too.
    """
    name = runtime.provider.lower()
    if name == "cpu":
        return "cpu"
    if ORT_NAMES.get(name) in ort.get_available_providers():
        return name
    _fallback(runtime.provider, "sherpa-onnx wheel", runtime)
    return "cpu"
