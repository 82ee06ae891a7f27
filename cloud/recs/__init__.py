"""Recommendations on the cloud side: synthetic purchase histories, ALS training, factor publishing."""
