"""Class labels of ``log_loss``: scikit-learn's label semantics without scikit-learn.

scikit-learn encodes ``y_true`` with ``LabelBinarizer`` (``type_of_target``,
``unique_labels``, ``label_binarize``): classes are the sorted distinct
labels (of ``labels=`` when given), column ``c`` of ``y_proba`` belongs to
class ``c``.  This module reproduces that contract -- the same accepted
inputs, the same errors and messages -- in two ways:

* :func:`encode` is the general path (strings, objects, non-integral floats,
  label-indicator matrices, anything unusual): NumPy, ``np.unique``,
  O(N log N).  It is also what produces every label error message.
* :func:`int_classes_table` / :func:`present_classes` serve the fast path
  for integer and bool labels: classes are found in O(N) by a presence
  table over ``[min, max]`` (no sort, no one-hot matrix) and each label is
  mapped to its column by a lookup table inside the kernel.
"""

import warnings
from collections.abc import Sequence

import numpy as np

from .._kernels.log_loss import present_values
from .log_loss_validation import num_samples
from .validation import MAX_TABLE, read_only, table_fits

__all__ = [
    "Encoding",
    "encode",
    "target_array",
    "unique_labels",
    "lexicographic_warning",
    "int_classes_table",
    "present_classes",
    "MAX_TABLE",
]


class Encoding:
    """Result of :func:`encode`: sorted ``classes`` and either integer
    ``codes`` (column of each sample) or an ``indicator`` matrix."""

    __slots__ = ("classes", "codes", "indicator")

    def __init__(self, classes, codes=None, indicator=None):
        self.classes = classes
        self.codes = codes
        self.indicator = indicator


def _assert_all_finite(data, input_name):
    padded = input_name and f"{input_name} "
    if np.isnan(data).any():
        raise ValueError(f"Input {padded}contains NaN.")
    if np.isinf(data).any():
        raise ValueError(f"Input {padded}contains infinity or a value too large for {data.dtype!r}.")


def target_array(y):
    """``y`` as an ndarray, as ``type_of_target`` sees it (ragged -> object)."""
    valid = (isinstance(y, Sequence) or hasattr(y, "__array__")) and not isinstance(y, str)
    if not valid:
        raise ValueError("Expected array-like (array or non-string sequence), got %r" % y)
    if y.__class__.__name__ in ("SparseSeries", "SparseArray"):
        raise ValueError("y cannot be class 'SparseSeries' or 'SparseArray'")
    try:
        arr = np.asarray(y)
    except ValueError:
        arr = np.asarray(y, dtype=object)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported\n{}\n".format(arr))
    if arr.ndim >= 1 and arr.shape[0] > 0:
        first = arr[0]
        if isinstance(first, bytes):
            raise TypeError(
                "Support for labels represented as bytes is not supported. Convert "
                "the labels to a string or integer format."
            )
        if not hasattr(first, "__array__") and isinstance(first, Sequence) and not isinstance(first, str):
            raise ValueError(
                "You appear to be using a legacy multi-label data"
                " representation. Sequence of sequences are no"
                " longer supported; use a binary array or sparse"
                " matrix instead - the MultiLabelBinarizer"
                " transformer can convert to this format."
            )
    return arr


def _is_integral_float(arr):
    return arr.dtype.kind == "f" and bool(np.all(arr.astype(np.int64) == arr))


class _Unique:
    """``np.unique(arr)``, computed at most once (it is the costly step for
    string labels, and scikit-learn asks for it up to three times)."""

    __slots__ = ("arr", "value")

    def __init__(self, arr):
        self.arr = arr
        self.value = None

    def __call__(self):
        if self.value is None:
            self.value = np.unique(self.arr)
        return self.value


def target_type(arr, input_name="", unique=None):
    """scikit-learn's ``type_of_target`` of the array ``arr``."""
    unique = unique or _Unique(arr)
    if arr.ndim == 2 and arr.shape[1] > 1 and arr.dtype != object:
        uniq = unique()
        if uniq.shape[0] < 3 and (arr.dtype.kind in "biu" or _is_integral_float(uniq)):
            return "multilabel-indicator"
    if arr.ndim not in (1, 2):
        return "unknown"
    if not min(arr.shape):
        return "binary" if arr.ndim == 1 else "unknown"
    if arr.dtype == object and not isinstance(arr.flat[0], str):
        return "unknown"
    suffix = "-multioutput" if (arr.ndim == 2 and arr.shape[1] > 1) else ""
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            integral = arr.astype(np.int64).astype(arr.dtype)
        if np.any(arr != integral):
            _assert_all_finite(arr, input_name)
            return "continuous" + suffix
    if unique().shape[0] > 2 or (arr.ndim == 2 and len(arr[0]) > 1):
        return "multiclass" + suffix
    return "binary"


def _raise_masked(y, ytype, input_name):
    """scikit-learn's errors for a masked array with masked entries: its
    distinct values include the unhashable masked constant."""
    if ytype == "multilabel-indicator":
        raise ValueError("Unknown label type: %s" % repr((y,)))
    raise TypeError(
        f"unhashable type: 'MaskedConstant' ({input_name} is a masked array with masked "
        "entries; class labels cannot be masked)"
    )


def unique_labels(y, arr, ytype, unique=None, input_name="y"):
    """scikit-learn's ``unique_labels(y)``: the sorted classes of one target."""
    unique = unique or _Unique(arr)
    if isinstance(y, np.ndarray):
        unique()  # scikit-learn's attach_unique: unsortable labels fail here first
    if (
        isinstance(y, np.ma.MaskedArray)
        and np.ma.is_masked(y)
        and ytype in ("binary", "multiclass", "multilabel-indicator")
    ):
        _raise_masked(y, ytype, input_name)
    if ytype == "multilabel-indicator":
        return np.arange(arr.shape[1])
    if ytype not in ("binary", "multiclass"):
        raise ValueError("Unknown label type: %s" % repr((y,)))
    values = unique() if hasattr(y, "__array__") else set(y)
    if len(set(isinstance(v, str) for v in values)) > 1:
        raise ValueError(f"Mix of label input types (string and number); Got {unique()}.")
    return np.asarray(sorted(values)) if isinstance(values, set) else values


def fitted_classes(y, input_name="y"):
    """``LabelBinarizer().fit(y)``: (classes, target type, array) or the same error.

    ``input_name`` (``"y_true"`` or ``"labels"``) only completes the message
    of the error on masked labels.
    """
    arr = target_array(y)
    unique = _Unique(arr)
    ytype = target_type(arr, "y", unique)
    if "multioutput" in ytype:
        raise ValueError("Multioutput target data is not supported with label binarization")
    if num_samples(arr) == 0:
        raise ValueError("y has 0 samples: %r" % y)
    return unique_labels(y, arr, ytype, unique, input_name), ytype, arr


def lexicographic_warning(classes, labels):
    """The warning scikit-learn gives when ``labels`` is not sorted."""
    if not np.all(classes == labels):
        warnings.warn(
            f"Labels passed were {labels}. But this function "
            "assumes labels are ordered lexicographically. "
            f"Pass the ordered labels={classes.tolist()} and ensure that "
            "the columns of y_prob correspond to this ordering.",
            UserWarning,
            stacklevel=4,
        )


def raise_undeclared(y_true, labels):
    undeclared_labels = set(y_true) - set(labels)
    raise ValueError(f"y_true contains values {undeclared_labels} not belonging to the passed labels {labels}.")


def raise_one_label(classes, labels):
    if labels is None:
        raise ValueError(
            "y_true contains only one label ({0}). Please "
            "provide the list of all expected class labels explicitly through the "
            "labels argument.".format(classes[0])
        )
    raise ValueError("The labels array needs to contain at least two labels, got {0}.".format(classes))


def encode(y_true, labels, label_classes=None):
    """Encode ``y_true`` like ``_one_hot_encoding_multiclass_target``.

    ``label_classes`` are the classes of ``labels`` when the caller already
    has them (and has given the lexicographic-order warning).  Returns an
    :class:`Encoding`; raises scikit-learn's errors.
    """
    if labels is not None:
        if label_classes is None:
            label_classes = fitted_classes(labels, "labels")[0]
            lexicographic_warning(label_classes, labels)
        if not np.all(np.isin(y_true, labels)):
            raise_undeclared(y_true, labels)
        classes = label_classes
        if classes.shape[0] == 1:
            raise_one_label(classes, labels)
        arr = target_array(y_true)
        ytype = target_type(arr)
        if ytype.startswith("multilabel"):
            raise ValueError("The object was not fitted with multilabel input.")
    else:
        classes, ytype, arr = fitted_classes(y_true, "y_true")
        if classes.shape[0] == 1:
            raise_one_label(classes, labels)
    if ytype == "multilabel-indicator":
        if classes.shape[0] != arr.shape[1]:
            raise ValueError(
                "classes {0} mismatch with the labels {1} found in the data".format(classes, np.arange(arr.shape[1]))
            )
        return Encoding(classes, indicator=arr)
    if "multioutput" in ytype:
        raise ValueError("Multioutput target data is not supported with label binarization")
    if ytype == "unknown":
        raise ValueError("The type of target data is not known")
    arr = arr.reshape(-1) if arr.ndim == 2 else arr
    if arr.dtype.kind in "iu":
        cls = classes.astype(arr.dtype, copy=False)
    else:
        cls = classes
    codes = np.searchsorted(cls, arr).astype(np.int64, copy=False)
    return Encoding(classes, codes=codes)


def int_classes_table(classes):
    """(base, table) mapping integer class values to their column, or None
    when the classes are not integers or span more than ``MAX_TABLE``."""
    if classes.dtype.kind not in "biuf" or classes.shape[0] == 0:
        return None
    if classes.dtype.kind == "f" and not _is_integral_float(classes):
        return None
    if classes.dtype.kind == "b":
        classes = classes.astype(np.int64)
    lo = classes[0]
    hi = classes[-1]
    if not (-(2**62) < lo <= hi < 2**62) or hi - lo >= MAX_TABLE:
        return None
    base = int(lo)
    table = np.full(int(hi) - base + 1, -1, dtype=np.int64)
    table[classes.astype(np.int64) - base] = np.arange(classes.shape[0])
    return base, table


def present_classes(y, y_min, y_max):
    """Sorted distinct values of the integer array ``y`` (values known to lie
    in ``[y_min, y_max]``) in one O(N) pass, or None for a huge range."""
    if not table_fits(y_min, y_max, y.shape[0]):
        return None
    base = int(y_min)
    present = present_values(read_only(y), base, int(y_max) - base + 1)
    return (np.flatnonzero(present) + base).astype(y.dtype)
