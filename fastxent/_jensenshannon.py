"""``jensenshannon``: a drop-in ``scipy.spatial.distance.jensenshannon``.

SciPy normalizes ``p`` and ``q`` along ``axis``, forms ``m = (p + q) / 2``
and sums ``rel_entr(p, m) + rel_entr(q, m)``, with four temporaries of the
input's size.  The kernels here do it per distribution in one pass over
``p`` and ``q`` with no temporary: rows of up to ``BLOCK`` values are
loaded in tiles (transposed, as float64) by the row loader of
:mod:`fastxent._entropy_rows`, so the terms vectorize across rows whatever
the row length; longer rows are reduced block by block with compensated
partial sums.  Each term is SciPy's

.. math:: x \\log\\frac{x}{m} + y \\log\\frac{y}{m}, \\quad x = \\frac{p_i}{S},\\
          y = \\frac{q_i}{T},\\ m = \\frac{x + y}{2}

with ``rel_entr``'s special values (0 log 0 = 0, a negative value gives
inf, nan propagates) and the vectorizable logarithm of
:mod:`fastxent._fastmath`.  Inputs of other shapes (broadcasting, tuple
or ``None`` axes, 0-d) take SciPy's own NumPy formula, with
:data:`fastxent.ufuncs.rel_entr`.
"""

import math
import warnings

import numba
import numpy as np

from . import _parallel
from ._entropy_kernels import _divide, _slice_sums
from ._entropy_rows import _load_transposed
from ._fastmath import log
from ._jit import inline_scalar, kernel, parallel_kernel
from ._special import rel_entr_from_log
from ._summation import BLOCK, block_bounds, compensated_sum, n_blocks

__all__ = ["jensenshannon", "jensenshannon_rows_serial", "jensenshannon_rows_parallel"]

TILES_PER_TASK = 16


@inline_scalar
def _js_term(v, s_inv, w, t_inv):
    # Normalizing by a multiplication keeps equal (or proportional by a
    # power of two) rows equal bit for bit; one reciprocal serves both
    # ratios, and a value equal to the mean has the ratio 1 exactly, so
    # equal rows give log(1) = 0, as in SciPy.
    x = np.float64(v) * s_inv
    y = np.float64(w) * t_inv
    m = (x + y) * 0.5
    inv = 1.0 / m
    rx = 1.0 if x == m else x * inv
    ry = 1.0 if y == m else y * inv
    return rel_entr_from_log(x, m, log(rx)) + rel_entr_from_log(y, m, log(ry))


@kernel
def _tile_js(x, y, rows, m, s, t, acc):
    out = acc[:rows]
    out[:] = 0.0
    s_inv = s[:rows]  # the row sums, turned into their reciprocals in place
    t_inv = t[:rows]
    for r in range(rows):
        s_inv[r] = 1.0 / s_inv[r]
        t_inv[r] = 1.0 / t_inv[r]
    for j in range(m):
        xc = x[j * rows : (j + 1) * rows]
        yc = y[j * rows : (j + 1) * rows]
        for r in range(rows):
            out[r] += _js_term(xc[r], s_inv[r], yc[r], t_inv[r])


@inline_scalar
def _nonnegative(d):
    """A divergence, with the negative rounding of near-equal rows cleared to 0
    (nan and inf kept)."""
    return 0.0 if d < 0.0 else d


@kernel
def _js_long_row(p, q):
    """``D(p||m) + D(q||m)`` of one slice of any length, block by block."""
    s, t, _ = _slice_sums(p, q, False)
    s_inv = 1.0 / s
    t_inv = 1.0 / t
    nb = n_blocks(p.shape[0])
    partial = np.empty(nb)
    for b in range(nb):
        start, stop = block_bounds(b, p.shape[0])
        pb = p[start:stop]
        qb = q[start:stop]
        acc = 0.0
        for i in range(pb.shape[0]):
            acc += _js_term(pb[i], s_inv, qb[i], t_inv)
        partial[b] = acc
    return compensated_sum(partial)


@kernel
def _rows_range(p, q, out, start, stop):
    m = p.shape[1]
    if m > BLOCK:
        for r in range(start, stop):
            out[r] = _nonnegative(0.5 * _js_long_row(p[r], q[r]))
        return
    tile_rows = max(1, BLOCK // max(m, 1))
    size = tile_rows * m
    x = np.empty(size)
    y = np.empty(size)
    kept = np.empty(2 * tile_rows, dtype=np.int64)
    s = np.ones(tile_rows)
    t = np.ones(tile_rows)
    acc = np.empty(tile_rows)
    for r0 in range(start, stop, tile_rows):
        rows = min(r0 + tile_rows, stop) - r0
        _load_transposed(p, q, r0, rows, False, x, y, s, t, kept)
        _tile_js(x, y, rows, m, s, t, acc)
        for r in range(rows):
            out[r0 + r] = _nonnegative(0.5 * acc[r])


@kernel
def _rows_per_task(m):
    if m > BLOCK:
        return 1
    return max(1, BLOCK // max(m, 1)) * TILES_PER_TASK


@parallel_kernel
def jensenshannon_rows_parallel(p, q, out):
    """Jensen-Shannon divergence of each pair of rows, in nats, on Numba's thread pool.

    ``jensenshannon_rows_parallel(p, q, out) -> None``

    .. math:: \\mathrm{JSD}(p_i, q_i) = \\tfrac12 D(x \\| m) + \\tfrac12 D(y \\| m),
              \\quad x = p_i / \\textstyle\\sum p_i,\\ y = q_i / \\sum q_i,\\ m = (x + y) / 2

    (the Jensen-Shannon *distance* of SciPy is ``sqrt(JSD / log(base))``).

    Parameters
    ----------
    p : 2-D float32, float64 or integer array, shape (n, k)
        Unnormalized distributions, one per row; any strides, read-only
        is fine.
    q : 2-D array like ``p`` (same shape)
    out : 1-D float64 array, shape (n,)
        Receives the divergences (nan for a row with nan or a zero sum,
        inf where a value is negative, 0 for ``k = 0``).

    Returns
    -------
    None
        The result is written into ``out``.

    Notes
    -----
    Each row is reduced by one thread in an order fixed by the shape, so
    the result does not depend on the number of threads.
    """
    n = p.shape[0]
    per_task = _rows_per_task(p.shape[1])
    for task in numba.prange((n + per_task - 1) // per_task):
        start = task * per_task
        _rows_range(p, q, out, start, min(start + per_task, n))


@kernel
def jensenshannon_rows_serial(p, q, out):
    """Jensen-Shannon divergence of each pair of rows, in nats, in the calling thread.

    ``jensenshannon_rows_serial(p, q, out) -> None``: the arguments and the
    bits of :func:`jensenshannon_rows_parallel`.

    Parameters
    ----------
    p : 2-D float32, float64 or integer array, shape (n, k)
    q : 2-D array like ``p``
    out : 1-D float64 array, shape (n,)
        Overwritten with the divergence of each row, in nats.

    Returns
    -------
    None
        The result is written into ``out``.
    """
    _rows_range(p, q, out, 0, p.shape[0])


# ------------------------------------------------------------------ the API


def _numpy_formula(p, q, base, axis, keepdims):
    """SciPy's own formula (shapes the kernels do not cover)."""
    from .ufuncs import rel_entr

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
    """
    p = np.asarray(p)
    q = np.asarray(q)
    pk, qk = _kernel_dtype(p), _kernel_dtype(q)
    fast = (
        pk is not None and qk is not None and p.shape == q.shape and p.ndim >= 1
        and isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
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
    _parallel.run(jensenshannon_rows_parallel, jensenshannon_rows_serial, 2 * p2.size, p2, q2, jsd)
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
