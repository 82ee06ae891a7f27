"""Find the NLU bundle's files on the device, with the checks up front and clear messages.

The device reads the bundle's manifest.json itself (it must not import the build-side `export`
package): files are found by role, so renaming a file in the exporter does not break devices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

BUNDLE_NAME = "nlu"


class NluBundleError(RuntimeError):
    """The NLU bundle is missing or incomplete; the message says how to build it."""


@dataclass(frozen=True)
class NluBundle:
    """Paths of one built NLU bundle, by role."""

    dir: Path
    files: dict[str, Path]
    labels: dict[str, object]

    def path(self, role: str) -> Path:
        try:
            return self.files[role]
        except KeyError:
            raise NluBundleError(f"NLU bundle at {self.dir} has no {role!r} file; rebuild it with "
                                 f"`python -m export nlu --force`") from None


def load_bundle(bundle_dir: Path) -> NluBundle:
    """Read manifest.json and labels.json; raise NluBundleError naming what is missing."""
    manifest_path = bundle_dir / "manifest.json"
    if not manifest_path.is_file():
        raise NluBundleError(f"no NLU bundle at {bundle_dir} (manifest.json missing); "
                             f"build it with `python -m export nlu`")
    try:
        manifest = json.loads(manifest_path.read_text())
        files = {info["role"]: bundle_dir / name for name, info in manifest["files"].items()}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise NluBundleError(f"{manifest_path} is unreadable ({exc}); rebuild with `python -m export nlu --force`") \
            from None
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise NluBundleError(f"NLU bundle at {bundle_dir} is incomplete (missing {', '.join(missing)}); "
                             f"rebuild with `python -m export nlu --force`")
    bundle = NluBundle(bundle_dir, files, {})
    labels = json.loads(bundle.path("labels").read_text())
    return NluBundle(bundle_dir, files, labels)


def load_tokenizer(path: Path, max_len: int) -> Tokenizer:
    """The bundle's tokenizer.json with padding off and truncation at max_len tokens."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_len)
    return tokenizer
