"""fastxent on ``dask.array``: scoring that runs on a cluster.

Each block of samples is scored by fastxent's kernels into a streaming
accumulator (a few numbers and per-class totals); the accumulators are
merged in a tree (``split_every`` at a time, in block order, so the result
is deterministic) and finished on the client.  The result equals the
in-memory function on the concatenated data to ~1e-13 relative.

Arrays are chunked along the sample axis only: the class axis of 2-D inputs
is rechunked to a single chunk, and ``y_true``/``sample_weight`` are
rechunked to the row chunks of the predictions.  NumPy arrays are accepted
and wrapped.  Arrays whose row chunk sizes are unknown (after boolean
indexing, ``x[mask]``) cannot be rechunked: they are paired block for block,
so index every argument with the same mask (or call
``.compute_chunk_sizes()``).  Reductions return a Python float, or a
``dask.delayed`` object with ``compute=False``; ``reduction="none"`` and
:func:`entropy` return lazy dask arrays of the in-memory result's shape and
dtype.  Empty input gives what the in-memory function gives for it (its
error, or ``d2_log_loss_score``'s NaN); empty blocks are fine.

Examples
--------
>>> import dask.array as da
>>> import fastxent
>>> import fastxent.dask as fxd
>>> rng = da.random.default_rng(0)
>>> y = rng.integers(0, 3, size=10_000, chunks=1_000)
>>> logits = rng.normal(size=(10_000, 3), chunks=(1_000, 3))
>>> loss = fxd.cross_entropy(y, logits, from_logits=True)
>>> abs(loss - fastxent.cross_entropy(y.compute(), logits.compute(), from_logits=True)) < 1e-13 * loss
True
"""

import copy
import math

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "fastxent.dask needs dask: pip install 'fastxent[dask]' (or pip install 'dask[array]' distributed)"
    ) from exc

import numpy as np

from ._api import binary as _binary_api
from ._api import categorical as _categorical_api
from ._api import entropy as _entropy_api
from ._api import log_loss as _log_loss_api
from ._api.entropy import compute_dtype
from ._api.log_loss_validation import check_params
from ._api.validation import check_reduction
from ._streaming.log_loss import LogLossAccumulator
from ._streaming.losses import BinaryCrossEntropyAccumulator, CrossEntropyAccumulator

__all__ = ["log_loss", "d2_log_loss_score", "cross_entropy", "binary_cross_entropy", "entropy"]

SPLIT_EVERY = 8

_UNKNOWN_FIX = (
    "call .compute_chunk_sizes() on the dask arrays first, or index all of them with "
    "the same boolean mask so that their blocks correspond"
)


# ------------------------------------------------------------ the machinery


def _known(chunks):
    return not any(math.isnan(c) for c in chunks)


def _as_dask(x, row_chunks=None, name="array"):
    if x is None:
        return None
    if not isinstance(x, da.Array):
        x = np.asarray(x)
        if row_chunks is None:
            chunks = "auto"
        else:  # rows as given, every other axis whole
            chunks = (row_chunks,) + tuple((size,) for size in x.shape[1:])
        x = da.from_array(x, chunks=chunks)
    if x.ndim == 0 or x.ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D (samples on axis 0) in fastxent.dask; got {x.ndim} dimensions")
    if x.ndim == 2 and len(x.chunks[1]) > 1:
        x = x.rechunk({1: -1})
    if row_chunks is not None and x.chunks[0] != row_chunks:
        x = x.rechunk({0: row_chunks})
    return x


def _aligned(y_pred, *others, names):
    """Dask arrays whose row blocks pair up, the class axis whole.

    With known chunk sizes the others are rechunked to the rows of
    ``y_pred``.  Unknown sizes (after boolean indexing) cannot be rechunked:
    then every array must have them unknown and the same number of blocks,
    which are paired in order (each block checks that its rows match).
    """
    y_pred = _as_dask(y_pred, name=names[0])
    arrays = [
        None if x is None else _as_dask(x, name=name) if isinstance(x, da.Array) else x
        for x, name in zip(others, names[1:])
    ]
    dask_arrays = [y_pred] + [x for x in arrays if isinstance(x, da.Array)]
    if all(_known(x.chunks[0]) for x in dask_arrays):
        rows = y_pred.chunks[0]
        out = [y_pred]
        for x, name in zip(arrays, names[1:]):
            if x is not None:
                n = len(x) if not hasattr(x, "shape") else x.shape[0]
                if n != y_pred.shape[0]:
                    raise ValueError(f"{name} has {n} samples but {names[0]} has {y_pred.shape[0]}")
            out.append(_as_dask(x, rows, name))
        return out
    pred_known = _known(y_pred.chunks[0])
    for x, name in zip(arrays, names[1:]):
        if x is None:
            continue
        if (not isinstance(x, da.Array) or _known(x.chunks[0])) != pred_known:
            unknown, known = (name, names[0]) if pred_known else (names[0], name)
            raise ValueError(
                f"{unknown} has unknown chunk sizes (as after boolean indexing) but {known} "
                f"does not, so their rows cannot be matched; {_UNKNOWN_FIX}"
            )
        if x.numblocks[0] != y_pred.numblocks[0]:
            raise ValueError(
                f"{name} and {names[0]} have unknown chunk sizes (as after boolean indexing) "
                f"and {x.numblocks[0]} and {y_pred.numblocks[0]} blocks, so their rows cannot "
                f"be matched; {_UNKNOWN_FIX}"
            )
    return [y_pred] + arrays


def _check_block(names, y_block, p_block, w_block):
    """Blocks of unknown size are paired in order: their rows must agree."""
    for x, name in ((y_block, names[1]), (w_block, names[2])):
        if x is not None and x.shape[0] != p_block.shape[0]:
            raise ValueError(
                f"{name} has a block of {x.shape[0]} rows where {names[0]} has "
                f"{p_block.shape[0]}: blocks of unknown size are paired in order; {_UNKNOWN_FIX}"
            )


def _empty_like(x):
    """A NumPy array with no rows and the dtype and other axes of ``x``."""
    return None if x is None else np.empty((0,) + x.shape[1:], dtype=x.dtype)


def _blocks(x, n_blocks):
    if x is None:
        return [None] * n_blocks
    return list(x.to_delayed().ravel())


def _fold(make, *arrays):
    """Per-block accumulators ``make(*blocks)`` merged in a tree; a Delayed."""
    n_blocks = arrays[0].numblocks[0]
    columns = [_blocks(a, n_blocks) for a in arrays]
    states = [dask.delayed(make, pure=True)(*blocks) for blocks in zip(*columns)]
    while len(states) > 1:
        states = [
            dask.delayed(_merge_all, pure=True)(*states[i : i + SPLIT_EVERY])
            if len(states[i : i + SPLIT_EVERY]) > 1
            else states[i]
            for i in range(0, len(states), SPLIT_EVERY)
        ]
    return states[0]


def _merge_all(first, *rest):
    # A copy: the inputs may still be held by the scheduler (shared keys of
    # two results computed together) and must not change under it.
    merged = copy.deepcopy(first)
    for other in rest:
        merged.merge(other)
    return merged


def _finish(state, finish, no_samples, compute):
    value = dask.delayed(_finished, pure=True)(state, finish, no_samples)
    return value.compute() if compute else value


def _finished(acc, finish, no_samples):
    # Every block was empty: the in-memory function on empty input says
    # what the answer is (an error, or d2's NaN).
    return no_samples() if acc.n_samples_ == 0 else finish(acc)


def _done(value, compute):
    return value if compute else dask.delayed(value)


class _bind:
    """``functools.partial`` that pickles compactly and tokenizes by value."""

    def __init__(self, func, *args, **kwargs):
        self.func, self.args, self.kwargs = func, args, kwargs

    def __call__(self, *more, **more_kwargs):
        return self.func(*self.args, *more, **self.kwargs, **more_kwargs)

    def __dask_tokenize__(self):
        return ("fastxent.dask._bind", dask.base.tokenize(self.func, self.args, self.kwargs))


# ---------------------------------------------------------------- log loss

_LOG_LOSS_NAMES = ("y_proba", "y_true", "sample_weight")


def _log_loss_state(labels, y_block, p_block, w_block):
    _check_block(_LOG_LOSS_NAMES, y_block, p_block, w_block)
    acc = LogLossAccumulator(labels=labels)
    acc.update(y_block, p_block, sample_weight=w_block)
    return acc


def _log_loss_stub(values, y_proba):
    """Small valid-looking data with the classes ``values`` and the columns
    of ``y_proba``: the in-memory function's class checks run on it."""
    n = y_proba.shape[0]
    rows = 0 if values.shape[0] == 0 else max(values.shape[0], 2 if math.isnan(n) else min(2, n))
    width = y_proba.shape[1:]
    stub = np.full((rows,) + width, 1.0 / ((width[0] or 1) if width else 2), dtype=y_proba.dtype)
    return np.resize(values, rows), stub


def _log_loss_pass(func, finish, y_true, y_proba, sample_weight, labels, compute):
    y_proba, y_true, sample_weight = _aligned(y_proba, y_true, sample_weight, names=_LOG_LOSS_NAMES)
    if sample_weight is not None and sample_weight.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got {sample_weight.ndim}D array. "
            f"Expected either a scalar value or a 1D array of length {y_true.shape[0]}."
        )
    block_labels = labels
    checked = False
    if labels is not None:
        try:
            LogLossAccumulator(labels=labels)  # bad labels fail here, not in every block
            checked = True
        except ValueError:
            pass  # e.g. one label: the in-memory error depends on y_true too (below)
    if not checked:
        # The classes come from y_true (one pass); the in-memory function,
        # run on a few rows with those classes, raises what it would raise
        # for the whole data (one class, more columns than classes, ...).
        values = np.asarray(da.unique(y_true).compute())
        value = func(*_log_loss_stub(values, y_proba), labels=labels)
        if labels is not None or values.shape[0] < 2:
            return _done(value, compute)  # only d2's NaN for fewer than two samples
        block_labels = values
    state = _fold(_bind(_log_loss_state, block_labels), y_true, y_proba, sample_weight)
    no_samples = _bind(
        func, _empty_like(y_true), _empty_like(y_proba), sample_weight=_empty_like(sample_weight), labels=labels
    )
    return _finish(state, finish, no_samples, compute)


def log_loss(y_true, y_proba, *, normalize=True, sample_weight=None, labels=None, compute=True):
    """:func:`fastxent.log_loss` on dask arrays (same arguments and value).

    ``labels`` defaults to the distinct values of ``y_true``, found in one
    extra pass.  ``compute=False`` returns a ``dask.delayed`` float.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> y = da.from_array([0, 1, 1, 0], chunks=2)
    >>> p = da.from_array([0.1, 0.8, 0.6, 0.3], chunks=2)
    >>> fxd.log_loss(y, p)
    0.299001...
    >>> fxd.log_loss(y, p, compute=False).compute()
    0.299001...
    """
    check_params("log_loss", (), None, normalize, None, None, "deprecated")
    finish = _log_loss_mean if normalize else _log_loss_sum
    func = _bind(_log_loss_api.log_loss, normalize=normalize)
    return _log_loss_pass(func, finish, y_true, y_proba, sample_weight, labels, compute)


def _log_loss_mean(acc):
    return float(acc.result())


def _log_loss_sum(acc):
    return float(acc.result(normalize=False))


def d2_log_loss_score(y_true, y_proba, *, sample_weight=None, labels=None, compute=True):
    """:func:`fastxent.d2_log_loss_score` on dask arrays, from the same single pass.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> y = da.from_array([0, 1, 1, 0], chunks=2)
    >>> p = da.from_array([0.1, 0.8, 0.6, 0.3], chunks=2)
    >>> fxd.d2_log_loss_score(y, p)
    0.568632...
    """
    return _log_loss_pass(_log_loss_api.d2_log_loss_score, _d2, y_true, y_proba, sample_weight, labels, compute)


def _d2(acc):
    return float(acc.d2_score())


# ----------------------------------------------------------- cross-entropy

_LOSS_NAMES = ("y_pred", "y_true", "sample_weight")


def _loss_state(factory, options, y_block, p_block, w_block):
    _check_block(_LOSS_NAMES, y_block, p_block, w_block)
    acc = factory(**options)
    acc.update(y_block, p_block, sample_weight=w_block)
    return acc


def _loss_mean(acc):
    return float(acc.result())


def _loss_sum(acc):
    return float(acc.result(reduction="sum"))


def _per_sample_block(func, options, out_ndim, y, p, *w):
    w = w[0] if w else None
    _check_block(_LOSS_NAMES, y, p, w)
    if p.shape[0] == 0:  # an empty block (boolean indexing makes them)
        return np.empty(p.shape[:out_ndim])
    return func(y, p, sample_weight=w, reduction="none", **options)


def _check_shapes(func, y, p, w):
    """The in-memory function's shape errors, for the whole arrays (a block's
    error would quote the block's shape)."""
    if func is _binary_api.binary_cross_entropy:
        if y.shape[1:] != p.shape[1:]:
            raise ValueError(f"y_true has shape {y.shape} but y_pred has shape {p.shape}; they must match")
        if w is not None and w.shape[1:] != p.shape[1:]:
            raise ValueError(f"sample_weight has shape {w.shape} but y_pred has shape {p.shape}")
        return
    if p.ndim != 2:
        raise ValueError(f"y_pred must be at least 2-D (samples x classes); got a {p.ndim}-D array of shape {p.shape}")
    if y.shape[1:] not in ((), p.shape[1:]):
        raise ValueError(
            f"y_true must have shape {p.shape[:1]} (class indices) or {p.shape} "
            f"(distributions) to match y_pred of shape {p.shape}; got {y.shape}"
        )
    if w is not None and w.ndim != 1:
        raise ValueError(f"sample_weight must have shape {p.shape[:1]} (one weight per sample); got {w.shape}")


def _loss(func, factory, y_true, y_pred, sample_weight, options, reduction, out_ndim, compute):
    reduction = check_reduction(reduction)
    y_pred, y_true, sample_weight = _aligned(y_pred, y_true, sample_weight, names=_LOSS_NAMES)
    _check_shapes(func, y_true, y_pred, sample_weight)
    empty = (_empty_like(y_true), _empty_like(y_pred))
    no_samples = _bind(func, *empty, sample_weight=_empty_like(sample_weight), reduction=reduction, **options)
    if reduction != "none":
        state = _fold(_bind(_loss_state, factory, options), y_true, y_pred, sample_weight)
        return _finish(state, _loss_mean if reduction == "mean" else _loss_sum, no_samples, compute)
    if y_pred.shape[0] == 0:
        no_samples()  # the in-memory function's error for empty input
    out_ndim = min(out_ndim, y_pred.ndim)
    arrays = [y_true, y_pred] + ([sample_weight] if sample_weight is not None else [])
    args = []
    for a in arrays:
        args += [a, ("i", "k")[: a.ndim]]
    return da.blockwise(
        _bind(_per_sample_block, func, options, out_ndim),
        ("i", "k")[:out_ndim],
        *args,
        dtype=np.float64,
        concatenate=True,
        token=f"fastxent-{func.__name__}",
    )


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
    clip="auto",
    compute=True,
):
    """:func:`fastxent.cross_entropy` on dask arrays (samples on axis 0, classes on axis 1).

    ``reduction="none"`` returns a lazy dask array of per-sample losses;
    ``"mean"`` and ``"sum"`` merge per-block accumulators.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> y = da.from_array([1, 0, 2], chunks=2)
    >>> logits = da.from_array([[1.0, 3.0, 2.0], [0.5, 0.5, 2.0], [0.0, 1.0, 0.0]], chunks=(2, 3))
    >>> fxd.cross_entropy(y, logits, from_logits=True)
    1.276010...
    >>> fxd.cross_entropy(y, logits, from_logits=True, reduction="none").compute()
    array([0.407605..., 1.868981..., 1.551444...])
    """
    options = dict(
        from_logits=from_logits,
        class_weight=class_weight,
        label_smoothing=label_smoothing,
        ignore_index=ignore_index,
        clip=clip,
    )
    return _loss(
        _categorical_api.cross_entropy,
        CrossEntropyAccumulator,
        y_true,
        y_pred,
        sample_weight,
        options,
        reduction,
        1,
        compute,
    )


def binary_cross_entropy(
    y_true,
    y_pred,
    *,
    from_logits=False,
    sample_weight=None,
    pos_weight=None,
    reduction="mean",
    clip="auto",
    compute=True,
):
    """:func:`fastxent.binary_cross_entropy` on dask arrays (see :func:`cross_entropy`).

    2-D ``y_pred`` (several binary targets per sample) gives 2-D losses with
    ``reduction="none"``.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> y = da.from_array([1.0, 0.0, 1.0], chunks=2)
    >>> p = da.from_array([0.9, 0.2, 0.6], chunks=2)
    >>> fxd.binary_cross_entropy(y, p)
    0.279776...
    """
    options = dict(from_logits=from_logits, pos_weight=pos_weight, clip=clip)
    return _loss(
        _binary_api.binary_cross_entropy,
        BinaryCrossEntropyAccumulator,
        y_true,
        y_pred,
        sample_weight,
        options,
        reduction,
        2,
        compute,
    )


# ----------------------------------------------------------------- entropy


def _entropy_axes(axis, ndim):
    """The reduced axes as sorted non-negative ints (out-of-bounds and
    repeated axes raise what the in-memory function raises)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    np.moveaxis(np.empty((1,) * ndim), axes, range(-len(axes), 0))  # the in-memory errors
    return tuple(sorted(np.lib.array_utils.normalize_axis_tuple(axes, ndim)))


def _same_shape(a, b):
    """Equal shapes, an unknown length matching an unknown one (the blocks
    then show whether they pair)."""
    return a.ndim == b.ndim and all(m == n or (math.isnan(m) and math.isnan(n)) for m, n in zip(a.shape, b.shape))


def _whole(x, axes, name):
    if any(not _known(x.chunks[a]) for a in axes):
        raise ValueError(
            f"{name} has unknown chunk sizes along a distribution axis, which must be "
            f"one chunk; call {name}.compute_chunk_sizes() first"
        )
    return x.rechunk({a: -1 for a in axes})


def _entropy_block(options, out_dtype, p, q=None):
    # A 1-D slice with a NaN gives SciPy's early-exit dtype (float16 for
    # float16 input); the declared dtype keeps blocks and metadata alike.
    return np.asarray(_entropy_api.entropy(p, q, **options), dtype=out_dtype)


def entropy(pk, qk=None, base=None, axis=0, *, nan_policy="propagate", keepdims=False):
    """:func:`fastxent.entropy` (``scipy.stats.entropy``) on dask arrays; lazy.

    The distribution axes ``axis`` (an int, a tuple, or None for all) are
    rechunked to one chunk; every other axis keeps its chunks, and each
    block is one call of the in-memory function.  The result has the shape
    and dtype of the in-memory result (float32 for float32/float16 input).

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> pk = da.from_array([[1.0, 1.0, 2.0], [0.5, 0.5, 0.0]], chunks=(1, 3))
    >>> h = fxd.entropy(pk, axis=1)
    >>> h
    dask.array<fastxent-entropy, shape=(2,), dtype=float64, ...>
    >>> h.compute()
    array([1.039720..., 0.693147...])
    """
    if pk is None:
        raise ValueError("at least one array or dtype is required")
    pk = pk if isinstance(pk, da.Array) else da.asarray(pk)
    qk = qk if qk is None or isinstance(qk, da.Array) else da.asarray(qk)
    samples = [pk] if qk is None else [pk, qk]
    _, out_dtype, nan_dtype = compute_dtype(
        [np.empty(0, dtype=s.dtype) for s in samples], "entr" if qk is None else "rel_entr"
    )
    options = dict(base=base, nan_policy=nan_policy, keepdims=keepdims)
    if pk.ndim == 0:
        pk = pk[None]
    if axis is None:
        # All of the data is one distribution: one task sees all of it, as
        # the in-memory function does (it ravels before broadcasting).
        shape = (1,) * max(max(s.ndim for s in samples), 1) if keepdims else ()
        whole = [s.rechunk(-1) for s in samples]
        out = dask.delayed(_bind(_entropy_block, dict(options, axis=None), out_dtype))(*whole)
        return da.from_delayed(out, shape=shape, dtype=out_dtype)
    if qk is not None and not _same_shape(pk, qk):
        try:
            pk, qk = da.broadcast_arrays(pk, qk)
        except ValueError:
            raise ValueError("Array shapes are incompatible for broadcasting.") from None
    ndim = pk.ndim
    axes = _entropy_axes(axis, ndim)
    pk = _whole(pk, axes, "pk")
    index = tuple(range(ndim))
    out_index = index if keepdims else tuple(i for i in index if i not in axes)
    out_size = math.prod(n for i, n in enumerate(pk.shape) if i not in axes)
    if out_index and out_size == 0:
        out_dtype = nan_dtype  # an empty result: the in-memory function's NaN dtype
    args = [pk, index]
    if qk is not None:
        qk = _whole(qk, axes, "qk")
        if qk.chunks != pk.chunks:
            if not all(_known(c) for c in pk.chunks + qk.chunks):
                raise ValueError(
                    "pk and qk have unknown chunk sizes that differ (as after boolean indexing "
                    "with different masks); call .compute_chunk_sizes() on both first"
                )
            qk = qk.rechunk(pk.chunks)
        args += [qk, index]
    return da.blockwise(
        _bind(_entropy_block, dict(options, axis=axes if len(axes) > 1 else axes[0]), out_dtype),
        out_index,
        *args,
        dtype=out_dtype,
        concatenate=True,
        adjust_chunks={a: 1 for a in axes} if keepdims else None,
        token="fastxent-entropy",
    )


# The mutual-information scores live in fastxent._scoring.dask_clusterings.
from ._scoring.dask_clusterings import adjusted_mutual_info_score, mutual_info_score, normalized_mutual_info_score  # noqa: E402

__all__ += ["mutual_info_score", "normalized_mutual_info_score", "adjusted_mutual_info_score"]
