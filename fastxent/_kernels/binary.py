"""Array kernels for binary cross-entropy (serial and parallel drivers).

One pass over ``(y, pred)`` computes, per sample, the loss (and gradient)
of :mod:`fastxent._math.binary`, multiplies it by the sample weight and
adds it to a per-block float64 partial sum (the deterministic blocked
reduction of :mod:`fastxent._infra.summation`).  The same pass counts targets
outside [0, 1] and predictions that are out of range (probabilities) or not
finite (logits), so the public API validates without a second read of the
data.

Conventions (all kernels):

* ``y_true``: 1-D targets in [0, 1], any real or integer dtype, before
  ``y_pred``: 1-D float32/float64 probabilities or logits
  (``from_logits``); any stride.
* ``sample_weight``: 1-D float64 of length ``n``, or length 0 for none.
* ``lo, hi``: clipping bounds for probabilities (ignored for logits).
* ``losses``: float64 output of length ``n`` for per-sample weighted losses,
  or length 0 when not wanted.
* ``grad``: output shaped like ``y_pred`` (same dtype) receiving
  ``grad_scale * sample_weight[i] * dloss_i/dpred_i``, or length 0.
* Return ``(loss_sum, n_bad_target, n_bad_pred)``: the weighted loss sum
  and the two invalid-value counts.
"""

import numba
import numpy as np
from numba.core import types

from .._infra.floats import max2, min2
from .._infra.jit import inline_scalar, kernel, parallel_kernel, specialized, stable_api
from .._infra.summation import BLOCK, block_bounds, compensated_sum, n_blocks
from .._math.binary import binary_logit_loss, binary_logit_loss_grad, binary_proba_loss, binary_proba_loss_grad

__all__ = [
    "binary_cross_entropy_serial",
    "binary_cross_entropy_parallel",
    "binary_cross_entropy_rows_serial",
    "binary_cross_entropy_rows_parallel",
    "flat_driver_serial",
    "flat_driver_parallel",
    "rows_driver_serial",
    "rows_driver_parallel",
]


@inline_scalar
def _invalid(t, v, from_logits):
    """(1 if the target is outside [0, 1] else 0, 1 if the prediction is invalid else 0)."""
    bad_t = 0 if 0.0 <= t <= 1.0 else 1
    if from_logits:
        return bad_t, 0 if abs(v) < np.inf else 1
    return bad_t, 0 if 0.0 <= v <= 1.0 else 1


@specialized
def _pos_weight_at(pos_weight, i):
    """``pos_weight`` (a float) or ``pos_weight[i]`` (per class along a row)."""
    if isinstance(pos_weight, types.Array):
        return lambda pos_weight, i: pos_weight[i]
    return lambda pos_weight, i: pos_weight


@inline_scalar
def _weight(sample_weight, i):
    return sample_weight[i] if sample_weight.shape[0] > 0 else 1.0


# Compile time: the NumPy API passes ``from_logits`` None for probabilities
# and ``lo``/``hi`` None for logits; Numba decides ``x is None`` while
# compiling when ``x`` is None, so a call compiles only its case's loops
# (the public kernels get values and choose at run time).  The three block
# loops are kernels of their own (inlining
# their formulas' trees into every caller would cost Numba's inliner more
# than it saves), the thin layers between them and the drivers are inlined
# (``inline_scalar``), so a first call compiles the driver and one block loop.
# Each case below is its own loop over slice views of one block: a
# loop-invariant branch or a conditional store inside a loop body stops
# LLVM from vectorizing it, and so does ``x[start + j]`` indexing
# (measured: 2x to 10x slower).


@kernel
def _block_loss(y, pred, sample_weight, pos_weight, from_logits, lo, hi):
    """(weighted loss sum, bad targets, bad predictions) of one block."""
    acc = 0.0
    bad_target = 0
    bad_pred = 0
    if from_logits is not None:
        if lo is None or from_logits:
            for i in range(pred.shape[0]):
                t = np.float64(y[i])
                bt, bp = _invalid(t, pred[i], True)
                bad_target += bt
                bad_pred += bp
                acc += _weight(sample_weight, i) * binary_logit_loss(t, pred[i], _pos_weight_at(pos_weight, i))
            return acc, bad_target, bad_pred
    if lo is not None:
        for i in range(pred.shape[0]):
            t = np.float64(y[i])
            bt, bp = _invalid(t, pred[i], False)
            bad_target += bt
            bad_pred += bp
            acc += _weight(sample_weight, i) * binary_proba_loss(t, pred[i], _pos_weight_at(pos_weight, i), lo, hi)
    return acc, bad_target, bad_pred


@kernel
def _block_losses(y, pred, sample_weight, pos_weight, from_logits, lo, hi, losses):
    """Write the weighted per-sample losses of one block into ``losses``."""
    if from_logits is not None:
        if lo is None or from_logits:
            for i in range(pred.shape[0]):
                losses[i] = _weight(sample_weight, i) * binary_logit_loss(
                    np.float64(y[i]), pred[i], _pos_weight_at(pos_weight, i)
                )
            return
    if lo is not None:
        for i in range(pred.shape[0]):
            loss = binary_proba_loss(np.float64(y[i]), pred[i], _pos_weight_at(pos_weight, i), lo, hi)
            losses[i] = _weight(sample_weight, i) * loss


@kernel
def _block_loss_grad(y, pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale, grad):
    """As :func:`_block_loss`, also writing the scaled, weighted gradient into ``grad``."""
    acc = 0.0
    bad_target = 0
    bad_pred = 0
    if from_logits is not None:
        if lo is None or from_logits:
            for i in range(pred.shape[0]):
                t = np.float64(y[i])
                bt, bp = _invalid(t, pred[i], True)
                bad_target += bt
                bad_pred += bp
                w = _weight(sample_weight, i)
                loss, g = binary_logit_loss_grad(t, pred[i], _pos_weight_at(pos_weight, i))
                # A zero weight zeroes the gradient even where the derivative
                # overflows (a clipped probability under a huge pos_weight): 0 * inf.
                grad[i] = 0.0 if w == 0.0 else grad_scale * w * g
                acc += w * loss
            return acc, bad_target, bad_pred
    if lo is not None:
        for i in range(pred.shape[0]):
            t = np.float64(y[i])
            bt, bp = _invalid(t, pred[i], False)
            bad_target += bt
            bad_pred += bp
            w = _weight(sample_weight, i)
            loss, g = binary_proba_loss_grad(t, pred[i], _pos_weight_at(pos_weight, i), lo, hi)
            grad[i] = 0.0 if w == 0.0 else grad_scale * w * g
            acc += w * loss
    return acc, bad_target, bad_pred


@inline_scalar
def _binary_block(start, stop, y, pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    from_logits, lo, hi, grad_scale = options
    yb = y[start:stop]
    pb = pred[start:stop]
    wb = sample_weight[start:stop] if sample_weight.shape[0] > 0 else sample_weight
    # ``losses`` None (what the NumPy API passes when it does not want them):
    # Numba then drops the branch at compile time; length 0 skips it at run time.
    if losses is not None:
        if losses.shape[0] > 0:
            _block_losses(yb, pb, wb, pos_weight, from_logits, lo, hi, losses[start:stop])
    # Exactly one of ``loss_only`` and ``grad`` is None, and Numba drops an
    # ``is not None`` branch while compiling only when the argument is None:
    # a call with a gradient compiles no loss-only loop, and one without
    # compiles no gradient loop (a test of ``grad`` alone keeps both).
    if loss_only is not None:
        return _block_loss(yb, pb, wb, pos_weight, from_logits, lo, hi)
    if grad is not None:
        return _block_loss_grad(yb, pb, wb, pos_weight, from_logits, lo, hi, grad_scale, grad[start:stop])
    return 0.0, 0, 0  # not reached: loss_only or grad is given


@inline_scalar
def _flat_block_into(partial, b, y, pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    """Write block ``b``'s (loss sum, bad targets, bad predictions) into ``partial[b]``."""
    start, stop = block_bounds(b, pred.shape[0])
    acc, bad_t, bad_p = _binary_block(start, stop, y, pred, sample_weight, pos_weight, options, losses, grad, loss_only)
    partial[b, 0] = acc
    partial[b, 1] = bad_t
    partial[b, 2] = bad_p


@inline_scalar
def _totals(partial):
    # compensated_sum is strict on its own (a scalar), whatever the caller's flags
    total = compensated_sum(partial[:, 0])
    return total, np.int64(compensated_sum(partial[:, 1])), np.int64(compensated_sum(partial[:, 2]))


@stable_api
@kernel  # its prange loop is in the driver it calls
def binary_cross_entropy_parallel(
    y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale, losses, grad
):
    """Binary cross-entropy over 1-D arrays on Numba's thread pool.

    ``binary_cross_entropy_parallel(y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale,
    losses, grad) -> (loss_sum, n_bad_target, n_bad_pred)``

    .. math:: L = \\sum_i s_i \\, \\ell(y_i, z_i), \\qquad
              \\ell = pw\\, y\\, \\mathrm{softplus}(-z) + (1 - y)\\, \\mathrm{softplus}(z)

    (from probabilities ``-(pw y log q + (1 - y) log(1 - q))``, ``q = clip(p, lo, hi)``).

    Parameters
    ----------
    y_true : 1-D float or integer array of shape (n,)
        Targets in [0, 1] (0/1 labels or soft targets).
    y_pred : 1-D float32 or float64 array of shape (n,)
        Probabilities or logits (``from_logits``); any stride, read-only is fine.
    sample_weight : 1-D float64 array of shape (n,), or length 0 for unit weights
    pos_weight : float
        Weight of the positive term (1.0 for the plain loss).
    from_logits : bool
        Whether ``y_pred`` holds logits.
    lo, hi : float
        Clipping bounds for probabilities (0.0, 1.0: none).
    grad_scale : float
        Factor on every gradient entry (e.g. 1 / sum of weights for ``mean``).
    losses : 1-D float64 array of shape (n,), or length 0 for none
        Overwritten with the weighted per-sample losses.
    grad : 1-D array of ``y_pred``'s dtype and shape, or length 0 for none
        Overwritten with ``grad_scale * sample_weight[i] * dloss_i/dy_pred_i``.

    Returns
    -------
    loss_sum : float64
        Weighted loss sum, bit-identical for any thread count.
    n_bad_target : int64
        Number of targets outside [0, 1].
    n_bad_pred : int64
        Number of invalid predictions (probabilities outside [0, 1], or
        logits that are not finite).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> y = np.array([1.0, 0.0, 1.0])
    >>> z = np.array([2.0, -1.0, 0.5])
    >>> none = np.empty(0)
    >>> losses, grad = np.empty(3), np.empty(3)
    >>> kernels.binary_cross_entropy_parallel(y, z, none, 1.0, True, 0.0, 1.0, 1.0 / 3, losses, grad)
    (0.914266..., 0, 0)
    >>> losses.round(6)
    array([0.126928, 0.313262, 0.474077])
    >>> grad.round(6)
    array([-0.039734,  0.089647, -0.125847])
    """
    options = (from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return flat_driver_parallel(y_true, y_pred, sample_weight, pos_weight, options, losses, None, True)
    return flat_driver_parallel(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, None)


@stable_api
@kernel
def binary_cross_entropy_serial(
    y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale, losses, grad
):
    """Serial twin of :func:`binary_cross_entropy_parallel` (same arguments,
    same blocks, bit-identical result), for small inputs and for callers
    already inside a parallel region.

    ``binary_cross_entropy_serial(y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale,
    losses, grad) -> (loss_sum, n_bad_target, n_bad_pred)``

    Parameters
    ----------
    y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale, losses, grad
        As in :func:`binary_cross_entropy_parallel`.

    Returns
    -------
    loss_sum : float64
        Weighted loss sum, bit-identical for any thread count.
    n_bad_target : int64
        Number of targets outside [0, 1].
    n_bad_pred : int64
        Number of invalid predictions (probabilities outside [0, 1], or
        logits that are not finite).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> y = np.array([1.0, 0.0, 1.0])
    >>> z = np.array([2.0, -1.0, 0.5])
    >>> none = np.empty(0)
    >>> kernels.binary_cross_entropy_serial(y, z, none, 1.0, True, 0.0, 1.0, 1.0, none, none)
    (0.914266..., 0, 0)
    """
    options = (from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return flat_driver_serial(y_true, y_pred, sample_weight, pos_weight, options, losses, None, True)
    return flat_driver_serial(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, None)


@inline_scalar
def _rows_block_into(partial, b, y, pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    """As :func:`_flat_block_into` for block ``b`` of rows of ``len(pos_weight)`` values."""
    k = pos_weight.shape[0]
    rows_per_block = max2(1, BLOCK // k)
    acc = 0.0
    bad_t = 0
    bad_p = 0
    for r in range(b * rows_per_block, min2(pred.shape[0] // k, (b + 1) * rows_per_block)):
        a, t, p = _binary_block(
            r * k, (r + 1) * k, y, pred, sample_weight, pos_weight, options, losses, grad, loss_only
        )
        acc += a
        bad_t += t
        bad_p += p
    partial[b, 0] = acc
    partial[b, 1] = bad_t
    partial[b, 2] = bad_p


@inline_scalar
def _n_row_blocks(n, k):
    rows_per_block = max2(1, BLOCK // k)
    return (n // k + rows_per_block - 1) // rows_per_block


@kernel  # its prange loop is in the driver it calls
def binary_cross_entropy_rows_parallel(
    y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale, losses, grad
):
    """:func:`binary_cross_entropy_parallel` with one ``pos_weight`` per class.

    The 1-D arrays hold C-ordered ``(rows, k)`` data (multi-label targets),
    and ``pos_weight`` is a float64 array of the ``k`` per-class weights of
    the positive term (PyTorch's ``pos_weight`` tensor of shape ``(k,)``).
    Other arguments and the result as in :func:`binary_cross_entropy_parallel`.
    """
    options = (from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return rows_driver_parallel(y_true, y_pred, sample_weight, pos_weight, options, losses, None, True)
    return rows_driver_parallel(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, None)


@kernel
def binary_cross_entropy_rows_serial(
    y_true, y_pred, sample_weight, pos_weight, from_logits, lo, hi, grad_scale, losses, grad
):
    """Serial twin of :func:`binary_cross_entropy_rows_parallel`."""
    options = (from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return rows_driver_serial(y_true, y_pred, sample_weight, pos_weight, options, losses, None, True)
    return rows_driver_serial(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, None)


# The drivers below take ``options = (from_logits, lo, hi, grad_scale)``, and
# either ``grad`` None and ``loss_only`` True (no gradient) or ``grad`` an
# array of every value's gradient and ``loss_only`` None, decided when the
# caller is compiled: the NumPy API calls them directly, the public kernels
# turn their length-0 convention into one or the other at run time.


@parallel_kernel
def flat_driver_parallel(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    """:func:`binary_cross_entropy_parallel` with the drivers' arguments."""
    partial = np.empty((n_blocks(y_pred.shape[0]), 3))
    for b in numba.prange(partial.shape[0]):
        _flat_block_into(partial, b, y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only)
    return _totals(partial)


@kernel
def flat_driver_serial(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    """:func:`flat_driver_parallel` in the calling thread."""
    partial = np.empty((n_blocks(y_pred.shape[0]), 3))
    for b in range(partial.shape[0]):
        _flat_block_into(partial, b, y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only)
    return _totals(partial)


@parallel_kernel
def rows_driver_parallel(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    """:func:`binary_cross_entropy_rows_parallel` with the drivers' arguments."""
    partial = np.empty((_n_row_blocks(y_pred.shape[0], pos_weight.shape[0]), 3))
    for b in numba.prange(partial.shape[0]):
        _rows_block_into(partial, b, y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only)
    return _totals(partial)


@kernel
def rows_driver_serial(y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only):
    """:func:`rows_driver_parallel` in the calling thread."""
    partial = np.empty((_n_row_blocks(y_pred.shape[0], pos_weight.shape[0]), 3))
    for b in range(partial.shape[0]):
        _rows_block_into(partial, b, y_true, y_pred, sample_weight, pos_weight, options, losses, grad, loss_only)
    return _totals(partial)
