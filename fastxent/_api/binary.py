"""Binary cross-entropy and its gradient (public NumPy API).

Validation and coercion happen here; one call of the trusted kernel of
:mod:`fastxent._kernels.binary` computes the value (and gradient) and, in
the same pass, counts invalid targets and predictions, so no separate
validation read of the data is needed.
"""

import numbers

import numpy as np

from .._infra.dispatch import run
from .._kernels.binary import flat_driver_parallel, flat_driver_serial, rows_driver_parallel, rows_driver_serial
from .validation import (
    as_array,
    as_float_array,
    as_weights,
    check_bool,
    check_nonempty,
    check_nonnegative_scalar,
    check_reduction,
    check_weights,
    clip_bounds,
    read_only,
    scaled_for_mean,
)

__all__ = ["binary_cross_entropy", "binary_cross_entropy_grad", "binary_cross_entropy_value_and_grad"]


def _as_targets(y_true):
    """Targets without a copy for float32/float64/int/bool arrays."""
    y = as_array(y_true, "y_true")
    if y.dtype in (np.float32, np.float64, np.int64, np.int32, np.uint8, np.int8):
        return y
    if y.dtype == np.bool_:
        return y.view(np.uint8)
    if y.dtype.kind in "iuf":
        return y.astype(np.float64)
    raise TypeError(f"y_true must hold numbers in [0, 1]; got an array of dtype {y.dtype}")


def _pos_weight(pos_weight, shape):
    """A float, or a float64 array of per-position weights that the rows
    kernel applies along each C-ordered row of its length.

    As in PyTorch, an array ``pos_weight`` must broadcast to ``y_pred``'s
    shape without enlarging it: one weight per class along the last axis
    (shape ``(k,)``, ``(1, k)``, ...) is the common case; any other such
    shape (e.g. ``(n, 1)``) is expanded to one weight per element.
    """
    if pos_weight is None:
        return 1.0
    if isinstance(pos_weight, (numbers.Number, np.bool_)):
        return check_nonnegative_scalar(pos_weight, "pos_weight")
    pw = as_float_array(pos_weight, "pos_weight")
    try:
        fits = np.broadcast_shapes(pw.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"pos_weight of shape {pw.shape} does not broadcast to the shape {shape} of y_pred "
            f"(give one number, or one weight per class along the last axis of y_pred)"
        )
    check_weights(pw, "pos_weight")
    if pw.size == 1:
        return float(pw.reshape(-1)[0])
    if all(d == 1 for d in pw.shape[:-1]):  # (..., 1, k): one weight per class
        return np.ascontiguousarray(pw.reshape(-1), dtype=np.float64)
    return np.ascontiguousarray(np.broadcast_to(pw, shape), dtype=np.float64).reshape(-1)


def _flat(arr, order):
    """1-D view of ``arr`` in memory order ``order`` (a copy only if needed)."""
    return arr if arr.ndim == 1 else np.ravel(arr, order=order)


class _Problem:
    """Validated, kernel-ready arguments of one binary cross-entropy call."""

    def __init__(self, y_true, y_pred, from_logits, sample_weight, pos_weight, clip):
        pred = as_float_array(y_pred, "y_pred")
        check_nonempty(pred, "y_pred")
        y = _as_targets(y_true)
        if y.shape != pred.shape:
            raise ValueError(f"y_true has shape {y.shape} but y_pred has shape {pred.shape}; they must match")
        self.shape = pred.shape
        self.dtype = pred.dtype
        self.pos_weight = _pos_weight(pos_weight, pred.shape)
        per_class = isinstance(self.pos_weight, np.ndarray)
        # per-class weights pair with C-ordered rows; otherwise keep F order as is
        f_order = pred.flags.f_contiguous and not pred.flags.c_contiguous and not per_class
        self.order = "F" if f_order else "C"
        self.pred = _flat(pred, self.order)
        self.y = _flat(y, self.order)
        self.from_logits = check_bool(from_logits, "from_logits")
        self.lo, self.hi = clip_bounds(clip, pred.dtype)
        self.largest_weight = 0.0
        if sample_weight is None:
            self.sample_weight = np.empty(0)
        else:
            sw, self.largest_weight = as_weights(
                sample_weight, "sample_weight", pred.shape, "{name} has shape {got} but y_pred has shape {expected}"
            )
            self.sample_weight = _flat(sw, self.order)

    def rescale_for_mean(self):
        """Scale extreme sample weights by a power of two: ``"mean"`` is
        unchanged by it, and its sums then neither overflow nor underflow."""
        self.sample_weight = scaled_for_mean(self.sample_weight, self.largest_weight)

    def normalizer(self):
        """Divisor of ``"mean"``: the sum of sample weights (``n`` without them)."""
        sw = self.sample_weight
        return float(np.sum(sw)) if sw.size else float(self.pred.shape[0])

    def run(self, grad_scale, losses, grad):
        """(loss sum, ...) of the kernel; ``losses`` / ``grad``: arrays to fill, or None when not wanted."""
        if isinstance(self.pos_weight, np.ndarray):
            kernels = (rows_driver_parallel, rows_driver_serial)
        else:
            kernels = (flat_driver_parallel, flat_driver_serial)
        # None for what this case does not use: the kernels then compile
        # only this case's loops (see fastxent._kernels.binary).
        options = (True, None, None, grad_scale) if self.from_logits else (None, self.lo, self.hi, grad_scale)
        arrays = (read_only(self.y), read_only(self.pred), read_only(self.sample_weight), read_only(self.pos_weight))
        loss_only = True if grad is None else None  # see fastxent._kernels.binary's drivers
        total, bad_target, bad_pred = run(*kernels, self.pred.shape[0], *arrays, options, losses, grad, loss_only)
        if bad_target:
            raise ValueError(f"y_true must hold targets in [0, 1]; {bad_target} value(s) are outside or NaN")
        if bad_pred:
            if self.from_logits:
                raise ValueError(f"y_pred contains NaN or infinity ({bad_pred} logit(s))")
            raise ValueError(f"y_pred must hold probabilities in [0, 1]; {bad_pred} value(s) are outside or NaN")
        return total

    def shaped(self, flat):
        return flat if len(self.shape) == 1 else np.reshape(flat, self.shape, order=self.order)


def _finish(problem, reduction, total, losses):
    if reduction == "none":
        return problem.shaped(losses)
    if reduction == "sum":
        return float(total)
    denom = problem.normalizer()
    return float(total / denom) if denom != 0.0 else 0.0


def chunk_totals(y_true, y_pred, *, from_logits, sample_weight, pos_weight, clip):
    """What a chunk adds to a streaming binary cross-entropy, validated as
    :func:`binary_cross_entropy` validates it.

    Returns
    -------
    loss_sum : float
        ``sum_i w_i loss_i`` (``reduction="sum"``).
    normalizer : float
        The divisor of ``reduction="mean"``: ``sum_i w_i`` (``n`` without weights).
    n_elements : int
        The number of elements of ``y_pred``.
    """
    problem = _Problem(y_true, y_pred, from_logits, sample_weight, pos_weight, clip)
    total = problem.run(1.0, None, None)
    return total, problem.normalizer(), problem.pred.shape[0]


def _value_and_grad(y_true, y_pred, from_logits, sample_weight, pos_weight, reduction, clip, want_value):
    reduction = check_reduction(reduction)
    problem = _Problem(y_true, y_pred, from_logits, sample_weight, pos_weight, clip)
    n = problem.pred.shape[0]
    scale = 1.0
    if reduction == "mean":
        problem.rescale_for_mean()
        denom = problem.normalizer()
        scale = 1.0 / denom if denom != 0.0 else 0.0
    losses = np.empty(n) if (want_value and reduction == "none") else None
    grad = np.empty(n, dtype=problem.dtype)
    total = problem.run(scale, losses, grad)
    value = _finish(problem, reduction, total, losses) if want_value else None
    return value, problem.shaped(grad)


def binary_cross_entropy(
    y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None, reduction="mean", clip="auto"
):
    """Binary cross-entropy (PyTorch's ``binary_cross_entropy(_with_logits)``).

    Per sample: ``-(pos_weight * y log p + (1 - y) log(1 - p))`` with
    ``0 log 0 = 0``; from logits ``pos_weight * y * softplus(-z) + (1 - y) *
    softplus(z)``, stable for any finite ``z``; times ``sample_weight``.

    Parameters
    ----------
    y_true : array-like
        Targets in [0, 1] (0/1 labels, bool, or soft targets), shaped like
        ``y_pred``.
    y_pred : array-like of float
        Probabilities of the positive class, or logits with
        ``from_logits=True`` (any finite magnitude).  float32 and float64
        are used as they are (C or F order, strided 1-D, read-only, memmap).
    from_logits : bool, default False
        ``True``/``False`` or ``np.bool_``; anything else is a ``TypeError``.
    sample_weight : array-like shaped like ``y_pred``, optional
        Non-negative finite weight per sample.
    pos_weight : float >= 0 or array-like, optional
        Weight of the positive term (PyTorch's ``pos_weight``): one number,
        or an array that broadcasts to ``y_pred``'s shape without enlarging
        it, as in PyTorch -- typically one weight per class along the last
        axis (shape ``(k,)``, multi-label).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` is the weighted mean ``sum(w * loss) / sum(w)`` (``n``
        without weights), exact even for weights near the float64 limits
        (they are rescaled by a power of two); ``"none"`` returns each
        weighted loss (float64).
    clip : "auto", None or float, default "auto"
        Probabilities are clipped to ``[eps, 1 - eps]`` (``"auto"``:
        ``eps = finfo(dtype).eps``; ``None``: none, a zero probability of
        the observed class gives ``inf``).  Not used for logits.

    Array arguments in another byte order (``>f8``) are converted once; a
    masked array is used as its data when nothing is masked, and one with
    masked entries is a ``TypeError`` naming the argument.

    Returns
    -------
    float, or ndarray of float64 shaped like ``y_pred`` for ``"none"``

    Examples
    --------
    >>> import fastxent
    >>> fastxent.binary_cross_entropy([1, 0, 1], [0.9, 0.2, 0.6])
    0.279776...
    >>> fastxent.binary_cross_entropy([1, 0, 1], [2.0, -1.0, 0.5], from_logits=True, reduction="none")
    array([0.126928..., 0.313261..., 0.474076...])
    >>> fastxent.binary_cross_entropy([1, 0, 1], [2.0, -1.0, 0.5], from_logits=True, pos_weight=2.0)
    0.505090...
    """
    reduction = check_reduction(reduction)
    problem = _Problem(y_true, y_pred, from_logits, sample_weight, pos_weight, clip)
    if reduction == "mean":
        problem.rescale_for_mean()
    losses = np.empty(problem.pred.shape[0]) if reduction == "none" else None
    total = problem.run(1.0, losses, None)
    return _finish(problem, reduction, total, losses)


def binary_cross_entropy_grad(
    y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None, reduction="mean", clip="auto"
):
    """Gradient of :func:`binary_cross_entropy` with respect to ``y_pred`` as given.

    Logits: ``w * ((1 - y) sigmoid(z) - pos_weight * y * sigmoid(-z))``;
    probabilities: ``w * ((1 - y) / (1 - p) - pos_weight * y / p)`` at the
    clipped ``p``; divided by ``sum(w)`` for ``"mean"``.  For ``"none"``
    it is the gradient of the sum of the losses.

    Parameters
    ----------
    y_true : array-like
        Targets in [0, 1] (0/1 labels, bool, or soft targets), shaped like
        ``y_pred``.
    y_pred : array-like of float
        Probabilities of the positive class, or logits with
        ``from_logits=True`` (any finite magnitude).  float32 and float64
        are used as they are (C or F order, strided 1-D, read-only, memmap).
    from_logits : bool, default False
        ``True``/``False`` or ``np.bool_``; anything else is a ``TypeError``.
    sample_weight : array-like shaped like ``y_pred``, optional
        Non-negative finite weight per sample.
    pos_weight : float >= 0 or array-like, optional
        Weight of the positive term (PyTorch's ``pos_weight``): one number,
        or an array that broadcasts to ``y_pred``'s shape without enlarging
        it, as in PyTorch -- typically one weight per class along the last
        axis (shape ``(k,)``, multi-label).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` is the weighted mean ``sum(w * loss) / sum(w)`` (``n``
        without weights), exact even for weights near the float64 limits
        (they are rescaled by a power of two); ``"none"`` returns each
        weighted loss (float64).
    clip : "auto", None or float, default "auto"
        Probabilities are clipped to ``[eps, 1 - eps]`` (``"auto"``:
        ``eps = finfo(dtype).eps``; ``None``: none, a zero probability of
        the observed class gives ``inf``).  Not used for logits.

    Array arguments in another byte order (``>f8``) are converted once; a
    masked array is used as its data when nothing is masked, and one with
    masked entries is a ``TypeError`` naming the argument.

    Returns
    -------
    ndarray shaped like ``y_pred``, of its dtype (float32 or float64)

    Examples
    --------
    >>> import fastxent
    >>> fastxent.binary_cross_entropy_grad([1, 0, 1], [2.0, -1.0, 0.5], from_logits=True)
    array([-0.039734...,  0.089647..., -0.125846...])
    """
    return _value_and_grad(y_true, y_pred, from_logits, sample_weight, pos_weight, reduction, clip, False)[1]


def binary_cross_entropy_value_and_grad(
    y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None, reduction="mean", clip="auto"
):
    """:func:`binary_cross_entropy` and its gradient in one pass.

    Parameters
    ----------
    y_true : array-like
        Targets in [0, 1] (0/1 labels, bool, or soft targets), shaped like
        ``y_pred``.
    y_pred : array-like of float
        Probabilities of the positive class, or logits with
        ``from_logits=True`` (any finite magnitude).  float32 and float64
        are used as they are (C or F order, strided 1-D, read-only, memmap).
    from_logits : bool, default False
        ``True``/``False`` or ``np.bool_``; anything else is a ``TypeError``.
    sample_weight : array-like shaped like ``y_pred``, optional
        Non-negative finite weight per sample.
    pos_weight : float >= 0 or array-like, optional
        Weight of the positive term (PyTorch's ``pos_weight``): one number,
        or an array that broadcasts to ``y_pred``'s shape without enlarging
        it, as in PyTorch -- typically one weight per class along the last
        axis (shape ``(k,)``, multi-label).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` is the weighted mean ``sum(w * loss) / sum(w)`` (``n``
        without weights), exact even for weights near the float64 limits
        (they are rescaled by a power of two); ``"none"`` returns each
        weighted loss (float64).
    clip : "auto", None or float, default "auto"
        Probabilities are clipped to ``[eps, 1 - eps]`` (``"auto"``:
        ``eps = finfo(dtype).eps``; ``None``: none, a zero probability of
        the observed class gives ``inf``).  Not used for logits.

    Array arguments in another byte order (``>f8``) are converted once; a
    masked array is used as its data when nothing is masked, and one with
    masked entries is a ``TypeError`` naming the argument.

    Returns
    -------
    (value, grad)

    Examples
    --------
    >>> import fastxent
    >>> value, grad = fastxent.binary_cross_entropy_value_and_grad([1, 0, 1], [0.9, 0.2, 0.6])
    >>> value
    0.279776...
    >>> grad
    array([-0.370370...,  0.416666..., -0.555555...])
    """
    return _value_and_grad(y_true, y_pred, from_logits, sample_weight, pos_weight, reduction, clip, True)
