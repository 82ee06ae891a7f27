"""On-device language understanding: intents and slots (`Understander`) and sentence vectors
(`Embedder`), both from the INT8 bundle built by `python -m export nlu`, on onnxruntime with the
`tokenizers` library only (no torch/transformers on the device).

    from edge.nlu import Understander, Embedder
    nlu = Understander.from_settings(settings)
    nlu.understand("add two bags of fuji apples")
    # Understanding(text=..., intent='add_to_cart', confidence=0.99,
    #               slots={'quantity': 2, 'unit': 'bag', 'product': 'fuji apples'})

The schema and its labelling conventions are in `edge.nlu.schema`. With [device] language = "zh",
`from_settings` loads the Mandarin bundle (`python -m export nlu-zh`: multilingual-e5-small, same
schema, slot values through `edge.nlu.normalize_zh`: "来两斤苹果" -> quantity 2, unit 斤, product 苹果).
"""

from edge.nlu.bundle import NluBundleError, load_bundle
from edge.nlu.embed import Embedder
from edge.nlu.understand import Prediction, Understander

__all__ = ["Embedder", "NluBundleError", "Prediction", "Understander", "load_bundle"]
