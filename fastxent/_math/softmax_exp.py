"""``exp(z - m)`` for softmax rows, at the precision of the row's dtype.

A softmax row of float32 logits only needs float32-accurate terms (their
float64 *sum* carries the accuracy), and a float32 exponential runs 8 lanes
per AVX2 instruction against 4 for float64, with a short polynomial and no
division.  :func:`shifted_exp` picks the float32 kernel for float32 rows and
:func:`fastxent._math.elementary.exp` for float64 rows at compile time.

``exp_nonpositive_f32`` is Cephes' ``expf`` (Cody-Waite reduction
``x = k ln2 + r``, degree-6 polynomial, scale by ``2**k`` through the
exponent bits), restricted to ``x <= 0`` as ``z - max(z)`` always is:
max error ~1 ulp (float32), ``0`` below ``-87.3`` (where ``e^x`` is
subnormal: 1e-38 of the row's largest term, far below float32 resolution
of the sum), NaN propagates.
"""

import numpy as np
from numba.core import types

from .._infra.floats import float_bits, float_from_bits, max2
from .._infra.jit import scalar, specialized
from .elementary import exp

__all__ = ["exp_nonpositive_f32", "shifted_exp", "zero_like"]

LOG2E = np.float32(1.44269504088896341)
LN2_HI = np.float32(0.693359375)  # few mantissa bits: k * LN2_HI is exact
LN2_LO = np.float32(-2.12194440e-4)
SHIFTER = np.float32(12582912.0)  # 1.5 * 2**23: adding it rounds to an integer
SHIFTER_BITS = np.int32(0x4B400000)
MIN_ARG = np.float32(-87.33)
C6 = np.float32(1.9875691500e-4)
C5 = np.float32(1.3981999507e-3)
C4 = np.float32(8.3334519073e-3)
C3 = np.float32(4.1665795894e-2)
C2 = np.float32(1.6666665459e-1)
C1 = np.float32(5.0000001201e-1)
ONE = np.float32(1.0)
ZERO = np.float32(0.0)


@scalar
def exp_nonpositive_f32(x):
    """``e**x`` in float32 for float32 ``x <= 0`` (0 below -87.33, NaN kept).

    Parameters
    ----------
    x : float32

    Returns
    -------
    float32
    """
    xc = max2(x, MIN_ARG)
    kd = xc * LOG2E + SHIFTER  # strict (no fast-math): rounds to an integer
    k = float_bits(kd) - SHIFTER_BITS
    kd = kd - SHIFTER
    r = (xc - kd * LN2_HI) - kd * LN2_LO
    p = C6 * r + C5
    p = p * r + C4
    p = p * r + C3
    p = p * r + C2
    p = p * r + C1
    y = (p * r) * r + r + ONE  # e**r in [0.7, 1.42]
    result = float_from_bits(np.int32(float_bits(y) + (k << 23)))
    result = ZERO if x < MIN_ARG else result
    return x if x != x else result


@specialized
def shifted_exp(v, m):
    """``exp(v - m)`` for an element ``v`` of a softmax row and its max ``m``,
    in the row's dtype: float32 arithmetic for float32 ``v``, else
    :func:`fastxent._math.elementary.exp` (float64)."""
    if v == types.float32:

        def impl(v, m):
            return exp_nonpositive_f32(v - np.float32(m))
    else:

        def impl(v, m):
            return exp(np.float64(v) - m)

    return impl


@specialized
def zero_like(v):
    """Zero of ``v``'s float type (float32 or float64)."""
    if v == types.float32:
        return lambda v: ZERO
    return lambda v: 0.0
