"""Strict scalar special functions: the one definition of each formula.

Each function takes float32 or float64 scalars, computes in float64 and
returns float64.  They are compiled with :func:`fastxent._infra.jit.scalar`
(no fast-math), so their special values and operation order survive
inlining into fast-math kernels, and they can be called from a user's own
``@numba.njit`` code.  :mod:`fastxent.ufuncs` wraps them as NumPy ufuncs.

The formulas and special values are those of ``scipy.special`` 1.17
(which computes ``entr``, ``rel_entr`` and ``kl_div`` in double precision
for both its float32 and float64 loops, and ``xlogy``, ``xlog1py``,
``expit``, ``log_expit`` in the argument's precision).  The logarithms and
exponentials are the C library's (``np.log``/``log1p``/``exp`` of a
float64 become libm calls in Numba, as in SciPy; ``np`` rather than
``math`` so that with the JIT disabled they return inf/nan like the
compiled code instead of raising), so float64 results are SciPy's bits
except ``xlog1py``: SciPy's Cephes ``log1p`` evaluates ``log(1 + y)`` for
``1 + y`` outside ``[sqrt(1/2), sqrt(2)]`` and is up to 3 ulp off there,
libm's ``log1p`` stays within 1 ulp (so the two can differ by 3 ulp, where
ours is the accurate one).  Float32 results are the float64 values rounded once: at least as
accurate as SciPy's float32 loops (whose ``expit`` flushes results below
~1e-38 to zero).

No intermediate overflows or underflows where the result does not: the
ratio ``x / y`` of ``rel_entr`` and ``kl_div`` is formed only where it is
a normal number (elsewhere the logarithms are taken separately, as SciPy's
``rel_entr`` does), and the tails of ``expit`` and ``log_expit`` return
the value the formula rounds to instead of evaluating an exponential that
underflows.  So ``np.errstate(all="raise")`` raises only where the result
itself overflows or underflows, or is nan or infinite from finite input.

``entr_from_log`` and ``rel_entr_from_log`` hold the special-value logic
of ``entr`` and ``rel_entr`` given the logarithm computed elsewhere, so a
hot loop can supply a vectorizable logarithm (:mod:`fastxent._math.elementary`)
and still share these definitions.
"""

import math

import numpy as np

from .._infra.floats import SMALLEST_NORMAL
from .._infra.jit import scalar, stable_api

# x / y of two numbers in [2**-510, 2**510] is a normal number, above
# 2**-1020 (so SciPy's rel_entr takes log(x / y) there too).
MODERATE_MIN = 2.0**-510
MODERATE_MAX = 2.0**510
# Beyond these the tails are exact: 1 + exp(-x) rounds to 1 for x > 40, and
# x - log1p(exp(x)) rounds to x for x < -40 (exp(x) < 4.3e-18 is below half
# an ulp of x).
EXPIT_ONE_ABOVE = 40.0
# The largest x whose exp(x) is finite: below -EXP_FINITE_UP_TO, SciPy's expit is 1 / (1 + inf) = 0.
EXP_FINITE_UP_TO = 709.782712893384
LOG_EXPIT_IDENTITY_BELOW = -40.0
# log1p(y) rounds to y for |y| < 2**-54; libm raises underflow for subnormal y.
LOG1P_IDENTITY_BELOW = 2.0**-60
# kl_div(s x, s y) = s kl_div(x, y): for x < 2**-800 and y > 2 x,
# x log(x / y) may be subnormal (underflow) while the result, at least
# 0.15 y, is not, so the arguments are scaled up by 2**200 first; for
# y >= 2**800 the x terms are below half an ulp of y and the result is y.
# (For y <= 2 x a subnormal x log(x / y) makes the result subnormal too.)
KL_DIV_TINY_X = 2.0**-800
KL_DIV_HUGE_Y = 2.0**800
KL_DIV_SCALE = 2.0**200

__all__ = [
    "xlogy",
    "xlog1py",
    "entr",
    "entr_from_log",
    "rel_entr",
    "rel_entr_from_log",
    "kl_div",
    "expit",
    "log_expit",
]


@stable_api
@scalar
def xlogy(x, y):
    """``x * log(y)``, and 0 when ``x == 0`` (unless ``y`` is nan).

    ``xlogy(x, y) -> value``

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.xlogy(2.0, 3.0)
    2.197224...
    >>> kernels.xlogy(0.0, 0.0)
    0.0
    """
    x = np.float64(x)
    y = np.float64(y)
    if x != x:  # nan, without the flag log(y) may raise
        return x
    if x == 0.0 and y == y:
        return 0.0
    return x * np.log(y)


@stable_api
@scalar
def xlog1py(x, y):
    """``x * log1p(y)``, and 0 when ``x == 0`` (unless ``y`` is nan).

    ``xlog1py(x, y) -> value``

    ``log1p(y)`` is ``y`` itself for ``|y| < 2**-60`` (what it rounds to),
    so a subnormal ``y`` does not raise underflow when ``x * y`` is normal.

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.xlog1py(2.0, 1e-10)
    1.999999...e-10
    >>> kernels.xlog1py(0.0, -1.0)
    0.0
    """
    x = np.float64(x)
    y = np.float64(y)
    if x != x:  # nan, without the flag log1p(y) may raise
        return x
    if x == 0.0 and y == y:
        return 0.0
    return x * (y if abs(y) < LOG1P_IDENTITY_BELOW else np.log1p(y))


@scalar
def entr_from_log(x, log_x):
    """``entr(x)`` given ``log_x = log(x)`` for ``x > 0`` (ignored otherwise).

    .. math:: \\mathrm{entr}(x) = -x \\log x \\ (x > 0), \\quad 0 \\ (x = 0),
              \\quad -\\infty \\ (x < 0), \\quad \\mathrm{nan} \\ (x\\ \\mathrm{nan})

    Parameters
    ----------
    x : float32 or float64 scalar
    log_x : float64, ``log(x)`` (any value when ``x <= 0`` or nan)

    Returns
    -------
    float64
    """
    x = np.float64(x)
    if x > 0.0:
        return -x * log_x
    if x == 0.0:
        return 0.0
    if x < 0.0:
        return -math.inf
    return x


@stable_api
@scalar
def entr(x):
    """Elementwise entropy term ``-x log x`` (``scipy.special.entr``).

    ``entr(x) -> value``

    Parameters
    ----------
    x : float32 or float64 scalar

    Returns
    -------
    value : float64
        ``-inf`` for ``x < 0``, 0 at 0, nan for nan.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.entr(0.5)
    0.346573...
    >>> kernels.entr(0.0)
    0.0
    """
    x = np.float64(x)
    if x != x:  # nan, without the flag of an ordered comparison
        return x
    return entr_from_log(x, np.log(x) if x > 0.0 else 0.0)


@scalar
def rel_entr_from_log(x, y, log_ratio):
    """``rel_entr(x, y)`` given ``log_ratio = log(x / y)`` for ``x, y > 0``.

    .. math:: x \\log(x / y) \\ (x > 0, y > 0), \\quad 0 \\ (x = 0, y \\ge 0),
              \\quad +\\infty \\ \\text{otherwise}, \\quad \\mathrm{nan}
              \\text{ if either is nan}

    Parameters
    ----------
    x, y : float32 or float64 scalars
    log_ratio : float64, ``log(x / y)`` (any value unless ``x, y > 0``)

    Returns
    -------
    float64
    """
    x = np.float64(x)
    y = np.float64(y)
    if x != x or y != y:
        return math.nan
    if x > 0.0 and y > 0.0:
        return x * log_ratio
    if x == 0.0 and y >= 0.0:
        return 0.0
    return math.inf


@scalar
def _moderate(x, y):
    """Whether ``x`` and ``y`` both lie in ``[2**-510, 2**510]`` (so that
    ``x / y`` is a normal number); false for 0, negatives, inf and nan."""
    # Non-short-circuit ``&``: one combined test, measured 10% faster in
    # the rel_entr ufunc than a chain of branches.
    return (MODERATE_MIN <= x) & (x <= MODERATE_MAX) & (MODERATE_MIN <= y) & (y <= MODERATE_MAX)


@scalar
def _quotient(x, y):
    """``x / y`` for ``x, y > 0`` when it is a normal number, else 0 (below
    the normal range) or inf (overflow), without raising a floating-point flag.

    ``_quotient(x, y) -> q``

    ``x = mx 2**ex``, ``y = my 2**ey`` (``frexp``, exact): ``x / y`` is
    ``fl(mx / my) * 2**(ex - ey)`` exactly when that is normal, and the
    exponent says whether it is.  For the extreme arguments only (a
    division is cheaper).

    Parameters
    ----------
    x, y : float64 scalars, positive (inf allowed)

    Returns
    -------
    q : float64
        The correctly rounded ``x / y`` (SciPy's ratio) when it is a normal
        number or either argument is inf; 0 below the normal range; inf
        where ``x / y`` overflows.
    """
    if x == math.inf or y == math.inf:
        return x / y
    mx, ex = math.frexp(x)
    my, ey = math.frexp(y)
    m = mx / my  # in (0.5, 2): fl(m) <= 2 - 2**-52
    e = ex - ey
    if e > 1024 or (e == 1024 and m >= 1.0):
        return math.inf
    if e < -1022 or (e == -1022 and m < 1.0):
        return 0.0
    return math.ldexp(m, e)


@stable_api
@scalar
def rel_entr(x, y):
    """Elementwise relative entropy ``x log(x / y)`` (``scipy.special.rel_entr``).

    ``rel_entr(x, y) -> value``

    For ``0.5 < x / y < 2`` the logarithm is ``log1p((x - y) / y)``: ``x - y``
    is exact there (Sterbenz), so close arguments keep full relative
    accuracy.  When ``x / y`` would overflow or fall below the normal range
    the logarithm is ``log(x) - log(y)`` (and the quotient is not formed).

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.rel_entr(0.5, 0.25)
    0.346573...
    >>> kernels.rel_entr(0.0, 0.25)
    0.0
    """
    x = np.float64(x)
    y = np.float64(y)
    if _moderate(x, y):
        ratio = x / y
        if 0.5 < ratio < 2.0:
            return x * np.log1p((x - y) / y)
        return x * np.log(ratio)
    log_ratio = 0.0
    if x > 0.0 and y > 0.0:
        ratio = _quotient(x, y)
        if 0.5 < ratio < 2.0:
            log_ratio = np.log1p((x - y) / y)
        elif SMALLEST_NORMAL < ratio < math.inf:
            log_ratio = np.log(ratio)
        else:
            log_ratio = np.log(x) - np.log(y)
    return rel_entr_from_log(x, y, log_ratio)


@scalar
def _kl_div_positive(x, y):
    """``x log(x / y) - x + y`` for ``x, y > 0`` (inf allowed)."""
    ratio = _quotient(x, y)
    if SMALLEST_NORMAL < ratio < math.inf:
        log_ratio = np.log(ratio)
    else:
        log_ratio = np.log(x) - np.log(y)
    return x * log_ratio - x + y


@scalar
def _kl_div_extreme(x, y):
    """:func:`kl_div` for arguments outside ``[2**-510, 2**510]``."""
    if x != x or y != y:
        return math.nan
    if x > 0.0 and y > 0.0:
        if x >= KL_DIV_TINY_X or y <= x + x:
            return _kl_div_positive(x, y)
        if KL_DIV_HUGE_Y <= y < math.inf:
            return y
        return _kl_div_positive(x * KL_DIV_SCALE, y * KL_DIV_SCALE) / KL_DIV_SCALE
    if x == 0.0 and y >= 0.0:
        return y
    return math.inf


@stable_api
@scalar
def kl_div(x, y):
    """Elementwise ``x log(x / y) - x + y`` (``scipy.special.kl_div``).

    ``kl_div(x, y) -> value``

    0 when ``x == 0`` and ``y >= 0`` (the result is then ``y``), +inf for
    negative arguments or ``y == 0 < x``, nan if either argument is nan.
    Where ``x / y`` is not a normal number the logarithm is
    ``log(x) - log(y)``, so the result stays finite and accurate (SciPy
    forms ``x / y`` and returns +inf where it overflows and -inf where it
    underflows to 0, e.g. ``kl_div(4, 2.22e-308)`` and ``kl_div(1e-300, 1e300)``).
    For ``x < 2**-800 < 2 x < y`` the arguments are scaled by ``2**200``
    first (``kl_div`` is homogeneous of degree 1), so that ``x log(x / y)``
    does not underflow where the result does not.

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.kl_div(0.5, 0.25)
    0.096573...
    >>> kernels.kl_div(0.0, 0.25)
    0.25
    >>> kernels.kl_div(4.0, 2.22e-308)
    2835.139983...
    """
    x = np.float64(x)
    y = np.float64(y)
    if _moderate(x, y):
        return x * np.log(x / y) - x + y
    return _kl_div_extreme(x, y)


@stable_api
@scalar
def expit(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``; 0 at -inf, 1 at +inf.

    ``expit(x) -> value``

    The quotient form is accurate over the whole line: for ``x -> -inf``
    ``exp(-x)`` grows and the relative error stays at a few ulp, for
    ``x -> +inf`` it rounds to 1 as the true value does (returned directly
    above 40, where ``exp(-x)`` would underflow for large ``x``).

    Parameters
    ----------
    x : float32 or float64 scalar

    Returns
    -------
    value : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.expit(2.0)
    0.880797...
    >>> kernels.expit(-800.0)
    0.0
    """
    x = np.float64(x)
    if x > EXPIT_ONE_ABOVE:
        return 1.0
    if x < -EXP_FINITE_UP_TO:  # SciPy's 0, without the overflow flag of exp(-x)
        return 0.0
    return 1.0 / (1.0 + np.exp(-x))


@stable_api
@scalar
def log_expit(x):
    """``log(expit(x))`` without cancellation or overflow.

    ``log_expit(x) -> value``

    ``x - log1p(exp(x))`` for ``x < 0`` (``exp(x)`` cannot overflow; below
    -40 the result rounds to ``x`` and is returned without evaluating
    ``exp(x)``, which underflows for large ``|x|``) and
    ``-log1p(exp(-x))`` for ``x >= 0`` (tiny and accurate as ``x -> inf``).

    Parameters
    ----------
    x : float32 or float64 scalar

    Returns
    -------
    value : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.log_expit(2.0)
    -0.126928...
    >>> kernels.log_expit(-800.0)
    -800.0
    """
    x = np.float64(x)
    if x < LOG_EXPIT_IDENTITY_BELOW:
        return x
    if x < 0.0:
        return x - np.log1p(np.exp(x))
    return -np.log1p(np.exp(-x))
