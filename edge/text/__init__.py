"""Text utilities shared by the device side and the model toolchain (no model, no I/O).

They live under edge/ because device code may not import export/; export/ imports them from here.
"""
