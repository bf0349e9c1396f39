"""Row kernels of ``entropy`` / ``kl_divergence``: one distribution per row.

``axis=-1`` of a C array.  Rows of up to ``BLOCK`` elements are processed
in tiles of whole rows, so that the terms run as long contiguous loops,
which vectorize for any row length (a loop over a 10-element row would
not: its remainder iterations would each pay a scalar logarithm).  The
relative entropies of C-contiguous matrices read a tile in place (a
contiguous run of values, each paired with its row's sums spread beside
it); other layouts, and the Shannon entropy (as fast either way), copy the
tile (as float64) *transposed* into small buffers, where the row sums and
the terms run across rows.  Longer rows are reduced block by block like
one slice.  See :mod:`fastxent._kernels.entropy_slices` for the formulas
and conventions.

The relative entropy of a tile row takes one division per term instead of
SciPy's three (``p / S``, ``q / T`` and their ratio):

.. math:: D = \\frac{1}{S} \\sum_i p_i \\log\\frac{p_i T}{q_i S}

(a one-hot pair of rows still gives the ratio 1 exactly).  A row whose sums
are not positive and finite, or with a ratio out of the normal range, is
recomputed with SciPy's divisions (the strict slice formula).

The tile loop (:func:`tile_buffers`, :func:`_load_transposed`,
:func:`rows_per_task`) is shared with the Jensen-Shannon row kernels of
:mod:`fastxent._kernels.jensenshannon`.
"""

import math

import numba
import numpy as np
from numba import types

from .._infra.arrays import copy_into
from .._infra.floats import SMALLEST_NORMAL
from .._infra.jit import inline_scalar, kernel, kernel_by_type, parallel_kernel, stable_api
from .._infra.summation import BLOCK
from .._math.elementary import log_positive
from .._math.special import rel_entr_from_log
from .entropy_slices import _kept, _shannon_term, _slice_entropy, slice_entropy_strict

__all__ = [
    "entropy_rows_serial",
    "entropy_rows_parallel",
    "rows_driver_serial",
    "rows_driver_parallel",
    "contiguous_relative_rows_serial",
    "long_rows_driver_serial",
    "long_rows_driver_parallel",
    "strict_rows",
    "rows_per_task",
    "tile_buffers",
]

TILES_PER_TASK = 16  # row tiles per parallel task (buffers are allocated per task)


@kernel
def _sum_rows_transposed(x, rows, m, out):
    """``out[r] = sum_j x[j * rows + r]``, each row summed in order of j."""
    acc = out[:rows]
    acc[:] = 0.0
    for j in range(m):
        col = x[j * rows : (j + 1) * rows]
        for r in range(rows):
            acc[r] += col[r]


@kernel
def _load_column_skipping_nan(src, dst, other, sums, kept):
    """``dst[r] = src[r]``, or 0 where ``src`` or ``other`` (the paired
    value) is nan; adds it to ``sums[r]`` and counts the others in ``kept``."""
    for r in range(dst.shape[0]):
        v = np.float64(src[r])
        keep = _kept(v, np.float64(other[r]), True)
        v = v if keep else 0.0
        dst[r] = v
        sums[r] += v
        kept[r] += 1 if keep else 0


@inline_scalar  # inlined: allocations only, not worth a compilation of their own
def tile_buffers(m, paired):
    """Scratch of the row tiles of one task, rows of length ``m <= BLOCK``:
    ``(tile_rows, x, y, s, t, kept, acc)``, ``x`` and ``y`` (empty unless
    ``paired``) for :func:`_load_transposed`, ``s``, ``t`` and ``acc`` one
    value per row, ``kept`` two counts per row."""
    tile_rows = max(1, BLOCK // max(m, 1))
    size = tile_rows * m
    x = np.empty(size)
    y = np.empty(size if paired else 0)
    kept = np.empty(2 * tile_rows, dtype=np.int64)  # second half: scratch for the q pass
    return tile_rows, x, y, np.ones(tile_rows), np.ones(tile_rows), kept, np.empty(tile_rows)


@kernel
def _load_transposed(pk, qk, r0, rows, skip_nan, x, y, s, t, kept):
    """Copy rows r0:r0+rows as float64 into ``x`` (and ``y``), transposed:
    position j of row r goes to ``x[j * rows + r]``, and sum each row into
    ``s[r]`` (and ``t[r]``) in order of j.  With ``skip_nan``, positions
    where ``pk`` or ``qk`` is nan become 0 (which adds nothing to a sum or
    an entropy); ``kept[r]`` counts the others."""
    m = pk.shape[1]
    pt = pk[r0 : r0 + rows]
    qt = pt if qk is None else qk[r0 : r0 + rows]
    s[:rows] = 0.0
    t[:rows] = 0.0
    # Column j of the tile: strided loads, contiguous stores (loads gather
    # well; scattered stores are slow on some CPUs).  One loop per case:
    # a loop-invariant branch inside would stop vectorization.
    if not skip_nan:
        kept[:rows] = m
        for j in range(m):
            copy_into(x[j * rows : (j + 1) * rows], pt[:, j])
            if qk is not None:
                copy_into(y[j * rows : (j + 1) * rows], qt[:, j])
        _sum_rows_transposed(x, rows, m, s)
        if qk is not None:
            _sum_rows_transposed(y, rows, m, t)
        return
    kept[:rows] = 0
    for j in range(m):
        if qk is None:
            _load_column_skipping_nan(pt[:, j], x[j * rows : (j + 1) * rows], pt[:, j], s, kept)
        else:
            _load_column_skipping_nan(pt[:, j], x[j * rows : (j + 1) * rows], qt[:, j], s, kept)
            _load_column_skipping_nan(qt[:, j], y[j * rows : (j + 1) * rows], pt[:, j], t, kept[rows:])


@kernel
def _tile_shannon(x, y, rows, m, sums, t, acc, qk):
    """``acc[r] = sum_j entr(x[j, r] / sums[r])`` over a transposed tile (in
    order of j); returns False (no row needs a strict formula).  ``y``, ``t``
    and ``qk`` are unused: the arguments are :func:`_tile_relative`'s."""
    out = acc[:rows]
    out[:] = 0.0
    for j in range(m):
        col = x[j * rows : (j + 1) * rows]
        for r in range(rows):
            out[r] += _shannon_term(col[r], sums[r])
    return False


@inline_scalar
def _usable_sums(s, t):
    """Whether both row sums are positive and finite (else the row takes the strict formula)."""
    return (s > 0.0) & (s < math.inf) & (t > 0.0) & (t < math.inf)


@inline_scalar
def _scaled_relative_term(v, s, w, t):
    """``(S rel_entr(v/S, w/T), needs_strict)`` for row sums ``S, T`` in ``(0, inf)``.

    .. math:: S\\,\\mathrm{rel\\_entr}(v/S, w/T) = v \\log\\frac{v T}{w S}

    one division instead of three; the flag marks a ratio or a product out of
    the normal range, where SciPy's separate divisions must be taken.
    """
    v = np.float64(v)
    w = np.float64(w)
    numerator = v * t
    denominator = w * s
    ratio = numerator / denominator
    positive = (v > 0.0) & (w > 0.0)
    # A subnormal product has lost digits (rows of tiny values): strict then.
    subnormal = (numerator < SMALLEST_NORMAL) | (denominator < SMALLEST_NORMAL)
    extreme = positive & ((ratio >= math.inf) | (ratio < SMALLEST_NORMAL) | (ratio != ratio) | subnormal)
    # log_positive: where the ratio is not positive normal, either the
    # logarithm is unused (v or w is not positive) or the row goes strict.
    return rel_entr_from_log(v, w, log_positive(ratio)), extreme


@kernel
def _tile_relative(x, y, rows, m, s, t, acc, qk):
    """``acc[r] = sum_j rel_entr(x[j, r] / s[r], y[j, r] / t[r])`` over a transposed tile;
    returns whether some row needs the strict formula (a ratio out of the normal
    range, or a sum that is not positive and finite).  ``qk`` is unused."""
    out = acc[:rows]
    out[:] = 0.0
    strict = False
    for r in range(rows):
        strict |= not _usable_sums(s[r], t[r])
    for j in range(m):
        xc = x[j * rows : (j + 1) * rows]
        yc = y[j * rows : (j + 1) * rows]
        for r in range(rows):
            term, extreme = _scaled_relative_term(xc[r], s[r], yc[r], t[r])
            out[r] += term
            strict |= extreme
    for r in range(rows):
        out[r] /= s[r]
    return strict


@kernel_by_type
def _tile_terms(x, y, rows, m, s, t, acc, qk):
    """The terms of a tile into ``acc``: :func:`_tile_shannon` for ``qk`` None,
    else :func:`_tile_relative`; returns whether some row needs the strict formula.

    Chosen from the type of ``qk`` when the caller is compiled: Numba drops
    an ``if qk is None`` branch only when ``qk`` is None, so a test written
    in the caller would compile the Shannon terms for relative entropies too.
    """
    return _tile_shannon if isinstance(qk, types.NoneType) else _tile_relative


@kernel
def _has_extreme_ratio(x, y, first, step, m, s, t):
    """Whether the row of values ``x[first + j * step]`` (``j < m``) needs the
    strict formula (a tile row: ``first, step`` = ``r, rows`` transposed,
    ``r m, 1`` in place)."""
    if not _usable_sums(s, t):
        return True
    for j in range(m):
        i = first + j * step
        _, extreme = _scaled_relative_term(x[i], s, y[i], t)
        if extreme:
            return True
    return False


@kernel
def _rows_tiled(pk, qk, normalize, skip_nan, out, start, stop):
    """Rows start:stop of a matrix with rows of at most BLOCK elements, tile by tile.

    A tile of whole rows is copied transposed into flat float64 buffers, so
    the row sums and the terms run as long contiguous loops across rows
    that vectorize, for any row length.  A row that needs the strict
    formula gets nan in ``out`` and is counted: returns the count, and
    :func:`strict_rows` then fills those rows in.
    """
    m = pk.shape[1]
    tile_rows, x, y, s, t, kept, acc = tile_buffers(m, qk is not None)
    n_strict = 0
    for r0 in range(start, stop, tile_rows):
        rows = min(r0 + tile_rows, stop) - r0
        _load_transposed(pk, qk, r0, rows, skip_nan, x, y, s, t, kept)
        if not normalize:
            s[:] = 1.0
            t[:] = 1.0
        strict = _tile_terms(x, y, rows, m, s, t, acc, qk)
        for r in range(rows):
            value = acc[r]
            if kept[r] == 0:
                value = 0.0
            elif qk is not None:
                if strict and _has_extreme_ratio(x, y, r, rows, m, s[r], t[r]):
                    value = math.nan
                    n_strict += 1
            out[r0 + r] = value
    return n_strict


@inline_scalar
def _row_sums(pt, qt, rows, m, skip_nan, s, t, kept):
    """Sum each of ``rows`` rows of C-contiguous tiles into ``s[r]`` and
    ``t[r]`` in order of j, and count its kept positions (with ``skip_nan``,
    positions where ``pt`` or ``qt`` is nan add nothing and are not kept)."""
    for r in range(rows):
        a = 0.0
        b = 0.0
        count = 0
        for j in range(m):
            v = np.float64(pt[r * m + j])
            w = np.float64(qt[r * m + j])
            keep = _kept(v, w, skip_nan)
            a += v if keep else 0.0
            b += w if keep else 0.0
            count += 1 if keep else 0
        s[r] = a
        t[r] = b
        kept[r] = count


@inline_scalar
def _spread(values, rows, m, spread):
    """``spread[r m + j] = values[r]`` for ``j < m``: each row's value beside each of its positions."""
    for r in range(rows):
        v = values[r]
        for j in range(m):
            spread[r * m + j] = v


@kernel
def _flat_relative_rows(xv, yv, rows, m, skip_nan, s, t, kept, s_spread, t_spread, terms, out):
    """The relative entropies of ``rows`` rows stored one after the other in
    ``xv`` and ``yv``, their sums in ``s`` and ``t`` and beside each value in
    the spreads: the terms in one loop over every value (0 for a position
    ``skip_nan`` drops), then each row's in order of j, divided by its sum,
    into ``out[r]`` (0 for a row with no kept position, nan for a row that
    needs the strict formula); returns the count of those."""
    strict = False
    for r in range(rows):
        strict |= not _usable_sums(s[r], t[r])
    for i in range(rows * m):
        v = xv[i]
        w = yv[i]
        term, extreme = _scaled_relative_term(v, s_spread[i], w, t_spread[i])
        keep = _kept(np.float64(v), np.float64(w), skip_nan)
        terms[i] = term if keep else 0.0
        strict |= extreme & keep
    n_strict = 0
    for r in range(rows):
        value = 0.0
        for j in range(m):
            value += terms[r * m + j]
        value /= s[r]
        if kept[r] == 0:
            value = 0.0
        elif strict and _has_extreme_ratio(xv, yv, r * m, 1, m, s[r], t[r]):
            value = math.nan
            n_strict += 1
        out[r] = value
    return n_strict


@inline_scalar  # inlined: the serial driver below is the only level a first call compiles
def _contiguous_relative_range(pk, qk, normalize, skip_nan, out, start, stop):
    """:func:`_rows_tiled` of relative entropies for C-contiguous matrices,
    without the transposition.

    A tile of whole rows is a contiguous run of values: the rows are read in
    place, each row's sums are spread beside its values, and the terms run
    as one contiguous, vectorized loop over the tile whatever the row
    length, with no gather of strided columns (1e6 rows of 10 values on two
    threads: about 15 % less time than the transposed tiles).
    """
    m = pk.shape[1]
    tile_rows = max(1, BLOCK // max(m, 1))
    s = np.empty(tile_rows)
    t = np.empty(tile_rows)
    kept = np.empty(tile_rows, dtype=np.int64)
    s_spread = np.empty(tile_rows * m)
    t_spread = np.empty(tile_rows * m)
    terms = np.empty(tile_rows * m)
    n_strict = 0
    for r0 in range(start, stop, tile_rows):
        rows = min(r0 + tile_rows, stop) - r0
        pt = pk[r0 : r0 + rows].reshape(rows * m)
        qt = qk[r0 : r0 + rows].reshape(rows * m)
        _row_sums(pt, qt, rows, m, skip_nan, s, t, kept)
        if not normalize:
            s[:] = 1.0
            t[:] = 1.0
        _spread(s, rows, m, s_spread)
        _spread(t, rows, m, t_spread)
        tile_out = out[r0 : r0 + rows]
        n_strict += _flat_relative_rows(pt, qt, rows, m, skip_nan, s, t, kept, s_spread, t_spread, terms, tile_out)
    return n_strict


@kernel
def _contiguous_relative_rows(pk, qk, normalize, skip_nan, out, start, stop):
    """:func:`_contiguous_relative_range` as a kernel of its own (for the drivers' tasks)."""
    return _contiguous_relative_range(pk, qk, normalize, skip_nan, out, start, stop)


@kernel_by_type
def _row_range(pk, qk, normalize, skip_nan, out, start, stop):
    """Rows start:stop by :func:`_contiguous_relative_rows` for relative
    entropies of C-contiguous matrices (known when the caller is compiled),
    else by :func:`_rows_tiled` (Shannon entropies are as fast either way)."""
    if not isinstance(qk, types.NoneType) and pk.layout == "C" and qk.layout == "C":
        return _contiguous_relative_rows
    return _rows_tiled


@kernel
def _long_rows(pk, qk, normalize, skip_nan, out, start, stop):
    """Rows start:stop of a matrix with rows of more than BLOCK elements, each reduced like one slice."""
    for r in range(start, stop):
        if qk is None:
            out[r] = _slice_entropy(pk[r], None, normalize, skip_nan)
        else:
            out[r] = _slice_entropy(pk[r], qk[r], normalize, skip_nan)


@kernel
def rows_per_task(m):
    """Rows of length ``m`` per parallel task: ``TILES_PER_TASK`` tiles, or one long row."""
    if m > BLOCK:
        return 1
    return max(1, BLOCK // max(m, 1)) * TILES_PER_TASK


# The NumPy API calls the drivers below, each case its own compiled
# specialization (``qk`` None for the Shannon entropy), and compiles only
# what an input needs: the tiled drivers for rows of at most BLOCK values,
# the long-row drivers for longer rows, and the strict formula
# (:func:`strict_rows`) only once some row needs it.


@parallel_kernel
def rows_driver_parallel(pk, qk, normalize, skip_nan, out):
    """The rows of :func:`entropy_rows_parallel` for rows of at most BLOCK
    values; rows that need the strict formula are left nan, and counted
    (the return value) for :func:`strict_rows`."""
    n = pk.shape[0]
    per_task = rows_per_task(pk.shape[1])
    n_strict = 0
    for task in numba.prange((n + per_task - 1) // per_task):
        start = task * per_task
        n_strict += _row_range(pk, qk, normalize, skip_nan, out, start, min(start + per_task, n))
    return n_strict


@kernel
def rows_driver_serial(pk, qk, normalize, skip_nan, out):
    """:func:`rows_driver_parallel` in the calling thread."""
    return _row_range(pk, qk, normalize, skip_nan, out, 0, pk.shape[0])


@kernel
def contiguous_relative_rows_serial(pk, qk, normalize, skip_nan, out):
    """:func:`rows_driver_serial` of relative entropies for C-contiguous
    ``pk`` and ``qk``: the same rows, with one compiled level less."""
    return _contiguous_relative_range(pk, qk, normalize, skip_nan, out, 0, pk.shape[0])


@parallel_kernel
def long_rows_driver_parallel(pk, qk, normalize, skip_nan, out):
    """The rows of :func:`entropy_rows_parallel` for rows of more than BLOCK values."""
    n = pk.shape[0]
    for task in numba.prange(n):
        _long_rows(pk, qk, normalize, skip_nan, out, task, task + 1)


@kernel
def long_rows_driver_serial(pk, qk, normalize, skip_nan, out):
    """:func:`long_rows_driver_parallel` in the calling thread."""
    _long_rows(pk, qk, normalize, skip_nan, out, 0, pk.shape[0])


@kernel
def strict_rows(pk, qk, normalize, skip_nan, out):
    """Fill the rows left nan by a row driver with the strict slice formula.

    A row whose result is nan for its own reasons is recomputed too, which
    gives nan again: the strict formula is the reference for every row.
    """
    for r in range(out.shape[0]):
        if out[r] != out[r]:
            out[r] = slice_entropy_strict(pk[r], qk[r], normalize, skip_nan)


@kernel
def _all_rows(pk, qk, normalize, skip_nan, out, parallel):
    """Every row, by the drivers that fit the row length; ``parallel`` None
    compiles no parallel driver (its ``is None`` test is resolved at compile time)."""
    if pk.shape[1] > BLOCK:
        if parallel is None:
            long_rows_driver_serial(pk, qk, normalize, skip_nan, out)
        else:
            long_rows_driver_parallel(pk, qk, normalize, skip_nan, out)
        return
    if parallel is None:
        n_strict = rows_driver_serial(pk, qk, normalize, skip_nan, out)
    else:
        n_strict = rows_driver_parallel(pk, qk, normalize, skip_nan, out)
    if qk is not None and n_strict > 0:
        strict_rows(pk, qk, normalize, skip_nan, out)


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def entropy_rows_parallel(pk, qk, normalize, skip_nan, out):
    """Entropy or relative entropy of each row, in nats, on Numba's thread pool.

    ``entropy_rows_parallel(pk, qk, normalize, skip_nan, out) -> None``.

    Parameters
    ----------
    pk : 2-D float32 or float64 array, shape (n, m)
        Probabilities (unnormalized unless ``normalize`` is False), one
        distribution per row.  Any strides; read-only is fine.
    qk : 2-D array like ``pk`` (same shape and dtype), or with no rows for none
        Reference distributions; none gives the Shannon entropy.
    normalize : bool
        Divide each row by its sum first (``scipy.stats.entropy``); False
        takes the rows as they are (the sum of ``rel_entr(pk, qk)``).
    skip_nan : bool
        Drop positions where ``pk`` or ``qk`` is nan (``nan_policy="omit"``).
    out : 1-D float64 array, shape (n,)
        Receives ``H(pk[i] / S_i)`` or ``D(pk[i] / S_i || qk[i] / T_i)``
        in nats.

    Returns
    -------
    None
        The result is written into ``out``.

    Notes
    -----
    Each row is computed by one thread in an order fixed by the shape, so
    the result does not depend on the number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> pk = np.array([[1.0, 1.0, 2.0], [0.5, 0.5, 0.0]])
    >>> out = np.empty(2)
    >>> kernels.entropy_rows_parallel(pk, np.empty((0, 0)), True, False, out)
    >>> out
    array([1.039720..., 0.693147...])
    >>> kernels.entropy_rows_parallel(pk, np.full((2, 3), 1 / 3), True, False, out)
    >>> out
    array([0.058891..., 0.405465...])
    """
    if qk.shape[0] == 0:
        _all_rows(pk, None, normalize, skip_nan, out, True)
    else:
        _all_rows(pk, qk, normalize, skip_nan, out, True)


@stable_api
@kernel
def entropy_rows_serial(pk, qk, normalize, skip_nan, out):
    """Entropy or relative entropy of each row, in nats, in the calling thread.

    ``entropy_rows_serial(pk, qk, normalize, skip_nan, out) -> None``: the
    arguments of :func:`entropy_rows_parallel`, and bit for bit its result
    (for small inputs, and for calls from inside the user's own parallel
    loops).

    Parameters
    ----------
    pk : 2-D float32 or float64 array
    qk : 2-D array like ``pk``, or with no rows for none
    normalize : bool
    skip_nan : bool
    out : 1-D float64 array of shape (n,)
        Overwritten with the entropy of each row, in nats.

    Returns
    -------
    None
        The result is written into ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> pk = np.array([[1.0, 1.0, 2.0], [0.5, 0.5, 0.0]])
    >>> out = np.empty(2)
    >>> kernels.entropy_rows_serial(pk, np.empty((0, 0)), True, False, out)
    >>> out
    array([1.039720..., 0.693147...])
    """
    if qk.shape[0] == 0:
        _all_rows(pk, None, normalize, skip_nan, out, None)
    else:
        _all_rows(pk, qk, normalize, skip_nan, out, None)
