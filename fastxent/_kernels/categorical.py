"""Array kernels for categorical cross-entropy (serial and parallel drivers).

Rows are independent, so the drivers run over fixed blocks of rows
(``rows_per_block(k)`` rows, about ``BLOCK`` values each, independent of
the thread count), each row handled by the per-row math of
:mod:`fastxent._math.softmax` while it sits in cache.  Per-block float64
partial sums are added with compensated summation, so the result is
bit-identical for any thread count.

Conventions (all kernels):

* ``y_true`` (class indices or target distributions) comes before
  ``y_pred``: 2-D float32/float64 ``(n, k)``, probabilities or logits
  (``from_logits``), any strides (a class axis that is not the last one
  becomes a strided view, no copy).
* ``sample_weight``: float64 ``(n,)`` or length 0 (none); ``class_weight``:
  float64 ``(k,)`` or length 0 (none).
* ``lo, hi``: clipping bounds of probabilities (ignored for logits).
* ``losses``: float64 ``(n,)`` receiving the weighted per-sample losses,
  or length 0.  ``grad``: like ``y_pred`` ``(n, k)`` receiving
  ``grad_scale * d(sum of weighted losses)/d y_pred``, or shape ``(0, k)``.
* Return ``(loss_sum, weight_sum)``: the weighted loss sum and the
  normalizer of the ``"mean"`` reduction (PyTorch's: the sum of
  ``sample_weight[i] * class_weight[y[i]]`` over non-ignored samples for
  class indices; the sum of sample weights for distributions).
"""

import numba
import numpy as np

from .._infra.jit import inline_scalar, kernel, kernel_by_type, parallel_kernel, stable_api
from .._infra.summation import BLOCK, compensated_add, compensated_sum
from .._math.softmax import (
    proba_row_loss,
    proba_row_loss_grad,
    proba_row_soft_loss,
    proba_row_soft_loss_grad,
    softmax_row_loss,
    softmax_row_loss_grad,
    softmax_row_smoothed_loss,
    softmax_row_smoothed_loss_grad,
    softmax_row_soft_loss,
    softmax_row_soft_loss_grad,
)

__all__ = [
    "rows_per_block",
    "n_row_blocks",
    "cross_entropy_index_serial",
    "cross_entropy_index_parallel",
    "cross_entropy_soft_serial",
    "cross_entropy_soft_parallel",
    "rows_driver_serial",
    "rows_driver_parallel",
]


@inline_scalar
def rows_per_block(k):
    """Rows per reduction block: about ``BLOCK`` values, at least one row."""
    # if-expressions, not max2: every inlined call is typed on its own, and
    # these run on every first call (with min2 below: 0.03-0.06 s of one).
    rows = BLOCK // (k if k > 1 else 1)
    return rows if rows > 1 else 1


@inline_scalar
def n_row_blocks(n, k):
    """Number of row blocks of :func:`rows_per_block` rows over ``n`` rows."""
    return (n + rows_per_block(k) - 1) // rows_per_block(k)


# Compile-time cases: the NumPy API passes None for the arguments its case
# does not use -- ``from_logits`` for probabilities, ``lo``/``hi`` for
# logits, ``label_smoothing`` for logits without smoothing.  Numba decides
# ``x is None`` while compiling only when ``x`` *is* None (else the test
# stays a run-time one), so every path to a formula passes a test that such
# a None argument decides: a call compiles its case's formulas only, and
# the public kernels, which get values, choose at run time.  The final
# ``return 0.0`` of the row functions is never reached at run time.


@inline_scalar
def _logits_row_value(target, z_row, s, class_weight, smoothing):
    if smoothing is None:
        return s * _class_weight_of(class_weight, target) * softmax_row_loss(target, z_row)
    if smoothing == 0.0:
        return s * _class_weight_of(class_weight, target) * softmax_row_loss(target, z_row)
    return s * softmax_row_smoothed_loss(target, z_row, class_weight, smoothing)


@kernel
def _index_row_value(target, z_row, s, class_weight, smoothing, from_logits, lo, hi):
    """Weighted loss of one row with an integer target."""
    if from_logits is not None:
        if lo is None:
            return _logits_row_value(target, z_row, s, class_weight, smoothing)
        if from_logits:
            return _logits_row_value(target, z_row, s, class_weight, smoothing)
    if lo is not None:
        return s * proba_row_loss(target, z_row, class_weight, smoothing, lo, hi)
    return 0.0


@inline_scalar
def _logits_row_grad(target, z_row, s, class_weight, smoothing, grad_scale, grad_row):
    if smoothing is None:
        return _plain_loss_grad(target, z_row, s, class_weight, grad_scale, grad_row)
    if smoothing == 0.0:
        return _plain_loss_grad(target, z_row, s, class_weight, grad_scale, grad_row)
    return s * softmax_row_smoothed_loss_grad(target, z_row, class_weight, smoothing, grad_scale * s, grad_row)


@kernel
def _index_row_grad(target, z_row, s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad_row):
    """As :func:`_index_row_value`, writing ``grad_scale`` times its gradient into ``grad_row``."""
    if from_logits is not None:
        if lo is None:
            return _logits_row_grad(target, z_row, s, class_weight, smoothing, grad_scale, grad_row)
        if from_logits:
            return _logits_row_grad(target, z_row, s, class_weight, smoothing, grad_scale, grad_row)
    if lo is not None:
        return s * proba_row_loss_grad(target, z_row, class_weight, smoothing, lo, hi, grad_scale * s, grad_row)
    return 0.0


@inline_scalar
def _class_weight_of(class_weight, target):
    return class_weight[target] if class_weight.shape[0] > 0 else 1.0


@inline_scalar
def _plain_loss_grad(target, z_row, s, class_weight, grad_scale, grad_row):
    """Logits without smoothing: the weighted loss, its gradient into ``grad_row``."""
    wy = _class_weight_of(class_weight, target)
    return s * wy * softmax_row_loss_grad(target, z_row, grad_scale * s * wy, grad_row)


# Compile time: the thin layers (block bounds, stores, the choice between
# value and gradient) are inlined (``inline_scalar``); the per-row formulas
# and the block loops stay functions of their own, as inlining their trees
# into every caller costs Numba's inliner more than it saves.
#
# Below the public kernels, either ``grad`` is None and ``loss_only`` True
# (no gradient) or ``grad`` is an array that every row writes and
# ``loss_only`` None; ``losses`` is None or an array (length 0: not wanted).
# Numba drops an ``is not None`` branch while compiling only when the
# argument is None, so with exactly one of the two None a call without a
# gradient does not compile the gradient formulas, and one with a gradient
# does not compile the value-only ones (a test of ``grad`` alone keeps
# both).  The public kernels turn their length-0 convention for ``grad``
# into one or the other at run time, and so compile both.


@inline_scalar
def _store_loss(losses, i, loss):
    if losses is not None:
        if losses.shape[0] > 0:
            losses[i] = loss


@inline_scalar
def _clear_grad_row(grad, i):
    if grad is not None:
        grad[i, :] = 0.0


@inline_scalar
def _index_row(target, z_row, s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad, i, loss_only):
    """:func:`_index_row_value` for a call without a gradient (``loss_only``
    given), :func:`_index_row_grad` into ``grad[i]`` for one with (``grad`` given)."""
    if loss_only is not None:
        return _index_row_value(target, z_row, s, class_weight, smoothing, from_logits, lo, hi)
    if grad is not None:
        return _index_row_grad(target, z_row, s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad[i])
    return 0.0  # not reached: loss_only or grad is given


@kernel
def _index_block(b, y, pred, sample_weight, options, losses, grad, loss_only):
    class_weight, smoothing, ignore_index, from_logits, lo, hi, grad_scale = options
    n = pred.shape[0]
    rpb = rows_per_block(pred.shape[1])
    acc = 0.0
    wsum = 0.0
    stop = (b + 1) * rpb
    for i in range(b * rpb, n if n < stop else stop):
        target = y[i]
        if target == ignore_index:
            _store_loss(losses, i, 0.0)
            _clear_grad_row(grad, i)
            continue
        s = sample_weight[i] if sample_weight.shape[0] > 0 else 1.0
        loss = _index_row(
            target, pred[i], s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad, i, loss_only
        )
        _store_loss(losses, i, loss)
        acc += loss
        wsum += s * _class_weight_of(class_weight, target)
    return acc, wsum


@stable_api
@kernel  # its prange loop is in the driver it calls
def cross_entropy_index_parallel(
    y_true,
    y_pred,
    sample_weight,
    class_weight,
    label_smoothing,
    ignore_index,
    from_logits,
    lo,
    hi,
    grad_scale,
    losses,
    grad,
):
    """Cross-entropy of rows against integer class indices, on Numba's thread pool.

    ``cross_entropy_index_parallel(y_true, y_pred, sample_weight, class_weight, label_smoothing, ignore_index,
    from_logits, lo, hi, grad_scale, losses, grad) -> (loss_sum, weight_sum)``

    .. math:: L = \\sum_i s_i \\, \\ell(y_i, z_i), \\qquad
              \\ell = \\sum_c w_c t_c (\\mathrm{lse}(z_i) - z_{ic}),
              \\quad t = (1 - \\epsilon)\\,\\mathrm{onehot}(y_i) + \\epsilon / k

    (from probabilities ``-sum_c w_c t_c log clip(q_ic, lo, hi)``).

    Parameters
    ----------
    y_true : 1-D int64/int32 array (n,)
        Class indices in ``[0, k)``, or ``ignore_index`` (row skipped).
    y_pred : 2-D float32/float64 array (n, k)
        Probabilities or logits (``from_logits``).
    sample_weight : 1-D float64 (n,) or length 0
    class_weight : 1-D float64 (k,) or length 0
    label_smoothing : float
        Label smoothing ``epsilon`` in [0, 1].
    ignore_index : int
        Target value whose rows are skipped (pass a value outside ``[0, k)``).
    from_logits : bool
    lo, hi : float
        Clipping bounds for probabilities.
    grad_scale : float
        Factor on every gradient entry (``1 / weight_sum`` for ``mean``).
    losses : 1-D float64 (n,) or length 0
        Receives weighted per-row losses (0 for ignored rows).
    grad : 2-D array like ``y_pred`` (n, k) or (0, k)
        Receives the scaled gradient (0 for ignored rows).

    Returns
    -------
    loss_sum : float64
        Weighted loss sum (bit-identical for any thread count).
    weight_sum : float64
        The ``mean`` normalizer (PyTorch's): sum over non-ignored rows of
        ``sample_weight[i] * class_weight[y_true[i]]``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]])
    >>> none = np.empty(0)
    >>> no_grad = np.empty((0, 3))
    >>> y = np.array([1, -100])
    >>> losses = np.empty(2)
    >>> kernels.cross_entropy_index_parallel(y, z, none, none, 0.0, -100, True, 0.0, 1.0, 1.0, losses, no_grad)
    (0.407605..., 1.0)
    >>> losses.round(6)
    array([0.407606, 0.      ])
    """
    options = (class_weight, label_smoothing, ignore_index, from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return rows_driver_parallel(y_true, y_pred, sample_weight, options, losses, None, True)
    return rows_driver_parallel(y_true, y_pred, sample_weight, options, losses, grad, None)


@stable_api
@kernel
def cross_entropy_index_serial(
    y_true,
    y_pred,
    sample_weight,
    class_weight,
    label_smoothing,
    ignore_index,
    from_logits,
    lo,
    hi,
    grad_scale,
    losses,
    grad,
):
    """Serial twin of :func:`cross_entropy_index_parallel` (same arguments,
    bit-identical result).

    ``cross_entropy_index_serial(y_true, y_pred, sample_weight, class_weight, label_smoothing, ignore_index,
    from_logits, lo, hi, grad_scale, losses, grad) -> (loss_sum, weight_sum)``

    Parameters
    ----------
    y_true, y_pred, sample_weight, class_weight, label_smoothing, ignore_index, from_logits, lo, hi, grad_scale
        As in :func:`cross_entropy_index_parallel`.
    losses, grad
        As in :func:`cross_entropy_index_parallel`.

    Returns
    -------
    loss_sum : float64
        Weighted loss sum (bit-identical for any thread count).
    weight_sum : float64
        The ``mean`` normalizer (PyTorch's): sum over non-ignored rows of
        ``sample_weight[i] * class_weight[y_true[i]]``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]])
    >>> none = np.empty(0)
    >>> no_grad = np.empty((0, 3))
    >>> y = np.array([1, 0])
    >>> kernels.cross_entropy_index_serial(y, z, none, none, 0.0, -100, True, 0.0, 1.0, 1.0, none, no_grad)
    (2.276587..., 2.0)
    """
    options = (class_weight, label_smoothing, ignore_index, from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return rows_driver_serial(y_true, y_pred, sample_weight, options, losses, None, True)
    return rows_driver_serial(y_true, y_pred, sample_weight, options, losses, grad, None)


@kernel
def _soft_row_value(t_row, z_row, s, class_weight, smoothing, from_logits, lo, hi):
    """Weighted loss of one row against a target distribution (None arguments:
    see the compile-time cases above)."""
    if from_logits is not None:
        if lo is None:
            return s * softmax_row_soft_loss(t_row, z_row, class_weight, smoothing)
        if from_logits:
            return s * softmax_row_soft_loss(t_row, z_row, class_weight, smoothing)
    if lo is not None:
        return s * proba_row_soft_loss(t_row, z_row, class_weight, smoothing, lo, hi)
    return 0.0


@kernel
def _soft_row_grad(t_row, z_row, s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad_row):
    """As :func:`_soft_row_value`, writing ``grad_scale`` times its gradient into ``grad_row``."""
    if from_logits is not None:
        if lo is None:
            return s * softmax_row_soft_loss_grad(t_row, z_row, class_weight, smoothing, grad_scale * s, grad_row)
        if from_logits:
            return s * softmax_row_soft_loss_grad(t_row, z_row, class_weight, smoothing, grad_scale * s, grad_row)
    if lo is not None:
        return s * proba_row_soft_loss_grad(t_row, z_row, class_weight, smoothing, lo, hi, grad_scale * s, grad_row)
    return 0.0


@inline_scalar
def _soft_row(t_row, z_row, s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad, i, loss_only):
    """:func:`_soft_row_value` for a call without a gradient (``loss_only``
    given), :func:`_soft_row_grad` into ``grad[i]`` for one with (``grad`` given)."""
    if loss_only is not None:
        return _soft_row_value(t_row, z_row, s, class_weight, smoothing, from_logits, lo, hi)
    if grad is not None:
        return _soft_row_grad(t_row, z_row, s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad[i])
    return 0.0  # not reached: loss_only or grad is given


@kernel
def _soft_block(b, target, pred, sample_weight, options, losses, grad, loss_only):
    class_weight, smoothing, from_logits, lo, hi, grad_scale = options
    n = pred.shape[0]
    rpb = rows_per_block(pred.shape[1])
    acc = 0.0
    wsum = 0.0
    stop = (b + 1) * rpb
    for i in range(b * rpb, n if n < stop else stop):
        s = sample_weight[i] if sample_weight.shape[0] > 0 else 1.0
        loss = _soft_row(
            target[i], pred[i], s, class_weight, smoothing, from_logits, lo, hi, grad_scale, grad, i, loss_only
        )
        _store_loss(losses, i, loss)
        acc += loss
        wsum += s
    return acc, wsum


@kernel_by_type
def _block(b, y_true, y_pred, sample_weight, options, losses, grad, loss_only):
    """Block ``b`` of rows: :func:`_index_block` for class indices (1-D
    ``y_true``), :func:`_soft_block` for target distributions (2-D)."""
    return _index_block if y_true.ndim == 1 else _soft_block


@parallel_kernel
def rows_driver_parallel(y_true, y_pred, sample_weight, options, losses, grad, loss_only):
    """The public kernels' loss sums with their scalar arguments in ``options``
    (as :func:`_index_block` or :func:`_soft_block` takes them), and either
    ``grad`` None and ``loss_only`` True or ``grad`` an array of every row's
    gradient and ``loss_only`` None (see above), decided when the caller is
    compiled."""
    partial = np.empty((n_row_blocks(y_pred.shape[0], y_pred.shape[1]), 2))
    for b in numba.prange(partial.shape[0]):
        partial[b, 0], partial[b, 1] = _block(b, y_true, y_pred, sample_weight, options, losses, grad, loss_only)
    return compensated_sum(partial[:, 0]), compensated_sum(partial[:, 1])


@kernel
def rows_driver_serial(y_true, y_pred, sample_weight, options, losses, grad, loss_only):
    """:func:`rows_driver_parallel` in the calling thread, with the same bits:
    the block sums are added as they come, by the steps of
    :func:`compensated_sum` in the same order."""
    # No array of block sums: its allocation and compensated_sum are three
    # compilations where compensated_add is one (a first cross_entropy on
    # probabilities, 1e5 x 10: 1.33 -> 1.23 s).
    loss, loss_error, weight, weight_error = 0.0, 0.0, 0.0, 0.0
    for b in range(n_row_blocks(y_pred.shape[0], y_pred.shape[1])):
        block_loss, block_weight = _block(b, y_true, y_pred, sample_weight, options, losses, grad, loss_only)
        loss, loss_error = compensated_add(loss, loss_error, block_loss)
        weight, weight_error = compensated_add(weight, weight_error, block_weight)
    return loss + loss_error, weight + weight_error


@stable_api
@kernel  # its prange loop is in the driver it calls
def cross_entropy_soft_parallel(
    y_true, y_pred, sample_weight, class_weight, label_smoothing, from_logits, lo, hi, grad_scale, losses, grad
):
    """Cross-entropy ``H(t, q)`` of rows against target distributions, in parallel.

    ``cross_entropy_soft_parallel(y_true, y_pred, sample_weight, class_weight, label_smoothing, from_logits, lo, hi,
    grad_scale, losses, grad) -> (loss_sum, weight_sum)``

    .. math:: L = \\sum_i s_i \\sum_c w_c t'_{ic} (\\mathrm{lse}(z_i) - z_{ic}),
              \\qquad t' = (1 - \\epsilon)\\, t + \\epsilon / k

    (from probabilities ``-sum_c w_c t'_c log clip(q_ic, lo, hi)``).

    Parameters
    ----------
    y_true : 2-D float32/float64 array (n, k)
        Target distributions ``t`` (one-hot or soft).
    y_pred : 2-D float32/float64 array (n, k)
        Probabilities or logits (``from_logits``).
    sample_weight, class_weight, label_smoothing, from_logits, lo, hi, grad_scale, losses, grad
        As in :func:`cross_entropy_index_parallel`.

    Returns
    -------
    loss_sum : float64
        Weighted loss sum (bit-identical for any thread count).
    weight_sum : float64
        Sum of the sample weights (``n`` without them).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]])
    >>> none = np.empty(0)
    >>> no_grad = np.empty((0, 3))
    >>> t = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    >>> grad = np.empty((2, 3))
    >>> kernels.cross_entropy_soft_parallel(t, z, none, none, 0.0, True, 0.0, 1.0, 0.5, none, grad)
    (1.526587..., 2.0)
    >>> grad.round(6)
    array([[ 0.045015, -0.16738 ,  0.122364],
           [-0.17286 ,  0.07714 ,  0.095719]])
    """
    options = (class_weight, label_smoothing, from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return rows_driver_parallel(y_true, y_pred, sample_weight, options, losses, None, True)
    return rows_driver_parallel(y_true, y_pred, sample_weight, options, losses, grad, None)


@stable_api
@kernel
def cross_entropy_soft_serial(
    y_true, y_pred, sample_weight, class_weight, label_smoothing, from_logits, lo, hi, grad_scale, losses, grad
):
    """Serial twin of :func:`cross_entropy_soft_parallel`.

    ``cross_entropy_soft_serial(y_true, y_pred, sample_weight, class_weight, label_smoothing, from_logits, lo, hi,
    grad_scale, losses, grad) -> (loss_sum, weight_sum)``

    Parameters
    ----------
    y_true, y_pred, sample_weight, class_weight, label_smoothing, from_logits, lo, hi, grad_scale, losses, grad
        As in :func:`cross_entropy_soft_parallel`.

    Returns
    -------
    loss_sum : float64
        Weighted loss sum (bit-identical for any thread count).
    weight_sum : float64
        Sum of the sample weights (``n`` without them).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]])
    >>> none = np.empty(0)
    >>> no_grad = np.empty((0, 3))
    >>> t = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    >>> kernels.cross_entropy_soft_serial(t, z, none, none, 0.0, True, 0.0, 1.0, 1.0, none, no_grad)
    (1.526587..., 2.0)
    """
    options = (class_weight, label_smoothing, from_logits, lo, hi, grad_scale)
    if grad.shape[0] == 0:
        return rows_driver_serial(y_true, y_pred, sample_weight, options, losses, None, True)
    return rows_driver_serial(y_true, y_pred, sample_weight, options, losses, grad, None)
