"""fastxent on ``dask.array``: scoring that runs on a cluster.

Each block of samples is scored by fastxent's kernels into a streaming
accumulator (a few numbers and per-class totals); the accumulators are
merged in a tree (``split_every`` at a time, in block order, so the result
is deterministic) and finished on the client.  The result equals the
in-memory function on the concatenated data to ~1e-13 relative.

Arrays are chunked along the sample axis only: the class axis of 2-D inputs
is rechunked to a single chunk, and ``y_true``/``sample_weight`` are
rechunked to the row chunks of the predictions.  NumPy arrays are accepted
and wrapped.  Reductions return a Python float, or a ``dask.delayed`` object
with ``compute=False``; ``reduction="none"`` and :func:`entropy` return lazy
dask arrays.

Example
-------
>>> import dask.array as da
>>> import fastxent.dask as fxd
>>> rng = da.random.default_rng(0)
>>> y = rng.integers(0, 3, size=1_000_000, chunks=100_000)
>>> logits = rng.normal(size=(1_000_000, 3), chunks=(100_000, 3))
>>> fxd.cross_entropy(y, logits, from_logits=True)  # doctest: +SKIP
1.39...
"""

import copy

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "fastxent.dask needs dask: pip install 'fastxent[dask]' "
        "(or pip install 'dask[array]' distributed)"
    ) from exc

import numpy as np

import fastxent

__all__ = ["log_loss", "d2_log_loss_score", "cross_entropy", "binary_cross_entropy", "entropy"]

SPLIT_EVERY = 8


# ------------------------------------------------------------ the machinery


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
        raise ValueError(f"{name} must be 1-D or 2-D, got {x.ndim} dimensions")
    if x.ndim == 2 and len(x.chunks[1]) > 1:
        x = x.rechunk({1: -1})
    if row_chunks is not None and x.chunks[0] != row_chunks:
        x = x.rechunk({0: row_chunks})
    return x


def _aligned(y_pred, *others, names):
    """Dask arrays with the row chunks of ``y_pred`` and the class axis whole."""
    y_pred = _as_dask(y_pred, name=names[0])
    rows = y_pred.chunks[0]
    out = [y_pred]
    for x, name in zip(others, names[1:]):
        if x is not None:
            n = len(x) if not hasattr(x, "shape") else x.shape[0]
            if n != y_pred.shape[0]:
                raise ValueError(
                    f"{name} has {n} samples but {names[0]} has {y_pred.shape[0]}"
                )
        out.append(_as_dask(x, rows, name))
    return out


def _blocks(x, n_blocks):
    if x is None:
        return [None] * n_blocks
    return list(x.to_delayed().ravel())


def _fold(make, *arrays):
    """Per-block accumulators ``make(*blocks)`` merged in a tree; a Delayed."""
    n_blocks = arrays[0].numblocks[0]
    columns = [_blocks(a, n_blocks) for a in arrays]
    states = [
        dask.delayed(make, pure=True)(*blocks) for blocks in zip(*columns)
    ]
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


def _finish(state, finish, compute):
    value = dask.delayed(finish, pure=True)(state)
    return value.compute() if compute else value


def _class_labels(y_true, labels):
    """The labels: given, or the distinct values of ``y_true`` (one pass)."""
    if labels is not None:
        return np.asarray(labels)
    if isinstance(y_true, da.Array):
        return np.asarray(da.unique(y_true).compute())
    return np.unique(np.asarray(y_true))


# ---------------------------------------------------------------- log loss


def _log_loss_state(labels, y_block, p_block, w_block):
    acc = fastxent.LogLossAccumulator(labels=labels)
    acc.update(y_block, p_block, sample_weight=w_block)
    return acc


def _log_loss_fold(y_true, y_proba, sample_weight, labels):
    y_proba, y_true, sample_weight = _aligned(
        y_proba, y_true, sample_weight, names=("y_proba", "y_true", "sample_weight")
    )
    classes = _class_labels(y_true, labels)
    make = _bind(_log_loss_state, classes)
    return _fold(make, y_true, y_proba, sample_weight)


class _bind:
    """``functools.partial`` that pickles compactly and tokenizes by value."""

    def __init__(self, func, *args, **kwargs):
        self.func, self.args, self.kwargs = func, args, kwargs

    def __call__(self, *more):
        return self.func(*self.args, *more, **self.kwargs)

    def __dask_tokenize__(self):
        return (self.func.__module__, self.func.__name__, dask.base.tokenize(self.args, self.kwargs))


def log_loss(y_true, y_proba, *, normalize=True, sample_weight=None, labels=None, compute=True):
    """:func:`fastxent.log_loss` on dask arrays (same arguments and value).

    ``labels`` defaults to the distinct values of ``y_true``, found in one
    extra pass.  ``compute=False`` returns a ``dask.delayed`` float.
    """
    state = _log_loss_fold(y_true, y_proba, sample_weight, labels)
    finish = _log_loss_mean if normalize else _log_loss_sum
    return _finish(state, finish, compute)


def _log_loss_mean(acc):
    return float(acc.result())


def _log_loss_sum(acc):
    return float(acc.result(normalize=False))


def d2_log_loss_score(y_true, y_proba, *, sample_weight=None, labels=None, compute=True):
    """:func:`fastxent.d2_log_loss_score` on dask arrays, from the same single pass."""
    state = _log_loss_fold(y_true, y_proba, sample_weight, labels)
    return _finish(state, _d2, compute)


def _d2(acc):
    return float(acc.d2_score())


# ----------------------------------------------------------- cross-entropy


def _loss_state(factory, options, y_block, p_block, w_block):
    acc = factory(**options)
    acc.update(y_block, p_block, sample_weight=w_block)
    return acc


def _mean_or_sum(reduction):
    return _loss_mean if reduction == "mean" else _loss_sum


def _loss_mean(acc):
    return float(acc.result())


def _loss_sum(acc):
    return float(acc.result(reduction="sum"))


def _per_sample(func, y_true, y_pred, sample_weight, options, names):
    y_pred, y_true, sample_weight = _aligned(y_pred, y_true, sample_weight, names=names)
    arrays = [y_true, y_pred] + ([sample_weight] if sample_weight is not None else [])

    def block(y, p, *w):
        return func(y, p, sample_weight=w[0] if w else None, reduction="none", **options)

    index = ("i",)
    args = []
    for a in arrays:
        args += [a, ("i", "k")[: a.ndim]]
    return da.blockwise(block, index, *args, dtype=np.float64, concatenate=True,
                        token=f"fastxent-{func.__name__}")


def cross_entropy(y_true, y_pred, *, from_logits=False, sample_weight=None, class_weight=None,
                  label_smoothing=0.0, ignore_index=None, reduction="mean", clip="auto",
                  compute=True):
    """:func:`fastxent.cross_entropy` on dask arrays (samples on axis 0, classes on axis 1).

    ``reduction="none"`` returns a lazy dask array of per-sample losses;
    ``"mean"`` and ``"sum"`` merge per-block accumulators.
    """
    options = dict(from_logits=from_logits, class_weight=class_weight,
                   label_smoothing=label_smoothing, ignore_index=ignore_index, clip=clip)
    names = ("y_pred", "y_true", "sample_weight")
    if reduction == "none":
        return _per_sample(fastxent.cross_entropy, y_true, y_pred, sample_weight, options, names)
    _check_reduction(reduction)
    y_pred, y_true, sample_weight = _aligned(y_pred, y_true, sample_weight, names=names)
    make = _bind(_loss_state, fastxent.CrossEntropyAccumulator, options)
    state = _fold(make, y_true, y_pred, sample_weight)
    return _finish(state, _mean_or_sum(reduction), compute)


def binary_cross_entropy(y_true, y_pred, *, from_logits=False, sample_weight=None,
                         pos_weight=None, reduction="mean", clip="auto", compute=True):
    """:func:`fastxent.binary_cross_entropy` on dask arrays (see :func:`cross_entropy`)."""
    options = dict(from_logits=from_logits, pos_weight=pos_weight, clip=clip)
    names = ("y_pred", "y_true", "sample_weight")
    if reduction == "none":
        return _per_sample(
            fastxent.binary_cross_entropy, y_true, y_pred, sample_weight, options, names
        )
    _check_reduction(reduction)
    y_pred, y_true, sample_weight = _aligned(y_pred, y_true, sample_weight, names=names)
    make = _bind(_loss_state, fastxent.BinaryCrossEntropyAccumulator, options)
    state = _fold(make, y_true, y_pred, sample_weight)
    return _finish(state, _mean_or_sum(reduction), compute)


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


# ----------------------------------------------------------------- entropy


def entropy(pk, qk=None, base=None, axis=0, *, nan_policy="propagate", keepdims=False):
    """:func:`fastxent.entropy` (``scipy.stats.entropy``) on dask arrays; lazy.

    The distribution axis ``axis`` is rechunked to one chunk; every other
    axis keeps its chunks, and each block is one call of the in-memory
    function.
    """
    pk = pk if isinstance(pk, da.Array) else da.asarray(pk)
    if qk is not None:
        qk = qk if isinstance(qk, da.Array) else da.asarray(qk)
        pk, qk = da.broadcast_arrays(pk, qk)
    ndim = pk.ndim
    if ndim == 0:
        raise ValueError("pk must have at least one dimension")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    axis = axis % ndim
    pk = pk.rechunk({axis: -1})
    options = dict(base=base, axis=axis, nan_policy=nan_policy, keepdims=keepdims)
    index = tuple(range(ndim))
    out_index = index if keepdims else index[:axis] + index[axis + 1 :]

    def block(p, q=None):
        return fastxent.entropy(p, q, **options)

    args = [pk, index]
    if qk is not None:
        args += [qk.rechunk(pk.chunks), index]
    return da.blockwise(
        block, out_index, *args, dtype=np.float64, concatenate=True,
        adjust_chunks={axis: 1} if keepdims else None, token="fastxent-entropy",
    )
