"""Kernels of ``entropy`` and ``kl_divergence``: reductions of many slices.

Input is one or two 2-D float32/float64 arrays of the same shape and dtype
(any strides, read-only accepted); ``qk`` is ``None`` for the Shannon
entropy.  Two layouts cover every axis of every array without a copy of
the input:

* ``entropy_rows_*(pk, qk, ...)`` reduce along axis 1 (each row is a
  slice): ``axis=-1`` of a C array.  Rows of up to ``BLOCK`` elements are
  processed in tiles of whole rows copied (as float64, transposed) into
  small buffers, so every pass runs across rows and vectorizes whatever
  the row length (a 10-element row loop would not); longer rows are
  reduced block by block.  Parallel over groups of tiles.
* ``entropy_columns_*(pk, qk, ...)`` reduce along axis 0 (each column is
  a slice): ``axis=0`` of a C array, or one long 1-D slice (one column).
  The inner loop runs along a row of the array, contiguous in memory and
  vectorized across columns.  Parallel over (block of rows, chunk of
  columns) tasks.

Each slice is normalized as ``scipy.stats.entropy`` does -- two passes,
the second over data still in cache for rows:

.. math::

    S = \\sum_i p_i, \\qquad T = \\sum_i q_i, \\qquad
    H = \\sum_i \\mathrm{entr}(p_i / S), \\qquad
    D = \\sum_i \\mathrm{rel\\_entr}(p_i / S, q_i / T)

(the one-pass ``log S - (sum p log p) / S`` loses every digit when the
entropy is small next to ``log S``).  ``p_i / S`` is a true division (not
a multiplication by ``1 / S``), so the normalized values are SciPy's bits
whenever the sums are, and a one-hot slice gives exactly 0.  ``entr`` and
``rel_entr`` are
:mod:`fastxent._special`'s definitions (0 log 0 = 0, negative values give
-inf / inf, nan propagates), fed with the vectorizable
:func:`fastxent._fastmath.log`.  A slice is recomputed with the strict
(libm) formulas when some ratio ``p_i / q_i`` leaves the normal range,
where SciPy takes the logarithms separately.

``normalize=False`` uses the slices as given (``S = T = 1``:
``kl_divergence``).  ``skip_nan`` (``nan_policy="omit"``) drops each
position where ``p_i`` or ``q_i`` is nan; a slice left empty (or empty to
begin with) has entropy 0.  Otherwise nan propagates.

Every result is computed by one thread in an order fixed by the data
shape alone (fixed ``BLOCK``-element blocks whose float64 partial sums are
added with compensation, :mod:`fastxent._summation`), so it does not depend
on the number of threads, and long slices stay accurate.
"""

import math

import numba
import numpy as np

from ._fastmath import log
from ._jit import inline_scalar, kernel, parallel_kernel, scalar
from ._special import entr, entr_from_log, rel_entr, rel_entr_from_log
from ._summation import BLOCK, block_bounds, compensated_sum, compensated_sum_columns, n_blocks

__all__ = [
    "entropy_slice_serial",
    "entropy_slice_parallel",
    "entropy_rows_serial",
    "entropy_rows_parallel",
    "entropy_columns_serial",
    "entropy_columns_parallel",
]

SMALLEST_NORMAL = 2.2250738585072014e-308
TILES_PER_TASK = 16  # row tiles per parallel task (buffers are allocated per task)
COLUMN_CHUNK = 256  # columns per task of the column kernels


# ------------------------------------------------------ per-element terms


@inline_scalar
def _kept(v, w, skip_nan):
    """Whether the position (p = v, q = w) takes part (``w`` = 0 for Shannon entropy)."""
    # Bitwise operators, not and/or: no branch, so the loops stay vectorized.
    return not (skip_nan & ((v != v) | (w != w)))


@scalar
def _divide(a, b):
    """``a / b`` correctly rounded (strict: never turned into ``a * (1 / b)``),
    so normalized values are SciPy's bits and one-hot slices give exactly 0."""
    return a / b


@inline_scalar
def _shannon_term(v, s):
    x = _divide(v, s)
    return entr_from_log(x, log(x))


@inline_scalar
def _relative_term(v, s, w, t):
    """``(rel_entr(v/S, w/T), needs_strict)``: the flag marks a ratio out of the normal range."""
    x = _divide(v, s)
    y = _divide(w, t)
    ratio = x / y
    positive = (x > 0.0) & (y > 0.0)
    extreme = positive & ((ratio >= math.inf) | (ratio <= SMALLEST_NORMAL))
    return rel_entr_from_log(x, y, log(ratio)), extreme




# ------------------------------------------------------------ one slice


@kernel
def _block_sums(pb, qb, skip_nan):
    """(sum of p, sum of q, kept positions) of one block of a slice."""
    bs = bt = 0.0
    kept = 0
    if qb is None:
        for j in range(pb.shape[0]):
            v = np.float64(pb[j])
            keep = _kept(v, 0.0, skip_nan)
            kept += 1 if keep else 0
            bs += v if keep else 0.0
    else:
        for j in range(pb.shape[0]):
            v = np.float64(pb[j])
            w = np.float64(qb[j])
            keep = _kept(v, w, skip_nan)
            kept += 1 if keep else 0
            bs += v if keep else 0.0
            bt += w if keep else 0.0
    return bs, bt, kept


@kernel
def _block_terms(pb, qb, s, t, skip_nan):
    """(sum of the entropy terms of one block, whether it needs the strict formula)."""
    acc = 0.0
    strict = False
    if qb is None:
        for j in range(pb.shape[0]):
            v = np.float64(pb[j])
            term = _shannon_term(v, s)
            acc += term if _kept(v, 0.0, skip_nan) else 0.0
    else:
        for j in range(pb.shape[0]):
            v = np.float64(pb[j])
            w = np.float64(qb[j])
            keep = _kept(v, w, skip_nan)
            term, extreme = _relative_term(v, s, w, t)
            acc += term if keep else 0.0
            strict |= extreme & keep
    return acc, strict


@kernel
def _block(x, b):
    start, stop = block_bounds(b, x.shape[0])
    return x[start:stop]


@kernel
def _slice_sums(p, q, skip_nan):
    """(sum of p, sum of q, number of kept positions) of one 1-D slice."""
    nb = n_blocks(p.shape[0])
    partial = np.empty((3, nb))
    for b in range(nb):
        if q is None:
            partial[0, b], partial[1, b], kept = _block_sums(_block(p, b), None, skip_nan)
        else:
            partial[0, b], partial[1, b], kept = _block_sums(_block(p, b), _block(q, b), skip_nan)
        partial[2, b] = kept
    return compensated_sum(partial[0]), compensated_sum(partial[1]), int(partial[2].sum())


@kernel
def _slice_terms(p, q, s, t, skip_nan):
    """(sum of the entropy terms of one slice, whether it needs the strict formula)."""
    nb = n_blocks(p.shape[0])
    terms = np.empty(nb)
    strict = False
    for b in range(nb):
        if q is None:
            terms[b], bstrict = _block_terms(_block(p, b), None, s, t, skip_nan)
        else:
            terms[b], bstrict = _block_terms(_block(p, b), _block(q, b), s, t, skip_nan)
        strict |= bstrict
    return compensated_sum(terms), strict


@kernel(fastmath=False)
def _slice_entropy_strict(p, q, normalize, skip_nan):
    """One slice with SciPy's per-element divisions and the libm formulas, in block order."""
    if normalize:
        s, t, kept = _slice_sums(p, q, skip_nan)
    else:
        s, t, kept = 1.0, 1.0, p.shape[0]
    if kept == 0:
        return 0.0
    nb = n_blocks(p.shape[0])
    terms = np.empty(nb)
    for b in range(nb):
        start, stop = block_bounds(b, p.shape[0])
        acc = 0.0
        for i in range(start, stop):
            v = np.float64(p[i])
            if q is None:
                acc += entr(v / s) if _kept(v, 0.0, skip_nan) else 0.0
            else:
                w = np.float64(q[i])
                acc += rel_entr(v / s, w / t) if _kept(v, w, skip_nan) else 0.0
        terms[b] = acc
    return compensated_sum(terms)


@kernel
def _slice_entropy(p, q, normalize, skip_nan):
    """Entropy (``q is None``) or relative entropy of one 1-D slice, as float64."""
    if normalize:
        s, t, kept = _slice_sums(p, q, skip_nan)
    else:
        s, t, kept = 1.0, 1.0, p.shape[0]
    if kept == 0:
        return 0.0
    total, strict = _slice_terms(p, q, s, t, skip_nan)
    if strict:
        return _slice_entropy_strict(p, q, normalize, skip_nan)
    return total


@kernel
def entropy_slice_serial(p, q, normalize, skip_nan):
    """Entropy (``q`` None) or relative entropy of one 1-D slice, in nats.

    Parameters
    ----------
    p : 1-D float32 or float64 array
        Probabilities (unnormalized unless ``normalize`` is False).
    q : 1-D array like ``p``, or None
    normalize : bool
        Divide ``p`` and ``q`` by their sums first (``scipy.stats.entropy``).
    skip_nan : bool
        Drop positions where ``p`` or ``q`` is nan.

    Returns
    -------
    float64
    """
    return _slice_entropy(p, q, normalize, skip_nan)


@parallel_kernel
def entropy_slice_parallel(p, q, normalize, skip_nan):
    """:func:`entropy_slice_serial` with the blocks shared out to Numba's threads
    (same blocks, same compensated order: the same result)."""
    nb = n_blocks(p.shape[0])
    s = t = 1.0
    kept = p.shape[0]
    if normalize:
        partial = np.empty((nb, 3))
        for b in numba.prange(nb):
            if q is None:
                bs, bt, bk = _block_sums(_block(p, b), None, skip_nan)
            else:
                bs, bt, bk = _block_sums(_block(p, b), _block(q, b), skip_nan)
            partial[b, 0] = bs
            partial[b, 1] = bt
            partial[b, 2] = bk
        s = compensated_sum(partial[:, 0])
        t = compensated_sum(partial[:, 1])
        kept = int(partial[:, 2].sum())
    if kept == 0:
        return 0.0
    terms = np.empty(nb)
    strict = np.zeros(nb, dtype=np.bool_)
    for b in numba.prange(nb):
        if q is None:
            terms[b], strict[b] = _block_terms(_block(p, b), None, s, t, skip_nan)
        else:
            terms[b], strict[b] = _block_terms(_block(p, b), _block(q, b), s, t, skip_nan)
    if strict.any():
        return _slice_entropy_strict(p, q, normalize, skip_nan)
    return compensated_sum(terms)


# ---------------------------------------------------------------- rows


@kernel
def _copy_column(src, dst):
    """``dst[r] = src[r]`` as float64."""
    for r in range(dst.shape[0]):
        dst[r] = src[r]


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
            _copy_column(pt[:, j], x[j * rows : (j + 1) * rows])
            if qk is not None:
                _copy_column(qt[:, j], y[j * rows : (j + 1) * rows])
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
def _tile_shannon(x, rows, m, sums, acc):
    """``acc[r] = sum_j entr(x[j, r] / sums[r])`` over a transposed tile (in order of j)."""
    out = acc[:rows]
    out[:] = 0.0
    for j in range(m):
        col = x[j * rows : (j + 1) * rows]
        for r in range(rows):
            out[r] += _shannon_term(col[r], sums[r])


@kernel
def _tile_relative(x, y, rows, m, s, t, acc):
    """``acc[r] = sum_j rel_entr(x[j, r] / s[r], y[j, r] / t[r])`` over a transposed tile;
    returns whether some ratio needs the strict formula."""
    out = acc[:rows]
    out[:] = 0.0
    strict = False
    for j in range(m):
        xc = x[j * rows : (j + 1) * rows]
        yc = y[j * rows : (j + 1) * rows]
        for r in range(rows):
            term, extreme = _relative_term(xc[r], s[r], yc[r], t[r])
            out[r] += term
            strict |= extreme
    return strict


@kernel
def _has_extreme_ratio(x, y, r, rows, m, s, t):
    for j in range(m):
        i = j * rows + r
        _, extreme = _relative_term(x[i], s, y[i], t)
        if extreme:
            return True
    return False


@kernel
def _rows_tiled(pk, qk, normalize, skip_nan, out, start, stop):
    """Rows start:stop of a matrix with rows of at most BLOCK elements, tile by tile.

    A tile of whole rows is copied transposed into flat float64 buffers, so
    the row sums and the terms run as long contiguous loops across rows
    that vectorize, for any row length.
    """
    m = pk.shape[1]
    tile_rows = max(1, BLOCK // max(m, 1))
    size = tile_rows * m
    x = np.empty(size)
    y = np.empty(size if qk is not None else 0)
    kept = np.empty(2 * tile_rows, dtype=np.int64)  # second half: scratch for the q pass
    s = np.ones(tile_rows)
    t = np.ones(tile_rows)
    acc = np.empty(tile_rows)
    for r0 in range(start, stop, tile_rows):
        rows = min(r0 + tile_rows, stop) - r0
        _load_transposed(pk, qk, r0, rows, skip_nan, x, y, s, t, kept)
        if not normalize:
            s[:] = 1.0
            t[:] = 1.0
        if qk is None:
            strict = False
            _tile_shannon(x, rows, m, s, acc)
        else:
            strict = _tile_relative(x, y, rows, m, s, t, acc)
        for r in range(rows):
            value = acc[r]
            if kept[r] == 0:
                value = 0.0
            elif qk is not None:
                if strict and _has_extreme_ratio(x, y, r, rows, m, s[r], t[r]):
                    value = _slice_entropy_strict(pk[r0 + r], qk[r0 + r], normalize, skip_nan)
            out[r0 + r] = value


@kernel
def _rows_range(pk, qk, normalize, skip_nan, out, start, stop):
    if pk.shape[1] <= BLOCK:
        _rows_tiled(pk, qk, normalize, skip_nan, out, start, stop)
        return
    for r in range(start, stop):
        if qk is None:
            out[r] = _slice_entropy(pk[r], None, normalize, skip_nan)
        else:
            out[r] = _slice_entropy(pk[r], qk[r], normalize, skip_nan)


@kernel
def _rows_per_task(shape):
    m = shape[1]
    if m > BLOCK:
        return 1
    return max(1, BLOCK // max(m, 1)) * TILES_PER_TASK


@parallel_kernel
def entropy_rows_parallel(pk, qk, normalize, skip_nan, out):
    """Entropy or relative entropy of each row, on Numba's thread pool.

    Parameters
    ----------
    pk : 2-D float32 or float64 array, shape (n, m)
        Probabilities (unnormalized unless ``normalize`` is False), one
        distribution per row.  Any strides; read-only is fine.
    qk : 2-D array like ``pk`` (same shape and dtype), or None
        Reference distributions; None gives the Shannon entropy.
    normalize : bool
        Divide each row by its sum first (``scipy.stats.entropy``); False
        takes the rows as they are (the sum of ``rel_entr(pk, qk)``).
    skip_nan : bool
        Drop positions where ``pk`` or ``qk`` is nan (``nan_policy="omit"``).
    out : 1-D float64 array, shape (n,)
        Receives ``H(pk[i] / S_i)`` or ``D(pk[i] / S_i || qk[i] / T_i)``
        in nats.

    Each row is computed by one thread in an order fixed by the shape, so
    the result does not depend on the number of threads.
    """
    n = pk.shape[0]
    per_task = _rows_per_task(pk.shape)
    for task in numba.prange((n + per_task - 1) // per_task):
        start = task * per_task
        _rows_range(pk, qk, normalize, skip_nan, out, start, min(start + per_task, n))


@kernel
def entropy_rows_serial(pk, qk, normalize, skip_nan, out):
    """Serial twin of :func:`entropy_rows_parallel` (same arguments, same result)."""
    _rows_range(pk, qk, normalize, skip_nan, out, 0, pk.shape[0])


# ------------------------------------------------------------- columns


@kernel
def _n_tasks(shape):
    n_chunks = (shape[1] + COLUMN_CHUNK - 1) // COLUMN_CHUNK
    return n_blocks(shape[0]) * n_chunks, n_chunks


@kernel
def _task_bounds(task, n_chunks, shape):
    b = task // n_chunks
    c0 = (task % n_chunks) * COLUMN_CHUNK
    start, stop = block_bounds(b, shape[0])
    return b, start, stop, c0, min(c0 + COLUMN_CHUNK, shape[1])


@kernel
def _columns_sums_task(pk, qk, skip_nan, task, n_chunks, sums):
    """Block sums of p, q and kept counts (``sums[0..2, b, :]``) of one task."""
    b, start, stop, c0, c1 = _task_bounds(task, n_chunks, pk.shape)
    ps = sums[0, b, c0:c1]
    qs = sums[1, b, c0:c1]
    ks = sums[2, b, c0:c1]
    ps[:] = 0.0
    qs[:] = 0.0
    ks[:] = 0.0
    for i in range(start, stop):
        prow = pk[i, c0:c1]
        if qk is None:
            for j in range(c1 - c0):
                v = np.float64(prow[j])
                keep = _kept(v, 0.0, skip_nan)
                ps[j] += v if keep else 0.0
                ks[j] += 1.0 if keep else 0.0
        else:
            qrow = qk[i, c0:c1]
            for j in range(c1 - c0):
                v = np.float64(prow[j])
                w = np.float64(qrow[j])
                keep = _kept(v, w, skip_nan)
                ps[j] += v if keep else 0.0
                qs[j] += w if keep else 0.0
                ks[j] += 1.0 if keep else 0.0


@kernel
def _columns_terms_task(pk, qk, skip_nan, task, n_chunks, s, t, terms, strict):
    """Block sums of the entropy terms of one task; flags columns needing the strict formula."""
    b, start, stop, c0, c1 = _task_bounds(task, n_chunks, pk.shape)
    acc = terms[b, c0:c1]
    acc[:] = 0.0
    sc = s[c0:c1]
    tc = t[c0:c1]
    flags = strict[b, c0:c1]
    flags[:] = False
    for i in range(start, stop):
        prow = pk[i, c0:c1]
        if qk is None:
            for j in range(c1 - c0):
                v = np.float64(prow[j])
                term = _shannon_term(v, sc[j])
                acc[j] += term if _kept(v, 0.0, skip_nan) else 0.0
        else:
            qrow = qk[i, c0:c1]
            for j in range(c1 - c0):
                v = np.float64(prow[j])
                w = np.float64(qrow[j])
                keep = _kept(v, w, skip_nan)
                term, extreme = _relative_term(v, sc[j], w, tc[j])
                acc[j] += term if keep else 0.0
                flags[j] |= extreme & keep


@kernel
def _columns_normalizers(pk, normalize, sums):
    """(S, T, kept counts) per column."""
    m = pk.shape[1]
    if not normalize:
        return np.ones(m), np.ones(m), np.full(m, float(pk.shape[0]))
    return compensated_sum_columns(sums[0]), compensated_sum_columns(sums[1]), compensated_sum_columns(sums[2])


@kernel
def _columns_finish(pk, qk, normalize, skip_nan, kept, terms, strict, out):
    total = compensated_sum_columns(terms)
    needs_strict = strict.sum(axis=0)
    for c in range(out.shape[0]):
        if kept[c] == 0.0:
            out[c] = 0.0
        else:
            out[c] = total[c]
    if qk is not None:
        for c in range(out.shape[0]):
            if kept[c] > 0.0 and needs_strict[c] > 0:
                out[c] = _slice_entropy_strict(pk[:, c], qk[:, c], normalize, skip_nan)


@parallel_kernel
def entropy_columns_parallel(pk, qk, normalize, skip_nan, out):
    """Entropy or relative entropy of each column, on Numba's thread pool.

    Parameters
    ----------
    pk : 2-D float32 or float64 array, shape (m, n)
        Probabilities (unnormalized unless ``normalize`` is False), one
        distribution per column.  Any strides; read-only is fine.
    qk : 2-D array like ``pk`` (same shape and dtype), or None
        Reference distributions; None gives the Shannon entropy.
    normalize : bool
        Divide each column by its sum first (``scipy.stats.entropy``);
        False takes the columns as they are.
    skip_nan : bool
        Drop positions where ``pk`` or ``qk`` is nan (``nan_policy="omit"``).
    out : 1-D float64 array, shape (n,)
        Receives the entropy of each column in nats.

    Work is split into fixed (block of rows, chunk of columns) tasks whose
    partial sums are added in block order with compensation, so the result
    does not depend on the number of threads.
    """
    n_tasks, n_chunks = _n_tasks(pk.shape)
    nb = n_blocks(pk.shape[0])
    sums = np.empty((3, nb if normalize else 0, pk.shape[1]))
    if normalize:
        for task in numba.prange(n_tasks):
            _columns_sums_task(pk, qk, skip_nan, task, n_chunks, sums)
    s, t, kept = _columns_normalizers(pk, normalize, sums)
    terms = np.empty((nb, pk.shape[1]))
    strict = np.empty((nb, pk.shape[1]), dtype=np.bool_)
    for task in numba.prange(n_tasks):
        _columns_terms_task(pk, qk, skip_nan, task, n_chunks, s, t, terms, strict)
    _columns_finish(pk, qk, normalize, skip_nan, kept, terms, strict, out)


@kernel
def entropy_columns_serial(pk, qk, normalize, skip_nan, out):
    """Serial twin of :func:`entropy_columns_parallel` (same arguments, same result)."""
    n_tasks, n_chunks = _n_tasks(pk.shape)
    nb = n_blocks(pk.shape[0])
    sums = np.empty((3, nb if normalize else 0, pk.shape[1]))
    if normalize:
        for task in range(n_tasks):
            _columns_sums_task(pk, qk, skip_nan, task, n_chunks, sums)
    s, t, kept = _columns_normalizers(pk, normalize, sums)
    terms = np.empty((nb, pk.shape[1]))
    strict = np.empty((nb, pk.shape[1]), dtype=np.bool_)
    for task in range(n_tasks):
        _columns_terms_task(pk, qk, skip_nan, task, n_chunks, s, t, terms, strict)
    _columns_finish(pk, qk, normalize, skip_nan, kept, terms, strict, out)
