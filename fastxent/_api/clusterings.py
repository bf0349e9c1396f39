"""Labelings of the clustering metrics: validation and contingency tables.

:func:`check_clusterings` is scikit-learn's ``check_clusterings`` (its
``check_array(ensure_2d=False, ensure_min_samples=0, dtype=None)`` and
``type_of_target`` steps) with the same errors, warning and messages,
without importing scikit-learn.  :func:`build_table` turns two validated
labelings into a canonical :class:`Table`:

* integer (and bool) labels whose two value ranges span a table of at most
  about N cells are counted in one parallel O(N) pass into a dense table
  (:func:`fastxent._kernels.contingency.contingency_table_parallel`) after one
  pass for their ranges;
* otherwise each labeling is encoded -- integers in a moderate range by a
  presence table, anything else (strings, floats, huge integers) by
  ``np.unique(return_inverse=True)`` -- and counted into a CSR table.
"""

import warnings

import numpy as np

from .._infra import dispatch as _parallel
from .._kernels.contingency import (
    contingency_table_parallel,
    contingency_table_serial,
    csr_counts,
    dense_to_csr,
    label_bounds_parallel,
    label_bounds_serial,
    presence,
    value_counts,
)
from .._kernels.mutual_info import csr_marginals
from .labels import target_array, target_type
from .log_loss_validation import check_consistent_length
from .validation import read_only

__all__ = ["Table", "check_clusterings", "check_labels_array", "build_table", "int_view", "label_counts"]

MATRIX_MESSAGE = (
    "np.matrix is not supported. Please convert to a numpy array with "
    "np.asarray. For more information see: "
    "https://numpy.org/doc/stable/reference/generated/numpy.matrix.html"
)


class Table:
    """A canonical contingency table: sorted present classes, CSR counts
    (columns increasing within a row), marginals and the sample count."""

    __slots__ = ("classes_true", "classes_pred", "indptr", "indices", "data", "row_sums", "col_sums")

    def __init__(self, classes_true, classes_pred, indptr, indices, data, row_sums, col_sums):
        self.classes_true = classes_true
        self.classes_pred = classes_pred
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.row_sums = row_sums
        self.col_sums = col_sums

    @property
    def n_samples(self):
        return int(self.row_sums.sum())

    @property
    def shape(self):
        return self.classes_true.shape[0], self.classes_pred.shape[0]

    def dense(self, dtype=np.int64):
        out = np.zeros(self.shape, dtype=np.int64)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[rows, self.indices] = self.data
        return out.astype(dtype, copy=False)

    def is_identity(self):
        """Whether the two labelings are the same partition (one cell per row and column)."""
        return self.shape[0] == self.shape[1] == self.data.shape[0]


# -------------------------------------------------------------- validation


def _finite_error(arr, input_name):
    padded = input_name and f"{input_name} "
    if arr.dtype == object:
        return ValueError(f"Input {padded}contains NaN")
    kind = "NaN" if np.isnan(arr).any() else f"infinity or a value too large for {arr.dtype!r}"
    return ValueError(f"Input {padded}contains {kind}.")


def _object_has_nan(arr):
    try:
        return bool(np.any(arr != arr))
    except (TypeError, ValueError):  # pandas.NA: its truth value is undefined
        return True


def check_labels_array(x, name, input_name=""):
    """``check_array(x, ensure_2d=False, ensure_min_samples=0, dtype=None,
    input_name=input_name)``; ``name`` goes into the messages scikit-learn
    does not write itself."""
    if isinstance(x, np.matrix):
        raise TypeError(MATRIX_MESSAGE)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not isinstance(dtype, np.dtype) and hasattr(x, "to_numpy"):
        # pandas extension arrays: nullable numbers become float64 (NA -> nan), the rest objects
        numeric = getattr(dtype, "kind", "O") in "biuf"
        arr = x.to_numpy(dtype=np.float64, na_value=np.nan) if numeric else x.to_numpy(dtype=object)
    else:
        try:
            arr = np.asarray(x)
        except ValueError as exc:  # ragged nested sequences
            raise ValueError(f"{name}: {exc}") from None
    if arr.dtype.kind == "c":
        raise ValueError("Complex data not supported\n{}\n".format(arr))
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    if arr.dtype.kind == "f":
        if arr.size and not np.isfinite(arr).all():
            raise _finite_error(arr, input_name)
    elif arr.dtype == object and _object_has_nan(arr):
        raise _finite_error(arr, input_name)
    if arr.ndim == 2 and arr.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    return arr


def _type_of_target(arr, name):
    """``type_of_target`` where it matters here: "continuous" or something else
    (and its errors, e.g. for bytes labels)."""
    if arr.dtype.kind in "biu":
        return "integer"
    if arr.dtype.kind == "f" and arr.ndim == 1:
        with np.errstate(invalid="ignore"):
            return "continuous" if np.any(arr != arr.astype(np.int64)) else "integral"
    arr = target_array(arr)
    try:
        return target_type(arr)
    except TypeError as exc:
        if "not supported between" not in str(exc):
            raise
        raise TypeError(f"{name} must hold labels of one comparable type: {exc}") from None


def check_clusterings(labels_true, labels_pred):
    """Validated 1-D label arrays of equal length (scikit-learn's checks and messages)."""
    labels_true = check_labels_array(labels_true, "labels_true")
    labels_pred = check_labels_array(labels_pred, "labels_pred")
    type_label = _type_of_target(labels_true, "labels_true")
    type_pred = _type_of_target(labels_pred, "labels_pred")
    if "continuous" in (type_pred, type_label):
        # The message names both types: the non-continuous one in full now.
        type_label = type_label if type_label == "continuous" else target_type(labels_true)
        type_pred = type_pred if type_pred == "continuous" else target_type(labels_pred)
        warnings.warn(
            "Clustering metrics expects discrete values but received"
            f" {type_label} values for label, and {type_pred} values "
            "for target",
            UserWarning,
            stacklevel=3,
        )
    if labels_true.ndim != 1:
        raise ValueError("labels_true must be 1D: shape is %r" % (labels_true.shape,))
    if labels_pred.ndim != 1:
        raise ValueError("labels_pred must be 1D: shape is %r" % (labels_pred.shape,))
    check_consistent_length(labels_true, labels_pred)
    return labels_true, labels_pred


# ------------------------------------------------------------ the counting


def int_view(arr):
    """``arr`` as a native-order, read-only integer array for the kernels
    (see :func:`~fastxent._api.validation.read_only`), or None."""
    if arr.dtype.kind == "b":
        return read_only(arr.view(np.uint8))
    if arr.dtype.kind in "iu":
        return read_only(arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("=")))
    return None


def _dense_cells(n):
    return min(max(1 << 16, n), 1 << 22)


def _lookup_span(n):
    return min(max(1 << 16, 2 * n), 1 << 25)


def _classes(offsets, lo, arr, ints):
    values = offsets.astype(ints.dtype) + ints.dtype.type(lo)  # exact modulo 2**bits
    return values.astype(np.bool_) if arr.dtype.kind == "b" else values


def _unique(arr, name):
    try:
        classes, inverse = np.unique(arr, return_inverse=True)
    except TypeError as exc:  # labels of several types that do not compare
        raise TypeError(f"{name} must hold labels of one comparable type: {exc}") from None
    return classes, inverse.reshape(-1).astype(np.intp, copy=False)


def _encode(arr, ints, bounds, name):
    """(kernel labels, base, lookup, classes) of one labeling."""
    if ints is not None:
        lo, hi = bounds
        span = hi - lo + 1
        if span <= _lookup_span(arr.shape[0]):
            base = ints.dtype.type(lo)
            present = presence(ints, base, span)
            lookup = np.cumsum(present, dtype=np.int64) - 1
            return ints, base, lookup, _classes(np.flatnonzero(present), lo, arr, ints)
    classes, inverse = _unique(arr, name)
    return inverse, np.intp(0), np.arange(classes.shape[0], dtype=np.int64), classes


def _bounds(x, y):
    lo_x, hi_x, lo_y, hi_y = _parallel.run(label_bounds_parallel, label_bounds_serial, 2 * x.shape[0], x, y)
    return (int(lo_x), int(hi_x)), (int(lo_y), int(hi_y))


def _guess(ints):
    """A likely range of the labels, from ~4096 of them: (0 or the sample's
    min, its max plus an eighth of the span)."""
    sample = ints[:: max(1, ints.shape[0] // 4096)]
    lo, hi = int(sample.min()), int(sample.max())
    lo = 0 if 0 <= lo <= 64 else lo
    return lo, hi + 1 + (hi - lo) // 8


def _span(bounds):
    return bounds[1] - bounds[0] + 1


def _empty(labels_true, labels_pred):
    indptr = np.zeros(1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    return Table(np.unique(labels_true), np.unique(labels_pred), indptr, none, none, none, none)


def build_table(labels_true, labels_pred):
    """The canonical :class:`Table` of two 1-D label arrays of one length."""
    n = labels_true.shape[0]
    if n == 0:
        return _empty(labels_true, labels_pred)
    x_int, y_int = int_view(labels_true), int_view(labels_pred)
    x_bounds = y_bounds = None
    if x_int is not None and y_int is not None:
        x_guess, y_guess = _guess(x_int), _guess(y_int)
        if _span(x_guess) * _span(y_guess) <= _dense_cells(n):
            # One pass: count inside the guessed ranges and find the true ones.
            table = np.zeros((_span(x_guess), _span(y_guess)), dtype=np.int64)
            bounds = _parallel.run(
                contingency_table_parallel,
                contingency_table_serial,
                n,
                x_int,
                y_int,
                x_int.dtype.type(x_guess[0]),
                y_int.dtype.type(y_guess[0]),
                table,
            )
            x_bounds, y_bounds = (int(bounds[0]), int(bounds[1])), (int(bounds[2]), int(bounds[3]))
            if (
                x_guess[0] <= x_bounds[0]
                and x_bounds[1] <= x_guess[1]
                and y_guess[0] <= y_bounds[0]
                and y_bounds[1] <= y_guess[1]
            ):
                return _dense_table(labels_true, labels_pred, x_int, y_int, x_guess[0], y_guess[0], table)
        else:
            x_bounds, y_bounds = _bounds(x_int, y_int)
        if _span(x_bounds) * _span(y_bounds) <= _dense_cells(n):
            table = np.zeros((_span(x_bounds), _span(y_bounds)), dtype=np.int64)
            _parallel.run(
                contingency_table_parallel,
                contingency_table_serial,
                n,
                x_int,
                y_int,
                x_int.dtype.type(x_bounds[0]),
                y_int.dtype.type(y_bounds[0]),
                table,
            )
            return _dense_table(labels_true, labels_pred, x_int, y_int, x_bounds[0], y_bounds[0], table)
    elif x_int is not None:
        x_bounds = _bounds(x_int, x_int)[0]
    elif y_int is not None:
        y_bounds = _bounds(y_int, y_int)[0]
    x, x_base, x_lookup, classes_true = _encode(labels_true, x_int, x_bounds, "labels_true")
    y, y_base, y_lookup, classes_pred = _encode(labels_pred, y_int, y_bounds, "labels_pred")
    # read-only whether they are the labels themselves or the codes np.unique made
    indptr, indices, data = csr_counts(
        read_only(x), x_base, x_lookup, read_only(y), y_base, y_lookup, classes_true.shape[0], classes_pred.shape[0]
    )
    row_sums, col_sums = csr_marginals(indptr, indices, data, classes_pred.shape[0])
    return Table(classes_true, classes_pred, indptr, indices, data, row_sums, col_sums)


def _dense_table(labels_true, labels_pred, x_int, y_int, x_lo, y_lo, table):
    row_sums = table.sum(axis=1)
    col_sums = table.sum(axis=0)
    rows = np.flatnonzero(row_sums)
    cols = np.flatnonzero(col_sums)
    indptr, indices, data = dense_to_csr(table, rows, cols)
    return Table(
        _classes(rows, x_lo, labels_true, x_int),
        _classes(cols, y_lo, labels_pred, y_int),
        indptr,
        indices,
        data,
        row_sums[rows],
        col_sums[cols],
    )


def label_counts(labels):
    """Sizes of the classes of one labeling (``np.unique(return_counts=True)``
    with nan values counted apart, as scikit-learn's entropy does)."""
    arr = np.asarray(labels)
    if arr.shape[0] == 0 if arr.ndim else False:
        return np.zeros(0, dtype=np.int64)
    ints = int_view(arr.reshape(-1))
    if ints is not None:
        (lo, hi), _ = _bounds(ints, ints)
        if hi - lo + 1 <= _lookup_span(ints.shape[0]):
            counts = value_counts(ints, ints.dtype.type(lo), hi - lo + 1)
            return counts[counts > 0]
    try:
        _, counts = np.unique(arr, return_counts=True, equal_nan=False)
    except TypeError as exc:
        raise TypeError(f"labels must hold labels of one comparable type: {exc}") from None
    return counts
