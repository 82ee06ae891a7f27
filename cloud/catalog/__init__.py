"""The cloud side of the catalog: vocabulary, demo generator, signed snapshots and deltas."""
