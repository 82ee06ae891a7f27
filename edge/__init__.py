"""voiceshop-edge device runtime.

Never imports torch, transformers or optimum: a device installs only onnxruntime, sherpa-onnx,
numpy, sqlite-utils, paho-mqtt and tokenizers (tests/test_import_isolation.py holds us to it).
"""

__version__ = "0.1.0"
