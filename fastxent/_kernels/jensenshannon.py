"""Jensen-Shannon divergence of rows: one pass over ``p`` and ``q``, no temporary.

SciPy normalizes ``p`` and ``q`` along ``axis``, forms ``m = (p + q) / 2``
and sums ``rel_entr(p, m) + rel_entr(q, m)``, with four temporaries of the
input's size.  These kernels do it per row in one pass over ``p`` and ``q``,
rows of up to ``BLOCK`` values a tile of whole rows at a time, so that the
terms run as one vectorized loop whatever the row length: C-contiguous
matrices are read in place (a tile is a contiguous run of values, each
value paired with its row's reciprocal sums), other layouts are loaded
transposed, as float64, by the row loader of
:mod:`fastxent._kernels.entropy_rows`.  Longer rows are reduced block by
block with compensated partial sums.  Each term is SciPy's

.. math:: x \\log\\frac{x}{m} + y \\log\\frac{y}{m}, \\quad x = \\frac{p_i}{S},\\
          y = \\frac{q_i}{T},\\ m = \\frac{x + y}{2},

written for the tiles as ``lo log b + hi log(2 - b)`` with ``lo, hi`` the
smaller and the larger of ``x, y`` and ``b = 2 lo / (x + y) <= 1``, with the
vectorizable logarithm of :mod:`fastxent._math.elementary` and no
special-value tests per term: a row with a negative, infinite or nan
value (or sum) is recomputed with SciPy's formula term by term and
``rel_entr``'s special values (0 log 0 = 0, a negative value gives inf, nan
propagates).
"""

import math

import numba
import numpy as np

from .._infra.floats import SMALLEST_NORMAL
from .._infra.jit import inline_scalar, kernel, kernel_by_type, parallel_kernel, stable_api
from .._infra.summation import BLOCK, block_bounds, compensated_sum, n_blocks
from .._math.elementary import log, log_positive
from .._math.special import rel_entr_from_log
from .entropy_rows import _load_transposed, rows_per_task, tile_buffers
from .entropy_slices import _divide, _slice_sums

__all__ = [
    "jensenshannon_rows_serial",
    "jensenshannon_rows_parallel",
    "rows_driver_serial",
    "rows_driver_parallel",
    "contiguous_rows_serial",
    "long_rows_driver_serial",
    "long_rows_driver_parallel",
    "exact_rows",
]


@inline_scalar
def _normalized(v, s, s_inv):
    """``v / S``: ``v * (1 / S)`` where the reciprocal is finite, else SciPy's
    division (a subnormal or zero ``S``, whose reciprocal overflows)."""
    v = np.float64(v)
    return v * s_inv if abs(s_inv) < math.inf else _divide(v, s)


@inline_scalar
def _js_term_exact(v, s, s_inv, w, t, t_inv):
    """``rel_entr(x, m) + rel_entr(y, m)`` with every special value of SciPy's formula."""
    # Normalizing by a multiplication keeps equal (or proportional by a
    # power of two) rows equal bit for bit; a value equal to the mean has
    # the ratio 1 exactly, so equal rows give log(1) = 0, as in SciPy.
    x = _normalized(v, s, s_inv)
    y = _normalized(w, t, t_inv)
    m = (x + y) * 0.5
    rx = 1.0 if x == m else _normalized(x, m, 1.0 / m)
    ry = 1.0 if y == m else _normalized(y, m, 1.0 / m)
    return rel_entr_from_log(x, m, log(rx)) + rel_entr_from_log(y, m, log(ry))


@inline_scalar
def _js_term(v, s_inv, w, t_inv):
    """``rel_entr(x, m) + rel_entr(y, m)`` for finite ``x, y >= 0``; nan otherwise
    (the row is then recomputed by :func:`_js_term_exact`).

    With ``lo = min(x, y)``, ``hi = max(x, y)`` and ``b = 2 lo / (x + y)``
    (so ``b <= 1``, and ``2 - b`` is exact to one rounding):

    .. math:: x \\log\\frac{x}{m} + y \\log\\frac{y}{m} = lo \\log b + hi \\log(2 - b)

    one division for both ratios and no special-value tests per term (they
    are left to the rare rows that need them): both logarithms take
    positive normal arguments (``2 - b`` lies in ``[1, 2]``; a subnormal
    ``b`` sends the row to the exact formula), so the check-free
    :func:`~fastxent._math.elementary.log_positive` serves.  Equal values
    give ``b = 1`` exactly, hence 0.
    """
    x = np.float64(v) * s_inv
    y = np.float64(w) * t_inv
    lo = x if x < y else y
    hi = y if x < y else x
    total = x + y
    b = (lo + lo) / total
    usable_b = b >= SMALLEST_NORMAL
    # A b that log_positive does not define (0 when lo = 0, nan when x = y = 0)
    # is replaced by 1: lo log 1 = 0 is right for lo = 0, and the other
    # cases are discarded by the selects below.
    term = hi * log_positive(2.0 - b) + lo * log_positive(b if usable_b else 1.0)
    term = 0.0 if hi == 0.0 else term
    # x + y < inf: neither is inf (nor nan, which also fails the other tests);
    # a subnormal b with lo > 0 loses digits: the exact formula then.
    ordinary = (x >= 0.0) & (y >= 0.0) & (total < math.inf) & (usable_b | (lo == 0.0))
    return term if ordinary else math.nan


@kernel
def _tile_js(x, y, rows, m, s, t, acc):
    """``acc[r] = sum_j (rel_entr(x_j, m_j) + rel_entr(y_j, m_j))`` of each row of a
    transposed tile (``x_j = x[j, r] / s[r]``, ``y_j = y[j, r] / t[r]``, ``m_j``
    their mean), nan for a row that needs the exact formula; ``s`` and ``t``
    are overwritten with their reciprocals."""
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
            acc += _js_term_exact(pb[i], s, s_inv, qb[i], t, t_inv)
        partial[b] = acc
    return compensated_sum(partial)


@kernel
def _tiled_rows(p, q, out, start, stop):
    """Rows start:stop of matrices with rows of at most BLOCK values, tile by tile.

    A row with a negative, infinite or nan value (or sum) gets nan in
    ``out`` and is counted: returns the count, and :func:`exact_rows` then
    fills those rows in.
    """
    m = p.shape[1]
    tile_rows, x, y, s, t, kept, acc = tile_buffers(m, True)
    n_exact = 0
    for r0 in range(start, stop, tile_rows):
        rows = min(r0 + tile_rows, stop) - r0
        _load_transposed(p, q, r0, rows, False, x, y, s, t, kept)
        _tile_js(x, y, rows, m, s, t, acc)
        for r in range(rows):
            d = acc[r]
            n_exact += 1 if d != d else 0
            out[r0 + r] = _nonnegative(0.5 * d)
    return n_exact


@inline_scalar  # inlined: the serial driver below is the only level a first call compiles
def _contiguous_range(p, q, out, start, stop):
    """:func:`_tiled_rows` for C-contiguous ``p`` and ``q``, without the transposition.

    A tile of whole rows is a contiguous run of values: the row sums read it
    row by row, each row's reciprocal sums are spread over its values, and
    the terms then run as one contiguous loop over the tile, vectorized
    whatever the row length, with no gather of strided columns (1e6 rows of
    10 values on two threads: 7-10 % less time than the transposed tiles).
    """
    m = p.shape[1]
    tile_rows = max(1, BLOCK // max(m, 1))
    size = tile_rows * m
    p_scale = np.empty(size)
    q_scale = np.empty(size)
    terms = np.empty(size)
    n_exact = 0
    for r0 in range(start, stop, tile_rows):
        rows = min(r0 + tile_rows, stop) - r0
        values = rows * m
        pt = p[r0 : r0 + rows].reshape(values)
        qt = q[r0 : r0 + rows].reshape(values)
        # The sums and spreads are written out here rather than calling
        # entropy_rows' _row_sums and _spread, for no loss of speed: as
        # compiled levels those made a first call 0.45 s slower (1.61 ->
        # 2.06 s), inlined 0.34 s slower (1.66 -> 2.00 s).
        for r in range(rows):
            s = 0.0
            t = 0.0
            for j in range(m):
                s += pt[r * m + j]
                t += qt[r * m + j]
            s_inv = 1.0 / s
            t_inv = 1.0 / t
            for j in range(m):
                p_scale[r * m + j] = s_inv
                q_scale[r * m + j] = t_inv
        for i in range(values):
            terms[i] = _js_term(pt[i], p_scale[i], qt[i], q_scale[i])
        for r in range(rows):
            d = 0.0
            for j in range(m):
                d += terms[r * m + j]
            n_exact += 1 if d != d else 0
            out[r0 + r] = _nonnegative(0.5 * d)
    return n_exact


@kernel
def _contiguous_rows(p, q, out, start, stop):
    """:func:`_contiguous_range` as a kernel of its own (for the drivers' tasks)."""
    return _contiguous_range(p, q, out, start, stop)


@kernel_by_type
def _row_range(p, q, out, start, stop):
    """Rows start:stop by :func:`_contiguous_rows` when both matrices are
    C-contiguous (known when the caller is compiled), else by :func:`_tiled_rows`."""
    return _contiguous_rows if p.layout == "C" and q.layout == "C" else _tiled_rows


@kernel
def exact_rows(p, q, out):
    """Fill the rows left nan by a tiled driver with SciPy's formula term by term.

    A row whose divergence is nan for its own reasons (a nan value, a zero
    sum) is recomputed too, which gives nan again.
    """
    for r in range(out.shape[0]):
        if out[r] != out[r]:
            out[r] = _nonnegative(0.5 * _js_long_row(p[r], q[r]))


# The NumPy API calls the drivers that fit the row length, so that a call
# compiles the tiled kernels or the long-row ones, not both, and the exact
# formula (:func:`exact_rows`) only once some row needs it.


@parallel_kernel
def rows_driver_parallel(p, q, out):
    """The divergences of rows of at most BLOCK values, on the thread pool;
    rows that need the exact formula are left nan, and counted (the return
    value) for :func:`exact_rows`."""
    n = p.shape[0]
    per_task = rows_per_task(p.shape[1])
    n_exact = 0
    for task in numba.prange((n + per_task - 1) // per_task):
        start = task * per_task
        n_exact += _row_range(p, q, out, start, min(start + per_task, n))
    return n_exact


@kernel
def rows_driver_serial(p, q, out):
    """:func:`rows_driver_parallel` in the calling thread."""
    return _row_range(p, q, out, 0, p.shape[0])


@kernel
def contiguous_rows_serial(p, q, out):
    """:func:`rows_driver_serial` for C-contiguous ``p`` and ``q``: the same
    rows, with one compiled level less."""
    return _contiguous_range(p, q, out, 0, p.shape[0])


@parallel_kernel
def long_rows_driver_parallel(p, q, out):
    """The divergences of rows of more than BLOCK values, a row per task, on the thread pool."""
    for r in numba.prange(p.shape[0]):
        out[r] = _nonnegative(0.5 * _js_long_row(p[r], q[r]))


@kernel
def long_rows_driver_serial(p, q, out):
    """:func:`long_rows_driver_parallel` in the calling thread."""
    for r in range(p.shape[0]):
        out[r] = _nonnegative(0.5 * _js_long_row(p[r], q[r]))


@stable_api
@kernel  # its prange loops are in the drivers it calls
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

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> p = np.array([[1.0, 0.0], [0.25, 0.75]])
    >>> q = np.array([[0.5, 0.5], [0.25, 0.75]])
    >>> out = np.empty(2)
    >>> kernels.jensenshannon_rows_parallel(p, q, out)
    >>> np.sqrt(out)
    array([0.4645014, 0.       ])
    """
    if p.shape[1] > BLOCK:
        long_rows_driver_parallel(p, q, out)
    elif rows_driver_parallel(p, q, out) > 0:
        exact_rows(p, q, out)


@stable_api
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

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> p = np.array([[1.0, 0.0], [0.25, 0.75]])
    >>> q = np.array([[0.5, 0.5], [0.25, 0.75]])
    >>> out = np.empty(2)
    >>> kernels.jensenshannon_rows_serial(p, q, out)
    >>> out
    array([0.215761..., 0.        ])
    """
    if p.shape[1] > BLOCK:
        long_rows_driver_serial(p, q, out)
    elif rows_driver_serial(p, q, out) > 0:
        exact_rows(p, q, out)
