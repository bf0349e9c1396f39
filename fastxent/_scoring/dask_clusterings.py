"""The mutual-information scores on ``dask.array`` labelings (``fastxent.dask``).

Each pair of blocks is counted into a :class:`fastxent.ContingencyAccumulator`
(validated as the in-memory scores validate); the accumulators are merged
in a tree, ``SPLIT_EVERY`` at a time in block order, and the score is
finished from the merged table.  Tables merge exactly (integer counts over
the sorted union of the classes), so the result is the in-memory score of
the concatenated labels, bit for bit.  ``labels_pred`` is rechunked to the
chunks of ``labels_true``; NumPy arrays and lists are wrapped.
"""

import copy
import functools

import dask
import dask.array as da
import numpy as np

from .._streaming.contingency import ContingencyAccumulator

__all__ = ["mutual_info_score", "normalized_mutual_info_score", "adjusted_mutual_info_score"]

SPLIT_EVERY = 8


def _as_labels(x, name, chunks=None):
    if not isinstance(x, da.Array):
        x = np.asarray(x)
        x = da.from_array(x, chunks="auto" if chunks is None or x.ndim != 1 else (chunks,))
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1D: shape is {x.shape!r}")
    return x


def _state(labels_true, labels_pred):
    return ContingencyAccumulator().update(labels_true, labels_pred)


def _merge(first, *rest):
    # A copy: the inputs may be held by the scheduler for another result.
    merged = copy.deepcopy(first)
    for other in rest:
        merged.merge(other)
    return merged


def _tree(labels_true, labels_pred):
    """The merged accumulator of two 1-D label arrays, as a Delayed."""
    labels_true = _as_labels(labels_true, "labels_true")
    labels_pred = _as_labels(labels_pred, "labels_pred", labels_true.chunks[0])
    n_true, n_pred = labels_true.shape[0], labels_pred.shape[0]
    if not (np.isnan(n_true) or np.isnan(n_pred)) and n_true != n_pred:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{n_true}, {n_pred}]")
    if labels_pred.chunks != labels_true.chunks:
        if any(np.isnan(c) for c in labels_true.chunks[0] + labels_pred.chunks[0]):
            raise ValueError(
                "labels_true and labels_pred have unknown chunk sizes that differ; "
                "call .compute_chunk_sizes() on both first"
            )
        labels_pred = labels_pred.rechunk(labels_true.chunks)
    blocks = zip(labels_true.to_delayed().ravel(), labels_pred.to_delayed().ravel())
    states = [dask.delayed(_state, pure=True)(t, p) for t, p in blocks]
    while len(states) > 1:
        groups = [states[i : i + SPLIT_EVERY] for i in range(0, len(states), SPLIT_EVERY)]
        states = [dask.delayed(_merge, pure=True)(*g) if len(g) > 1 else g[0] for g in groups]
    return states[0]


def _score(method, kwargs, labels_true, labels_pred, compute):
    finish = functools.partial(_finish, method, kwargs)
    value = dask.delayed(finish, pure=True)(_tree(labels_true, labels_pred))
    return value.compute() if compute else value


def _finish(method, kwargs, acc):
    return getattr(acc, method)(**kwargs)


def _check_average_method(average_method):
    if average_method not in ("arithmetic", "max", "min", "geometric"):
        raise ValueError(f"average_method must be 'arithmetic', 'geometric', 'min' or 'max'; got {average_method!r}")


def mutual_info_score(labels_true, labels_pred, *, compute=True):
    """:func:`fastxent.mutual_info_score` of dask labelings (same value).

    ``compute=False`` returns a ``dask.delayed`` float.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> labels_true = da.from_array([0, 0, 1, 1, 2], chunks=2)
    >>> labels_pred = da.from_array([1, 1, 0, 0, 0], chunks=2)
    >>> fxd.mutual_info_score(labels_true, labels_pred)
    0.673011...
    """
    return _score("mutual_info", {}, labels_true, labels_pred, compute)


def normalized_mutual_info_score(labels_true, labels_pred, *, average_method="arithmetic", compute=True):
    """:func:`fastxent.normalized_mutual_info_score` of dask labelings.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> labels_true = da.from_array([0, 0, 1, 1, 2], chunks=2)
    >>> labels_pred = da.from_array([1, 1, 0, 0, 0], chunks=2)
    >>> fxd.normalized_mutual_info_score(labels_true, labels_pred)
    0.778979...
    """
    _check_average_method(average_method)
    return _score("normalized_mutual_info", {"average_method": average_method}, labels_true, labels_pred, compute)


def adjusted_mutual_info_score(labels_true, labels_pred, *, average_method="arithmetic", compute=True):
    """:func:`fastxent.adjusted_mutual_info_score` of dask labelings (one pass
    over the data; the expected mutual information from the merged table).

    Examples
    --------
    >>> import dask.array as da
    >>> import fastxent.dask as fxd
    >>> labels_true = da.from_array([0, 0, 1, 1, 2], chunks=2)
    >>> labels_pred = da.from_array([1, 1, 0, 0, 0], chunks=2)
    >>> fxd.adjusted_mutual_info_score(labels_true, labels_pred)
    0.635350...
    """
    _check_average_method(average_method)
    return _score("adjusted_mutual_info", {"average_method": average_method}, labels_true, labels_pred, compute)
