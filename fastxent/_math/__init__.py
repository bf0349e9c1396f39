"""Per-sample and per-row formulas (scalars, inlined into the array kernels)."""
