"""``log_loss`` and ``d2_log_loss_score``: drop-in replacements for scikit-learn's.

Same arguments, values (float64: 1e-12 relative), errors, warnings and
message texts as ``sklearn.metrics.log_loss`` / ``d2_log_loss_score`` 1.9,
without importing scikit-learn, SciPy or pandas (pandas objects are used
through ``__array__``).

Layers: :func:`log_loss` validates and coerces in Python, one fused kernel
pass (:mod:`fastxent._kernels.log_loss`) computes the loss sum, the weight
sum, the per-class weights and every statistic validation needs (NaN/inf,
range of ``y_proba``, row sums, unknown labels), and
:func:`log_loss_from_totals` / :func:`d2_from_totals` finish from those
totals.  Errors are raised in
scikit-learn's order even though most checks come from that single pass.

Deliberate differences from scikit-learn
----------------------------------------
* float32 / float16 ``y_proba``: the loss is accumulated in float64
  (scikit-learn sums in the input dtype), so results agree to that dtype's
  precision; float16 is widened to float32 for the kernel (one temporary),
  so its ``1 - p`` is rounded in float32.  The row-sum check is made in
  float64, so a float32/float16 row within a rounding error of the
  tolerance may warn differently.
* ``InvalidParameterError`` / ``UndefinedMetricWarning``: scikit-learn's
  own classes when scikit-learn is already imported (so code that catches
  them keeps working), else fastxent's classes of the same names and bases.
* String ``sample_weight`` fails in NumPy's float conversion
  (``ValueError: could not convert string to float``) instead of
  scikit-learn's ``TypeError`` from ``np.average``.
* Sparse ``y_true`` / ``y_proba`` are rejected with a ``TypeError``.
* Masked arrays get scikit-learn's outcome (masked ``y_proba``: its data;
  masked ``sample_weight``: see ``_has_masked``); masked labels raise its
  ``TypeError``, whose message fastxent completes with the argument's name.
"""

import math
import warnings
from typing import NamedTuple

import numpy as np

from .._infra.dispatch import row_work, run
from .._infra.floats import FLOAT64_EPS
from .._kernels.log_loss import (
    LOSS,
    MISSES,
    P_BAD,
    ROW_DEV,
    STATS,
    W_BAD,
    W_NONZERO,
    WEIGHT,
    Y_MAX,
    Y_MIN,
    binary_scan_parallel,
    binary_scan_serial,
    multiclass_scan_parallel,
    multiclass_scan_serial,
    split_totals,
    work_arrays,
)
from . import labels as _labels
from .log_loss_validation import (
    FLOAT_DTYPES,
    NOT_A_PARAMETER,
    InvalidParameterError,
    UndefinedMetricWarning,
    check_consistent_length,
    check_params,
    finite_error,
    num_samples,
    proba_array,
    raise_proba_errors,
    undefined_metric_warning,
    weights_array,
)
from .validation import native_order, read_only

__all__ = ["log_loss", "d2_log_loss_score", "InvalidParameterError", "UndefinedMetricWarning"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Totals(NamedTuple):
    """What one validated pass yields: weighted loss sum, weight sum, class
    weights (length K, in the order of ``classes``), sample count, whether
    weights were given and how many were non-zero."""

    loss: float
    weight: float
    class_weight: np.ndarray
    n: int
    classes: np.ndarray
    weighted: bool
    nonzero: int


def _kernel_labels(y_true):
    """(``y_true`` as an array the kernels read directly -- int, bool as a
    uint8 view, float32/64 --, its dtype), or (None, None) when it needs the
    general label path."""
    if isinstance(y_true, np.ma.MaskedArray):
        if np.ma.is_masked(y_true):  # the label path gives scikit-learn's outcome
            return None, None
        y = np.ma.getdata(y_true)
    elif isinstance(y_true, np.ndarray):
        y = y_true
    elif isinstance(y_true, (list, tuple)) or hasattr(y_true, "__array__"):
        try:
            y = np.asarray(y_true)
        except (ValueError, TypeError):
            return None, None
    else:
        return None, None
    if y.ndim != 1:
        return None, None
    y = native_order(y)
    kind = y.dtype.kind
    if kind == "b":
        return y.view(np.uint8), y.dtype
    if kind == "i" or (kind == "u" and y.dtype.itemsize < 8) or y.dtype in FLOAT_DTYPES[:2]:
        return y, y.dtype
    return None, None


def binary_scan(y, neg, pos, p, w, lo, hi):
    """Fused statistics of a 1-D (positive-class) ``p``, serial or parallel by
    size: ``(summary, counts, weighted_counts)`` (see ``STATS``; class 0 is
    ``neg``, class 1 is ``pos``)."""
    blocks, totals = work_arrays(p.shape[0], 2)
    one = p.dtype.type(1)
    y, p, w = read_only(y), read_only(p), read_only(w)
    run(binary_scan_parallel, binary_scan_serial, p.shape[0], y, neg, pos, p, w, lo, hi, one, blocks, totals)
    return split_totals(totals)


def multiclass_scan(y, base, table, P, w, lo, hi):
    """Fused statistics of a 2-D ``P`` whose true column is ``table[y - base]``,
    serial or parallel by size: ``(summary, counts, weighted_counts)``."""
    blocks, totals = work_arrays(P.shape[0], P.shape[1])
    work = row_work(P.shape[0], P.size)
    y, table, P, w = read_only(y), read_only(table), read_only(P), read_only(w)
    run(multiclass_scan_parallel, multiclass_scan_serial, work, y, base, table, P, w, lo, hi, blocks, totals)
    return split_totals(totals)


def _run(y, plan, P, w, lo, hi):
    if P.ndim == 1:
        neg, pos = plan
        return binary_scan(y, neg, pos, P, w, lo, hi)
    base, table = plan
    return multiclass_scan(y, base, table, P, w, lo, hi)


def _binary_plan(classes, y):
    cast = float if y.dtype.kind == "f" else int
    return cast(classes[0]), cast(classes[1])


def _fast_plan(y, classes, P):
    """Plan for the kernel given known classes, or None."""
    if P.ndim == 1:
        if classes.shape[0] != 2 or classes.dtype.kind not in "biuf":
            return None
        if classes.dtype.kind == "f" and not np.all(np.floor(classes) == classes):
            return None
        if y.dtype.kind != "f" and not all(_INT64_MIN <= int(c) <= _INT64_MAX for c in classes):
            return None
        return _binary_plan(classes, y)
    if y.dtype.kind == "f":
        return None
    return _labels.int_classes_table(classes)


def _guess_classes(y, k, y_dtype):
    """Classes assumed before the pass when ``labels`` is None: 0 .. K-1."""
    if y_dtype == np.bool_ and k != 2:
        return np.arange(k)
    if y_dtype.kind in "iu" and k - 1 > np.iinfo(y_dtype).max:
        return np.arange(k)  # classes the labels' dtype cannot hold: never all present
    return np.arange(k).astype(y_dtype)


def _clip_bounds(dtype):
    """(eps, lo, hi): scikit-learn clips to [eps, 1 - eps] in the input dtype."""
    bounds = _CLIP_BOUNDS.get(dtype)
    if bounds is None:
        eps = float(np.finfo(dtype).eps)
        bounds = _CLIP_BOUNDS[dtype] = (eps, eps, float(dtype.type(1) - dtype.type(eps)))
    return bounds


_CLIP_BOUNDS = {}


def _classes_of_labels(labels):
    """(classes of ``labels``, whether they were unsorted, deferred error)."""
    try:
        classes = _labels.fitted_classes(labels, "labels")[0]
        return classes, not np.all(classes == labels), None
    except (ValueError, TypeError) as error:
        return None, False, error


def _first_pass(y_true, labels, label_classes, P, w, lo, hi):
    """Run the kernel once: on the integer/bool/float labels directly when
    possible (assuming classes 0..K-1 when ``labels`` is None), else on the
    codes of the general label path.  Returns ``(stats, classes, verified,
    deferred_error)``; ``verified`` is False when the labels' classes are
    still to be found (:func:`_retry_labels`)."""
    k = P.shape[1] if P.ndim == 2 else 2
    y, y_dtype = _kernel_labels(y_true)
    if y is not None:
        classes = label_classes if label_classes is not None else _guess_classes(y, k, y_dtype)
        plan = _fast_plan(y, classes, P) if classes.shape[0] >= 2 else None
        if plan is not None:
            stats = _run(y, plan, P, w, lo, hi)
            summary, counts = stats[0], stats[1]
            verified = summary[MISSES] == 0 and (label_classes is not None or bool(np.all(counts > 0)))
            return stats, classes, verified, None
    try:
        encoding = _labels.encode(y_true, labels, label_classes)
    except (ValueError, TypeError) as error:
        return None, None, False, error
    if encoding.codes is not None:
        return _run_codes(encoding, P, w, lo, hi), encoding.classes, True, None
    return _indicator_stats(encoding.indicator, P, w, lo, hi), encoding.classes, True, None


def validated_totals(y_true, y_proba, sample_weight, labels, label_classes=None, allow_zero_weights=False):
    """Validate like scikit-learn (same errors, warnings, order) and return
    the :class:`Totals` of one fused kernel pass."""
    P = proba_array(y_proba)
    try:
        check_consistent_length(P, y_true, sample_weight)
    except (ValueError, TypeError):
        raise_proba_errors(P)
        raise
    w, w_dtype = weights_array(sample_weight, P)
    kernel_P = P.astype(np.float32) if P.dtype == np.float16 else P
    eps, lo, hi = _clip_bounds(P.dtype)

    lexicographic = False
    deferred = None
    if labels is not None and label_classes is None:
        label_classes, lexicographic, deferred = _classes_of_labels(labels)
    stats = None
    if deferred is None:
        stats, classes, verified, deferred = _first_pass(y_true, labels, label_classes, kernel_P, w, lo, hi)
    if stats is None:  # a label error: raise it after the checks that come first
        raise_proba_errors(P)
        if w is not None:
            _raise_weight_errors(w, w_dtype, None, allow_zero_weights)
        if lexicographic:
            _labels.lexicographic_warning(label_classes, labels)
        raise deferred

    summary = stats[0]
    _raise_value_errors(summary, P, w, w_dtype, allow_zero_weights)
    if lexicographic:
        _labels.lexicographic_warning(label_classes, labels)
    if not verified:
        stats, classes = _retry_labels(y_true, labels, label_classes, summary, kernel_P, w, lo, hi)
    if P.ndim == 2 and summary[ROW_DEV] > 1e-8 + math.sqrt(eps):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=3,
        )
    k = P.shape[1] if P.ndim == 2 else 2
    if classes.shape[0] != k:
        if labels is None:
            raise ValueError(
                "y_true and y_prob contain different number of "
                "classes: {0} vs {1}. Please provide the true "
                "labels explicitly through the labels argument. "
                "Classes found in "
                "y_true: {2}".format(classes.shape[0], k, classes)
            )
        raise ValueError(
            "The number of classes in labels is different from that in y_prob. Classes found in labels: {0}".format(
                classes
            )
        )
    summary, _, class_weight = stats
    return Totals(
        float(summary[LOSS]),
        float(summary[WEIGHT]),
        class_weight,
        P.shape[0],
        classes,
        w is not None,
        int(summary[W_NONZERO]),
    )


def _run_codes(encoding, P, w, lo, hi):
    n_classes = encoding.classes.shape[0]
    if P.ndim == 1:
        return binary_scan(encoding.codes, 0, 1, P, w, lo, hi)
    return multiclass_scan(encoding.codes, 0, np.arange(n_classes), P, w, lo, hi)


def _indicator_stats(T, P, w, lo, hi):
    """Statistics of a label-indicator ``y_true`` (rare; plain NumPy)."""
    P2 = np.stack([1 - P, P], axis=1) if P.ndim == 1 else P
    Pd = P2.astype(np.float64)
    ww = w if w is not None else np.ones(P2.shape[0])
    summary = np.zeros(len(STATS))
    if T.shape[1] == P2.shape[1]:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(T == 0, 0.0, T * np.log(np.clip(Pd, lo, hi)))
        summary[LOSS] = -math.fsum(terms.sum(axis=1) * ww)
    summary[WEIGHT] = math.fsum(ww)
    summary[P_BAD] = np.count_nonzero(~((Pd >= 0) & (Pd <= 1)))
    summary[W_BAD] = np.count_nonzero(~np.isfinite(ww))
    summary[W_NONZERO] = np.count_nonzero(ww)
    summary[ROW_DEV] = np.abs(Pd.sum(axis=1) - 1).max() if P.ndim == 2 else 0.0
    class_weight = (T * ww[:, None]).sum(axis=0) if T.shape[1] == P2.shape[1] else None
    return summary, None, class_weight


def _raise_weight_errors(w, w_dtype, summary, allow_zero_weights):
    if summary is None:
        finite = np.isfinite(w).all()
        nonzero = np.count_nonzero(w)
    else:
        finite = summary[W_BAD] == 0
        nonzero = summary[W_NONZERO]
    if not finite:
        raise finite_error(w.astype(w_dtype, copy=False), "sample_weight")
    if nonzero == 0 and not allow_zero_weights:
        raise ValueError("Sample weights must contain at least one non-zero number.")


def _raise_value_errors(summary, P, w, w_dtype, allow_zero_weights):
    if summary[P_BAD]:
        raise_proba_errors(P)
    if w is not None:
        _raise_weight_errors(w, w_dtype, summary, allow_zero_weights)


def _exact_class_bounds(y_min, y_max, dtype):
    """Whether the labels' min and max (float64 statistics of the pass) can
    be used as classes: integral, and exact -- integer labels beyond 2**53
    are rounded in float64; float labels must convert to int64 exactly,
    as scikit-learn's ``type_of_target`` requires of integral floats."""
    if not (math.isfinite(y_min) and math.isfinite(y_max)):
        return False
    if not (y_min.is_integer() and y_max.is_integer()):
        return False
    if dtype.kind == "f":
        return -(2.0**63) <= y_min and y_max < 2.0**63
    return -(2.0**53) <= y_min and y_max <= 2.0**53


def _retry_labels(y_true, labels, label_classes, summary, P, w, lo, hi):
    """The first pass assumed classes 0..K-1 (or ``labels``) and the data
    disagreed: find the real classes -- O(N) for integers -- and rerun, or
    raise scikit-learn's label error."""
    y, y_dtype = _kernel_labels(y_true)
    classes = None
    if labels is None and y is not None:
        y_min, y_max = summary[Y_MIN], summary[Y_MAX]
        if _exact_class_bounds(y_min, y_max, y.dtype):
            if P.ndim == 1 and y_min < y_max:
                plan = _binary_plan(np.array([y_min, y_max]), y)
                stats = binary_scan(y, plan[0], plan[1], P, w, lo, hi)
                if stats[0][MISSES] == 0:
                    return stats, np.array([y_min, y_max]).astype(y_dtype)
            elif P.ndim == 2 and y.dtype.kind != "f":
                classes = _labels.present_classes(y, int(y_min), int(y_max))
    if classes is None:
        encoding = _labels.encode(y_true, labels, label_classes)
        classes = encoding.classes
        if classes.shape[0] != (P.shape[1] if P.ndim == 2 else 2):
            return None, classes
        return _run_codes(encoding, P, w, lo, hi), classes
    classes = classes.astype(y_dtype)
    if classes.shape[0] == 1:
        _labels.raise_one_label(classes, None)
    if classes.shape[0] != P.shape[1]:
        return None, classes
    return _run(y, _labels.int_classes_table(classes), P, w, lo, hi), classes


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------


def log_loss_from_totals(totals, normalize=True):
    """Finish the log loss from validated totals (no validation)."""
    if not normalize:
        return totals.loss
    if totals.weighted:
        if totals.weight == 0:
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        return totals.loss / totals.weight
    return totals.loss / totals.n


def d2_from_class_weights(loss, class_weight, total_weight, null_proba=None):
    """:math:`D^2` of a weighted loss sum against the null model's.

    .. math:: D^2 = 1 - \\frac{L}{L_0}, \\qquad
              L_0 = -\\sum_{c: W_c \\ne 0} W_c \\log \\operatorname{clip}(\\pi_c, \\epsilon, 1 - \\epsilon)

    The null model predicts the weighted class frequencies
    :math:`\\pi_c = W_c / W` (or ``null_proba`` when given), clipped with
    float64's :math:`\\epsilon` as scikit-learn does.

    Parameters
    ----------
    loss : float
        The model's weighted loss sum :math:`L`.
    class_weight : sequence of float
        :math:`W_c`, the weight of the samples of each class.
    total_weight : float
        :math:`W`, the weight of all samples (unused with ``null_proba``).
    null_proba : sequence of float, optional

    Returns
    -------
    float
    """
    if null_proba is None:
        null_proba = [w_c / total_weight for w_c in class_weight]
    null_loss = 0.0
    for w_c, p_c in zip(class_weight, null_proba):
        if w_c != 0:
            null_loss -= w_c * math.log(min(max(p_c, FLOAT64_EPS), 1.0 - FLOAT64_EPS))
    return float(1 - (loss / null_loss))


def d2_from_totals(totals, null_proba=None):
    """:func:`d2_from_class_weights` of validated totals (``ZeroDivisionError``,
    as scikit-learn raises, when weights were given and sum to zero)."""
    if null_proba is None and totals.weighted and totals.weight == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    total = totals.weight if totals.weighted else float(totals.n)
    return d2_from_class_weights(totals.loss, totals.class_weight, total, null_proba)


# A masked ``sample_weight`` with masked entries: scikit-learn validates its
# data, then averages with ``np.average``, which skips masked weights (they
# act as 0; all masked gives 0.0), while ``normalize=False`` sums with
# ``np.dot``, which uses the data.  d2_log_loss_score's null model is such an
# average; its two losses are such sums.


def _has_masked(x):
    return isinstance(x, np.ma.MaskedArray) and np.ma.is_masked(x)


def _unmasked_totals(y_true, y_proba, sample_weight, labels):
    """Totals with masked weights as 0, or None when every weight is masked
    (after the call on the data has validated everything and warned)."""
    if np.ma.getmaskarray(sample_weight).all():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validated_totals(y_true, y_proba, np.ma.filled(sample_weight, 0), labels, allow_zero_weights=True)


def _masked_null_proba(y_true, y_proba, sample_weight, labels, n_classes):
    totals = _unmasked_totals(y_true, y_proba, sample_weight, labels)
    if totals is None:
        return [0.0] * n_classes
    if totals.weight == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return [w_c / totals.weight for w_c in totals.class_weight]


def log_loss(y_true, y_proba=None, *, normalize=True, sample_weight=None, labels=None, y_pred="deprecated"):
    """Log loss, aka logistic loss or cross-entropy loss (``sklearn.metrics.log_loss``).

    .. math:: L = -\\frac{1}{\\sum_i w_i} \\sum_i w_i \\log
              \\operatorname{clip}(p_{i, y_i}, \\epsilon, 1 - \\epsilon)

    Parameters
    ----------
    y_true : array-like or label indicator matrix
        True labels (any sortable labels: int, bool, float, str).
    y_proba : array-like of float, shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities; columns follow the sorted classes.  1-D input
        is the probability of the positive (larger) class.  Values are
        clipped to ``[eps, 1 - eps]`` with ``eps = finfo(y_proba.dtype).eps``.
    normalize : bool, default=True
        Mean loss per sample (weighted mean) if True, else the sum.
    sample_weight : array-like of shape (n_samples,), default=None
    labels : array-like, default=None
        All class labels; inferred from ``y_true`` when not given.
    y_pred : deprecated alias of ``y_proba`` (scikit-learn 1.9).

    Returns
    -------
    loss : float

    Notes
    -----
    Accumulates in float64 (scikit-learn computes in the input's dtype, so
    float32 and float16 input agree to that dtype's precision).

    Examples
    --------
    >>> import fastxent
    >>> fastxent.log_loss(["spam", "ham", "ham", "spam"], [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]])
    0.216161...
    >>> fastxent.log_loss([0, 1, 1], [0.1, 0.8, 0.6], normalize=False)
    0.839329...
    """
    y_proba = check_params("log_loss", y_true, y_proba, normalize, sample_weight, labels, y_pred)
    totals = validated_totals(y_true, y_proba, sample_weight, labels)
    if normalize and _has_masked(sample_weight):
        totals = _unmasked_totals(y_true, y_proba, sample_weight, labels)
        if totals is None:
            return 0.0
    return float(log_loss_from_totals(totals, normalize))


def d2_log_loss_score(y_true, y_proba=None, *, sample_weight=None, labels=None, y_pred="deprecated"):
    """:math:`D^2` score, the fraction of log loss explained
    (``sklearn.metrics.d2_log_loss_score``).

    .. math:: D^2 = 1 - \\frac{L(y, p)}{L(y, \\bar p)}, \\qquad
              \\bar p_c = \\frac{\\sum_{i: y_i = c} w_i}{\\sum_i w_i}

    Both losses are unnormalized weighted sums, computed in one pass over
    the data.  NaN (with an ``UndefinedMetricWarning``) for fewer than two
    samples.  Parameters as :func:`log_loss`.

    Examples
    --------
    >>> import fastxent
    >>> fastxent.d2_log_loss_score(["spam", "ham", "ham", "spam"], [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]])
    0.688144...
    """
    y_proba = check_params("d2_log_loss_score", y_true, y_proba, NOT_A_PARAMETER, sample_weight, labels, y_pred)
    check_consistent_length(y_proba, y_true, sample_weight)
    if num_samples(y_proba) < 2:
        warnings.warn(
            "D^2 score is not well-defined with less than two samples.", undefined_metric_warning(), stacklevel=2
        )
        return float("nan")
    totals = validated_totals(y_true, y_proba, sample_weight, labels)
    null_proba = None
    if _has_masked(sample_weight):
        null_proba = _masked_null_proba(y_true, y_proba, sample_weight, labels, totals.classes.shape[0])
    return d2_from_totals(totals, null_proba)
