"""``jensenshannon``: a drop-in ``scipy.spatial.distance.jensenshannon``.

Distributions along the last axis of a 2-D view run through the row kernels
of :mod:`fastxent._kernels.jensenshannon` (one pass over ``p`` and ``q``, no
temporary).  Inputs of other shapes (broadcasting, tuple or ``None`` axes,
0-d) take SciPy's own NumPy formula, with :data:`fastxent.ufuncs.rel_entr`.
"""

import math

import numpy as np

from .._infra import dispatch as _parallel
from .._infra.summation import BLOCK
from .._kernels.jensenshannon import (
    contiguous_rows_serial,
    exact_rows,
    long_rows_driver_parallel,
    long_rows_driver_serial,
    rows_driver_parallel,
    rows_driver_serial,
)
from .validation import read_only

__all__ = ["jensenshannon"]


def _numpy_formula(p, q, base, axis, keepdims):
    """SciPy's own formula (shapes the kernels do not cover)."""
    from ..ufuncs import rel_entr

    p = p / np.sum(p, axis=axis, keepdims=True)
    q = q / np.sum(q, axis=axis, keepdims=True)
    m = (p + q) / 2.0
    left = rel_entr(p, m)
    right = rel_entr(q, m)
    left_sum = np.sum(left, axis=axis, keepdims=keepdims)
    right_sum = np.sum(right, axis=axis, keepdims=keepdims)
    js = left_sum + right_sum
    if base is not None:
        js /= np.log(base)
    return np.sqrt(js / 2.0)


def _kernel_dtype(x):
    """The array as the kernels read it, or None for dtypes they do not take."""
    if x.dtype.kind == "b":
        return x.view(np.uint8)
    if x.dtype.kind in "iuf" and x.dtype.itemsize <= 8 and x.dtype != np.float16:
        return x if x.dtype.isnative else x.astype(x.dtype.newbyteorder("="))
    return None


def _result_dtype(p, q):
    """Float32 when SciPy computes in float32 (float16/32 inputs), else float64."""
    low = (np.float16, np.float32)
    return np.dtype(np.float32) if p.dtype in low and q.dtype in low else np.dtype(np.float64)


def jensenshannon(p, q, base=None, *, axis=0, keepdims=False):
    """Jensen-Shannon distance (``scipy.spatial.distance.jensenshannon``).

    .. math:: \\sqrt{\\frac{D(p \\| m) + D(q \\| m)}{2}}, \\quad m = \\frac{p + q}{2}

    after normalizing ``p`` and ``q`` to sum to 1 along ``axis``; ``D`` is
    the Kullback-Leibler divergence in nats, divided by ``log(base)`` when
    ``base`` is given.

    Parameters
    ----------
    p, q : array_like
        (Unnormalized) probability vectors, distributions along ``axis``.
    base : float, optional
        Logarithm base (SciPy does not check it: base 1 gives inf).
    axis : int, default 0
        Axis of the distributions.
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    js : float or ndarray
        A NumPy scalar for 1-D input.  float32 when both inputs are
        float16/float32 (computed in float64, rounded once), else float64.

    Notes
    -----
    Same values (to ~1e-15 relative for well-conditioned input), shapes,
    nan/inf/zero behaviour, warnings and errors as SciPy 1.17, except that
    a divergence that rounds below 0 (distributions equal up to rounding)
    gives 0 where SciPy takes the square root of the negative number and
    returns nan.  Same-shape
    inputs with an integer ``axis`` are reduced by the kernels
    (:func:`fastxent.kernels.jensenshannon_rows_parallel`) in one pass
    without temporaries, in parallel for large input; other shapes use
    SciPy's NumPy formula.

    Examples
    --------
    >>> import fastxent
    >>> float(fastxent.jensenshannon([1.0, 0.0], [0.5, 0.5]))
    0.464501...
    >>> float(fastxent.jensenshannon([1.0, 0.0], [0.5, 0.5], base=2))
    0.557923...
    >>> fastxent.jensenshannon([[1.0, 0.25], [0.0, 0.75]], [[0.5, 0.25], [0.5, 0.75]])
    array([0.4645014, 0.       ])
    """
    p = np.asarray(p)
    q = np.asarray(q)
    pk, qk = _kernel_dtype(p), _kernel_dtype(q)
    fast = (
        pk is not None
        and qk is not None
        and p.shape == q.shape
        and p.ndim >= 1
        and isinstance(axis, (int, np.integer))
        and not isinstance(axis, bool)
        and -p.ndim <= axis < p.ndim
    )
    if not fast:
        return _numpy_formula(p, q, base, axis, keepdims)
    if pk.dtype != qk.dtype:  # the kernels take one dtype: a copy for mixed inputs
        common = np.promote_types(pk.dtype, qk.dtype)
        common = common if common.kind == "f" else np.dtype(np.float64)
        pk, qk = pk.astype(common), qk.astype(common)
    axis = int(axis) % p.ndim
    pk = np.moveaxis(pk, axis, -1)
    qk = np.moveaxis(qk, axis, -1)
    out_shape = pk.shape[:-1]
    p2 = pk.reshape(math.prod(out_shape), pk.shape[-1])
    q2 = qk.reshape(p2.shape)
    jsd = np.empty(p2.shape[0])
    p2, q2 = read_only(p2), read_only(q2)
    # Work as in entropy's rows: 1e5 rows of 10 values run serially.
    work = _parallel.row_work(p2.shape[0], p2.size)
    contiguous = p2.flags.c_contiguous and q2.flags.c_contiguous
    serial = contiguous_rows_serial if contiguous else rows_driver_serial  # the same rows, compiled faster
    if p2.shape[1] > BLOCK:
        _parallel.run(long_rows_driver_parallel, long_rows_driver_serial, work, p2, q2, jsd)
    elif _parallel.run(rows_driver_parallel, serial, work, p2, q2, jsd):
        # Compiled and run only once some row needs SciPy's exact formula.
        exact_rows(p2, q2, jsd)
    if math.isnan(jsd.sum()):  # divergences are >= 0: the sum is nan iff one is
        _warn_zero_sums(p2, q2, jsd)
    dtype = _result_dtype(p, q)
    js = jsd.reshape(out_shape)
    if keepdims:
        js = np.expand_dims(js, axis)
    if js.ndim == 0:
        # SciPy's scalar arithmetic, type promotion included (a float32
        # scalar divided by np.log(base) becomes float64).
        js = dtype.type(2.0 * js[()])
        if base is not None:
            js /= np.log(base)
        return np.sqrt(js / 2.0)
    if base is not None:
        np.divide(js, np.log(base), out=js)  # jsd / log(base): SciPy's (2 jsd / log(base)) / 2
    np.sqrt(js, out=js)
    return js.astype(dtype, copy=False)


def _warn_zero_sums(p2, q2, jsd):
    """SciPy's warnings where its normalization divides 0 or infinity by 0 or
    infinity: NumPy's own, from the same division, on the nan rows only."""
    rows = np.flatnonzero(np.isnan(jsd))
    for d in (p2[rows], q2[rows]):
        d / np.sum(d, axis=1, keepdims=True)
