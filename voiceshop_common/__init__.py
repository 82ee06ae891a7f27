"""What the device (`edge/`, `firmware_bridge/` aside) and the cloud (`cloud/`) both need, in one home.

- `wire`: the MQTT payloads and topics (orders, acks, statuses, presence) and broker URLs;
- `catalog_wire`: the signed catalog snapshot/delta format the cloud packs and the device opens;
- `encoder`: the sentence-encoder batching both sides run over the NLU bundle's MiniLM graph;
- `numbers`: English number words (the voice says them, the WER normalizer spells digits with them);
- `vocab` (with `vocab_products`, `vocab_families`): the demo shop's words, which the cloud's catalog
  generator turns into SKUs and the NLU training data (`export/`) samples into utterances;
- `cli`: the one CLI convention of `python -m edge` and `python -m cloud` (JSON out, exit codes).

It imports nothing from `edge`, `cloud`, `export` or `firmware_bridge`, and nothing heavy (no torch):
`cloud/` may import device code only through here, and tests/test_import_boundaries.py checks both.
"""
