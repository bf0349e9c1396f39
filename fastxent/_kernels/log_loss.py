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
bit-identical for any thread count.

Clipping mirrors scikit-learn: probabilities are clipped to ``[lo, hi] =
[eps, 1 - eps]`` (``eps`` of the input dtype) and, for 1-D input, the
negative-class probability ``1 - p`` is rounded in the input's dtype first,
exactly as scikit-learn builds that column.
"""

import numba
import numpy as np

from .._infra.dispatch import run
from .._infra.jit import kernel, parallel_kernel
from .._infra.summation import block_bounds, compensated_sum, compensated_sum_columns, n_blocks
from .._math.elementary import log

__all__ = [
    "binary_log_loss_sum",
    "multiclass_log_loss_sum",
    "binary_scan",
    "multiclass_scan",
    "present_values",
    "STATS",
]

# Columns of the per-block statistics (and of the reduced summary).
LOSS, WEIGHT, MISSES, P_BAD, W_BAD, W_NONZERO, Y_MIN, Y_MAX, ROW_DEV = range(9)
N_STATS = 9
STATS = ("loss", "weight", "misses", "p_bad", "w_bad", "w_nonzero", "y_min", "y_max", "row_dev")
_SUMMED = (LOSS, WEIGHT, MISSES, P_BAD, W_BAD, W_NONZERO)
# Comparisons (unlike x - x) survive fast-math: NaN fails both of these tests.
_MAX_FLOAT = 1.7976931348623157e308


@kernel
def _binary_block(y, neg, pos, p, w, lo, hi, b, stats, counts, wcounts):
    # Written so that LLVM vectorizes it: selects instead of branches, no
    # short-circuit ``and``/``or``, labels compared in their own type,
    # ``w is None`` resolved at compile time, and the block's slices indexed
    # from 0 (an index ``start + i`` that might be negative keeps Numba's
    # wraparound check, which blocks vectorization).
    start, stop = block_bounds(b, p.shape[0])
    yb = y[start:stop]
    pb = p[start:stop]
    one = np.ones(1, p.dtype)[0]  # 1 - p is rounded in p's dtype, like scikit-learn
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
        q = pi if is_pos else one - pi
        q = min(max(np.float64(q), lo), hi)
        loss += wi * -log(q) if (is_pos | is_neg) else 0.0
        n_pos += 1.0 if is_pos else 0.0
        n_neg += 1.0 if is_neg else 0.0
        w_pos += wi if is_pos else 0.0
        w_neg += wi if is_neg else 0.0
        p_bad += 0.0 if ((pi >= 0.0) & (pi <= 1.0)) else 1.0
        w_bad += 0.0 if abs(wi) <= _MAX_FLOAT else 1.0
        w_nonzero += 1.0 if wi != 0.0 else 0.0
        y_min = min(y_min, yi)
        y_max = max(y_max, yi)
    stats[b, LOSS] = loss
    stats[b, WEIGHT] = w_neg + w_pos
    stats[b, MISSES] = (stop - start) - (n_neg + n_pos)
    stats[b, P_BAD] = p_bad
    stats[b, W_BAD] = w_bad
    stats[b, W_NONZERO] = w_nonzero
    stats[b, Y_MIN] = y_min
    stats[b, Y_MAX] = y_max
    stats[b, ROW_DEV] = 0.0
    counts[b, 0] = n_neg
    counts[b, 1] = n_pos
    wcounts[b, 0] = w_neg
    wcounts[b, 1] = w_pos


@kernel
def _multiclass_block(y, base, table, P, w, lo, hi, b, stats, counts, wcounts):
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
    for c in range(k):
        counts[b, c] = 0.0
        wcounts[b, c] = 0.0
    for i in range(m):
        row_sum = 0.0
        row_bad = 0.0
        for j in range(k):
            v = Pb[i, j]
            row_sum += v
            row_bad += 0.0 if ((v >= 0.0) & (v <= 1.0)) else 1.0
        p_bad += row_bad
        row_dev = max(row_dev, abs(row_sum - 1.0))
        wi = 1.0 if w is None else np.float64(w[start + i])
        w_bad += 0.0 if abs(wi) <= _MAX_FLOAT else 1.0
        w_nonzero += 1.0 if wi != 0.0 else 0.0
        yi = yb[i]
        y_min = min(y_min, yi)
        y_max = max(y_max, yi)
        slot = yi - base
        col = table[slot] if ((slot >= 0) & (slot < t)) else -1
        if (col >= 0) & (col < k):
            q_true[i] = Pb[i, col]
            w_true[i] = wi
            counts[b, col] += 1.0
            wcounts[b, col] += wi
        else:
            q_true[i] = 1.0
            w_true[i] = 0.0
            misses += 1.0
    loss = 0.0
    weight = 0.0
    for i in range(m):
        loss += w_true[i] * -log(min(max(q_true[i], lo), hi))
        weight += w_true[i]
    stats[b, LOSS] = loss
    stats[b, WEIGHT] = weight
    stats[b, MISSES] = misses
    stats[b, P_BAD] = p_bad
    stats[b, W_BAD] = w_bad
    stats[b, W_NONZERO] = w_nonzero
    stats[b, Y_MIN] = y_min
    stats[b, Y_MAX] = y_max
    stats[b, ROW_DEV] = row_dev


@kernel
def _reduce_blocks(stats, counts, wcounts):
    """Summary row (compensated sums of the summed columns, min/max of the
    others) and per-class totals, all in block order."""
    summary = np.empty(N_STATS)
    for c in _SUMMED:
        summary[c] = compensated_sum(np.ascontiguousarray(stats[:, c]))
    summary[Y_MIN] = np.min(stats[:, Y_MIN]) if stats.shape[0] else np.inf
    summary[Y_MAX] = np.max(stats[:, Y_MAX]) if stats.shape[0] else -np.inf
    summary[ROW_DEV] = np.max(stats[:, ROW_DEV]) if stats.shape[0] else 0.0
    return summary, compensated_sum_columns(counts), compensated_sum_columns(wcounts)


@kernel
def _block_arrays(n, k):
    """Per-block statistics and per-class (weighted) counts, uninitialized."""
    nb = n_blocks(n)
    return np.empty((nb, N_STATS)), np.empty((nb, k)), np.empty((nb, k))


@parallel_kernel
def _binary_scan_parallel(y, neg, pos, p, w, lo, hi):
    stats, counts, wcounts = _block_arrays(p.shape[0], 2)
    for b in numba.prange(stats.shape[0]):
        _binary_block(y, neg, pos, p, w, lo, hi, b, stats, counts, wcounts)
    return _reduce_blocks(stats, counts, wcounts)


@kernel
def _binary_scan_serial(y, neg, pos, p, w, lo, hi):
    stats, counts, wcounts = _block_arrays(p.shape[0], 2)
    for b in range(stats.shape[0]):
        _binary_block(y, neg, pos, p, w, lo, hi, b, stats, counts, wcounts)
    return _reduce_blocks(stats, counts, wcounts)


@parallel_kernel
def _multiclass_scan_parallel(y, base, table, P, w, lo, hi):
    stats, counts, wcounts = _block_arrays(P.shape[0], P.shape[1])
    for b in numba.prange(stats.shape[0]):
        _multiclass_block(y, base, table, P, w, lo, hi, b, stats, counts, wcounts)
    return _reduce_blocks(stats, counts, wcounts)


@kernel
def _multiclass_scan_serial(y, base, table, P, w, lo, hi):
    stats, counts, wcounts = _block_arrays(P.shape[0], P.shape[1])
    for b in range(stats.shape[0]):
        _multiclass_block(y, base, table, P, w, lo, hi, b, stats, counts, wcounts)
    return _reduce_blocks(stats, counts, wcounts)


def binary_scan(y, neg, pos, p, w, lo, hi):
    """Fused statistics of a 1-D (positive-class) ``p``; serial or parallel
    by size.  Returns ``(summary, counts, weighted_counts)`` (see ``STATS``;
    class 0 is ``neg``, class 1 is ``pos``)."""
    return run(_binary_scan_parallel, _binary_scan_serial, p.shape[0], y, neg, pos, p, w, lo, hi)


def multiclass_scan(y, base, table, P, w, lo, hi):
    """Fused statistics of a 2-D ``P`` whose true column is ``table[y - base]``;
    serial or parallel by size.  Returns ``(summary, counts, weighted_counts)``."""
    return run(_multiclass_scan_parallel, _multiclass_scan_serial, P.size, y, base, table, P, w, lo, hi)


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


@kernel
def binary_log_loss_sum(y, p, eps, sample_weight):
    """Weighted binary log-loss sum of positive-class probabilities.

    ``binary_log_loss_sum(y, p, eps, sample_weight) -> (loss_sum, weight_sum, positive_weight)``

    .. math:: L = \\sum_i w_i \\, [-\\log \\operatorname{clip}(q_i, \\epsilon, 1 - \\epsilon)],
              \\quad q_i = p_i \\text{ if } y_i = 1 \\text{ else } 1 - p_i

    Parameters
    ----------
    y : 1-D integer or bool array
        Class codes: 1 (or True) for the positive class, 0 for the negative
        one.  Samples with any other code are skipped (not in the sums).
    p : 1-D float32 or float64 array, same length
        Probability of the positive class.  ``1 - p`` is rounded in ``p``'s
        dtype (as scikit-learn does) before clipping.
    eps : float
        Clipping bound; scikit-learn uses ``np.finfo(p.dtype).eps``.
    sample_weight : 1-D float64 array of the same length, or None for unit weights

    Returns
    -------
    loss_sum : float
        Weighted loss sum (float64, blocked compensated summation).
    weight_sum : float
        Sum of the weights of the counted samples.
    positive_weight : float
        Sum of the weights of the positive samples (the null model of
        ``d2_log_loss_score`` predicts ``positive_weight / weight_sum``).

    Serial; nopython; allocates only ``O(len(p) / 2048)`` floats.
    """
    summary, counts, wcounts = _binary_scan_serial(y, 0, 1, p, sample_weight, eps, 1.0 - eps)
    return summary[LOSS], summary[WEIGHT], wcounts[1]


@kernel
def multiclass_log_loss_sum(y, P, eps, sample_weight):
    """Weighted multi-class log-loss sum of a matrix of probabilities.

    ``multiclass_log_loss_sum(y, P, eps, sample_weight) -> (loss_sum, weight_sum, class_weight)``

    .. math:: L = \\sum_i w_i \\, [-\\log \\operatorname{clip}(P_{i, y_i}, \\epsilon, 1 - \\epsilon)]

    Parameters
    ----------
    y : 1-D integer array
        Class codes in ``[0, K)``; samples with other codes are skipped.
    P : 2-D float32 or float64 array of shape ``(n, K)``
        Predicted probabilities, one row per sample (any memory layout).
    eps : float
        Clipping bound; scikit-learn uses ``np.finfo(P.dtype).eps``.
    sample_weight : 1-D float64 array of length n, or None for unit weights

    Returns
    -------
    loss_sum : float
    weight_sum : float
        Sum of the weights of the counted samples.
    class_weight : 1-D float64 array of length K
        Weight of each class (``class_weight / weight_sum`` is the null model
        of ``d2_log_loss_score``).

    Serial; nopython; allocates ``O(K * n / 2048)`` floats.
    """
    table = np.arange(P.shape[1])
    summary, counts, wcounts = _multiclass_scan_serial(y, 0, table, P, sample_weight, eps, 1.0 - eps)
    return summary[LOSS], summary[WEIGHT], wcounts
