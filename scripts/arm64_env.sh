#!/usr/bin/env bash
# Build (idempotently) an emulated aarch64 environment for the device runtime: Debian's arm64
# Python 3.11 under qemu-aarch64-static user-mode emulation plus the aarch64 wheels of the device's
# dependencies from PyPI. Cached outside the repo; prints the cache directory on stdout.
# Recipe and the /proc/cpuinfo workaround: see shared/arm64.md (onnxruntime segfaults under
# qemu 7.2 when it reads the host's x86 cpuinfo).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VOICESHOP_ARM64_DIR:-$HOME/.cache/voiceshop/arm64}
ROOTFS="$CACHE/rootfs"
SITE="$CACHE/site"
WHEELS="$CACHE/wheels"
say() { printf '[arm64] %s\n' "$*" >&2; }
# Everything the device runtime imports, pinned to what the host runs so results are comparable.
HOSTPY=${HOSTPY:-.venv/bin/python}
pins=$("$HOSTPY" - <<'PYEOF'
import importlib.metadata as m
names = ["numpy", "onnxruntime", "sherpa-onnx", "sherpa-onnx-core", "tokenizers", "soxr", "sqlite-utils",
         "paho-mqtt", "rapidfuzz", "pyyaml", "piper-tts", "opencc", "pypinyin", "cn2an", "proces"]
out = []
for n in names:
    try:
        out.append(f"{n}=={m.version(n)}")
    except m.PackageNotFoundError:
        pass
print(" ".join(out))
PYEOF
)
KEY=$(echo "$pins v2" | sha256sum | cut -c1-16)

if [[ -f "$CACHE/ready-$KEY" ]]; then
  echo "$CACHE"
  exit 0
fi
for tool in qemu-aarch64-static debootstrap dpkg-deb; do
  command -v "$tool" >/dev/null || { say "missing $tool (apt-get install qemu-user-static debootstrap)"; exit 1; }
done
mkdir -p "$CACHE"
# One builder at a time: a second bootstrap sharing this cache (a CI clone beside a work tree) would rm -rf the
# rootfs the first is filling. The second waits, then finds the environment ready.
exec 9>"$CACHE/.build.lock"
flock 9
if [[ -f "$CACHE/ready-$KEY" ]]; then
  echo "$CACHE"
  exit 0
fi

if [[ ! -x "$ROOTFS/usr/bin/python3.11" ]]; then
  # The mirror apt already uses (deb822 URIs: lines or classic deb lines), never a commented one.
  MIRROR=$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
              grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'; } \
            | grep -v security | head -n1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  say "debootstrap arm64 Python 3.11 from $MIRROR"
  rm -rf "$ROOTFS"
  debootstrap --arch=arm64 --variant=minbase --foreign \
    --include=python3.11-minimal,libpython3.11-stdlib,libstdc++6,libgomp1 bookworm "$ROOTFS" "$MIRROR" >&2
  for deb in "$ROOTFS"/var/cache/apt/archives/*.deb; do
    dpkg-deb -x "$deb" "$ROOTFS"
  done
fi

# qemu 7.2 + onnxruntime: an ARM-style cpuinfo, or import segfaults (see shared/arm64.md).
mkdir -p "$ROOTFS/proc"
cat > "$ROOTFS/proc/cpuinfo" <<'CPUEOF'
processor	: 0
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

processor	: 1
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3
CPUEOF

say "downloading aarch64 wheels: $pins"
rm -rf "$WHEELS" "$SITE"
mkdir -p "$WHEELS" "$SITE"
# shellcheck disable=SC2086
"$HOSTPY" -m pip download -q --only-binary=:all: --platform manylinux2014_aarch64 \
  --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 --platform any \
  --python-version 3.11 --implementation cp -d "$WHEELS" $pins 2>&1 | grep -v '^WARNING: Location' >&2 || true
for whl in "$WHEELS"/*.whl; do
  "$HOSTPY" -m zipfile -e "$whl" "$SITE" 2>/dev/null || { say "cannot unpack $whl"; exit 1; }
done
# Prove the environment works before marking it ready.
out=$(QEMU_CPU=cortex-a72 PYTHONPATH="$SITE" qemu-aarch64-static -L "$ROOTFS" "$ROOTFS/usr/bin/python3.11" -c \
  "import platform, onnxruntime, sherpa_onnx, numpy, tokenizers; print(platform.machine())")
[[ "$out" == "aarch64" ]] || { say "probe printed '$out', expected aarch64"; exit 1; }
rm -f "$CACHE"/ready-*
touch "$CACHE/ready-$KEY"
say "ready in $CACHE"
echo "$CACHE"
