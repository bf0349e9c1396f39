"""Vectorizable elementary functions for hot loops.

``math.log`` / ``np.log`` inside a Numba loop become scalar calls into libm
(pip's llvmlite has no SVML), which stops LLVM from vectorizing the loop.
The functions below are written only with arithmetic, integer bit
operations and selects (``a if c else b`` on cheap operands, which LLVM
turns into ``select``), so a loop calling them compiles to packed AVX2 /
AVX-512 code.

Algorithms (fdlibm / musl, table-free so no gathers are needed):

* ``log(x)``: write ``x = 2**k * z`` with ``sqrt(2)/2 <= z < sqrt(2)``
  by integer arithmetic on the bit pattern, ``f = z - 1`` (exact), then

  .. math:: \\log x = k \\ln 2 + f - \\tfrac{f^2}{2} + s\\,(\\tfrac{f^2}{2} + R(s^2)),
            \\qquad s = \\frac{f}{2 + f}

  with fdlibm's degree-14 minimax ``R`` and ``ln 2`` split into a part
  with trailing zeros (``k * LN2_HI`` is exact) and a correction.
* ``log1p(x)``: ``u = 1 + x`` rounded, the exact rounding error
  ``c = (1 + x) - u`` (Fast2Sum), ``log1p(x) = log(u) + c / u``.
* ``exp(x)``: ``k = round(x / ln 2)`` by the 1.5 * 2**52 shift trick (no
  float -> int64 conversion instruction needed), ``r = x - k ln 2`` in two
  parts, fdlibm's rational form ``1 + r + r c(r) / (2 - c(r))`` and a
  scale by ``2**k`` in two exact-or-once-rounded multiplications, which
  also gives correctly signed zeros, subnormal results and overflow to inf.

The public functions are compiled with :func:`fastxent._infra.jit.scalar`
(no fast-math) and their private pieces are inlined into them
(``strict_inline``: one compilation per function instead of four).  LLVM
fast-math flags are per instruction, so the compensated operation order
here survives inlining into a fast-math kernel.  Maximum error
measured against a long-double reference is below 1 ulp (see
``tests/test_fastmath.py``).

Contracts (float64 result; float32 arguments are widened first):

* ``log(x)``   natural log; log(0) = -inf, log(x < 0) = nan, log(inf) = inf
* ``log1p(x)`` log(1 + x), accurate for tiny x; log1p(-1) = -inf, x < -1 -> nan
* ``exp(x)``   e**x; exp(-inf) = 0, overflow -> inf, subnormal results kept
* ``log_positive(x)`` log(x) for positive normal finite x only (no special
  values; fused multiply-adds): for loops that route the other arguments
  elsewhere
"""

import math

import numpy as np

from .._infra.floats import SMALLEST_NORMAL, float_bits, float_from_bits, max2, min2
from .._infra.jit import contracted_scalar, scalar, stable_api, strict_inline

__all__ = ["log", "log1p", "exp", "log_positive"]

# fdlibm e_log.c: ln2 split so that k * LN2_HI is exact for |k| < 2**20.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
LG1 = 6.666666666666735130e-01
LG2 = 3.999999999940941908e-01
LG3 = 2.857142874366239149e-01
LG4 = 2.222219843214978396e-01
LG5 = 1.818357216161805012e-01
LG6 = 1.531383769920937332e-01
LG7 = 1.479819860511658591e-01

# fdlibm e_exp.c
INV_LN2 = 1.44269504088896338700e00
P1 = 1.66666666666666019037e-01
P2 = -2.77777777770155933842e-03
P3 = 6.61375632143793436117e-05
P4 = -1.65339022054652515390e-06
P5 = 4.13813679705723846039e-08

TWO54 = 18014398509481984.0  # 2**54, lifts subnormals into the normal range
# Bit pattern of (a double just below) sqrt(2)/2: subtracting it makes the
# exponent field of the difference the k with z = x / 2**k in [sqrt(2)/2, sqrt(2)).
SQRT_HALF_BITS = 0x3FE6A09E667F3BCD
EXPONENT_MASK = -(1 << 52)  # the 12 high bits (sign + exponent), as int64
# 1.5 * 2**52: adding it rounds to an integer held in the low mantissa bits.
SHIFTER = 6755399441055744.0
SHIFTER_BITS = 0x4338000000000000
EXP_MAX_ARG = 710.0  # beyond: inf (exp(709.78...) is the largest double)
EXP_MIN_ARG = -746.0  # below: 0 (exp(-745.13...) is the smallest subnormal)


@strict_inline
def _small_int_to_float(k):
    """float64(k) for |k| < 2**51 without an int64 -> double instruction
    (AVX2 has none; this keeps the loop vectorized on every x86-64)."""
    return float_from_bits(k + SHIFTER_BITS) - SHIFTER


@strict_inline
def _log_reduced(f, dk, correction):
    """``dk * ln2 + log1p(f) + correction`` for |f| <= sqrt(2) - 1 (fdlibm)."""
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (LG2 + w * (LG4 + w * LG6))
    t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + (dk * LN2_LO + correction))) - f)


@strict_inline
def _split_exponent(x):
    """(z - 1, k) with x = 2**k * z, sqrt(2)/2 <= z < sqrt(2); x positive normal."""
    ix = float_bits(x)
    tmp = ix - SQRT_HALF_BITS
    k = tmp >> 52  # arithmetic shift: k may be negative
    z = float_from_bits(ix - (tmp & EXPONENT_MASK))
    return z - 1.0, k


@stable_api
@scalar
def log(x):
    """Natural logarithm, vectorizable, < 1 ulp.

    ``log(x) -> value``

    ``x = 2**k * z`` with ``sqrt(2)/2 <= z < sqrt(2)`` (read from the bit
    pattern), ``f = z - 1`` exact, then

    ``log(x) = k ln2 + f - f**2/2 + s (f**2/2 + R(s**2))``, ``s = f / (2 + f)``

    with fdlibm's minimax polynomial ``R`` and ``ln2`` split in two parts
    (see the module docstring).

    Parameters
    ----------
    x : float32 or float64 scalar
        Widened to float64 first.

    Returns
    -------
    value : float64
        ``log(x)``: ``-inf`` at 0, nan for ``x < 0`` and nan, ``inf`` at
        ``inf``; subnormal ``x`` keep full accuracy (scaled by ``2**54`` first).

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.log(2.0)
    0.693147...
    >>> kernels.log(0.0)
    -inf
    """
    x = np.float64(x)
    subnormal = x < SMALLEST_NORMAL
    xs = x * TWO54 if subnormal else x
    f, k = _split_exponent(xs)
    k = k - 54 if subnormal else k
    result = _log_reduced(f, _small_int_to_float(k), 0.0)
    result = -math.inf if x == 0.0 else result
    result = x if x == math.inf else result
    result = math.nan if x < 0.0 else result
    return x + x if x != x else result


@contracted_scalar
def log_positive(x):
    """Natural logarithm of a positive normal number: :func:`log` without its
    special values, with fused multiply-adds; < 1 ulp.

    ``log_positive(x) -> value``

    For loops that have already sorted out the arguments outside
    ``[2**-1022, inf)`` (0, subnormals, negatives, inf and nan give a
    meaningless finite or nan value, which the caller discards): no test
    and no select per element, and the fused polynomial, make it about
    twice as fast as :func:`log` in a vectorized loop.  Its results may
    differ from :func:`log` in the last bit.

    Parameters
    ----------
    x : float32 or float64 scalar, positive, normal and finite
        Widened to float64 first.

    Returns
    -------
    value : float64
    """
    f, k = _split_exponent(np.float64(x))
    return _log_reduced(f, _small_int_to_float(k), 0.0)


@stable_api
@scalar
def log1p(x):
    """``log(1 + x)``, accurate for tiny ``x``, vectorizable, < 1 ulp.

    ``log1p(x) -> value``

    ``u = fl(1 + x)``, its exact rounding error ``c = (1 + x) - u``
    (Fast2Sum), then ``log1p(x) = log(u) + c / u`` with the reduction of
    :func:`log`.

    Parameters
    ----------
    x : float32 or float64 scalar
        Widened to float64 first.

    Returns
    -------
    value : float64
        ``log1p(x)``: ``x`` itself for ``|x| < 1e-300`` (keeps ``-0.0`` and
        subnormals), ``-inf`` at ``-1``, nan for ``x < -1`` and nan, ``inf``
        at ``inf``.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.log1p(1e-10)
    9.999999...e-11
    >>> kernels.log1p(-1.0)
    -inf
    """
    x = np.float64(x)
    u = 1.0 + x
    # Fast2Sum: c = (1 + x) - u exactly, whichever operand is larger.
    c = (1.0 - u) + x if abs(x) <= 1.0 else (x - u) + 1.0
    us = u if u >= SMALLEST_NORMAL else 1.0  # u in {0, tiny, inf, nan} handled below
    f, k = _split_exponent(us)
    result = _log_reduced(f, _small_int_to_float(k), c / us)
    result = x if abs(x) < 1e-300 else result  # keeps -0.0 and subnormals exact
    result = -math.inf if x == -1.0 else result
    result = x if x == math.inf else result
    result = math.nan if x < -1.0 else result
    return x + x if x != x else result


@stable_api
@scalar
def exp(x):
    """``e**x``, vectorizable, < 1 ulp.

    ``exp(x) -> value``

    ``k = round(x / ln2)``, ``r = x - k ln2`` (two parts), then fdlibm's
    rational form ``exp(r) = 1 + r + r c(r) / (2 - c(r))`` and
    ``exp(x) = 2**k exp(r)`` scaled in two exact-or-once-rounded products.

    Parameters
    ----------
    x : float32 or float64 scalar
        Widened to float64 first.

    Returns
    -------
    value : float64
        ``exp(x)``: 0 at ``-inf`` (and below about -745), ``inf`` on
        overflow (above about 709.78), subnormal results kept, nan for nan.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.exp(1.0)
    2.718281...
    >>> kernels.exp(-800.0)
    0.0
    """
    x = np.float64(x)
    xc = min2(max2(x, EXP_MIN_ARG), EXP_MAX_ARG)
    kd = xc * INV_LN2 + SHIFTER  # round to nearest integer in the low bits
    k = float_bits(kd) - SHIFTER_BITS
    kd = kd - SHIFTER
    hi = xc - kd * LN2_HI  # exact
    lo = kd * LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # 2**k as two normal powers of two: the first product is exact, the
    # second rounds once (to a subnormal, 0 or inf where it must).
    k1 = k >> 1
    k2 = k - k1
    scale1 = float_from_bits((k1 + 1023) << 52)
    scale2 = float_from_bits((k2 + 1023) << 52)
    result = y * scale1 * scale2
    return x + x if x != x else result
