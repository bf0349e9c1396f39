"""Kernels of ``entropy`` and ``kl_divergence``: reductions of many slices.

Input is one or two float32/float64 arrays of the same shape and dtype
(any strides, read-only accepted); ``qk`` has length 0 for the Shannon
entropy (the ``*_driver_*`` functions that the NumPy API calls take None
instead, so that each case compiles on its own).  Three drivers cover every
axis of every array without a copy of the input:

* ``entropy_slice_*(pk, qk, ...)`` (this module): one 1-D slice, its
  ``BLOCK``-element blocks shared out to the threads.
* ``entropy_rows_*(pk, qk, ...)`` (:mod:`fastxent._kernels.entropy_rows`) reduce along axis 1 (each row is a
  slice): ``axis=-1`` of a C array.  Rows of up to ``BLOCK`` elements are
  processed in tiles of whole rows copied (as float64, transposed) into
  small buffers, so every pass runs across rows and vectorizes whatever
  the row length (a 10-element row loop would not); longer rows are
  reduced block by block.  Parallel over groups of tiles.
* ``entropy_columns_*(pk, qk, ...)`` (:mod:`fastxent._kernels.entropy_columns`)
  reduce along axis 0 (each column is
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
whenever the sums are, and a one-hot slice gives exactly 0 (the row tiles
of :mod:`fastxent._kernels.entropy_rows` write the relative entropy with
one division per term, which keeps the exact 0).  ``entr`` and
``rel_entr`` are
:mod:`fastxent._math.special`'s definitions (0 log 0 = 0, negative values give
-inf / inf, nan propagates), fed with the vectorizable
:func:`fastxent._math.elementary.log` (the relative terms with
:func:`~fastxent._math.elementary.log_positive`, since their ratios outside
the normal range go to the strict formulas anyway).  A slice is recomputed with the strict
(libm) formulas when some ratio ``p_i / q_i`` leaves the normal range,
where SciPy takes the logarithms separately.

``normalize=False`` uses the slices as given (``S = T = 1``:
``kl_divergence``).  ``skip_nan`` (``nan_policy="omit"``) drops each
position where ``p_i`` or ``q_i`` is nan; a slice left empty (or empty to
begin with) has entropy 0.  Otherwise nan propagates.

Every result is computed by one thread in an order fixed by the data
shape alone (fixed ``BLOCK``-element blocks whose float64 partial sums are
added with compensation, :mod:`fastxent._infra.summation`), so it does not depend
on the number of threads, and long slices stay accurate.
"""

import math

import numba
import numpy as np

from .._infra.floats import SMALLEST_NORMAL
from .._infra.jit import inline_scalar, kernel, parallel_kernel, scalar, stable_api
from .._infra.summation import block_bounds, compensated_sum, n_blocks
from .._math.elementary import log, log_positive
from .._math.special import entr, entr_from_log, rel_entr, rel_entr_from_log

__all__ = [
    "entropy_slice_serial",
    "entropy_slice_parallel",
    "slice_driver_serial",
    "slice_driver_parallel",
]


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
    """``(rel_entr(v/S, w/T), needs_strict)``: the flag marks a ratio out of the normal range (or nan)."""
    x = _divide(v, s)
    y = _divide(w, t)
    ratio = x / y
    positive = (x > 0.0) & (y > 0.0)
    extreme = positive & ((ratio >= math.inf) | (ratio <= SMALLEST_NORMAL) | (ratio != ratio))
    # log_positive: where the ratio is not positive normal, either the
    # logarithm is unused (x or y is not positive) or the slice goes strict.
    return rel_entr_from_log(x, y, log_positive(ratio)), extreme


# ------------------------------------------------------------ one slice
# Compile time: the block loops are kernels of their own, the thin layers
# above them are inlined into the drivers (``inline_scalar``): a first call
# compiles each function it reaches, so fewer functions compile faster.


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


@inline_scalar
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
    # compensated_sum of the (integral, exactly summed) counts too: array.sum()
    # would compile one more library function into the first call.
    return compensated_sum(partial[0]), compensated_sum(partial[1]), np.int64(compensated_sum(partial[2]))


@inline_scalar
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
def slice_entropy_strict(p, q, normalize, skip_nan):
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


@inline_scalar
def _slice_entropy_fast(p, q, normalize, skip_nan):
    """``(entropy, needs_strict)`` of one 1-D slice (``q is None``: Shannon
    entropy); with ``needs_strict`` the slice is to be recomputed by
    :func:`slice_entropy_strict`."""
    if normalize:
        s, t, kept = _slice_sums(p, q, skip_nan)
    else:
        s, t, kept = 1.0, 1.0, p.shape[0]
    if kept == 0:
        return 0.0, False
    return _slice_terms(p, q, s, t, skip_nan)


@kernel
def _slice_entropy(p, q, normalize, skip_nan):
    """Entropy (``q is None``) or relative entropy of one 1-D slice, as float64."""
    total, strict = _slice_entropy_fast(p, q, normalize, skip_nan)
    if strict:
        return slice_entropy_strict(p, q, normalize, skip_nan)
    return total


@kernel
def slice_driver_serial(p, q, normalize, skip_nan):
    """``(entropy, needs_strict)`` of one slice, ``q`` None for the Shannon
    entropy (the NumPy API calls the drivers: each case is then its own
    compiled specialization).  With ``needs_strict`` the caller recomputes
    the slice with :func:`slice_entropy_strict`, which a first call thus
    compiles only when its data needs it."""
    return _slice_entropy_fast(p, q, normalize, skip_nan)


@parallel_kernel
def slice_driver_parallel(p, q, normalize, skip_nan):
    """Parallel twin of :func:`slice_driver_serial`."""
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
        kept = np.int64(compensated_sum(partial[:, 2]))
    if kept == 0:
        return 0.0, False
    terms = np.empty(nb)
    strict = np.zeros(nb, dtype=np.bool_)
    for b in numba.prange(nb):
        if q is None:
            terms[b], strict[b] = _block_terms(_block(p, b), None, s, t, skip_nan)
        else:
            terms[b], strict[b] = _block_terms(_block(p, b), _block(q, b), s, t, skip_nan)
    any_strict = False
    for b in range(nb):
        any_strict |= strict[b]
    return compensated_sum(terms), any_strict


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def entropy_slice_parallel(pk, qk, normalize, skip_nan):
    """Entropy (``qk`` of length 0) or relative entropy of one 1-D slice, in nats, on
    Numba's thread pool.

    ``entropy_slice_parallel(pk, qk, normalize, skip_nan) -> entropy``: the
    arguments and the result of :func:`entropy_slice_serial` (same blocks,
    same compensated order, so the same bits for any number of threads).

    Parameters
    ----------
    pk : 1-D float32 or float64 array
    qk : 1-D array like ``pk``, or length 0 for none
    normalize : bool
    skip_nan : bool

    Returns
    -------
    entropy : float64
        In nats.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> p = np.array([1.0, 1.0, 2.0])
    >>> kernels.entropy_slice_parallel(p, np.empty(0), True, False)
    1.039720...
    """
    if qk.shape[0] == 0:
        total, strict = slice_driver_parallel(pk, None, normalize, skip_nan)
        return slice_entropy_strict(pk, None, normalize, skip_nan) if strict else total
    total, strict = slice_driver_parallel(pk, qk, normalize, skip_nan)
    return slice_entropy_strict(pk, qk, normalize, skip_nan) if strict else total


@stable_api
@kernel
def entropy_slice_serial(pk, qk, normalize, skip_nan):
    """Entropy (``qk`` of length 0) or relative entropy of one 1-D slice, in nats.

    ``entropy_slice_serial(pk, qk, normalize, skip_nan) -> entropy``:
    ``-sum(entr(pk / S))`` or ``sum(rel_entr(pk / S, qk / T))`` with
    ``S = sum(pk)``, ``T = sum(qk)`` (``scipy.stats.entropy`` of one slice).

    Parameters
    ----------
    pk : 1-D float32 or float64 array
        Probabilities (unnormalized unless ``normalize`` is False).
    qk : 1-D array like ``pk``, or length 0 for none
    normalize : bool
        Divide ``pk`` and ``qk`` by their sums first (``scipy.stats.entropy``);
        False uses them as given (``S = T = 1``).
    skip_nan : bool
        Drop positions where ``pk`` or ``qk`` is nan; if none is left the
        result is 0.  False: nan propagates.

    Returns
    -------
    entropy : float64
        In nats.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> p = np.array([1.0, 1.0, 2.0])
    >>> kernels.entropy_slice_serial(p, np.empty(0), True, False)
    1.039720...
    >>> kernels.entropy_slice_serial(p, np.array([1.0, 2.0, 1.0]), True, False)
    0.173286...
    """
    if qk.shape[0] == 0:
        total, strict = slice_driver_serial(pk, None, normalize, skip_nan)
        return slice_entropy_strict(pk, None, normalize, skip_nan) if strict else total
    total, strict = slice_driver_serial(pk, qk, normalize, skip_nan)
    return slice_entropy_strict(pk, qk, normalize, skip_nan) if strict else total
