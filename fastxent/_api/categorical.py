"""Categorical cross-entropy and its gradient (public NumPy API).

``cross_entropy`` / ``cross_entropy_grad`` / ``cross_entropy_value_and_grad``
validate and coerce their arguments here, then call the trusted kernels of
:mod:`fastxent._kernels.categorical` once (value and gradient in one pass).
"""

import numbers

import numpy as np

from .._infra.dispatch import row_work, run
from .._kernels.categorical import (
    rows_driver_parallel,
    rows_driver_serial,
)
from .validation import (
    as_2d_view,
    as_array,
    as_float_array,
    as_index_array,
    as_weights,
    check_bool,
    check_finite,
    check_in_range,
    check_nonempty,
    check_reduction,
    check_unit_interval_scalar,
    clip_bounds,
    exact_number,
    int64_outside,
    read_only,
    scaled_for_mean,
    scan,
)

__all__ = ["cross_entropy", "cross_entropy_grad", "cross_entropy_value_and_grad"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _class_axis(axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer; got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for y_pred with {ndim} dimensions")
    return axis % ndim


def _rows(arr, axis):
    """``arr`` with the class axis last, as a 2-D (rows, classes) array
    (a view whenever the strides allow it)."""
    moved = np.moveaxis(arr, axis, -1)
    view = as_2d_view(moved)
    return np.reshape(moved, (-1, moved.shape[-1])) if view is None else view


def _class_weight(class_weight, k):
    """(float64 class weights or an empty array, the largest weight)."""
    if class_weight is None:
        return np.empty(0), 0.0
    return as_weights(
        class_weight, "class_weight", (k,), "{name} must have shape {expected} (one weight per class); got {got}"
    )


def _sample_weight(sample_weight, sample_shape):
    """(flat float64 sample weights or an empty array, the largest weight)."""
    if sample_weight is None:
        return np.empty(0), 0.0
    sw, largest = as_weights(
        sample_weight,
        "sample_weight",
        sample_shape,
        "{name} must have shape {expected} (one weight per sample); got {got}",
    )
    return np.reshape(sw, -1), largest


def _check_ignore_index(ignore_index):
    """``ignore_index`` as a Python int (any size), or None."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an integer or None; got {ignore_index!r}")
    return int(ignore_index)


def _index_targets(y, k, ignore):
    """(flat int32/int64 class indices, the value the kernel skips).

    Every target must be in ``[0, k)`` or equal ``ignore`` (a Python int of
    any size, or None), compared exactly: uint64 and float targets beyond
    int64 are neither wrapped nor truncated.  Those equal to an ``ignore``
    beyond int64 become -1 once the others are checked, and the kernel skips
    -1 instead; with nothing to skip it also gets -1, which no checked
    target equals.
    """
    in_int64 = ignore is not None and _INT64_MIN <= ignore <= _INT64_MAX
    outside = None
    if y.dtype.kind in "uf":
        if y.dtype == np.float16:
            y = y.astype(np.float32)
        if y.dtype.kind == "f":
            check_finite(y, "y_true")
        outside = int64_outside(y)
    if outside is not None:
        values = y[outside]
        equal = np.array([exact_number(v) == ignore for v in values.flat], dtype=bool)
        if not equal.all():
            raise _out_of_range(values.flat[np.argmin(equal)].item(), k)
        with np.errstate(invalid="ignore"):
            y = y.astype(np.int64)
        y[outside] = 0  # a valid index while the others are checked
    target = np.reshape(as_index_array(y, "y_true"), -1)
    bad = (target < 0) | (target >= k)
    if in_int64:
        bad &= target != ignore
    if bad.any():
        raise _out_of_range(target[np.argmax(bad)], k)
    if outside is not None:
        target[np.reshape(outside, -1)] = -1
    return target, (ignore if in_int64 else -1)


def _out_of_range(value, k):
    return ValueError(f"y_true holds class index {value} outside [0, {k}) (y_pred has {k} classes)")


class _Problem:
    """Validated, kernel-ready arguments of one cross-entropy call."""

    def __init__(
        self, y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, axis, clip
    ):
        pred = as_float_array(y_pred, "y_pred")
        if pred.ndim < 2:
            raise ValueError(
                f"y_pred must be at least 2-D (samples x classes); got a {pred.ndim}-D array of shape {pred.shape}"
            )
        check_nonempty(pred, "y_pred")
        self.dtype = pred.dtype
        self.from_logits = check_bool(from_logits, "from_logits")
        self.lo, self.hi = clip_bounds(clip, pred.dtype)
        self.smoothing = check_unit_interval_scalar(label_smoothing, "label_smoothing")
        self.axis = _class_axis(axis, pred.ndim)
        self.pred_shape = pred.shape
        moved_shape = np.moveaxis(pred, self.axis, -1).shape
        self.sample_shape = moved_shape[:-1]
        k = moved_shape[-1]
        self.pred = _rows(pred, self.axis)
        self.class_weight, self._largest_cw = _class_weight(class_weight, k)
        self.sample_weight, self._largest_sw = _sample_weight(sample_weight, self.sample_shape)
        if not self.from_logits:
            check_in_range(self.pred, "y_pred", 0.0, 1.0, "probabilities")
        y = as_array(y_true, "y_true")
        if y.shape == pred.shape:
            self.soft = True
            if ignore_index is not None:
                raise ValueError("ignore_index applies to class indices only; y_true holds distributions")
            target = as_float_array(y, "y_true")
            self.target = _rows(target, self.axis)
            check_in_range(self.target, "y_true", 0.0, 1.0, "target probabilities")
        elif y.shape == self.sample_shape:
            self.soft = False
            self.has_ignore = ignore_index is not None
            self.target, self.ignore = _index_targets(y, k, _check_ignore_index(ignore_index))
        else:
            raise ValueError(
                f"y_true must have shape {self.sample_shape} (class indices) or {pred.shape} "
                f"(distributions) to match y_pred of shape {pred.shape}; got {y.shape}"
            )

    def rescale_for_mean(self):
        """Scale extreme weights by powers of two where ``"mean"`` divides
        by them (sample weights; class weights too for class indices): the
        mean is unchanged, and its sums neither overflow nor underflow."""
        self.sample_weight = scaled_for_mean(self.sample_weight, self._largest_sw)
        if not self.soft:
            self.class_weight = scaled_for_mean(self.class_weight, self._largest_cw)

    def normalizer(self):
        """The divisor of ``reduction="mean"`` (PyTorch's definition)."""
        sw = self.sample_weight
        if self.soft:
            return float(np.sum(sw)) if sw.size else float(self.pred.shape[0])
        keep = self.target != self.ignore if self.has_ignore else slice(None)
        w = self.class_weight[self.target[keep]] if self.class_weight.size else None
        if sw.size:
            w = sw[keep] if w is None else w * sw[keep]
        if w is None:
            return float(np.count_nonzero(keep)) if self.has_ignore else float(self.target.shape[0])
        return float(np.sum(w))

    def run(self, scale, losses, grad):
        """Call the kernel (``losses``/``grad``: arrays to fill, or None); returns the weighted loss sum."""
        # None for what this case does not use: the kernels then compile
        # only this case's formulas (see fastxent._kernels.categorical).
        smoothing = self.smoothing
        if self.from_logits:
            case = (True, None, None)
            if smoothing == 0.0 and not self.soft:
                smoothing = None
        else:
            case = (None, self.lo, self.hi)
        class_weight = read_only(self.class_weight)
        if self.soft:
            options = (class_weight, smoothing, *case, scale)
        else:
            options = (class_weight, smoothing, self.ignore, *case, scale)
        arrays = (read_only(self.target), read_only(self.pred), read_only(self.sample_weight))
        work = row_work(self.pred.shape[0], self.pred.size)
        loss_only = True if grad is None else None  # see fastxent._kernels.categorical's drivers
        total, _ = run(rows_driver_parallel, rows_driver_serial, work, *arrays, options, losses, grad, loss_only)
        if not np.isfinite(total):
            self._explain_nonfinite()
        return total

    def _explain_nonfinite(self):
        """Raise for invalid logits; a -inf logit (a masked class) is allowed
        and gives an infinite loss where it is the target's."""
        if self.from_logits:
            n_nan, _, hi = scan(self.pred)
            if n_nan or hi == np.inf:
                raise ValueError("y_pred contains NaN or +infinity (logits must be finite or -inf)")
        else:
            check_finite(self.pred, "y_pred")


def chunk_totals(
    y_true,
    y_pred,
    *,
    from_logits,
    sample_weight,
    class_weight,
    label_smoothing,
    ignore_index,
    axis,
    clip,
    check_classes=None,
):
    """What a chunk adds to a streaming cross-entropy, validated as
    :func:`cross_entropy` validates it.

    ``check_classes``, when given, is called with the number of classes of
    ``y_pred`` once the arguments are checked and before the pass over the
    data, so that a chunk of the wrong width fails first (and cheaply).

    Returns
    -------
    loss_sum : float
        The weighted loss sum (``reduction="sum"``).
    normalizer : float
        The divisor of ``reduction="mean"`` (PyTorch's definition).
    n_samples : int
        The number of samples (rows along the class axis).
    n_classes : int
    """
    problem = _Problem(
        y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, axis, clip
    )
    n_samples, n_classes = problem.pred.shape
    if check_classes is not None:
        check_classes(n_classes)
    total = problem.run(1.0, None, None)
    return total, problem.normalizer(), n_samples, n_classes


def _prepare(
    y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, reduction, axis, clip
):
    reduction = check_reduction(reduction)
    problem = _Problem(
        y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, axis, clip
    )
    if reduction == "mean":
        problem.rescale_for_mean()
    return problem, reduction


def _finish(problem, reduction, total, losses):
    if reduction == "none":
        return np.reshape(losses, problem.sample_shape)
    if reduction == "sum":
        return float(total)
    denom = problem.normalizer()
    return float(total / denom) if denom != 0.0 else 0.0


def _grad_scale(problem, reduction):
    if reduction != "mean":
        return 1.0
    denom = problem.normalizer()
    return 1.0 / denom if denom != 0.0 else 0.0


def _new_grad(problem):
    """A C-ordered (rows, k) gradient and the same memory shaped like y_pred."""
    rows, k = problem.pred.shape
    grad2d = np.empty((rows, k), dtype=problem.dtype)
    moved_shape = (*problem.sample_shape, k)
    return grad2d, np.moveaxis(grad2d.reshape(moved_shape), -1, problem.axis)


def _value_and_grad(problem, reduction, want_value):
    grad2d, grad = _new_grad(problem)
    n = problem.pred.shape[0]
    losses = np.empty(n) if (want_value and reduction == "none") else None
    total = problem.run(_grad_scale(problem, reduction), losses, grad2d)
    return (_finish(problem, reduction, total, losses) if want_value else None), grad


def cross_entropy(
    y_true,
    y_pred,
    *,
    from_logits=False,
    sample_weight=None,
    class_weight=None,
    label_smoothing=0.0,
    ignore_index=None,
    reduction="mean",
    axis=-1,
    clip="auto",
):
    """Categorical cross-entropy (PyTorch's ``cross_entropy`` semantics).

    Per sample ``i`` with class index ``y``: ``-sum_c w_c t_c log q_c`` with
    ``t = (1 - eps) onehot(y) + eps / k``, ``q = softmax(y_pred)`` for
    logits, times ``sample_weight[i]``.

    Parameters
    ----------
    y_true : array-like
        Class indices, shaped like ``y_pred`` without its class axis (int,
        or float holding integers), or target distributions shaped like
        ``y_pred`` (one-hot or soft; the loss of a row is
        ``H(t, q) = -sum_c t_c log q_c``).
    y_pred : array-like of float, at least 2-D
        Probabilities, or logits with ``from_logits=True`` (any finite
        magnitude; -inf marks an impossible class).  float32 and float64 are
        used as they are (any order, strides, read-only, memmap).
    from_logits : bool, default False
        ``y_pred`` holds logits (a stable log-softmax is applied).
        ``True``/``False`` or ``np.bool_``; anything else is a ``TypeError``.
    sample_weight : array-like of shape ``y_true``'s sample shape, optional
        Non-negative weight per sample.
    class_weight : array-like of shape (k,), optional
        Non-negative weight per class (PyTorch's ``weight``).
    label_smoothing : float in [0, 1], default 0
        The target becomes ``(1 - eps) t + eps / k``.
    ignore_index : int, optional
        Samples whose class index equals it contribute nothing (and are not
        counted by ``"mean"``; all ignored gives 0).  Any Python int: one
        beyond int64 ignores nothing unless a uint64 target equals it
        (targets are compared exactly, never wrapped).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides the weighted sum by the sum of
        ``sample_weight[i] * class_weight[y[i]]`` over non-ignored samples
        (class indices) or by ``sum(sample_weight)`` (``n`` without it;
        distributions), exact even for weights near the float64 limits
        (they are rescaled by a power of two); ``"none"`` returns each
        sample's weighted loss (float64).
    axis : int, default -1
        The class axis of ``y_pred``.
    clip : "auto", None or float, default "auto"
        Probabilities are clipped to ``[eps, 1 - eps]`` (``"auto"``:
        ``eps = finfo(dtype).eps``; ``None``: no clipping, so a zero
        probability of the true class gives ``inf``).  Not used for logits.

    Array arguments in another byte order (``>f8``) are converted once; a
    masked array is used as its data when nothing is masked, and one with
    masked entries is a ``TypeError`` naming the argument.

    Returns
    -------
    float, or ndarray of float64 shaped like the samples for ``"none"``

    Examples
    --------
    >>> import fastxent
    >>> logits = [[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]]
    >>> fastxent.cross_entropy([1, 0], logits, from_logits=True)
    1.138293...
    >>> fastxent.cross_entropy([1, 0], logits, from_logits=True, label_smoothing=0.1, reduction="none")
    array([0.507605..., 1.818981...])
    >>> fastxent.cross_entropy([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]], logits, from_logits=True)
    0.763293...
    >>> fastxent.cross_entropy([1, 2], [[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    0.636482...
    """
    problem, reduction = _prepare(
        y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, reduction, axis, clip
    )
    losses = np.empty(problem.pred.shape[0]) if reduction == "none" else None
    total = problem.run(1.0, losses, None)
    return _finish(problem, reduction, total, losses)


def cross_entropy_grad(
    y_true,
    y_pred,
    *,
    from_logits=False,
    sample_weight=None,
    class_weight=None,
    label_smoothing=0.0,
    ignore_index=None,
    reduction="mean",
    axis=-1,
    clip="auto",
):
    """Gradient of :func:`cross_entropy` with respect to ``y_pred`` as given.

    Logits: ``(A softmax(z) - w * t) * sample_weight / normalizer`` per row;
    probabilities: ``-w t / q`` at the clipped ``q`` (0 where ``t = 0``).
    For ``reduction="none"`` it is the gradient of the sum of the losses.

    Parameters
    ----------
    y_true : array-like
        Class indices, shaped like ``y_pred`` without its class axis (int,
        or float holding integers), or target distributions shaped like
        ``y_pred`` (one-hot or soft; the loss of a row is
        ``H(t, q) = -sum_c t_c log q_c``).
    y_pred : array-like of float, at least 2-D
        Probabilities, or logits with ``from_logits=True`` (any finite
        magnitude; -inf marks an impossible class).  float32 and float64 are
        used as they are (any order, strides, read-only, memmap).
    from_logits : bool, default False
        ``y_pred`` holds logits (a stable log-softmax is applied).
        ``True``/``False`` or ``np.bool_``; anything else is a ``TypeError``.
    sample_weight : array-like of shape ``y_true``'s sample shape, optional
        Non-negative weight per sample.
    class_weight : array-like of shape (k,), optional
        Non-negative weight per class (PyTorch's ``weight``).
    label_smoothing : float in [0, 1], default 0
        The target becomes ``(1 - eps) t + eps / k``.
    ignore_index : int, optional
        Samples whose class index equals it contribute nothing (and are not
        counted by ``"mean"``; all ignored gives 0).  Any Python int: one
        beyond int64 ignores nothing unless a uint64 target equals it
        (targets are compared exactly, never wrapped).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides the weighted sum by the sum of
        ``sample_weight[i] * class_weight[y[i]]`` over non-ignored samples
        (class indices) or by ``sum(sample_weight)`` (``n`` without it;
        distributions), exact even for weights near the float64 limits
        (they are rescaled by a power of two); ``"none"`` returns each
        sample's weighted loss (float64).
    axis : int, default -1
        The class axis of ``y_pred``.
    clip : "auto", None or float, default "auto"
        Probabilities are clipped to ``[eps, 1 - eps]`` (``"auto"``:
        ``eps = finfo(dtype).eps``; ``None``: no clipping, so a zero
        probability of the true class gives ``inf``).  Not used for logits.

    Array arguments in another byte order (``>f8``) are converted once; a
    masked array is used as its data when nothing is masked, and one with
    masked entries is a ``TypeError`` naming the argument.

    Returns
    -------
    ndarray shaped like ``y_pred``, of its dtype (float32 or float64)

    Examples
    --------
    >>> import fastxent
    >>> fastxent.cross_entropy_grad([1, 0], [[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]], from_logits=True).round(6)
    array([[ 0.045015, -0.16738 ,  0.122364],
           [-0.42286 ,  0.07714 ,  0.345719]])
    """
    problem, reduction = _prepare(
        y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, reduction, axis, clip
    )
    return _value_and_grad(problem, reduction, want_value=False)[1]


def cross_entropy_value_and_grad(
    y_true,
    y_pred,
    *,
    from_logits=False,
    sample_weight=None,
    class_weight=None,
    label_smoothing=0.0,
    ignore_index=None,
    reduction="mean",
    axis=-1,
    clip="auto",
):
    """:func:`cross_entropy` and :func:`cross_entropy_grad` in one pass.

    Parameters
    ----------
    y_true : array-like
        Class indices, shaped like ``y_pred`` without its class axis (int,
        or float holding integers), or target distributions shaped like
        ``y_pred`` (one-hot or soft; the loss of a row is
        ``H(t, q) = -sum_c t_c log q_c``).
    y_pred : array-like of float, at least 2-D
        Probabilities, or logits with ``from_logits=True`` (any finite
        magnitude; -inf marks an impossible class).  float32 and float64 are
        used as they are (any order, strides, read-only, memmap).
    from_logits : bool, default False
        ``y_pred`` holds logits (a stable log-softmax is applied).
        ``True``/``False`` or ``np.bool_``; anything else is a ``TypeError``.
    sample_weight : array-like of shape ``y_true``'s sample shape, optional
        Non-negative weight per sample.
    class_weight : array-like of shape (k,), optional
        Non-negative weight per class (PyTorch's ``weight``).
    label_smoothing : float in [0, 1], default 0
        The target becomes ``(1 - eps) t + eps / k``.
    ignore_index : int, optional
        Samples whose class index equals it contribute nothing (and are not
        counted by ``"mean"``; all ignored gives 0).  Any Python int: one
        beyond int64 ignores nothing unless a uint64 target equals it
        (targets are compared exactly, never wrapped).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides the weighted sum by the sum of
        ``sample_weight[i] * class_weight[y[i]]`` over non-ignored samples
        (class indices) or by ``sum(sample_weight)`` (``n`` without it;
        distributions), exact even for weights near the float64 limits
        (they are rescaled by a power of two); ``"none"`` returns each
        sample's weighted loss (float64).
    axis : int, default -1
        The class axis of ``y_pred``.
    clip : "auto", None or float, default "auto"
        Probabilities are clipped to ``[eps, 1 - eps]`` (``"auto"``:
        ``eps = finfo(dtype).eps``; ``None``: no clipping, so a zero
        probability of the true class gives ``inf``).  Not used for logits.

    Array arguments in another byte order (``>f8``) are converted once; a
    masked array is used as its data when nothing is masked, and one with
    masked entries is a ``TypeError`` naming the argument.

    Returns
    -------
    (value, grad)

    Examples
    --------
    >>> import fastxent
    >>> logits = [[1.0, 3.0, 2.0], [0.5, 0.5, 2.0]]
    >>> value, grad = fastxent.cross_entropy_value_and_grad([1, 0], logits, from_logits=True)
    >>> value
    1.138293...
    >>> grad.round(6)
    array([[ 0.045015, -0.16738 ,  0.122364],
           [-0.42286 ,  0.07714 ,  0.345719]])
    """
    problem, reduction = _prepare(
        y_true, y_pred, from_logits, sample_weight, class_weight, label_smoothing, ignore_index, reduction, axis, clip
    )
    return _value_and_grad(problem, reduction, want_value=True)
