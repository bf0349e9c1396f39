"""Input validation shared by the public NumPy API.

Every helper takes the argument's public name and puts it in its error
message, so a user always learns *which* argument is wrong.  Arrays are
coerced without copying whenever they already are float32/float64 (any
order or stride, read-only, ``np.memmap``); the checks that read values
(finiteness, range) run in one compiled pass without temporaries.
"""

import math
import numbers

import numpy as np

from .._infra.jit import kernel

__all__ = [
    "REDUCTIONS",
    "read_only",
    "as_array",
    "native_order",
    "as_float_array",
    "as_index_array",
    "int64_outside",
    "exact_number",
    "check_nonempty",
    "check_finite",
    "check_in_range",
    "first_outside",
    "check_weights",
    "as_weights",
    "scaled_for_mean",
    "mean_weight_exponent",
    "check_reduction",
    "check_accumulator_reduction",
    "clip_bounds",
    "check_unit_interval_scalar",
    "check_nonnegative_scalar",
    "check_bool",
    "scan",
    "scaled_weights",
    "finite_min_max",
    "as_2d_view",
    "MAX_TABLE",
    "table_fits",
]

# Largest table (entries) built over the span of integer labels; beyond, np.unique.
MAX_TABLE = 1 << 20

REDUCTIONS = ("mean", "sum", "none")
ACCUMULATOR_REDUCTIONS = ("mean", "sum")  # an accumulator keeps no per-sample losses


def read_only(arr):
    """``arr`` as every kernel of the API reads its input arrays: read-only.

    A read-only view (no copy) of a writable array; a read-only array,
    ``None`` or a scalar as it is.  Numba compiles one specialization for a
    writable array and another for a read-only one (pandas' copy-on-write
    arrays, memory maps, frozen arrays); viewing every input as read-only
    where it enters a kernel makes both kinds run one compiled kernel.  The
    views are made at the kernel calls rather than in the coercion helpers
    because a coerced input is often copied on its way (a dtype conversion,
    a reshape that cannot be a view), and the copy would be writable again.
    """
    if not isinstance(arr, np.ndarray) or not arr.flags.writeable:
        return arr
    view = arr.view()
    view.flags.writeable = False
    return view


def native_order(arr):
    """``arr`` in native byte order: itself, or one converted copy when it is
    byte-swapped (e.g. ``>f8`` data written on another machine)."""
    if arr.dtype.isnative:
        return arr
    return arr.astype(arr.dtype.newbyteorder("="))


def as_array(x, name):
    """``x`` as a native-order ndarray (no copy for a native ndarray).

    A masked array is used as its data when nothing is masked; one with
    masked entries is a ``TypeError``: a mask has no meaning for these
    functions, and silently dropping it would give a different number.
    """
    if isinstance(x, np.ma.MaskedArray):
        if np.ma.is_masked(x):
            raise TypeError(
                f"{name} is a masked array with masked entries; masks are not supported "
                f"(pass {name}.compressed() or {name}.filled(value))"
            )
        x = np.ma.getdata(x)
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be array-like of numbers; got {type(x).__name__}") from exc
    return native_order(x)


def as_float_array(x, name):
    """``x`` as a float32 or float64 ndarray, copied only when it is neither.

    Integer and bool inputs become float64, float16 becomes float32.
    Anything else (strings, objects, complex numbers) is a ``TypeError``.
    """
    arr = as_array(x, name)
    if arr.dtype in (np.float32, np.float64):
        return arr
    if arr.dtype == np.float16:
        return arr.astype(np.float32)
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")


def int64_outside(arr):
    """Mask of the values of an integer or float array that int64 cannot
    hold (uint64 from 2**63, floats beyond +-2**63), or None when all fit;
    computed without a temporary when none is outside."""
    if arr.size == 0 or not (arr.dtype == np.uint64 or arr.dtype.kind == "f"):
        return None
    if arr.dtype == np.uint64:
        if arr.max() < 2**63:
            return None
        return arr >= 2**63
    _, lo, hi = scan(arr)
    if lo >= -(2.0**63) and hi < 2.0**63:
        return None
    with np.errstate(invalid="ignore"):
        return (arr >= 2.0**63) | (arr < -(2.0**63))


def exact_number(value):
    """A uint64 or float array element as an exact Python number for messages."""
    value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def as_index_array(y, name):
    """Integer class indices as an int64/int32 ndarray.

    Floats are accepted when every value is integral (then converted to
    int64); bools, strings and non-integral floats are a ``TypeError`` or
    ``ValueError``, and so is a value int64 cannot hold (uint64 from 2**63,
    huge floats): never wrapped around.
    """
    arr = as_array(y, name)
    if arr.dtype in (np.int64, np.int32):
        return arr
    if arr.dtype.kind in "iu" or arr.dtype.kind == "f":
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        check_finite(arr, name)
        outside = int64_outside(arr)
        if outside is not None:
            first = exact_number(arr[outside].flat[0])
            raise ValueError(f"{name} holds class index {first}, outside the range of int64")
        as_int = arr.astype(np.int64)
        if arr.dtype.kind == "f" and not np.array_equal(as_int, arr):
            raise ValueError(f"{name} must hold integer class indices; got non-integral values")
        return as_int
    raise TypeError(f"{name} must hold integer class indices; got an array of dtype {arr.dtype}")


def check_nonempty(arr, name):
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); at least one sample is required")


def as_2d_view(arr):
    """A 2-D view of ``arr`` (rows = all leading axes, columns = the last).

    ``None`` when that needs a copy (non-mergeable strides).
    """
    if arr.ndim == 2:
        return arr
    if arr.ndim == 1:
        return arr[np.newaxis, :]
    rows = int(np.prod(arr.shape[:-1]))
    try:
        return np.reshape(arr, (rows, arr.shape[-1]), copy=False)
    except ValueError:
        return None


@kernel
def finite_min_max(x2d):
    """(number of NaNs, min, max) of a 2-D array; min/max include infinities."""
    n_nan = 0
    lo = np.inf
    hi = -np.inf
    for i in range(x2d.shape[0]):
        row = x2d[i]
        for j in range(row.shape[0]):
            v = np.float64(row[j])
            n_nan += 0 if v == v else 1
            lo = v if v < lo else lo
            hi = v if v > hi else hi
    return n_nan, lo, hi


def scan(arr):
    """(number of NaNs, min, max) of any array, without a temporary when
    it can be viewed as 2-D."""
    view = as_2d_view(arr) if arr.ndim else arr.reshape(1, 1)
    if view is None:
        view = np.ascontiguousarray(arr).reshape(-1, arr.shape[-1])
    if view.size == 0:
        return 0, np.inf, -np.inf
    return finite_min_max(read_only(view))


def check_finite(arr, name):
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity."""
    if arr.dtype.kind in "biu":
        return
    n_nan, lo, hi = scan(arr)
    if n_nan or np.isinf(lo) or np.isinf(hi):
        raise ValueError(f"{name} contains NaN or infinity")


def check_in_range(arr, name, lo, hi, what):
    """Raise ``ValueError`` unless every value is finite and in ``[lo, hi]``.

    ``what`` names the kind of value in the message (e.g. "probabilities").
    ``hi`` may be ``np.inf`` (weights): the values must still be finite.
    Returns ``(min, max)`` of the values.
    """
    n_nan, vmin, vmax = scan(arr)
    if n_nan or np.isinf(vmin) or np.isinf(vmax):
        raise ValueError(f"{name} contains NaN or infinity")
    if vmin < lo or vmax > hi:
        raise ValueError(f"{name} must hold {what} in [{lo}, {hi}]; got values in [{vmin!r}, {vmax!r}]")
    return vmin, vmax


def first_outside(arr, lo, hi):
    """Where the first value of ``arr`` (in C order) that is NaN, infinite or
    outside ``[lo, hi]`` is, as an index tuple; None when there is none.

    One compiled pass without temporaries when every value is fine (the
    common case); the position is searched only when one is not.
    """
    if arr.size == 0:
        return None
    n_nan, vmin, vmax = scan(arr)
    if not n_nan and lo <= vmin and vmax <= hi and np.isfinite(vmin) and np.isfinite(vmax):
        return None
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
    return tuple(int(i) for i in np.argwhere(bad)[0])


def check_weights(weights, name):
    """Raise ``ValueError`` naming ``name`` unless every weight is finite and
    non-negative; returns the largest weight."""
    return check_in_range(weights, name, 0.0, np.inf, "non-negative weights")[1]


def as_weights(weights, name, shape, mismatch):
    """``weights`` as a float64 array of ``shape`` (no copy when it already
    is one), checked by :func:`check_weights`, and the largest weight.

    ``mismatch`` is the message of a wrong shape, formatted with ``name``,
    ``got`` (the shape given) and ``expected`` (``shape``).
    """
    w = as_float_array(weights, name)
    if w.shape != shape:
        raise ValueError(mismatch.format(name=name, got=w.shape, expected=shape))
    largest = check_weights(w, name)
    return w.astype(np.float64, copy=False), largest


def mean_weight_exponent(largest):
    """``e`` such that ``np.ldexp(weights, -e)`` brings the largest weight
    into [0.5, 1) when it lies outside [2**-500, 2**500], else 0.

    A weighted mean ``sum(w * l) / sum(w)`` is unchanged by scaling every
    weight by a power of two (exact), while at such extremes the sums
    overflow (1e308 weights: inf / inf) or lose every digit to underflow
    (5e-324 weights).
    """
    if largest == 0.0 or 2.0**-500 <= largest <= 2.0**500:
        return 0
    return math.frexp(largest)[1]


def scaled_weights(weights, e):
    """``weights * 2**-e`` (exact), with each positive weight that the scaling
    would flush to zero kept at the smallest subnormal instead.

    Its share of a mean stays far below rounding, while an infinite loss it
    multiplies stays infinite (``0 * inf`` would be NaN).
    """
    scaled = np.ldexp(weights, -e)
    if e > 0:
        np.copyto(scaled, np.nextafter(scaled.dtype.type(0), scaled.dtype.type(1)), where=(scaled == 0) & (weights > 0))
    return scaled


def scaled_for_mean(weights, largest):
    """``weights`` rescaled for a weighted mean whose largest weight is
    ``largest`` (:func:`mean_weight_exponent`, :func:`scaled_weights`);
    ``weights`` itself when they need no rescaling."""
    e = mean_weight_exponent(largest)
    return scaled_weights(weights, e) if e else weights


def _is_one_of(value, choices):
    return isinstance(value, str) and value in choices


def check_reduction(reduction):
    """``reduction`` of a loss function: one of ``REDUCTIONS``."""
    if not _is_one_of(reduction, REDUCTIONS):
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}")
    return reduction


def check_accumulator_reduction(reduction):
    """``reduction`` of an accumulator's result: ``"mean"`` or ``"sum"``."""
    if not _is_one_of(reduction, ACCUMULATOR_REDUCTIONS):
        raise ValueError(f'reduction must be "mean" or "sum" for an accumulator; got {reduction!r}')
    return reduction


def clip_bounds(clip, dtype):
    """``(lo, hi)`` clipping bounds for ``clip`` = "auto", None or a float eps."""
    if isinstance(clip, str):
        if clip != "auto":
            raise ValueError(f'clip must be "auto", None or a float in [0, 0.5); got {clip!r}')
        eps = float(np.finfo(dtype).eps)
    elif clip is None:
        return 0.0, 1.0
    elif isinstance(clip, numbers.Real) and not isinstance(clip, bool):
        eps = _to_float(clip)
        if not 0.0 <= eps < 0.5:
            raise ValueError(f'clip must be "auto", None or a float in [0, 0.5); got {clip!r}')
    else:
        raise TypeError(f'clip must be "auto", None or a float in [0, 0.5); got {clip!r}')
    return eps, 1.0 - eps


def _to_float(value):
    """``float(value)``; a Python int too large for a float becomes inf
    (its sign kept) instead of raising ``OverflowError``."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _real_scalar(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = _to_float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def check_unit_interval_scalar(value, name):
    """A float in [0, 1] (e.g. ``label_smoothing``)."""
    value = _real_scalar(value, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
    return value


def check_nonnegative_scalar(value, name):
    """A finite float >= 0 (e.g. ``pos_weight``)."""
    value = _real_scalar(value, name)
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return value


def check_bool(value, name):
    """``value`` as a bool; only ``bool`` and ``np.bool_`` are accepted, so
    that e.g. ``"no"`` or ``0.5`` is not silently taken as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False); got {value!r}")
    return bool(value)


def table_fits(y_min, y_max, n):
    """Whether the integer labels of ``n`` samples in ``[y_min, y_max]`` (Python
    ints) are worth a table over their span: at most ``MAX_TABLE`` entries and
    at most about 4 per sample."""
    return y_max - y_min < min(MAX_TABLE, 4 * n + 1024)
