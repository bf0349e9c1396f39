"""The validated NumPy API: argument checks and coercion, then one kernel call."""
