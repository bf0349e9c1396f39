"""Strict scalar special functions: the one definition of each formula.

Each function takes float32 or float64 scalars, computes in float64 and
returns float64.  They are compiled with :func:`fastxent._jit.scalar`
(no fast-math), so their special values and operation order survive
inlining into fast-math kernels, and they can be called from a user's own
``@numba.njit`` code.  :mod:`fastxent.ufuncs` wraps them as NumPy ufuncs.

The formulas and special values are those of ``scipy.special`` 1.17
(which computes ``entr``, ``rel_entr`` and ``kl_div`` in double precision
for both its float32 and float64 loops, and ``xlogy``, ``xlog1py``,
``expit``, ``log_expit`` in the argument's precision).  The logarithms and
exponentials are the C library's (``math.log``/``log1p``/``exp`` become
libm calls in Numba, as in SciPy), so float64 results are SciPy's bits
except ``xlog1py``: SciPy's Cephes ``log1p`` evaluates ``log(1 + y)`` for
``1 + y`` outside ``[sqrt(1/2), sqrt(2)]`` and is up to 3 ulp off there,
libm's ``log1p`` stays within 1 ulp (so the two can differ by 3 ulp, where
ours is the accurate one).  Float32 results are the float64 values rounded once: at least as
accurate as SciPy's float32 loops (whose ``expit`` flushes results below
~1e-38 to zero).

``entr_from_log`` and ``rel_entr_from_log`` hold the special-value logic
of ``entr`` and ``rel_entr`` given the logarithm computed elsewhere, so a
hot loop can supply a vectorizable logarithm (:mod:`fastxent._fastmath`)
and still share these definitions.
"""

import math

import numpy as np

from ._jit import scalar

SMALLEST_NORMAL = 2.2250738585072014e-308  # DBL_MIN

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
    """
    x = np.float64(x)
    y = np.float64(y)
    if x == 0.0 and y == y:
        return 0.0
    return x * math.log(y)


@scalar
def xlog1py(x, y):
    """``x * log1p(y)``, and 0 when ``x == 0`` (unless ``y`` is nan).

    ``xlog1py(x, y) -> value``

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64
    """
    x = np.float64(x)
    y = np.float64(y)
    if x == 0.0 and y == y:
        return 0.0
    return x * math.log1p(y)


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
    """
    x = np.float64(x)
    return entr_from_log(x, math.log(x) if x > 0.0 else 0.0)


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
def rel_entr(x, y):
    """Elementwise relative entropy ``x log(x / y)`` (``scipy.special.rel_entr``).

    ``rel_entr(x, y) -> value``

    For ``0.5 < x / y < 2`` the logarithm is ``log1p((x - y) / y)``: ``x - y``
    is exact there (Sterbenz), so close arguments keep full relative
    accuracy.  When ``x / y`` would overflow or fall below the normal range
    the logarithm is ``log(x) - log(y)``.

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64
    """
    x = np.float64(x)
    y = np.float64(y)
    log_ratio = 0.0
    if x > 0.0 and y > 0.0:
        ratio = x / y
        if 0.5 < ratio < 2.0:
            log_ratio = math.log1p((x - y) / y)
        elif SMALLEST_NORMAL < ratio < math.inf:
            log_ratio = math.log(ratio)
        else:
            log_ratio = math.log(x) - math.log(y)
    return rel_entr_from_log(x, y, log_ratio)


@scalar
def kl_div(x, y):
    """Elementwise ``x log(x / y) - x + y`` (``scipy.special.kl_div``).

    ``kl_div(x, y) -> value``

    0 when ``x == 0`` and ``y >= 0`` (the result is then ``y``), +inf for
    negative arguments or ``y == 0 < x``, nan if either argument is nan.

    Parameters
    ----------
    x, y : float32 or float64 scalars

    Returns
    -------
    value : float64
    """
    x = np.float64(x)
    y = np.float64(y)
    if x != x or y != y:
        return math.nan
    if x > 0.0 and y > 0.0:
        return x * math.log(x / y) - x + y
    if x == 0.0 and y >= 0.0:
        return y
    return math.inf


@scalar
def expit(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``; 0 at -inf, 1 at +inf.

    ``expit(x) -> value``

    The quotient form is accurate over the whole line: for ``x -> -inf``
    ``exp(-x)`` grows and the relative error stays at a few ulp, for
    ``x -> +inf`` it rounds to 1 as the true value does.

    Parameters
    ----------
    x : float32 or float64 scalar

    Returns
    -------
    value : float64
    """
    x = np.float64(x)
    return 1.0 / (1.0 + math.exp(-x))


@scalar
def log_expit(x):
    """``log(expit(x))`` without cancellation or overflow.

    ``log_expit(x) -> value``

    ``x - log1p(exp(x))`` for ``x < 0`` (``exp(x)`` cannot overflow, and
    for very negative ``x`` the result is ``x`` to full precision) and
    ``-log1p(exp(-x))`` for ``x >= 0`` (tiny and accurate as ``x -> inf``).

    Parameters
    ----------
    x : float32 or float64 scalar

    Returns
    -------
    value : float64
    """
    x = np.float64(x)
    if x < 0.0:
        return x - math.log1p(math.exp(x))
    return -math.log1p(math.exp(-x))
