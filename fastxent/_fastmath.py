"""Vectorizable elementary functions for hot loops (placeholder: libm calls).

The public names and contracts are fixed; the bodies will be replaced by
bit-cast + polynomial versions that LLVM can vectorize.

* ``log(x)``   natural log, float64 -> float64, log(0) = -inf, log(x<0) = nan
* ``log1p(x)`` log(1 + x), accurate for tiny x
* ``exp(x)``   e**x, exp(-inf) = 0, overflow -> inf
"""

import math

from ._jit import scalar

__all__ = ["log", "log1p", "exp"]


@scalar
def log(x):
    if x < 0.0:
        return math.nan
    if x == 0.0:
        return -math.inf
    return math.log(x)


@scalar
def log1p(x):
    if x < -1.0:
        return math.nan
    if x == -1.0:
        return -math.inf
    return math.log1p(x)


@scalar
def exp(x):
    return math.exp(x)
