"""The device's numpy runs OpenBLAS on one thread (edge/__init__.py): its pool's second thread spin-waited
after every small product, ~15 % of the CPU of transcribing long recordings, in the same wall time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

PROBE = """
import json, sys
exec(sys.argv[1])
from threadpoolctl import threadpool_info
print(json.dumps([[i["internal_api"], i["num_threads"]] for i in threadpool_info()]))
"""


def _pools(first_import: str, **env: str) -> list[list]:
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", PROBE, first_import], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env={**environ, **env})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("first_import", ["import edge.asr.stream, numpy", "import bench.speech_asr, numpy"])
def test_device_and_bench_hold_openblas_to_one_thread(first_import):
    pools = _pools(first_import)
    assert pools and all(threads == 1 for api, threads in pools if api == "openblas"), pools


def test_a_device_makers_own_setting_wins():
    assert ["openblas", 2] in _pools("import edge, numpy", OPENBLAS_NUM_THREADS="2")
