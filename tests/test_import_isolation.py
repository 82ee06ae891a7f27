"""The device runtime must import with torch, transformers and optimum unavailable.

A device installs only the runtime dependencies; an accidental `import transformers` in edge/
would work on every developer laptop and fail on the first real device, so we make it fail here.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from tests.conftest import REPO

FORBIDDEN = ("torch", "transformers", "optimum", "export")

PROBE = r"""
import importlib, importlib.abc, sys, pkgutil, json

FORBIDDEN = set(sys.argv[1].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"device code imported forbidden module {name!r}")
        return None

sys.meta_path.insert(0, Block())
failures = {}
for root in ("edge", "firmware_bridge", "voiceshop_common"):
    pkg = importlib.import_module(root)
    for info in pkgutil.walk_packages(pkg.__path__, root + "."):
        if info.name.endswith("__main__") or info.name == "edge.simulate":
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failures[info.name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failures))
"""


def device_modules() -> list[str]:
    names = []
    for root in ("edge", "firmware_bridge", "voiceshop_common"):
        names += [i.name for i in pkgutil.walk_packages([str(REPO / root)], root + ".")]
    return names


def test_device_modules_import_without_training_stack():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(FORBIDDEN)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    failures = result.stdout.strip().splitlines()[-1]
    assert failures == "{}", failures
    assert "edge.config" in device_modules()


def test_blocker_really_blocks():
    # Guard against a probe that passes because it blocks nothing.
    code = PROBE.replace('print(json.dumps(failures))', 'import torch')
    result = subprocess.run([sys.executable, "-c", code, "torch"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0 and "forbidden module 'torch'" in result.stderr
