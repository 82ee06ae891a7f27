"""voiceshop-edge device runtime.

Never imports torch, transformers or optimum: a device installs only onnxruntime, sherpa-onnx,
numpy, sqlite-utils, paho-mqtt and tokenizers (tests/test_import_isolation.py holds us to it).

numpy's OpenBLAS is held to one thread (unless the environment already says otherwise), set here
because it must be set before numpy loads and every device entry point imports this package first.
The device runs each stage on one thread by design; an OpenBLAS pool of one thread per core does the
small products it gets (a segment's mel filterbank, a catalog's vector scores) no faster, and its
second thread spin-waits after each call: transcribing 8 long recordings (`bench speech`'s long-form
row) took 9.6 s of CPU with it and 8.2 s without, in the same 8.2 s of wall time, and with other
processes on the two cores a pool made the recommender's 100,000 x 32 matrix-vector product several
times slower (bench/catalog.py's earlier finding). On a 2-core device that second core is the one the
voice and the wake word need.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
