#!/usr/bin/env bash
# One bootstrap for `make test` and `make demo`: Debian packages (when root), the venv and its
# installs, the model bundles, and an MQTT broker on 127.0.0.1:1883. Each step checks whether its
# work is already done, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

# 1. Debian packages the project needs (espeak-ng: wake-word and test voices; flite, festival and its
#    voices: more wake-word voices; gcin-voice: real recorded speech for wake-word negatives; portaudio:
#    pyaudio; sox: audio checks; mosquitto: the broker; qemu/debootstrap: the aarch64 proof).
DEBS=(espeak-ng sox portaudio19-dev mosquitto qemu-user-static debootstrap flite festival festvox-kallpc16k
      festvox-kdlpc16k festvox-us-slt-hts gcin-voice)
missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing Debian packages (run as root or install them): ${missing[*]}"
  fi
fi

# 2. The venv. Torch goes in first, pinned, so nothing resolves a CUDA build.
if [[ ! -x "$PY" ]]; then
  say "creating $VENV"
  python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
fi
STAMP="$VENV/.voiceshop-installed-$(cat pyproject.toml requirements/*.txt scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  say "installing the project and its extras into .venv (first run: several minutes)"
  "$PY" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -m pip install -q "torch==2.13.0" 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -m pip install -q -e ".[audio,export,bench,cloud,dev]" 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -m pip install -q --no-deps -r requirements/export-nodeps.txt 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -c "import torch, onnxruntime, sherpa_onnx, optimum, edge" # fail loudly if an install failed
  rm -f "$VENV"/.voiceshop-installed-*
  touch "$STAMP"
fi

# 2b. Real recorded speech for the wake word (AMI meeting excerpts in pyannote.audio's source package):
#     fetched once with pip, read by export/wake_real.py; never installed.
REAL="$HOME/.cache/voiceshop/real-speech"
if [[ ! -f "$REAL/pyannote_audio-4.0.7.tar.gz" ]]; then
  say "fetching pyannote.audio 4.0.7's source package (recorded meeting speech for wake-word negatives)"
  mkdir -p "$REAL"
  "$PY" -m pip download -q --no-deps --no-binary :all: "pyannote.audio==4.0.7" -d "$REAL" 2>&1 \
    | grep -v '^WARNING: Location' || true
fi

# 3. Model bundles (cached outside the repo, keyed by source hash; skipped when up to date).
if [[ -f export/__main__.py ]]; then
  "$PY" -m export all
fi

# 4. The emulated aarch64 environment for the ARM64 proof (cached in ~/.cache/voiceshop/arm64).
bash scripts/arm64_env.sh >/dev/null

# 5. An MQTT broker on 127.0.0.1:1883.
if ! "$PY" - <<'PYEOF'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
except OSError:
    sys.exit(1)
PYEOF
then
  say "starting mosquitto on 127.0.0.1:1883"
  if [[ -f /etc/mosquitto/mosquitto.conf ]]; then
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
  else
    mosquitto -d -p 1883
  fi
  sleep 1
fi
# 6. PostgreSQL (the cloud store's tests) on 127.0.0.1:5432; this machine kind runs it, restart if stopped.
if ! "$PY" - <<'PYEOF'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
except OSError:
    sys.exit(1)
PYEOF
then
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  else
    say "PostgreSQL is not running; the PostgreSQL store tests will fail (set VOICESHOP_PG_ADMIN_DSN)"
  fi
fi
say "ready"
