"""The one place that sets Numba's compilation flags.

Every compiled function in fastxent is made by one of the decorators below;
no module calls ``numba.njit`` or ``numba.vectorize`` directly.  Keeping the
flags here means a change of policy (caching, the fast-math subset, the
error model) is a one-line change that applies everywhere.

Policy
------
* Lazy compilation: no signatures, so importing fastxent compiles nothing;
  Numba specialises on first call (float32/float64, C/F/any layout,
  read-only or writable arrays alike).
* ``cache=True``: compiled code is kept on disk next to the module.
* ``error_model="numpy"``: division by zero gives inf/nan instead of a
  Python exception, which keeps divisions vectorizable.
* ``FASTMATH`` allows reassociation (so reductions vectorize) and FMA
  contraction, but never ``nnan``/``ninf``: NaN and infinity checks must
  survive compilation.  Scalar special functions (``_fastmath``) are
  compiled *without* fast-math so that their error-compensated operation
  order is kept even after they are inlined into a fast-math loop (LLVM
  fast-math flags are per instruction).
"""

import numba

__all__ = ["FASTMATH", "scalar", "inline_scalar", "kernel", "parallel_kernel", "ufunc", "start_thread_pool"]

FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

_COMMON = dict(cache=True, nogil=True, error_model="numpy")


def scalar(func):
    """Compile a strict per-element function (no fast-math, always inlined by LLVM)."""
    # fastmath=False must be explicit: Numba lets a callee whose flag is
    # unset inherit the fast-math flags of the (first) caller that compiles it.
    return numba.njit(fastmath=False, **_COMMON)(func)


def inline_scalar(func):
    """Compile a per-element formula that Numba inlines into each caller.

    LLVM does not inline a function that, once *its* callees (``_fastmath``)
    are inlined, exceeds its size threshold; a loop calling it then makes a
    scalar call per element and does not vectorize (10x slower, measured on
    softplus).  ``inline="always"`` inlines at Numba IR level instead, so the
    body takes the *caller's* flags: use it only for formulas that are
    correct under ``FASTMATH`` (no ``nnan``/``ninf``, so NaN tests and
    selects survive).  The strict special functions it calls stay separate
    ``scalar`` functions with their own (strict) flags.
    """
    return numba.njit(inline="always", **_COMMON)(func)


def kernel(func=None, *, fastmath=True):
    """Compile a serial array kernel."""
    def wrap(f):
        return numba.njit(fastmath=set(FASTMATH) if fastmath else False, **_COMMON)(f)
    return wrap if func is None else wrap(func)


def parallel_kernel(func=None, *, fastmath=True):
    """Compile a kernel whose ``numba.prange`` loops run on Numba's thread pool."""
    def wrap(f):
        return numba.njit(
            parallel=True, fastmath=set(FASTMATH) if fastmath else False, **_COMMON
        )(f)
    return wrap if func is None else wrap(func)


def ufunc(signatures):
    """Build a real NumPy ufunc with the given loops (e.g. float32 and float64)."""
    return numba.vectorize(signatures, cache=True, nopython=True)


def start_thread_pool():
    """Start Numba's thread pool now (idempotent, cheap: no parallel region runs).

    Numba starts its pool when a ``parallel=True`` function is compiled or
    loaded, but not when a *serial* function that calls parallel code (a
    solver looping over a parallel objective, a user's ``@njit(cache=True)``
    function calling a ``_parallel`` kernel) is loaded from the on-disk
    cache: that code then runs against a pool that was never started and
    crashes the process.  Modules holding such kernels call this at import.
    """
    numba.get_num_threads()
