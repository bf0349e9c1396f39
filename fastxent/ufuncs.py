"""NumPy ufuncs for the special functions of entropy, like ``scipy.special``'s.

Each is a real :class:`numpy.ufunc` with a float32 and a float64 loop
compiled by ``numba.vectorize`` (through :func:`fastxent._infra.jit.ufunc`), so
broadcasting, ``out=``, ``dtype=``, ``.reduce``/``.outer`` behave as for
any NumPy ufunc, float32 input gives float32 output, and integer input is
cast to float64 (to float32 for 8- and 16-bit integers) by NumPy's usual
safe-casting rules.  Not supported: ``where=`` (Numba's loops cannot be
masked) and long double input (no such loop).

We export the plain ``numpy.ufunc`` that Numba builds, not Numba's
``DUFunc`` wrapper around it: it is an ``isinstance(f, np.ufunc)`` and its
call costs what SciPy's does (the wrapper adds ~0.6 us).  In your own
``@numba.njit`` code call the scalar functions of ``fastxent.kernels``
instead.  With ``NUMBA_DISABLE_JIT=1`` each name is a slow Python
stand-in (:class:`fastxent._infra.jit.PythonUfunc`) with the same loops and
results, broadcasting and ``out=``, but no ``reduce``/``outer``.

Like ``np.log`` (and unlike SciPy, whose loops clear the floating-point
status), the loops leave IEEE exception flags set, so NumPy may emit
``RuntimeWarning: divide by zero ...`` for e.g. ``xlogy(1, 0) = -inf``;
use ``np.errstate`` to silence them.  A flag is raised only where the
result itself is inf or nan from finite input, or overflows or underflows
(no intermediate does where the result does not), so
``np.errstate(all="raise")`` accepts every finite, normal result.

Every loop computes in float64 with the C library's ``log``/``log1p``/
``exp`` (see :mod:`fastxent._math.special`, the single definition of each
formula): the float64 loops give SciPy's bits (``xlog1py``: within 1 ulp
of the exact value, where SciPy's is up to 3 ulp off; ``kl_div`` where
``x / y`` overflows or underflows: the exact value within 2 ulp, where
SciPy returns +inf or -inf), the float32 loops
the float64 value rounded once, and the special values (``0 log 0 = 0``,
``±inf``, ``nan``, negative arguments) are SciPy's.

==============  =====================================================
``xlogy``       ``x * log(y)``, 0 if ``x == 0`` and ``y`` is not nan
``xlog1py``     ``x * log1p(y)``, 0 if ``x == 0`` and ``y`` is not nan
``entr``        ``-x log x`` (0 at 0, -inf for ``x < 0``)
``rel_entr``    ``x log(x / y)`` (0 if ``x == 0 <= y``, else inf off the domain)
``kl_div``      ``x log(x / y) - x + y`` (``y`` if ``x == 0 <= y``, inf off the domain)
``expit``       ``1 / (1 + exp(-x))``
``log_expit``   ``log(expit(x))``, computed without overflow or cancellation
==============  =====================================================

Each ufunc is built on first access (``fastxent.ufuncs.xlogy``, ``from
fastxent.ufuncs import xlogy``): its two loops are then loaded from Numba's
cache or, with a cold cache, compiled, and the others are left alone.
``import fastxent`` does not import this module.
"""

import threading

from ._infra.jit import ufunc
from ._math import special as _special

# The loops inline fastxent._math.special's formulas, but Numba keys their disk
# cache on this file's text alone: after editing _special, clear the cache.

__all__ = ["xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "expit", "log_expit"]

_UNARY = ["float32(float32)", "float64(float64)"]
_BINARY = ["float32(float32, float32)", "float64(float64, float64)"]

# name -> (elementwise function, loop signatures), until __getattr__ builds it
_DEFINITIONS = {}
_build_lock = threading.Lock()


def _loops(signatures):
    """Record the decorated function as the body of a ufunc with these loops."""

    def record(func):
        _DEFINITIONS[func.__name__] = (func, signatures)
        return func

    return record


@_loops(_BINARY)
def xlogy(x, y):
    """``x * log(y)``, with ``xlogy(0, y) = 0`` for every non-nan ``y``.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.xlogy([0.0, 2.0], [0.0, 3.0])
    array([0.        , 2.197224...])
    """
    return _special.xlogy(x, y)


@_loops(_BINARY)
def xlog1py(x, y):
    """``x * log1p(y)``, with ``xlog1py(0, y) = 0`` for every non-nan ``y``.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.xlog1py([0.0, 2.0], [-1.0, 1e-10])
    array([0.e+00, 2.e-10])
    """
    return _special.xlog1py(x, y)


@_loops(_UNARY)
def entr(x):
    """Elementwise entropy term: ``-x log x`` for ``x > 0``, 0 at 0, -inf for ``x < 0``.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.entr([0.0, 0.5, 1.0, -1.0])
    array([ 0.        ,  0.346573..., -0.        ,        -inf])
    """
    return _special.entr(x)


@_loops(_BINARY)
def rel_entr(x, y):
    """``x log(x / y)`` for ``x, y > 0``; 0 for ``x == 0 <= y``; inf otherwise; nan in, nan out.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.rel_entr([0.5, 0.0, 0.5], [0.25, 0.25, 0.0])
    array([0.346573..., 0.        ,        inf])
    """
    return _special.rel_entr(x, y)


@_loops(_BINARY)
def kl_div(x, y):
    """``x log(x / y) - x + y`` for ``x, y > 0``; ``y`` for ``x == 0 <= y``; inf otherwise.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.kl_div([0.5, 0.0], [0.25, 0.25])
    array([0.096573..., 0.25      ])
    """
    return _special.kl_div(x, y)


@_loops(_UNARY)
def expit(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.expit([-1000.0, 0.0, 2.0])
    array([0.        , 0.5       , 0.880797...])
    """
    return _special.expit(x)


@_loops(_UNARY)
def log_expit(x):
    """``log(expit(x))``: ``x - log1p(exp(x))`` for ``x < 0``, ``-log1p(exp(-x))`` otherwise.

    Examples
    --------
    >>> from fastxent import ufuncs
    >>> ufuncs.log_expit([-1000.0, 0.0, 2.0])
    array([-1.000000...e+03, -6.931471...e-01, -1.269280...e-01])
    """
    return _special.log_expit(x)


# The plain functions leave the module namespace, so that the first access of
# each name reaches __getattr__, which compiles only that ufunc's loops.
for _name in __all__:
    del globals()[_name]


def __getattr__(name):
    definition = _DEFINITIONS.get(name)
    if definition is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _build_lock:
        built = globals().get(name)
        if built is None:
            func, signatures = definition
            built = globals()[name] = ufunc(signatures)(func)
    return built


def __dir__():
    return sorted(set(globals()) | set(__all__))
