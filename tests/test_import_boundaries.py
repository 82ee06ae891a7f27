"""Who may import whom, read from every module's source (ast), lazy and TYPE_CHECKING imports included.

tests/test_import_isolation.py proves the device imports with the training stack absent; this one
states the architecture's rules and names the file that breaks one:

- device code (`edge/`, `firmware_bridge/`) never imports the model toolchain (`export/`), the cloud
  or the heavy training packages;
- `firmware_bridge/` is a library: it knows nothing of its user (`edge/`);
- `cloud/` reaches device code only through the shared package `voiceshop_common`;
- `export/` builds for the device, so it may import `edge/`, but not the cloud;
- `voiceshop_common` imports none of the above (both sides import it).
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

HEAVY = {"torch", "transformers", "optimum"}
FORBIDDEN: dict[str, set[str]] = {
    "edge": {"export", "cloud", "bench"} | HEAVY,
    "firmware_bridge": {"edge", "export", "cloud", "bench"} | HEAVY,
    "cloud": {"edge", "firmware_bridge", "export", "bench"},
    "export": {"cloud", "bench"},
    "voiceshop_common": {"edge", "firmware_bridge", "export", "cloud", "bench"} | HEAVY,
}

ALLOWED: dict[tuple[str, str], str] = {}
"""(file, forbidden root) -> why it is tolerated for now; empty: every rule holds without exception."""


def imported_roots(source: str, filename: str = "<source>") -> set[str]:
    """Top-level package of every absolute import in source, at any depth (functions, if-blocks)."""
    roots = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def violations(package: str) -> list[tuple[str, str]]:
    """(file, forbidden root) pairs for every module under package."""
    found = []
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        for root in sorted(imported_roots(path.read_text(), rel) & FORBIDDEN[package]):
            found.append((rel, root))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_package_imports_only_what_its_layer_allows(package):
    bad = [pair for pair in violations(package) if pair not in ALLOWED]
    assert bad == [], f"{package}/ imports what it must not: {bad}"


def test_every_allowed_exception_is_still_needed():
    # An exception that no longer happens is removed, so it cannot hide a new import later.
    current = {pair for package in FORBIDDEN for pair in violations(package)}
    assert set(ALLOWED) <= current, set(ALLOWED) - current


def test_the_parser_sees_lazy_and_type_checking_imports():
    # Guard against a checker that passes because it reads nothing.
    source = (
        "from __future__ import annotations\nimport os.path\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from edge.config import FirmwareSettings\n"
        "def f():\n    import torch.nn as nn\n    from . import sibling\n"
    )
    assert imported_roots(source) == {"__future__", "os", "typing", "edge", "torch"}
    assert imported_roots(source) & FORBIDDEN["firmware_bridge"] == {"edge", "torch"}


def test_every_layer_is_checked():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert set(FORBIDDEN) <= packages
    assert {"edge", "firmware_bridge", "cloud", "export", "voiceshop_common"} <= set(FORBIDDEN)
