"""`edge catalog apply FILE` refuses what it cannot use before reading it: too big, a directory, missing.

The 2 GB case is a sparse file (no disk used): the check is that the command refuses it with a clear
message while staying small, where it once read the whole file (2.1 GB resident) first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from edge.catalog.files import read_payload_file
from edge.wire import MAX_DELTA_BYTES
from tests.conftest import REPO

# Run the CLI in a child that reports its own peak resident memory after the command returns. VmHWM, not
# getrusage's ru_maxrss: Linux carries ru_maxrss over from the forked parent across exec, so under a long
# pytest session that holds models the child "peaked" at the parent's size (798 MB seen) without reading.
PEAK = ("import sys; from edge.cli import main; status = main(sys.argv[1:]); "
        "hwm = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')); "
        "print('PEAK_KB', hwm, file=sys.stderr); sys.exit(status)")


def _env(tmp_path):
    return {"VOICESHOP_DEVICE__DATA_DIR": str(tmp_path / "data"), "VOICESHOP_CATALOG__SEMANTIC_SEARCH": "false"}


def test_a_2gb_file_is_refused_without_being_read(tmp_path):
    huge = tmp_path / "huge.vscat"
    with huge.open("wb") as fh:
        fh.truncate(2 * 1024**3)  # sparse: 2 GB long, nothing on disk
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")} | _env(tmp_path)
    result = subprocess.run([sys.executable, "-c", PEAK, "catalog", "apply", str(huge)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "2048.0 MB" in result.stderr and "over 32 MB are refused" in result.stderr
    assert "Traceback" not in result.stderr
    peak_mb = int(result.stderr.split("PEAK_KB")[1].split()[0]) / 1024
    assert peak_mb < 400, f"peak resident {peak_mb:.0f} MB: the file was read"


def test_a_directory_is_named_as_one(tmp_path, cli):
    folder = tmp_path / "pub"
    folder.mkdir()
    result = cli("edge", "catalog", "apply", str(folder), env=_env(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr and "no such file" not in result.stderr
    assert "Traceback" not in result.stderr
    missing = cli("edge", "catalog", "apply", str(tmp_path / "nope.vscat"), "--json", env=_env(tmp_path))
    assert missing.returncode == 2 and "no such file" in missing.stderr and missing.stdout == ""


def test_reader_limit_edges(tmp_path):
    at = tmp_path / "at.bin"
    at.write_bytes(b"x" * 1000)
    assert read_payload_file(at, limit=1000) == b"x" * 1000
    with pytest.raises(ValueError, match="over 0 MB are refused"):
        read_payload_file(at, limit=999)
    assert MAX_DELTA_BYTES == 32 * 1024 * 1024  # the cap the CLI uses is the MQTT path's


def test_a_file_at_the_limit_is_read_and_judged_by_its_content(tmp_path, cli):
    # Exactly 32 MB of zeros: not refused for size, rejected as not a catalog payload.
    path = tmp_path / "exact.vscat"
    with path.open("wb") as fh:
        fh.truncate(MAX_DELTA_BYTES)
    result = cli("edge", "catalog", "apply", str(path), "--json", env=_env(tmp_path))
    record = json.loads(result.stdout.splitlines()[0])
    assert result.returncode == 1 and record["status"] == "rejected"
