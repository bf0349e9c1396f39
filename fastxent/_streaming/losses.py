"""Streaming, mergeable binary and categorical cross-entropy.

An accumulator's state is three numbers: the weighted loss sum (kept as a
Neumaier pair, so adding chunk totals loses nothing), the ``"mean"``
normalizer (sum of the weights PyTorch divides by) and the sample count.
``update`` runs the same validated kernel as the one-call functions on a
chunk; ``merge`` adds states; ``result`` finishes the reduction.  Any
chunking of the data, in any order, gives the one-call result to ~1e-15
relative.  Accumulators are plain Python objects and pickle as such.
"""

import math

import numpy as np

from .._api import binary as _binary_losses
from .._api import categorical as _categorical_losses
from .._api.validation import REDUCTIONS
from .log_loss import LockedState, no_samples_error

__all__ = ["BinaryCrossEntropyAccumulator", "CrossEntropyAccumulator"]


def _neumaier_add(total, comp, value):
    t = total + value
    if not math.isfinite(t):  # an infinite loss: the compensation would be inf - inf = nan
        return t, 0.0
    if abs(total) >= abs(value):
        comp += (total - t) + value
    else:
        comp += (value - t) + total
    return t, comp


def _sizes(*arrays):
    """The element counts of the arrays (None for an absent one), or None when
    one has no shape (the full validation then says why)."""
    try:
        return [None if a is None else int(np.size(a)) for a in arrays]
    except (TypeError, ValueError):
        return None


class _Accumulator(LockedState):
    """Shared state handling; subclasses define ``_chunk`` and ``_config``.

    ``_chunk`` validates a chunk and computes its whole contribution without
    touching the state; ``_commit`` then adds it under the lock, so a
    rejected chunk changes nothing and concurrent updates lose nothing.
    """

    def __init__(self):
        super().__init__()
        self._loss = (0.0, 0.0)
        self._norm = (0.0, 0.0)
        self.n_samples_ = 0

    def _commit(self, loss, norm, n_samples, n_classes, name):
        """Add a contribution (plain numbers or another state's pairs); the
        caller holds the lock.  A class count conflict with ``name`` raises
        before anything changes."""
        self._check_classes(n_classes, name)
        new_loss, new_norm = self._loss, self._norm
        for part in loss if isinstance(loss, tuple) else (loss,):
            new_loss = _neumaier_add(*new_loss, part)
        for part in norm if isinstance(norm, tuple) else (norm,):
            new_norm = _neumaier_add(*new_norm, part)
        self._loss, self._norm = new_loss, new_norm
        self.n_samples_ += n_samples
        self._set_classes(n_classes)

    def _check_classes(self, n_classes, name):
        pass

    def _set_classes(self, n_classes):
        pass

    def _snapshot(self):
        with self._lock:
            return self._loss, self._norm, self.n_samples_, getattr(self, "n_classes_", None)

    @property
    def loss_sum_(self):
        """Weighted sum of the per-sample losses seen so far."""
        return _pair_value(self._loss)

    @property
    def weight_sum_(self):
        """The divisor of ``reduction="mean"`` accumulated so far."""
        return self._norm[0] + self._norm[1]

    def update(self, y_true, y_pred, sample_weight=None):
        """Add a chunk of samples (same arguments as the one-call function).

        An empty chunk is a no-op; a rejected chunk leaves the state unchanged.

        Returns
        -------
        self
        """
        chunk = self._chunk(y_true, y_pred, sample_weight)
        if chunk is not None:
            with self._lock:
                self._commit(*chunk, "y_pred")
        return self

    def merge(self, other):
        """Add the state of another accumulator of the same configuration.

        Returns
        -------
        self
        """
        if type(other) is not type(self) or other._config() != self._config():
            raise ValueError("other must be an accumulator of the same type and configuration")
        loss, norm, n_samples, n_classes = other._snapshot()
        if n_samples == 0 and n_classes is None:
            return self
        with self._lock:
            self._commit(loss, norm, n_samples, n_classes, "other")
        return self

    def result(self, reduction="mean"):
        """The loss over everything seen: ``"mean"`` or ``"sum"``.

        ``"mean"`` is 0 when every sample was ignored or weighted 0, like the
        one-call function; ``ValueError`` when no sample has been added.
        """
        if not isinstance(reduction, str) or reduction not in REDUCTIONS or reduction == "none":
            raise ValueError(f'reduction must be "mean" or "sum" for an accumulator; got {reduction!r}')
        loss, norm, n_samples, _ = self._snapshot()
        if n_samples == 0:
            raise no_samples_error(self)
        total = _pair_value(loss)
        if reduction == "sum":
            return float(total)
        norm = norm[0] + norm[1]
        return float(total / norm) if norm != 0.0 else 0.0


def _pair_value(pair):
    total, comp = pair
    return total + comp if np.isfinite(total) else total


class BinaryCrossEntropyAccumulator(_Accumulator):
    """Streaming :func:`fastxent.binary_cross_entropy`.

    Parameters
    ----------
    from_logits : bool, default False
    pos_weight : float >= 0, optional
    clip : "auto", None or float, default "auto"
        As in :func:`fastxent.binary_cross_entropy`.

    Attributes
    ----------
    n_samples_ : int
        Number of elements of ``y_pred`` seen (rows times columns for 2-D
        chunks: the count ``"mean"`` divides by without weights).
    loss_sum_, weight_sum_ : float
        The weighted loss sum and the divisor of ``"mean"`` so far.

    Notes
    -----
    An empty chunk is accepted and changes nothing (streams produce them);
    :meth:`result` raises ``ValueError`` while no sample has been added, as
    the one-call function does on empty input.  A chunk that :meth:`update`
    rejects leaves the state exactly as it was.  ``update`` and ``merge`` may
    be called from several threads at once; the chunks' kernels then run in
    parallel.

    Examples
    --------
    >>> acc = BinaryCrossEntropyAccumulator(from_logits=True)
    >>> for y, z in chunks:            # doctest: +SKIP
    ...     acc.update(y, z)
    >>> acc.result()                   # doctest: +SKIP
    """

    def __init__(self, *, from_logits=False, pos_weight=None, clip="auto"):
        super().__init__()
        self.from_logits = from_logits
        self.pos_weight = pos_weight
        self.clip = clip

    def _config(self):
        pw = self.pos_weight
        pw = tuple(np.ravel(pw).tolist()) if np.ndim(pw) > 0 else pw
        return (bool(self.from_logits), pw, self.clip)

    def _chunk(self, y_true, y_pred, sample_weight):
        sizes = _sizes(y_true, y_pred, sample_weight)
        if sizes is not None and not any(sizes):
            return None
        problem = _binary_losses._Problem(y_true, y_pred, self.from_logits, sample_weight, self.pos_weight, self.clip)
        total = problem.run(1.0, np.empty(0), np.empty(0, dtype=problem.dtype))
        return total, problem.normalizer(), problem.pred.shape[0], None


class CrossEntropyAccumulator(_Accumulator):
    """Streaming :func:`fastxent.cross_entropy` (class indices or distributions).

    ``"mean"`` divides by the same normalizer as the one-call function, so
    chunks with ignored samples or class weights merge exactly.

    Parameters
    ----------
    from_logits : bool, default False
    class_weight : array-like of shape (k,), optional
    label_smoothing : float, default 0
    ignore_index : int, optional
    axis : int, default -1
    clip : "auto", None or float, default "auto"
        As in :func:`fastxent.cross_entropy`.

    Attributes
    ----------
    n_classes_ : int or None
        The number of classes, fixed by the first non-empty chunk.
    n_samples_ : int
        Number of samples seen (ignored ones included).
    loss_sum_, weight_sum_ : float
        The weighted loss sum and the divisor of ``"mean"`` so far.

    Notes
    -----
    Empty chunks, rejected chunks and threads behave as in
    :class:`BinaryCrossEntropyAccumulator`: an empty chunk is a no-op, a
    rejected one changes nothing, :meth:`result` raises ``ValueError`` while
    no sample has been added.
    """

    def __init__(
        self, *, from_logits=False, class_weight=None, label_smoothing=0.0, ignore_index=None, axis=-1, clip="auto"
    ):
        super().__init__()
        self.from_logits = from_logits
        self.class_weight = None if class_weight is None else np.asarray(class_weight)
        self.label_smoothing = label_smoothing
        self.ignore_index = ignore_index
        self.axis = axis
        self.clip = clip
        self.n_classes_ = None

    def _config(self):
        cw = None if self.class_weight is None else tuple(np.ravel(self.class_weight).tolist())
        return (bool(self.from_logits), cw, self.label_smoothing, self.ignore_index, self.axis, self.clip)

    def _check_classes(self, n_classes, name):
        if None not in (n_classes, self.n_classes_) and n_classes != self.n_classes_:
            earlier = "this accumulator has" if name == "other" else "earlier chunks had"
            raise ValueError(f"{name} has {n_classes} classes but {earlier} {self.n_classes_}")

    def _set_classes(self, n_classes):
        if self.n_classes_ is None:
            self.n_classes_ = n_classes

    def _empty_chunk_classes(self, y_true, y_pred, sample_weight):
        """The class count of a chunk without samples, or None when it has some."""
        sizes = _sizes(y_true, y_pred, sample_weight)
        if sizes is None or any(sizes):
            return None
        shape = np.shape(y_pred)
        if len(shape) < 2 or not isinstance(self.axis, int) or not -len(shape) <= self.axis < len(shape):
            return None
        axis = self.axis % len(shape)
        if math.prod(shape[:axis] + shape[axis + 1 :]) != 0:  # samples without classes
            return None
        return shape[axis]

    def _chunk(self, y_true, y_pred, sample_weight):
        k = self._empty_chunk_classes(y_true, y_pred, sample_weight)
        if k is not None:
            self._check_classes(k, "y_pred")
            return None
        problem = _categorical_losses._Problem(
            y_true,
            y_pred,
            self.from_logits,
            sample_weight,
            self.class_weight,
            self.label_smoothing,
            self.ignore_index,
            self.axis,
            self.clip,
        )
        k = problem.pred.shape[1]
        self._check_classes(k, "y_pred")  # fail before the kernel; checked again on commit
        total = problem.run(1.0, np.empty(0), np.empty((0, k), dtype=problem.dtype))
        return total, problem.normalizer(), problem.pred.shape[0], k
