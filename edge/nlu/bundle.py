"""Find the NLU bundle's files on the device, with the checks up front and clear messages.

The device reads the bundle's manifest.json itself (it must not import the build-side `export`
package): files are found by role, so renaming a file in the exporter does not break devices.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

BUNDLE_NAME = "nlu"
SHARED_ROLE = "shared-weights"
"""Role of shared_weights.npz: tensors the joint model and the encoder hold byte for byte alike."""

TOKENIZER_MAX_LEN = 128
"""Truncation of the one tokenizer the NLU model and the encoder share (the encoder's limit)."""

log = logging.getLogger(__name__)
_tokenizers: dict[tuple[str, int, int], Tokenizer] = {}
_shared: dict[tuple[str, int, int], dict[str, Any]] = {}
_shared_lock = threading.Lock()


class NluBundleError(RuntimeError):
    """The NLU bundle is missing or incomplete; the message says how to build it."""


@dataclass(frozen=True)
class NluBundle:
    """Paths of one built NLU bundle, by role."""

    dir: Path
    files: dict[str, Path]
    labels: dict[str, object]
    shared: dict[str, dict] = field(default_factory=dict)
    """name -> {"shape", "dtype", "sha256"} of each tensor in the shared-weights file."""

    def path(self, role: str) -> Path:
        try:
            return self.files[role]
        except KeyError:
            raise NluBundleError(f"NLU bundle at {self.dir} has no {role!r} file; rebuild it with "
                                 f"`python -m export {self.dir.name} --force`") from None


def load_bundle(bundle_dir: Path) -> NluBundle:
    """Read manifest.json and labels.json; raise NluBundleError naming what is missing."""
    manifest_path = bundle_dir / "manifest.json"
    name = bundle_dir.name  # "nlu" or "nlu-zh": the exporter of the same name builds it
    if not manifest_path.is_file():
        raise NluBundleError(f"no NLU bundle at {bundle_dir} (manifest.json missing); "
                             f"build it with `python -m export {name}`")
    try:
        manifest = json.loads(manifest_path.read_text())
        files = {info["role"]: bundle_dir / name for name, info in manifest["files"].items()}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise NluBundleError(f"{manifest_path} is unreadable ({exc}); rebuild with `python -m export {name} --force`") \
            from None
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise NluBundleError(f"NLU bundle at {bundle_dir} is incomplete (missing {', '.join(missing)}); "
                             f"rebuild with `python -m export {name} --force`")
    bundle = NluBundle(bundle_dir, files, {})
    labels = json.loads(bundle.path("labels").read_text())
    return NluBundle(bundle_dir, files, labels, manifest.get("extra", {}).get("shared_weights", {}))


def _file_key(path: Path) -> tuple[str, int, int]:
    """What the per-process caches key a file by: a file rewritten in place is loaded afresh."""
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


def shared_tokenizer(path: Path) -> Tokenizer:
    """One tokenizer per tokenizer.json and process, truncating at TOKENIZER_MAX_LEN tokens.

    A WordPiece tokenizer with BERT's 30,522-entry vocabulary holds ~8.4 MB (measured), and the
    joint model and the sentence encoder read the same file: one copy serves both. Encoding
    does not change the tokenizer, so threads may share it; anyone needing a different
    truncation cuts the encoding itself (edge.nlu.understand) or loads its own (load_tokenizer).
    """
    key = _file_key(path)
    with _shared_lock:
        if key not in _tokenizers:
            _tokenizers[key] = load_tokenizer(path, TOKENIZER_MAX_LEN)
        return _tokenizers[key]


def load_tokenizer(path: Path, max_len: int) -> Tokenizer:
    """The bundle's tokenizer.json with padding off and truncation at max_len tokens."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_len)
    return tokenizer


def shared_weights(bundle: NluBundle) -> dict[str, Any]:
    """OrtValues of the tensors both NLU graphs hold alike, loaded once per file and process.

    The joint model and the sentence encoder share the frozen word-embedding table (11.7 MB
    int8); onnxruntime copies every initializer into each session, so passing these to both
    (SessionOptions.add_initializer) keeps one copy: ~11 MB less resident, identical outputs.
    Each tensor is checked against the manifest (shape, dtype, SHA-256): a mismatch means the
    file is not the one exported with these graphs, and the sessions then use their own copies.
    An older bundle without the file shares nothing.
    """
    path = bundle.files.get(SHARED_ROLE)
    if path is None or not bundle.shared:
        return {}
    key = _file_key(path)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = _load_shared(path, bundle.shared)
        return _shared[key]


def _load_shared(path: Path, expected: dict[str, dict]) -> dict[str, Any]:
    import onnxruntime as ort

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.ascontiguousarray(data[name]) for name in data.files}
    except (OSError, ValueError) as exc:
        log.warning("%s is unreadable (%s); the NLU sessions keep their own copies", path, exc)
        return {}
    for name, info in expected.items():
        array = arrays.get(name)
        if array is None or list(array.shape) != list(info["shape"]) or str(array.dtype) != info["dtype"] \
                or hashlib.sha256(array.tobytes()).hexdigest() != info["sha256"]:
            log.warning("%s: tensor %s does not match the manifest; the NLU sessions keep their own copies",
                        path, name)
            return {}
    # OrtValue.ortvalue_from_numpy keeps a reference to the array: the buffer lives as long as the value.
    return {name: ort.OrtValue.ortvalue_from_numpy(arrays[name]) for name in expected}
