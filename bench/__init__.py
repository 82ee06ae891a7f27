"""Benchmarks: `python -m bench all|NAME` (bench.runner).

Importing edge first gives every benchmark the device's process settings before numpy loads (numpy's
OpenBLAS on one thread: edge/__init__.py), so a benchmark measures the device as it runs.
"""

import edge  # noqa: F401
