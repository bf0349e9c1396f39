"""Counting kernels: the contingency table of two labelings.

Integer labels in a small range are counted in one O(N) pass, straight
from the label arrays: cell ``(x - x_min, y - y_min)`` of a dense table
(no sort, no temporary of the input's size).  The parallel driver gives
each task its own table over a fixed slice of the samples and adds the
tables at the end; counts are integers, so the sum is exact and the table
does not depend on the number of threads.

Many classes (a dense table would exceed the samples) are counted into a
CSR table instead: samples are bucketed by row (a counting sort of the
row codes, one int64 per sample), then each row's columns are counted in
a scratch row and listed in increasing order.  Labels reach that kernel
through a lookup table ``code = lookup[label - base]``: a presence table
for integers in a moderate range, ``np.unique``'s inverse (with the
identity lookup) for anything else.

Every table here is *canonical*: rows and columns are the sorted present
classes, and the nonzero cells are listed in row-major order, which is the
order in which the reductions of :mod:`fastxent._kernels.mutual_info` add
them up.
"""

import numba
import numpy as np

from .._infra.jit import kernel, parallel_kernel, scalar, stable_api
from .._infra.summation import block_bounds, n_blocks

__all__ = [
    "contingency_table_serial",
    "contingency_table_parallel",
    "label_bounds_serial",
    "label_bounds_parallel",
    "presence",
    "value_counts",
    "csr_counts",
    "dense_to_csr",
]

# Samples per parallel task below which a task's private table is not worth it.
MIN_TASK = 1 << 16
MAX_TASKS = 16
CHUNK = 1024  # samples whose cells are found before they are counted
SCRATCH_CELLS = 1 << 23  # private tables of one call: 64 MB at most


@scalar
def _offset(value, base):
    """``value - base`` as uint64, exact modulo 2**64 for every integer dtype
    (so a uint64 label above 2**63 and its base still give the small difference)."""
    return np.uint64(np.int64(value) - np.int64(base))


@kernel
def _count_slice(labels_true, labels_pred, true_min, pred_min, flat, n_rows, n_cols, start, stop):
    """Count samples start:stop (a non-empty slice) into the C-ordered flat
    table ``flat`` (those inside it) and return the (min, max) of both
    labelings over the slice.

    Chunk by chunk: a loop without stores to the table finds each sample's
    cell (or -1) and the bounds, and vectorizes; a second loop only
    increments the cells.
    """
    rows = np.uint64(n_rows)
    cols = np.uint64(n_cols)
    xs = labels_true[start:stop]
    ys = labels_pred[start:stop]
    cells = np.empty(min(CHUNK, xs.shape[0]), dtype=np.int64)
    x_lo = x_hi = xs[0]
    y_lo = y_hi = ys[0]
    for s in range(0, xs.shape[0], CHUNK):
        xb = xs[s : s + CHUNK]
        yb = ys[s : s + CHUNK]
        for i in range(xb.shape[0]):
            x = xb[i]
            y = yb[i]
            x_lo = min(x_lo, x)
            x_hi = max(x_hi, x)
            y_lo = min(y_lo, y)
            y_hi = max(y_hi, y)
            r = _offset(x, true_min)
            c = _offset(y, pred_min)
            inside = (r < rows) & (c < cols)
            cells[i] = np.int64(r * cols + c) if inside else -1
        for i in range(xb.shape[0]):
            k = cells[i]
            if k >= 0:
                flat[k] += 1
    return x_lo, x_hi, y_lo, y_hi


@kernel
def _add_flat(table, flat):
    n_cols = table.shape[1]
    for r in range(table.shape[0]):
        row = table[r]
        part = flat[r * n_cols : (r + 1) * n_cols]
        for c in range(n_cols):
            row[c] += part[c]


@kernel
def _empty_bounds(labels_true, labels_pred):
    one_x = np.ones(1, labels_true.dtype)[0]
    one_y = np.ones(1, labels_pred.dtype)[0]
    zero_x = np.zeros(1, labels_true.dtype)[0]
    zero_y = np.zeros(1, labels_pred.dtype)[0]
    return one_x, zero_x, one_y, zero_y


@stable_api
@kernel
def contingency_table_serial(labels_true, labels_pred, true_min, pred_min, out):
    """Add the counts of label pairs to a dense contingency table, in the calling thread.

    ``contingency_table_serial(labels_true, labels_pred, true_min, pred_min, out)
    -> (true_lo, true_hi, pred_lo, pred_hi)``

    .. math:: T_{rc} \\mathrel{+}= \\#\\{i : x_i - x_{\\min} = r,\\ y_i - y_{\\min} = c\\}

    One pass over the samples, no sort; the only allocation is a scratch
    copy of the table (counted into, then added to ``out``).  The pass also
    finds the smallest and largest label of each labeling, so a table
    sized from a guess of the ranges can be checked (and the chunk counted
    again into a larger table when a label fell outside it).

    Parameters
    ----------
    labels_true : 1-D integer array, shape (n,)
        Row labels (any integer dtype, including uint64; any stride).
    labels_pred : 1-D integer array, shape (n,)
        Column labels.
    true_min : int
        Label of row 0: sample ``i`` goes to row ``labels_true[i] - true_min``.
    pred_min : int
        Label of column 0.
    out : 2-D int64 array, shape (n_rows, n_cols)
        Counts are *added* to it (zero it first for a fresh table), so
        chunks of a stream can be counted into one table.  A sample whose
        row or column falls outside the table is not counted.

    Returns
    -------
    true_lo, true_hi, pred_lo, pred_hi : scalars of the labels' dtypes
        Smallest and largest label of each labeling (``lo > hi`` when
        ``n = 0``).  Every sample was counted iff ``true_min <= true_lo``,
        ``true_hi < true_min + n_rows`` and the same for the columns.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> labels_true = np.array([0, 0, 1, 1, 2])
    >>> labels_pred = np.array([1, 1, 0, 0, 0])
    >>> table = np.zeros((3, 2), dtype=np.int64)
    >>> kernels.contingency_table_serial(labels_true, labels_pred, 0, 0, table)
    (0, 2, 0, 1)
    >>> table
    array([[0, 2],
           [2, 0],
           [1, 0]])
    """
    if labels_true.shape[0] == 0:
        return _empty_bounds(labels_true, labels_pred)
    n_rows, n_cols = out.shape
    flat = np.zeros(n_rows * n_cols, dtype=np.int64)
    bounds = _count_slice(labels_true, labels_pred, true_min, pred_min, flat, n_rows, n_cols, 0, labels_true.shape[0])
    _add_flat(out, flat)
    return bounds


@stable_api
@parallel_kernel
def contingency_table_parallel(labels_true, labels_pred, true_min, pred_min, out):
    """Add the counts of label pairs to a dense contingency table, on Numba's thread pool.

    ``contingency_table_parallel(labels_true, labels_pred, true_min, pred_min, out)
    -> (true_lo, true_hi, pred_lo, pred_hi)``:
    the arguments and the result of :func:`contingency_table_serial`.  Each
    task counts a fixed slice of the samples into a private table (at most
    16 tasks, each of at least 65536 samples and 4 samples per cell, and at
    most 2**23 cells of scratch in all); the tables are then added,
    exactly, in task order.

    Parameters
    ----------
    labels_true : 1-D integer array, shape (n,)
    labels_pred : 1-D integer array, shape (n,)
    true_min : int
    pred_min : int
    out : 2-D int64 array, shape (n_rows, n_cols)
        Counts are added to it.

    Returns
    -------
    true_lo, true_hi, pred_lo, pred_hi : scalars of the labels' dtypes
        Smallest and largest label of each labeling.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> labels_true = np.array([0, 0, 1, 1, 2])
    >>> labels_pred = np.array([1, 1, 0, 0, 0])
    >>> table = np.zeros((3, 2), dtype=np.int64)
    >>> kernels.contingency_table_parallel(labels_true, labels_pred, 0, 0, table)
    (0, 2, 0, 1)
    >>> table
    array([[0, 2],
           [2, 0],
           [1, 0]])
    """
    n = labels_true.shape[0]
    if n == 0:
        return _empty_bounds(labels_true, labels_pred)
    n_rows, n_cols = out.shape
    cells = max(1, n_rows * n_cols)
    n_tasks = max(1, min(MAX_TASKS, n // MIN_TASK, n // (4 * cells), SCRATCH_CELLS // cells))
    step = (n + n_tasks - 1) // n_tasks
    n_tasks = (n + step - 1) // step  # every task non-empty
    private = np.zeros((n_tasks, n_rows * n_cols), dtype=np.int64)
    x_lo = np.empty(n_tasks, labels_true.dtype)
    x_hi = np.empty(n_tasks, labels_true.dtype)
    y_lo = np.empty(n_tasks, labels_pred.dtype)
    y_hi = np.empty(n_tasks, labels_pred.dtype)
    for t in numba.prange(n_tasks):
        start = t * step
        x_lo[t], x_hi[t], y_lo[t], y_hi[t] = _count_slice(
            labels_true, labels_pred, true_min, pred_min, private[t], n_rows, n_cols, start, min(start + step, n)
        )
    for r in numba.prange(n_rows):
        row = out[r]
        for t in range(n_tasks):
            part = private[t, r * n_cols : (r + 1) * n_cols]
            for c in range(n_cols):
                row[c] += part[c]
    a, b = _merge_bounds(x_lo, x_hi)
    c, d = _merge_bounds(y_lo, y_hi)
    return a, b, c, d


# ------------------------------------------------------------ label ranges


@kernel
def _block_bounds(x, y, b):
    start, stop = block_bounds(b, x.shape[0])
    xs = x[start:stop]
    ys = y[start:stop]
    x_lo = x_hi = xs[0]
    y_lo = y_hi = ys[0]
    for i in range(xs.shape[0]):
        x_lo = min(x_lo, xs[i])
        x_hi = max(x_hi, xs[i])
        y_lo = min(y_lo, ys[i])
        y_hi = max(y_hi, ys[i])
    return x_lo, x_hi, y_lo, y_hi


@kernel
def _merge_bounds(lo, hi):
    """(min of ``lo``, max of ``hi``), two non-empty integer arrays.

    Plain loops: Numba's ``.min()``/``.max()`` compile a generic NaN-aware
    implementation (about a second) into the first call.
    """
    low = lo[0]
    for i in range(1, lo.shape[0]):
        low = min(low, lo[i])
    high = hi[0]
    for i in range(1, hi.shape[0]):
        high = max(high, hi[i])
    return low, high


@kernel
def label_bounds_serial(x, y):
    """(min of x, max of x, min of y, max of y) of two non-empty integer arrays of one length."""
    nb = n_blocks(x.shape[0])
    x_lo = np.empty(nb, x.dtype)
    x_hi = np.empty(nb, x.dtype)
    y_lo = np.empty(nb, y.dtype)
    y_hi = np.empty(nb, y.dtype)
    for b in range(nb):
        x_lo[b], x_hi[b], y_lo[b], y_hi[b] = _block_bounds(x, y, b)
    a, b_ = _merge_bounds(x_lo, x_hi)
    c, d = _merge_bounds(y_lo, y_hi)
    return a, b_, c, d


@parallel_kernel
def label_bounds_parallel(x, y):
    """:func:`label_bounds_serial` with the blocks shared out to the threads."""
    nb = n_blocks(x.shape[0])
    x_lo = np.empty(nb, x.dtype)
    x_hi = np.empty(nb, x.dtype)
    y_lo = np.empty(nb, y.dtype)
    y_hi = np.empty(nb, y.dtype)
    for b in numba.prange(nb):
        x_lo[b], x_hi[b], y_lo[b], y_hi[b] = _block_bounds(x, y, b)
    a, b_ = _merge_bounds(x_lo, x_hi)
    c, d = _merge_bounds(y_lo, y_hi)
    return a, b_, c, d


# ---------------------------------------------------------- sparse tables


@kernel
def presence(x, base, span):
    """``present[v - base]`` for every value ``v`` of the integer array ``x``
    (all in ``[base, base + span)``): one O(N) pass."""
    present = np.zeros(span, dtype=np.bool_)
    for i in range(x.shape[0]):
        present[_offset(x[i], base)] = True
    return present


@kernel
def value_counts(x, base, span):
    """``counts[v - base]``: occurrences of each value ``v`` of the integer array
    ``x`` (all in ``[base, base + span)``), in one pass."""
    counts = np.zeros(span, dtype=np.int64)
    for i in range(x.shape[0]):
        counts[_offset(x[i], base)] += 1
    return counts


@kernel
def csr_counts(x, x_base, x_lookup, y, y_base, y_lookup, n_rows, n_cols):
    """Canonical CSR contingency table of two labelings given as lookups.

    Sample ``i`` is in row ``x_lookup[x[i] - x_base]`` and column
    ``y_lookup[y[i] - y_base]`` (codes in ``[0, n_rows)`` / ``[0, n_cols)``).
    Returns ``(indptr, indices, data)`` with the columns of each row in
    increasing order.  Work O(N + n_rows + n_cols + nnz log), scratch one
    int64 per sample.
    """
    n = x.shape[0]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for i in range(n):
        indptr[x_lookup[_offset(x[i], x_base)] + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    bucket = np.empty(n, dtype=np.int64)  # column codes, grouped by row
    for i in range(n):
        r = x_lookup[_offset(x[i], x_base)]
        bucket[fill[r]] = y_lookup[_offset(y[i], y_base)]
        fill[r] += 1
    scratch = np.zeros(n_cols, dtype=np.int64)
    counts = np.empty(n, dtype=np.int64)
    out_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    nnz = 0
    for r in range(n_rows):
        start = indptr[r]
        row = bucket[start : indptr[r + 1]]
        k = 0
        for j in range(row.shape[0]):  # distinct columns, compacted in place
            c = row[j]
            if scratch[c] == 0:
                row[k] = c
                k += 1
            scratch[c] += 1
        cols = np.sort(row[:k])
        for j in range(k):
            c = cols[j]
            bucket[nnz + j] = c  # nnz <= start: never overwrites an unread row
            counts[nnz + j] = scratch[c]
            scratch[c] = 0
        nnz += k
        out_ptr[r + 1] = nnz
    return out_ptr, bucket[:nnz].copy(), counts[:nnz].copy()


@kernel
def dense_to_csr(table, rows, cols):
    """Canonical CSR of ``table[rows][:, cols]`` (``rows``/``cols``: the
    present classes' indices, increasing): ``(indptr, indices, data)``."""
    nnz = 0
    for r in rows:
        for c in cols:
            nnz += table[r, c] != 0
    indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    indices = np.empty(nnz, dtype=np.int64)
    data = np.empty(nnz, dtype=np.int64)
    k = 0
    for i in range(rows.shape[0]):
        for j in range(cols.shape[0]):
            v = table[rows[i], cols[j]]
            if v != 0:
                indices[k] = j
                data[k] = v
                k += 1
        indptr[i + 1] = k
    return indptr, indices, data
