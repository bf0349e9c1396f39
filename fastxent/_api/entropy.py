"""``entropy`` (a drop-in ``scipy.stats.entropy``) and ``kl_divergence``.

Both reduce slices of an array with the kernels of
:mod:`fastxent._kernels.entropy_slices`.  This module only validates, promotes,
broadcasts and views the input as 2-D (a copy only when the reduced axes
cannot be viewed that way, e.g. an ``axis`` tuple) and picks the kernel
whose inner loop reads memory contiguously.
"""

import math

import numpy as np

from .._infra import dispatch as _parallel
from .._infra.summation import BLOCK
from .._kernels.entropy_columns import columns_driver_parallel, columns_driver_serial
from .._kernels.entropy_rows import (
    contiguous_relative_rows_serial,
    long_rows_driver_parallel,
    long_rows_driver_serial,
    rows_driver_parallel,
    rows_driver_serial,
    strict_rows,
)
from .._kernels.entropy_slices import slice_driver_parallel, slice_driver_serial, slice_entropy_strict
from .validation import as_float_array, check_in_range, read_only

__all__ = ["entropy", "kl_divergence"]

_UNSUPPORTED = (
    "ufunc '{}' not supported for the input types, and the inputs could not be "
    "safely coerced to any supported types according to the casting rule ''safe''"
)


def _reduce_last_axis(pk, qk, skip_nan, normalize=True):
    """float64 (relative) entropies of the slices along the last axis of same-shape arrays."""
    length = pk.shape[-1]
    out_shape = pk.shape[:-1]
    shape2 = (math.prod(out_shape), length)
    p2 = read_only(pk.reshape(shape2))  # a view unless the strides forbid it
    q2 = None if qk is None else read_only(qk.reshape(shape2))
    out = np.empty(p2.shape[0])
    work = p2.size * (1 if q2 is None else 2)
    if p2.shape[0] == 1:
        # One slice: its blocks are shared out to the threads.
        q1 = None if q2 is None else q2[0]
        total, strict = _parallel.run(slice_driver_parallel, slice_driver_serial, work, p2[0], q1, normalize, skip_nan)
        out[0] = slice_entropy_strict(p2[0], q1, normalize, skip_nan) if strict else total
    elif abs(p2.strides[1]) > abs(p2.strides[0]):
        # Slices are columns of the transposed view: read memory along its rows.
        q2t = None if q2 is None else q2.T
        _parallel.run(columns_driver_parallel, columns_driver_serial, work, p2.T, q2t, normalize, skip_nan, out)
    elif length > BLOCK:
        _parallel.run(long_rows_driver_parallel, long_rows_driver_serial, work, p2, q2, normalize, skip_nan, out)
    else:
        # Rows weigh like the other row kernels' (row_work): 1e5 rows of 10
        # values run serially, so a first call does not compile the parallel
        # driver (about 3 s) for a run time of about 5 ms against 3 ms.
        # The strict formula is compiled and run only when some row needs it.
        row_work = _parallel.row_work(p2.shape[0], p2.size)
        serial = rows_driver_serial
        if q2 is not None and p2.flags.c_contiguous and q2.flags.c_contiguous:
            serial = contiguous_relative_rows_serial  # the same rows, compiled faster
        if _parallel.run(rows_driver_parallel, serial, row_work, p2, q2, normalize, skip_nan, out):
            strict_rows(p2, q2, normalize, skip_nan, out)
    return out.reshape(out_shape)


# ------------------------------------------------------------- entropy


def _as_entropy_sample(x):
    if isinstance(x, np.ma.MaskedArray):
        return x
    if type(x) in (bool, int, float):
        return x  # promoted as a "weak" Python scalar (NEP 50), as SciPy does
    return np.asarray(x)


def _scalars_as_arrays(samples, dtype, names):
    """Python scalars as arrays of the promoted ``dtype``; one it cannot hold
    (300 with an int8 array) is a ``TypeError`` (SciPy: ``OverflowError``)."""
    arrays = []
    for s, name in zip(samples, names):
        if isinstance(s, np.ndarray):
            arrays.append(s)
            continue
        try:
            arrays.append(np.asarray(s, dtype=dtype))
        except OverflowError as exc:
            raise TypeError(f"{name} = {s!r} cannot be held by the arguments' common dtype {dtype}") from exc
    return arrays


def compute_dtype(samples, ufunc_name):
    """(dtype the kernels read, dtype of the result, dtype of SciPy's early-exit nan)."""
    dtype = np.result_type(*samples)
    if dtype.kind in "biu":
        return np.dtype(np.float64), np.dtype(np.float64), np.dtype(np.float64)
    if dtype in (np.float16, np.float32):
        return np.dtype(np.float32), np.dtype(np.float32), dtype
    if dtype == np.float64:
        return dtype, dtype, dtype
    raise TypeError(_UNSUPPORTED.format(ufunc_name))


def _check_nan_policy(nan_policy):
    policies = {"propagate", "raise", "omit"}  # SciPy prints this very set
    try:
        valid = nan_policy in policies
    except TypeError:  # unhashable: SciPy's set lookup raises a TypeError too
        raise TypeError(f"nan_policy must be one of {policies}; got a {type(nan_policy).__name__}") from None
    if not valid:
        raise ValueError(f"nan_policy must be one of {policies}.")


def _contains_nan(arrays):
    return any(a.size and np.isnan(np.max(a)) for a in arrays)


def _check_base(base):
    if base is not None and base <= 0:
        raise ValueError("`base` must be a positive number or `None`.")


def _broadcast_paired(samples):
    try:
        shape = np.broadcast_shapes(*(s.shape for s in samples))
    except ValueError:
        raise ValueError("Array shapes are incompatible for broadcasting.") from None
    return [np.broadcast_to(s, shape) for s in samples]


def _finish(values, result_dtype, base, reduced_axes, keepdims, scalar):
    """Divide by log(base) (in float64), cast, restore reduced axes like SciPy."""
    values = np.asarray(values, dtype=np.float64)
    if base is not None:
        # a 0-d result is divided as a scalar, as SciPy does (same warning text)
        values = (values[()] if values.ndim == 0 else values) / math.log(base)
    values = values.astype(result_dtype, copy=False)
    if keepdims:
        return np.expand_dims(values, reduced_axes)
    return values[()] if scalar else values


def _nan_result(dtype, shape, reduced_axes, keepdims, scalar):
    values = np.full(shape, np.nan, dtype=dtype)
    if keepdims:
        return np.expand_dims(values, reduced_axes)
    return values[()] if scalar else values


def entropy(pk, qk=None, base=None, axis=0, *, nan_policy="propagate", keepdims=False):
    """Shannon entropy or relative entropy of distributions (``scipy.stats.entropy``).

    ``H = -sum(pk * log(pk))`` or, with ``qk``, ``D = sum(pk * log(pk / qk))``,
    after normalizing ``pk`` and ``qk`` to sum to 1 along ``axis``.

    Parameters
    ----------
    pk : array_like
        (Possibly unnormalized) probabilities; each slice along ``axis`` is
        a distribution.
    qk : array_like, optional
        Reference distributions, broadcastable against ``pk``.
    base : float, optional
        Logarithm base (default e: nats).
    axis : int, tuple of int or None, default 0
        Axis (or axes) of each distribution; ``None`` ravels the input.
    nan_policy : {'propagate', 'omit', 'raise'}, default 'propagate'
        'propagate': a slice with a nan gives nan; 'omit': positions where
        ``pk`` or ``qk`` is nan are dropped (a slice left empty gives 0);
        'raise': a nan is a ``ValueError``.
    keepdims : bool, default False
        Keep the reduced axes with length 1.

    Returns
    -------
    S : float or ndarray
        A NumPy scalar when every input is (at most) 1-D or ``axis=None``,
        else an array.  float32 (and float16) input gives float32, anything
        else float64.

    Notes
    -----
    Same results (to ~1e-15 relative for well-conditioned input), shapes,
    dtypes, broadcasting and errors as ``scipy.stats.entropy`` of SciPy
    1.17, including masked arrays (masked positions are dropped).
    Computed in float64 whatever the input dtype, without temporaries of
    the input's size, in parallel for large input.

    Examples
    --------
    >>> import fastxent
    >>> float(fastxent.entropy([0.5, 0.25, 0.25], base=2))
    1.5
    >>> float(fastxent.entropy([1, 1, 2], [1, 2, 1]))
    0.173286...
    >>> fastxent.entropy([[1.0, 1.0], [1.0, 3.0]], axis=1)
    array([0.693147..., 0.562335...])
    """
    if pk is None:
        if qk is None:
            raise ValueError("at least one array or dtype is required")
        # SciPy sums pk over the axis (None + None) before it looks at qk
        raise TypeError("unsupported operand type(s) for +: 'NoneType' and 'NoneType' (pk is None)")
    samples = [_as_entropy_sample(pk)]
    if qk is not None:
        samples.append(_as_entropy_sample(qk))
    kernel_dtype, result_dtype, nan_dtype = compute_dtype(samples, "entr" if qk is None else "rel_entr")
    samples = _scalars_as_arrays(samples, np.result_type(*samples), ("pk", "qk"))
    if axis is None and len(samples) == 1 and isinstance(samples[0], np.ma.MaskedArray) and samples[0].size == 0:
        # SciPy reduces an empty masked pk over every axis to NumPy's masked constant
        if keepdims:
            return np.ma.masked_all((1,) * max(samples[0].ndim, 1), dtype=np.float64)
        return np.ma.masked
    masked = any(
        isinstance(s, np.ma.MaskedArray) and np.ma.getmask(s) is not np.ma.nomask and np.any(np.ma.getmask(s))
        for s in samples
    )
    if masked:
        return _masked_entropy(samples, base, axis, nan_policy, keepdims, kernel_dtype, result_dtype)
    samples = [np.atleast_1d(np.asarray(s)) for s in samples]

    if axis is None:
        reduced_axes = tuple(range(max(s.ndim for s in samples)))
        samples = [s.ravel() for s in samples]
        if len(samples) == 2 and samples[0].shape != samples[1].shape:
            samples = _broadcast_paired(samples)
    else:
        samples = _broadcast_paired(samples)
        axes = (axis,) if np.isscalar(axis) else tuple(axis)
        reduced_axes = axis
        last = tuple(range(-len(axes), 0))
        samples = [np.moveaxis(s, axes, last) for s in samples]
        shape = samples[0].shape
        samples = [s.reshape(shape[: -len(axes)] + (math.prod(shape[-len(axes) :]),)) for s in samples]

    one_dimensional = samples[0].ndim <= 1
    out_shape = samples[0].shape[:-1]
    if not one_dimensional and math.prod(out_shape) == 0:
        return _nan_result(nan_dtype, out_shape, reduced_axes, keepdims, scalar=False)

    skip_nan = False
    if not (isinstance(nan_policy, str) and nan_policy == "propagate"):
        _check_nan_policy(nan_policy)
        if _contains_nan(samples):
            if nan_policy == "raise":
                raise ValueError("The input contains nan values")
            skip_nan = True
    if base is not None and base <= 0 and one_dimensional and not skip_nan and _contains_nan(samples):
        # SciPy answers a 1-D slice with nan before it looks at `base`.
        return _nan_result(nan_dtype, (), reduced_axes, keepdims, scalar=True)
    _check_base(base)

    samples = [s.astype(kernel_dtype, copy=False) for s in samples]
    values = _reduce_last_axis(samples[0], samples[1] if len(samples) == 2 else None, skip_nan)
    if one_dimensional and np.isnan(values) and not skip_nan and _contains_nan(samples):
        return _nan_result(nan_dtype, (), reduced_axes, keepdims, scalar=True)
    return _finish(values, result_dtype, base, reduced_axes, keepdims, scalar=one_dimensional)


def _masked_entropy(samples, base, axis, nan_policy, keepdims, kernel_dtype, result_dtype):
    """Masked input: masked positions (of either argument) are dropped, like SciPy.

    Masked positions become nan and are skipped; nan values under no mask
    still follow ``nan_policy``.
    """
    data = [np.atleast_1d(np.ma.getdata(s)).astype(kernel_dtype) for s in samples]
    masks = [np.atleast_1d(np.ma.getmaskarray(s)) for s in samples]
    if axis is None:
        reduced_axes = tuple(range(max(d.ndim for d in data)))
        data = [d.ravel() for d in data]
        masks = [m.ravel() for m in masks]
        axes = (0,)
        shapes = [d.shape for d in data]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:  # SciPy's masked path multiplies the raveled arrays: NumPy's text
            raise ValueError(
                "operands could not be broadcast together with shapes " + " ".join(str(s) for s in shapes) + " "
            ) from None
    else:
        reduced_axes = axis
        axes = (axis,) if np.isscalar(axis) else tuple(axis)
    data = _broadcast_paired(data)
    masks = [np.broadcast_to(m, data[0].shape) for m in masks]
    last = tuple(range(-len(axes), 0))
    data = [np.moveaxis(d, axes, last) for d in data]
    masks = [np.moveaxis(m, axes, last) for m in masks]
    shape = data[0].shape[: -len(axes)] + (math.prod(data[0].shape[-len(axes) :]),)  # no -1: sizes may be 0
    data = [np.array(d.reshape(shape)) for d in data]  # own copies: masked positions are overwritten
    mask = np.logical_or.reduce([m.reshape(shape) for m in masks])
    one_dimensional = data[0].ndim <= 1
    unmasked_nan = np.zeros(data[0].shape[:-1], dtype=bool)
    for d in data:
        unmasked_nan |= (np.isnan(d) & ~mask).any(axis=-1)
    if not (isinstance(nan_policy, str) and nan_policy == "propagate"):
        _check_nan_policy(nan_policy)
        if nan_policy == "raise" and unmasked_nan.any():
            raise ValueError("The input contains nan values")
    _check_base(base)
    for d in data:
        d[mask] = np.nan
    values = _reduce_last_axis(data[0], data[1] if len(data) == 2 else None, True)
    if nan_policy == "propagate":
        values = np.where(unmasked_nan, np.nan, values)
    return _finish(values, result_dtype, base, reduced_axes, keepdims, scalar=one_dimensional)


# -------------------------------------------------------- kl_divergence


def _as_distributions(x, name):
    arr = as_float_array(x, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array of at least 1 dimension (distributions along `axis`); got a scalar")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); at least one value per distribution is required")
    check_in_range(arr, name, 0, 1, "probabilities")
    return arr


def kl_divergence(p, q, *, base=None, axis=-1):
    """Kullback-Leibler divergence ``sum(p * log(p / q))`` of each slice along ``axis``.

    Rows (slices along ``axis``) of ``p`` and ``q`` are distributions, used
    as given: they are *not* renormalized, so the result is
    ``scipy.special.rel_entr(p, q).sum(axis)`` and, for normalized rows,
    ``torch.nn.functional.kl_div(log(q), p, reduction="none").sum(axis)``
    and ``scipy.stats.entropy(p, q, axis=axis)``.  Terms follow ``rel_entr``:
    ``0 * log(0 / q) = 0`` and ``p > 0, q = 0`` gives ``inf``.

    Parameters
    ----------
    p, q : array_like of the same shape, at least 1-D
        Probabilities in [0, 1] (float32 or float64; integers become
        float64).  Rows need not sum exactly to 1: they are not checked
        for it nor rescaled.
    base : float, optional
        Logarithm base (default e: nats); must be positive and not 1.
    axis : int, default -1
        Axis of each distribution.

    Returns
    -------
    float or ndarray
        Shape of ``p`` without ``axis``: a Python-float-like NumPy float64
        scalar for 1-D input.  Always float64 (accumulated in float64).

    Raises
    ------
    ValueError
        Shapes differ, a value is outside [0, 1] or nan, ``axis`` is out
        of range, ``base`` is not positive or is 1, or the input is empty.
    TypeError
        Non-numeric input, ``axis`` not an integer, or a masked array with
        masked entries (one with nothing masked is used as its data).

    Examples
    --------
    >>> import fastxent
    >>> fastxent.kl_divergence([[0.5, 0.5], [0.9, 0.1]], [[0.9, 0.1], [0.9, 0.1]])
    array([0.510825..., 0.        ])
    >>> float(fastxent.kl_divergence([0.5, 0.5], [0.9, 0.1], base=2))
    0.736965...
    """
    p = _as_distributions(p, "p")
    q = _as_distributions(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {p.shape} and {q.shape}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer; got {axis!r}")
    if not -p.ndim <= axis < p.ndim:
        raise ValueError(f"axis {axis} is out of range for arrays of dimension {p.ndim}")
    if base is not None:
        if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
            raise TypeError(f"base must be a positive real number or None; got {base!r}")
        # math.isfinite would overflow on an int beyond float range; math.log does not
        if not (base > 0 and base != 1 and (isinstance(base, (int, np.integer)) or math.isfinite(base))):
            raise ValueError(f"base must be a positive finite number other than 1, or None; got {base!r}")
    dtype = np.result_type(p, q)
    p = np.moveaxis(p.astype(dtype, copy=False), axis, -1)
    q = np.moveaxis(q.astype(dtype, copy=False), axis, -1)
    values = _reduce_last_axis(p, q, skip_nan=False, normalize=False)
    if base is not None:
        values = values / math.log(base)
    return values[()] if p.ndim == 1 else values
