"""Input checks of ``log_loss``: scikit-learn's parameter validation and
``check_array`` / ``_check_sample_weight`` / ``check_consistent_length``,
reimplemented with the same messages (scikit-learn is never imported).

Only the structural checks live here; the value checks (NaN/inf, range of
``y_proba``, weights) come from the kernel pass, and these functions produce
their messages (``_raise_proba_errors`` also serves the error paths where no
pass has run).
"""

import sys
import warnings

import numpy as np

__all__ = [
    "InvalidParameterError",
    "UndefinedMetricWarning",
    "FLOAT_DTYPES",
    "NOT_A_PARAMETER",
    "is_array_like",
    "invalid_parameter",
    "check_params",
    "num_samples",
    "check_consistent_length",
    "finite_error",
    "proba_array",
    "raise_proba_errors",
    "weights_array",
    "undefined_metric_warning",
]

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))
NOT_A_PARAMETER = object()


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type (scikit-learn raises the same-named class)."""


class UndefinedMetricWarning(UserWarning):
    """Warning used when a metric is undefined (scikit-learn's own class is
    used instead when scikit-learn is already imported)."""


def undefined_metric_warning():
    exceptions = sys.modules.get("sklearn.exceptions")
    return getattr(exceptions, "UndefinedMetricWarning", UndefinedMetricWarning)


# --------------------------------------------------------------------------
# Parameter and array checks (scikit-learn's validate_params / check_array)
# --------------------------------------------------------------------------


def is_array_like(x):
    """Whether ``x`` passes scikit-learn's "array-like" parameter constraint."""
    return (hasattr(x, "__len__") or hasattr(x, "shape") or hasattr(x, "__array__")) and not np.isscalar(x)


def invalid_parameter(func, name, what, value):
    """scikit-learn's ``InvalidParameterError`` (its own class when scikit-learn
    is imported) for parameter ``name`` of ``func``, which must be ``what``."""
    validation = sys.modules.get("sklearn.utils._param_validation")
    error_class = getattr(validation, "InvalidParameterError", InvalidParameterError)
    return error_class(f"The {name!r} parameter of {func} must be {what}. Got {value!r} instead.")


def check_params(func, y_true, y_proba, normalize, sample_weight, labels, y_pred):
    if not is_array_like(y_true):
        raise invalid_parameter(func, "y_true", "an array-like", y_true)
    if y_proba is not None and not is_array_like(y_proba):
        raise invalid_parameter(func, "y_proba", "an array-like", y_proba)
    if normalize is not NOT_A_PARAMETER and not isinstance(normalize, (bool, np.bool_)):
        raise invalid_parameter(func, "normalize", "an instance of 'bool' or an instance of 'numpy.bool'", normalize)
    if sample_weight is not None and not is_array_like(sample_weight):
        raise invalid_parameter(func, "sample_weight", "an array-like or None", sample_weight)
    if labels is not None and not is_array_like(labels):
        raise invalid_parameter(func, "labels", "an array-like or None", labels)
    if not (isinstance(y_pred, str) or is_array_like(y_pred)):
        raise invalid_parameter(func, "y_pred", "an array-like or an instance of 'str'", y_pred)
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError("Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use `y_proba` instead.")
        warnings.warn(
            "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. Use `y_proba` instead.",
            FutureWarning,
            stacklevel=3,
        )
        return y_pred
    return y_proba


def num_samples(x):
    if hasattr(x, "fit") and callable(x.fit):
        raise TypeError("Expected sequence or array-like, got %s" % type(x))
    shape = getattr(x, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(
                f"Input should have at least 1 dimension i.e. satisfy `len(x.shape) > 0`, got scalar `{x!r}` instead."
            )
        return int(shape[0])
    try:
        return len(x)
    except TypeError as error:
        raise TypeError("Expected sequence or array-like, got %s" % type(x)) from error


def check_consistent_length(*arrays):
    lengths = [num_samples(x) for x in arrays if x is not None]
    if len(set(lengths)) > 1:
        raise ValueError("Found input variables with inconsistent numbers of samples: %r" % lengths)


def finite_error(arr, input_name):
    padded = input_name and f"{input_name} "
    kind = "NaN" if np.isnan(arr).any() else f"infinity or a value too large for {arr.dtype!r}"
    return ValueError(f"Input {padded}contains {kind}.")


def _as_float_array(x, input_name, float_dtypes):
    """check_array's conversion: an ndarray of one of ``float_dtypes`` (ints,
    bools, objects -> float64); the original array is used when it already is.
    A masked array is used as its data (check_array drops the mask), and
    byte-swapped data is converted to native float64, as NumPy does for it."""
    if isinstance(x, np.ma.MaskedArray):
        x = np.ma.getdata(x)
    dtype = getattr(x, "dtype", None)
    if isinstance(x, np.ndarray) and x.dtype in float_dtypes:
        return x
    if hasattr(x, "tocsr") or hasattr(x, "tocoo"):
        raise TypeError(f"Sparse data was passed for {input_name or 'X'}, but dense data is required.")
    if dtype is not None and dtype in float_dtypes:  # pandas, other __array__ objects
        return np.asarray(x)
    if getattr(dtype, "kind", None) == "c":
        raise ValueError("Complex data not supported\n{}\n".format(np.asarray(x)))
    return np.asarray(x, dtype=np.float64)


def proba_array(y_proba):
    P = _as_float_array(y_proba, "", FLOAT_DTYPES)
    if P.ndim >= 3:
        raise ValueError(f"Found array with dim {P.ndim}, while dim <= 2 is required.")
    if P.ndim == 2 and P.shape[1] == 1:
        P = P[:, 0]  # scikit-learn treats one column as the positive class
    if P.ndim == 0:
        if not np.isfinite(P):
            raise finite_error(P, "")
        num_samples(P)
    if P.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={P.shape}) while a minimum of 1 is required.")
    if P.ndim == 2 and P.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={P.shape}) while a minimum of 1 is required.")
    return P


def raise_proba_errors(P):
    """The checks scikit-learn makes on ``y_proba`` before anything else
    (used on error paths, where no kernel pass has run)."""
    if not np.isfinite(P).all():
        raise finite_error(P, "")
    if P.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {P.max()}")
    if P.min() < 0:
        raise ValueError(f"y_prob contains values lower than 0: {P.min()}")


def weights_array(sample_weight, P):
    """(kernel weights: float64 array or None; original float dtype)."""
    if sample_weight is None:
        return None, None
    try:
        w = _as_float_array(sample_weight, "sample_weight", (np.dtype(np.float64),))
        if np.isscalar(sample_weight) or w.ndim != 1:
            raise_proba_errors(P)
            if not np.isfinite(w).all():
                raise finite_error(w, "sample_weight")
            raise ValueError(
                f"Sample weights must be 1D array or scalar, got "
                f"{w.ndim}D array. Expected either a scalar value "
                f"or a 1D array of length {P.shape[0]}."
            )
    except (ValueError, TypeError):
        raise_proba_errors(P)
        raise
    dtype = getattr(sample_weight, "dtype", None)
    return w, (dtype if dtype is not None and dtype in FLOAT_DTYPES else np.dtype(np.float64))
