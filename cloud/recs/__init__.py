"""Recommendations on the cloud side: synthetic purchase histories (with shopping missions), ALS
training, family complements from co-purchases, evaluation with carts, and publishing."""
