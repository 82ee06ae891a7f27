"""The laptop simulator behind `python -m edge.simulate` (see edge/simulate.py and runner.py)."""
