"""Column kernels of ``entropy`` / ``kl_divergence``: one distribution per column.

``axis=0`` of a C array.  The inner loops run along a row of the array --
contiguous in memory, vectorized across columns -- in fixed (block of
rows, chunk of columns) tasks whose partial sums are added in block order
with compensation.  See :mod:`fastxent._kernels.entropy_slices` for the formulas
and conventions.
"""

import numba
import numpy as np

from .._infra.jit import kernel, parallel_kernel, stable_api
from .._infra.summation import block_bounds, compensated_sum_columns, n_blocks
from .entropy_slices import _kept, _relative_term, _shannon_term, slice_entropy_strict

__all__ = ["entropy_columns_serial", "entropy_columns_parallel", "columns_driver_serial", "columns_driver_parallel"]

COLUMN_CHUNK = 256  # columns per task


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
                out[c] = slice_entropy_strict(pk[:, c], qk[:, c], normalize, skip_nan)


@parallel_kernel
def columns_driver_parallel(pk, qk, normalize, skip_nan, out):
    """:func:`entropy_columns_parallel` with ``qk`` None for the Shannon entropy (the NumPy API calls the
    drivers: each case is then its own compiled specialization)."""
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
def columns_driver_serial(pk, qk, normalize, skip_nan, out):
    """:func:`entropy_columns_serial` with ``qk`` None for the Shannon entropy (the NumPy API calls the
    drivers: each case is then its own compiled specialization)."""
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


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def entropy_columns_parallel(pk, qk, normalize, skip_nan, out):
    """Entropy or relative entropy of each column, in nats, on Numba's thread pool.

    ``entropy_columns_parallel(pk, qk, normalize, skip_nan, out) -> None``.

    Parameters
    ----------
    pk : 2-D float32 or float64 array, shape (m, n)
        Probabilities (unnormalized unless ``normalize`` is False), one
        distribution per column.  Any strides; read-only is fine.
    qk : 2-D array like ``pk`` (same shape and dtype), or with no rows for none
        Reference distributions; none gives the Shannon entropy.
    normalize : bool
        Divide each column by its sum first (``scipy.stats.entropy``);
        False takes the columns as they are.
    skip_nan : bool
        Drop positions where ``pk`` or ``qk`` is nan (``nan_policy="omit"``).
    out : 1-D float64 array, shape (n,)
        Receives the entropy of each column in nats.

    Returns
    -------
    None
        The result is written into ``out``.

    Notes
    -----
    Work is split into fixed (block of rows, chunk of columns) tasks whose
    partial sums are added in block order with compensation, so the result
    does not depend on the number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> pk = np.array([[1.0, 0.5], [1.0, 0.5], [2.0, 0.0]])
    >>> out = np.empty(2)
    >>> kernels.entropy_columns_parallel(pk, np.empty((0, 0)), True, False, out)
    >>> out
    array([1.039720..., 0.693147...])
    """
    if qk.shape[0] == 0:
        columns_driver_parallel(pk, None, normalize, skip_nan, out)
    else:
        columns_driver_parallel(pk, qk, normalize, skip_nan, out)


@stable_api
@kernel
def entropy_columns_serial(pk, qk, normalize, skip_nan, out):
    """Entropy or relative entropy of each column, in nats, in the calling thread.

    ``entropy_columns_serial(pk, qk, normalize, skip_nan, out) -> None``: the
    arguments of :func:`entropy_columns_parallel`, and bit for bit its result
    (for small inputs, and for calls from inside the user's own parallel
    loops).

    Parameters
    ----------
    pk : 2-D float32 or float64 array
    qk : 2-D array like ``pk``, or with no rows for none
    normalize : bool
    skip_nan : bool
    out : 1-D float64 array of shape (n,)
        Overwritten with the entropy of each column, in nats.

    Returns
    -------
    None
        The result is written into ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> pk = np.array([[1.0, 0.5], [1.0, 0.5], [2.0, 0.0]])
    >>> out = np.empty(2)
    >>> kernels.entropy_columns_serial(pk, np.empty((0, 0)), True, False, out)
    >>> out
    array([1.039720..., 0.693147...])
    """
    if qk.shape[0] == 0:
        columns_driver_serial(pk, None, normalize, skip_nan, out)
    else:
        columns_driver_serial(pk, qk, normalize, skip_nan, out)
