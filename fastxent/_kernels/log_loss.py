"""Kernels of ``log_loss`` / ``d2_log_loss_score``: one fused pass per call.

A single read of the labels, the probabilities and the weights gives
everything the public functions need, so validation costs no extra pass:

* the weighted loss sum ``sum_i w_i * -log(clip(p_i[y_i], lo, hi))`` and
  the weight sum,
* per-class sample counts and weighted counts (which classes occur, and the
  null model of ``d2_log_loss_score``: ``p_null[c] = W_c / W``),
* the number of labels that are not a known class ("misses"),
* the number of probabilities outside ``[0, 1]`` (NaN included) and of
  non-finite weights (the caller then finds out which error to raise), the
  number of non-zero weights, ``min``/``max`` of the labels and the largest
  ``|row sum - 1|`` of a 2-D ``y_proba``.

Labels reach the kernels as integers (or floats for the binary kernel):

* binary kernel (1-D ``p`` = probability of the positive class): the two
  label values ``neg`` and ``pos`` are compared directly (vectorizes; no
  table, no sort);
* multi-class kernel (2-D ``P``): column ``table[y - base]`` (``-1`` or out
  of the table's range = a miss).

Per-block statistics (``_summation`` pattern: fixed blocks, float64 partial
sums, compensated sum of the partials in block order) make the result
bit-identical for any thread count.  Every scan comes as a ``_serial`` and a
``_parallel`` driver; the NumPy API picks one with
:func:`fastxent._infra.dispatch.run`.

Clipping mirrors scikit-learn: probabilities are clipped to ``[lo, hi] =
[eps, 1 - eps]`` (``eps`` of the input dtype) and, for 1-D input, the
negative-class probability ``1 - p`` is rounded in the input's dtype first,
exactly as scikit-learn builds that column.
"""

import numba
import numpy as np

from .._infra.jit import inline_scalar, kernel, parallel_kernel, stable_api
from .._infra.summation import BLOCK, block_bounds, compensated_sum_columns_into, n_blocks
from .._math.elementary import log

__all__ = [
    "binary_log_loss_sum_serial",
    "binary_log_loss_sum_parallel",
    "multiclass_log_loss_sum_serial",
    "multiclass_log_loss_sum_parallel",
    "binary_scan_serial",
    "binary_scan_parallel",
    "multiclass_scan_serial",
    "multiclass_scan_parallel",
    "present_values",
    "work_arrays",
    "split_totals",
    "STATS",
]

# Columns of the per-block statistics (and of the reduced summary); the
# per-class counts and weighted counts follow them in the same rows.
LOSS, WEIGHT, MISSES, P_BAD, W_BAD, W_NONZERO, Y_MIN, Y_MAX, ROW_DEV = range(9)
N_STATS = 9
STATS = ("loss", "weight", "misses", "p_bad", "w_bad", "w_nonzero", "y_min", "y_max", "row_dev")
# Comparisons (unlike x - x) survive fast-math: NaN fails both of these tests.
_MAX_FLOAT = 1.7976931348623157e308

# Compile time: a first call compiles every function it reaches, so each
# scan is one function (its block body and ``block_bounds`` inlined) plus
# ``log`` and the strict reduction; its work arrays come from the caller,
# and min/max are if-expressions (``max(a, b)`` is ``b if b > a else a``:
# the builtins' order and NaN behaviour, without their compiled helpers).


@inline_scalar
def _binary_block(y, neg, pos, p, w, lo, hi, one, b, blocks):
    # Written so that LLVM vectorizes it: selects instead of branches, no
    # short-circuit ``and``/``or``, labels compared in their own type,
    # ``w is None`` resolved at compile time, and the block's slices indexed
    # from 0 (an index ``start + i`` that might be negative keeps Numba's
    # wraparound check, which blocks vectorization).  ``one`` is 1 in p's
    # dtype: 1 - p is rounded in that dtype, like scikit-learn.
    start, stop = block_bounds(b, p.shape[0])
    yb = y[start:stop]
    pb = p[start:stop]
    loss = 0.0
    n_neg = 0.0
    n_pos = 0.0
    w_neg = 0.0
    w_pos = 0.0
    p_bad = 0.0
    w_bad = 0.0
    w_nonzero = 0.0
    y_min = y[start]
    y_max = y[start]
    for i in range(yb.shape[0]):
        yi = yb[i]
        pi = pb[i]
        wi = 1.0 if w is None else np.float64(w[start + i])
        is_pos = yi == pos
        is_neg = yi == neg
        q = np.float64(pi if is_pos else one - pi)
        q = lo if lo > q else q
        q = hi if hi < q else q
        loss += wi * -log(q) if (is_pos | is_neg) else 0.0
        n_pos += 1.0 if is_pos else 0.0
        n_neg += 1.0 if is_neg else 0.0
        w_pos += wi if is_pos else 0.0
        w_neg += wi if is_neg else 0.0
        p_bad += 0.0 if ((pi >= 0.0) & (pi <= 1.0)) else 1.0
        w_bad += 0.0 if abs(wi) <= _MAX_FLOAT else 1.0
        w_nonzero += 1.0 if wi != 0.0 else 0.0
        y_min = yi if yi < y_min else y_min
        y_max = yi if yi > y_max else y_max
    blocks[b, LOSS] = loss
    blocks[b, WEIGHT] = w_neg + w_pos
    blocks[b, MISSES] = (stop - start) - (n_neg + n_pos)
    blocks[b, P_BAD] = p_bad
    blocks[b, W_BAD] = w_bad
    blocks[b, W_NONZERO] = w_nonzero
    blocks[b, Y_MIN] = y_min
    blocks[b, Y_MAX] = y_max
    blocks[b, ROW_DEV] = 0.0
    blocks[b, N_STATS] = n_neg
    blocks[b, N_STATS + 1] = n_pos
    blocks[b, N_STATS + 2] = w_neg
    blocks[b, N_STATS + 3] = w_pos


@inline_scalar
def _multiclass_block(y, base, table, P, w, lo, hi, b, blocks):
    # Two phases: the row pass (row sums, range checks, label -> column,
    # counts) gathers each row's true-class probability and weight into
    # block-sized buffers; the loss pass then runs the logarithm over the
    # buffers, where it vectorizes (inside the row pass it would not).
    start, stop = block_bounds(b, P.shape[0])
    yb = y[start:stop]
    Pb = P[start:stop]
    m = yb.shape[0]
    k = P.shape[1]
    t = table.shape[0]
    q_true = np.empty(m)
    w_true = np.empty(m)
    misses = 0.0
    p_bad = 0.0
    w_bad = 0.0
    w_nonzero = 0.0
    y_min = yb[0]
    y_max = yb[0]
    row_dev = 0.0
    for c in range(N_STATS, N_STATS + 2 * k):
        blocks[b, c] = 0.0
    for i in range(m):
        row_sum = 0.0
        row_bad = 0.0
        for j in range(k):
            v = Pb[i, j]
            row_sum += v
            row_bad += 0.0 if ((v >= 0.0) & (v <= 1.0)) else 1.0
        p_bad += row_bad
        dev = abs(row_sum - 1.0)
        row_dev = dev if dev > row_dev else row_dev
        wi = 1.0 if w is None else np.float64(w[start + i])
        w_bad += 0.0 if abs(wi) <= _MAX_FLOAT else 1.0
        w_nonzero += 1.0 if wi != 0.0 else 0.0
        yi = yb[i]
        y_min = yi if yi < y_min else y_min
        y_max = yi if yi > y_max else y_max
        slot = yi - base
        col = table[slot] if ((slot >= 0) & (slot < t)) else -1
        if (col >= 0) & (col < k):
            q_true[i] = Pb[i, col]
            w_true[i] = wi
            blocks[b, N_STATS + col] += 1.0
            blocks[b, N_STATS + k + col] += wi
        else:
            q_true[i] = 1.0
            w_true[i] = 0.0
            misses += 1.0
    loss = 0.0
    weight = 0.0
    for i in range(m):
        q = q_true[i]
        q = lo if lo > q else q
        q = hi if hi < q else q
        loss += w_true[i] * -log(q)
        weight += w_true[i]
    blocks[b, LOSS] = loss
    blocks[b, WEIGHT] = weight
    blocks[b, MISSES] = misses
    blocks[b, P_BAD] = p_bad
    blocks[b, W_BAD] = w_bad
    blocks[b, W_NONZERO] = w_nonzero
    blocks[b, Y_MIN] = y_min
    blocks[b, Y_MAX] = y_max
    blocks[b, ROW_DEV] = row_dev


@kernel(fastmath=False)
def _reduce_blocks(blocks, totals):
    """``totals``: compensated sums of the columns of ``blocks`` in block
    order, except min/max for the ``Y_MIN``, ``Y_MAX`` and ``ROW_DEV``
    columns (NaN propagates, as in np.min/np.max)."""
    compensated_sum_columns_into(blocks, totals)
    y_min = np.inf
    y_max = -np.inf
    row_dev = 0.0
    for b in range(blocks.shape[0]):
        v = blocks[b, Y_MIN]
        y_min = v if (v < y_min) | (v != v) else y_min
        v = blocks[b, Y_MAX]
        y_max = v if (v > y_max) | (v != v) else y_max
        v = blocks[b, ROW_DEV]
        row_dev = v if (v > row_dev) | (v != v) else row_dev
    totals[Y_MIN] = y_min
    totals[Y_MAX] = y_max
    totals[ROW_DEV] = row_dev


def work_arrays(n, k):
    """``(blocks, totals)`` for a scan of ``n`` samples and ``k`` classes
    (``k = 2`` for the binary scan): one row of statistics per block, then
    the per-class counts and weighted counts; ``totals`` receives their
    reduction (:func:`split_totals`)."""
    width = N_STATS + 2 * k
    return np.empty(((n + BLOCK - 1) // BLOCK, width)), np.empty(width)


def split_totals(totals):
    """``(summary, counts, weighted_counts)`` views of a scan's ``totals``."""
    k = (totals.shape[0] - N_STATS) // 2
    return totals[:N_STATS], totals[N_STATS : N_STATS + k], totals[N_STATS + k :]


@parallel_kernel
def binary_scan_parallel(y, neg, pos, p, w, lo, hi, one, blocks, totals):
    """Fused statistics of a 1-D (positive-class) ``p`` (``w`` None: unit
    weights; ``one``: 1 in ``p``'s dtype) into ``totals``; ``blocks`` and
    ``totals`` from :func:`work_arrays` with ``k = 2`` (class 0 is ``neg``,
    class 1 is ``pos``)."""
    for b in numba.prange(blocks.shape[0]):
        _binary_block(y, neg, pos, p, w, lo, hi, one, b, blocks)
    _reduce_blocks(blocks, totals)


@kernel
def binary_scan_serial(y, neg, pos, p, w, lo, hi, one, blocks, totals):
    """Serial twin of :func:`binary_scan_parallel`."""
    for b in range(blocks.shape[0]):
        _binary_block(y, neg, pos, p, w, lo, hi, one, b, blocks)
    _reduce_blocks(blocks, totals)


@parallel_kernel
def multiclass_scan_parallel(y, base, table, P, w, lo, hi, blocks, totals):
    """Fused statistics of a 2-D ``P`` whose true column is ``table[y - base]``
    into ``totals``; ``blocks`` and ``totals`` from :func:`work_arrays` with
    ``k = P.shape[1]``."""
    for b in numba.prange(blocks.shape[0]):
        _multiclass_block(y, base, table, P, w, lo, hi, b, blocks)
    _reduce_blocks(blocks, totals)


@kernel
def multiclass_scan_serial(y, base, table, P, w, lo, hi, blocks, totals):
    """Serial twin of :func:`multiclass_scan_parallel`."""
    for b in range(blocks.shape[0]):
        _multiclass_block(y, base, table, P, w, lo, hi, b, blocks)
    _reduce_blocks(blocks, totals)


@kernel
def present_values(y, base, span):
    """``present[v - base]`` is True for every value ``v`` of ``y`` (the
    caller guarantees ``base <= y < base + span``): one O(N) pass, no sort."""
    present = np.zeros(span, dtype=np.bool_)
    for i in range(y.shape[0]):
        present[y[i] - base] = True
    return present


# ---------------------------------------------------------------------------
# Stable kernels for users' own @njit code (re-exported by fastxent.kernels).
# ---------------------------------------------------------------------------
# Unit weights are the scans' ``w = None`` specialization (their loops then
# load no weight); a length-0 ``sample_weight`` selects it at run time.


@kernel
def _binary_work_arrays(y_pred):
    """:func:`work_arrays` of the binary scan, allocated in compiled code."""
    return np.empty((n_blocks(y_pred.shape[0]), N_STATS + 4)), np.empty(N_STATS + 4)


@kernel
def _multiclass_work_arrays(y_pred):
    """:func:`work_arrays` of the multi-class scan, allocated in compiled code."""
    width = N_STATS + 2 * y_pred.shape[1]
    return np.empty((n_blocks(y_pred.shape[0]), width)), np.empty(width)


@kernel
def _class_weight_out(totals, out):
    """The weighted class counts of a multi-class scan's ``totals`` into ``out``."""
    k = (totals.shape[0] - N_STATS) // 2
    for c in range(out.shape[0]):
        out[c] = totals[N_STATS + k + c]


# ---------------------------------------------------------------------------
# Stable kernels for users' own @njit code (re-exported by fastxent.kernels).


@stable_api
@kernel
def binary_log_loss_sum_serial(y_true, y_pred, sample_weight, lo, hi):
    """Weighted binary log-loss sum of positive-class probabilities, in the calling thread.

    ``binary_log_loss_sum_serial(y_true, y_pred, sample_weight, lo, hi) -> (loss_sum, weight_sum, positive_weight)``

    .. math:: L = \\sum_i w_i \\, [-\\log \\operatorname{clip}(q_i, lo, hi)],
              \\quad q_i = p_i \\text{ if } y_i = 1 \\text{ else } 1 - p_i

    scikit-learn's ``log_loss`` is ``L / weight_sum`` with ``lo = eps``,
    ``hi = 1 - eps``, ``eps = np.finfo(y_pred.dtype).eps``.

    Parameters
    ----------
    y_true : 1-D integer or bool array
        Class codes: 1 (or True) for the positive class, 0 for the negative
        one.  Samples with any other code are skipped (not in the sums).
    y_pred : 1-D float32 or float64 array, same length
        Probability ``p`` of the positive class.  ``1 - p`` is rounded in
        ``y_pred``'s dtype (as scikit-learn does) before clipping.
    sample_weight : 1-D float64 array of the same length, or length 0 for unit weights
    lo, hi : float
        Clipping bounds of ``q`` (``0.0, 1.0``: none).

    Returns
    -------
    loss_sum : float64
        Weighted loss sum (blocked compensated summation).
    weight_sum : float64
        Sum of the weights of the counted samples.
    positive_weight : float64
        Sum of the weights of the positive samples (the null model of
        ``d2_log_loss_score`` predicts ``positive_weight / weight_sum``).

    Notes
    -----
    Allocates only ``O(len(y_pred) / 2048)`` floats.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> y = np.array([0, 1, 1])
    >>> p = np.array([0.1, 0.8, 0.6])
    >>> eps = np.finfo(p.dtype).eps
    >>> kernels.binary_log_loss_sum_serial(y, p, np.empty(0), eps, 1.0 - eps)
    (0.839329..., 3.0, 2.0)
    """
    blocks, totals = _binary_work_arrays(y_pred)
    one = np.ones(1, y_pred.dtype)[0]
    if sample_weight.shape[0] == 0:
        binary_scan_serial(y_true, 0, 1, y_pred, None, lo, hi, one, blocks, totals)
    else:
        binary_scan_serial(y_true, 0, 1, y_pred, sample_weight, lo, hi, one, blocks, totals)
    return totals[LOSS], totals[WEIGHT], totals[N_STATS + 3]


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def binary_log_loss_sum_parallel(y_true, y_pred, sample_weight, lo, hi):
    """Weighted binary log-loss sum of positive-class probabilities, on Numba's thread pool.

    ``binary_log_loss_sum_parallel(y_true, y_pred, sample_weight, lo, hi) -> (loss_sum, weight_sum, positive_weight)``

    The arguments and, bit for bit, the result of :func:`binary_log_loss_sum_serial`.

    Parameters
    ----------
    y_true, y_pred, sample_weight, lo, hi
        As in :func:`binary_log_loss_sum_serial`.

    Returns
    -------
    loss_sum, weight_sum, positive_weight : float64
        As in :func:`binary_log_loss_sum_serial`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> y = np.array([0, 1, 1])
    >>> p = np.array([0.1, 0.8, 0.6])
    >>> eps = np.finfo(p.dtype).eps
    >>> kernels.binary_log_loss_sum_parallel(y, p, np.empty(0), eps, 1.0 - eps)
    (0.839329..., 3.0, 2.0)
    """
    blocks, totals = _binary_work_arrays(y_pred)
    one = np.ones(1, y_pred.dtype)[0]
    if sample_weight.shape[0] == 0:
        binary_scan_parallel(y_true, 0, 1, y_pred, None, lo, hi, one, blocks, totals)
    else:
        binary_scan_parallel(y_true, 0, 1, y_pred, sample_weight, lo, hi, one, blocks, totals)
    return totals[LOSS], totals[WEIGHT], totals[N_STATS + 3]


@stable_api
@kernel
def multiclass_log_loss_sum_serial(y_true, y_pred, sample_weight, lo, hi, out):
    """Weighted multi-class log-loss sum of a matrix of probabilities, in the calling thread.

    ``multiclass_log_loss_sum_serial(y_true, y_pred, sample_weight, lo, hi, out) -> (loss_sum, weight_sum)``

    .. math:: L = \\sum_i w_i \\, [-\\log \\operatorname{clip}(P_{i, y_i}, lo, hi)]

    scikit-learn's ``log_loss`` is ``L / weight_sum`` with ``lo = eps``,
    ``hi = 1 - eps``, ``eps = np.finfo(y_pred.dtype).eps``.

    Parameters
    ----------
    y_true : 1-D integer array
        Class codes in ``[0, K)``; samples with other codes are skipped.
    y_pred : 2-D float32 or float64 array of shape ``(n, K)``
        Predicted probabilities ``P``, one row per sample (any memory layout).
    sample_weight : 1-D float64 array of length n, or length 0 for unit weights
    lo, hi : float
        Clipping bounds (``0.0, 1.0``: none).
    out : 1-D float64 array of length K, or length 0 for none
        Overwritten with the weight of each class (``out / weight_sum`` is
        the null model of ``d2_log_loss_score``).

    Returns
    -------
    loss_sum : float64
        Weighted loss sum (blocked compensated summation).
    weight_sum : float64
        Sum of the weights of the counted samples.

    Notes
    -----
    Allocates ``O(K * n / 2048)`` floats.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> y = np.array([0, 2, 1])
    >>> P = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    >>> eps, class_weight = np.finfo(P.dtype).eps, np.empty(3)
    >>> loss_sum, weight_sum = kernels.multiclass_log_loss_sum_serial(y, P, np.empty(0), eps, 1.0 - eps, class_weight)
    >>> loss_sum / weight_sum
    0.520215...
    >>> class_weight
    array([1., 1., 1.])
    """
    table = np.arange(y_pred.shape[1])
    blocks, totals = _multiclass_work_arrays(y_pred)
    if sample_weight.shape[0] == 0:
        multiclass_scan_serial(y_true, 0, table, y_pred, None, lo, hi, blocks, totals)
    else:
        multiclass_scan_serial(y_true, 0, table, y_pred, sample_weight, lo, hi, blocks, totals)
    _class_weight_out(totals, out)
    return totals[LOSS], totals[WEIGHT]


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def multiclass_log_loss_sum_parallel(y_true, y_pred, sample_weight, lo, hi, out):
    """Weighted multi-class log-loss sum of a matrix of probabilities, on Numba's thread pool.

    ``multiclass_log_loss_sum_parallel(y_true, y_pred, sample_weight, lo, hi, out) -> (loss_sum, weight_sum)``

    The arguments and, bit for bit, the result of :func:`multiclass_log_loss_sum_serial`.

    Parameters
    ----------
    y_true, y_pred, sample_weight, lo, hi, out
        As in :func:`multiclass_log_loss_sum_serial`.

    Returns
    -------
    loss_sum, weight_sum : float64
        As in :func:`multiclass_log_loss_sum_serial`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> y = np.array([0, 2, 1])
    >>> P = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    >>> eps, class_weight = np.finfo(P.dtype).eps, np.empty(3)
    >>> loss_sum, weight_sum = kernels.multiclass_log_loss_sum_parallel(y, P, np.empty(0), eps, 1.0 - eps, class_weight)
    >>> loss_sum / weight_sum
    0.520215...
    >>> class_weight
    array([1., 1., 1.])
    """
    table = np.arange(y_pred.shape[1])
    blocks, totals = _multiclass_work_arrays(y_pred)
    if sample_weight.shape[0] == 0:
        multiclass_scan_parallel(y_true, 0, table, y_pred, None, lo, hi, blocks, totals)
    else:
        multiclass_scan_parallel(y_true, 0, table, y_pred, sample_weight, lo, hi, blocks, totals)
    _class_weight_out(totals, out)
    return totals[LOSS], totals[WEIGHT]
