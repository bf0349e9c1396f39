"""Accumulators: mergeable, picklable partial results of the NumPy API."""
