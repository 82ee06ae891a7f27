"""Bundles: a directory of model files plus a manifest.json that proves what they are.

Every exporter writes its files into a fresh staging directory, then calls `write_manifest`, then
`publish` moves the staging directory into place atomically, so a half-built bundle never sits
where the device (or a test) would load it. A bundle is up to date when its manifest's
`source_key` equals the key computed from the source package version and the exporter's own code:
changing either rebuilds, re-running without changes skips.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
DEFAULT_OUT = Path(os.environ.get("VOICESHOP_MODELS_DIR", "~/.cache/voiceshop/models")).expanduser()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def tool_versions(names: Iterable[str] = ()) -> dict[str, str]:
    """Versions of the tools that shaped the bundle, for the manifest."""
    base = ["onnx", "onnxruntime", "numpy", "sherpa-onnx", *names]
    versions = {name: package_version(name) for name in dict.fromkeys(base)}
    versions["python"] = platform.python_version()
    return versions


ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "amx_bf16", "asimd",
             "asimddp", "i8mm")
"""The instruction sets onnxruntime's INT8 and FP32 kernels pick between (x86-64 and ARM64)."""


def build_machine() -> dict[str, Any]:
    """The CPU a bundle was built and measured on.

    INT8 kernels round differently on AVX2, AVX-512 VNNI and ARM dot-product cores, and several exporters
    choose by measurement (a cache layout by speed, a graph by a timing margin, a quantization by a WER
    gate), so the same sources can ship different files on different CPUs. The manifest names the CPU so a
    figure can be reproduced on the same kind of machine.
    """
    cpu, flags = platform.processor() or "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model") and not cpu:
                cpu = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {"machine": platform.machine(), "cpu": cpu or "unknown", "cores": os.cpu_count() or 0,
            "isa": [flag for flag in ISA_FLAGS if flag in flags]}


def source_key(*parts: str | Path) -> str:
    """Hash of everything a bundle is derived from: versions, settings and exporter source files."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            digest.update(part.read_bytes())
        else:
            digest.update(str(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


@dataclass
class Manifest:
    """What manifest.json holds; `extra` carries per-bundle facts (labels, sample rate, metadata)."""

    bundle: str
    source: dict[str, str]
    """package, version, licence (and anything else about the origin, e.g. the phonemizer's licence)."""
    source_key: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """file name -> {sha256, bytes, role}."""
    quantization: dict[str, Any] = field(default_factory=dict)
    parity: dict[str, Any] = field(default_factory=dict)
    """FP32-vs-shipped figures measured at export time."""
    decisions: list[str] = field(default_factory=list)
    """Why the bundle is shaped as it is (e.g. 'TTS stays FP32: INT8 2.5x slower')."""
    tools: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    built_on: dict[str, Any] = field(default_factory=dict)
    """The CPU the bundle was built and measured on (`build_machine`)."""
    created: str = ""
    manifest_version: int = MANIFEST_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=False) + "\n"

    @classmethod
    def load(cls, bundle_dir: Path) -> Manifest:
        data = json.loads((bundle_dir / MANIFEST).read_text())
        return cls(**data)

    def path_of(self, role: str, bundle_dir: Path) -> Path:
        """The file with this role (e.g. 'encoder', 'tokens'); raises KeyError naming the role."""
        for name, info in self.files.items():
            if info.get("role") == role:
                return bundle_dir / name
        raise KeyError(f"bundle {self.bundle!r} has no file with role {role!r}")


def write_manifest(staging: Path, manifest: Manifest, roles: dict[str, str]) -> Manifest:
    """Hash every file in staging (roles maps file name -> role) and write manifest.json."""
    manifest.files = {}
    for path in sorted(p for p in staging.rglob("*") if p.is_file() and p.name != MANIFEST):
        name = path.relative_to(staging).as_posix()
        manifest.files[name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size,
                                "role": roles.get(name, "data")}
    missing = set(roles) - set(manifest.files)
    if missing:
        raise RuntimeError(f"bundle {manifest.bundle}: files named in roles but not written: {sorted(missing)}")
    manifest.created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest.built_on = build_machine()
    (staging / MANIFEST).write_text(manifest.to_json())
    return manifest


def staging_dir(out: Path, bundle: str) -> Path:
    path = out / f".{bundle}.staging"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def publish(staging: Path, out: Path, bundle: str) -> Path:
    """Swap the staged bundle into place (rename is atomic on one filesystem)."""
    final = out / bundle
    old = out / f".{bundle}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def is_up_to_date(bundle_dir: Path, key: str) -> bool:
    """True when the bundle exists, was built from this key, and its files hash as recorded."""
    try:
        manifest = Manifest.load(bundle_dir)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return False
    return manifest.source_key == key and not verify_files(bundle_dir, manifest)


def verify_files(bundle_dir: Path, manifest: Manifest | None = None) -> list[str]:
    """Problems with the bundle's files: missing, wrong size, wrong hash, or unlisted extras."""
    try:
        manifest = manifest or Manifest.load(bundle_dir)
    except FileNotFoundError:
        return [f"{bundle_dir}: no {MANIFEST}"]
    except (json.JSONDecodeError, TypeError) as exc:
        return [f"{bundle_dir / MANIFEST}: unreadable ({exc})"]
    problems = []
    for name, info in manifest.files.items():
        path = bundle_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != info["bytes"]:
            problems.append(f"{name}: size {path.stat().st_size} != {info['bytes']} in manifest")
        elif sha256_file(path) != info["sha256"]:
            problems.append(f"{name}: sha256 differs from manifest")
    return problems
