"""Streaming, mergeable binary and categorical cross-entropy.

An accumulator's state is three numbers: the weighted loss sum and the
``"mean"`` normalizer (sum of the weights PyTorch divides by), each kept as
a Neumaier pair so that adding chunk totals loses nothing, and the sample
count.  ``update`` runs the same validated kernel as the one-call functions
on a chunk; ``merge`` adds states; ``result`` finishes the reduction.  Any
chunking of the data, in any order, gives the one-call result to ~1e-15
relative.  Accumulators are plain Python objects and pickle as such.
"""

import math

import numpy as np

from .._api import binary as binary_losses
from .._api import categorical as categorical_losses
from .._api.validation import check_accumulator_reduction
from .base import Accumulator, no_samples_error, pair_plus, pair_value

__all__ = ["BinaryCrossEntropyAccumulator", "CrossEntropyAccumulator"]


def _sizes(*arrays):
    """The element counts of the arrays (None for an absent one), or None when
    one has no shape (the full validation then says why)."""
    try:
        return [None if a is None else int(np.size(a)) for a in arrays]
    except (TypeError, ValueError):
        return None


class _LossAccumulator(Accumulator):
    """The state and results shared by the two loss accumulators; subclasses
    define ``_chunk`` (a chunk's contribution, or None for an empty chunk)
    and ``_config`` (what two accumulators must share to merge).

    A contribution is ``(loss, norm, n_samples, n_classes)``, the first two
    plain numbers (a chunk) or Neumaier pairs (another state).
    """

    def __init__(self):
        super().__init__()
        self._loss = (0.0, 0.0)
        self._norm = (0.0, 0.0)
        self.n_samples_ = 0

    def _commit(self, contribution, source):
        loss, norm, n_samples, n_classes = contribution
        self._check_classes(n_classes, "other" if source == "merge" else "y_pred")
        new_loss, new_norm = pair_plus(self._loss, loss), pair_plus(self._norm, norm)
        self._loss, self._norm = new_loss, new_norm
        self.n_samples_ += n_samples
        self._set_classes(n_classes)

    def _check_classes(self, n_classes, name):
        pass

    def _set_classes(self, n_classes):
        pass

    def _state(self):
        n_classes = getattr(self, "n_classes_", None)
        if self.n_samples_ == 0 and n_classes is None:
            return None
        return self._loss, self._norm, self.n_samples_, n_classes

    def _check_mergeable(self, other):
        if type(other) is not type(self) or other._config() != self._config():
            raise ValueError("other must be an accumulator of the same type and configuration")

    @property
    def loss_sum_(self):
        """Weighted sum of the per-sample losses seen so far."""
        return pair_value(self._loss)

    @property
    def weight_sum_(self):
        """The divisor of ``reduction="mean"`` accumulated so far."""
        return pair_value(self._norm)

    def update(self, y_true, y_pred, sample_weight=None):
        """Add a chunk of samples (same arguments as the one-call function).

        An empty chunk is a no-op; a rejected chunk leaves the state unchanged.

        Returns
        -------
        self
        """
        return self._add(self._chunk(y_true, y_pred, sample_weight), "update")

    def result(self, reduction="mean"):
        """The loss over everything seen: ``"mean"`` or ``"sum"``.

        ``"mean"`` is 0 when every sample was ignored or weighted 0, like the
        one-call function; ``ValueError`` when no sample has been added.
        """
        check_accumulator_reduction(reduction)
        with self._lock:
            loss, norm, n_samples = self._loss, self._norm, self.n_samples_
        if n_samples == 0:
            raise no_samples_error(self)
        total = pair_value(loss)
        if reduction == "sum":
            return float(total)
        norm = pair_value(norm)
        return float(total / norm) if norm != 0.0 else 0.0


class BinaryCrossEntropyAccumulator(_LossAccumulator):
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
    >>> import fastxent
    >>> acc = fastxent.BinaryCrossEntropyAccumulator(from_logits=True)
    >>> for y, z in [([1.0, 0.0], [2.0, -1.0]), ([1.0], [0.5])]:
    ...     _ = acc.update(y, z)
    >>> acc.result()
    0.304755...
    >>> fastxent.binary_cross_entropy([1.0, 0.0, 1.0], [2.0, -1.0, 0.5], from_logits=True)
    0.304755...
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
        total, norm, n = binary_losses.chunk_totals(
            y_true,
            y_pred,
            from_logits=self.from_logits,
            sample_weight=sample_weight,
            pos_weight=self.pos_weight,
            clip=self.clip,
        )
        return total, norm, n, None


class CrossEntropyAccumulator(_LossAccumulator):
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

    Examples
    --------
    >>> import fastxent
    >>> logits = [[1.0, 3.0, 2.0], [0.5, 0.5, 2.0], [0.0, 1.0, 0.0]]
    >>> acc = fastxent.CrossEntropyAccumulator(from_logits=True)
    >>> acc.update([1, 0], logits[:2]).update([2], logits[2:])  # doctest: +ELLIPSIS
    <fastxent...CrossEntropyAccumulator object at ...>
    >>> acc.result()
    1.276010...
    >>> fastxent.cross_entropy([1, 0, 2], logits, from_logits=True)
    1.276010...
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
        # the class count is checked before the pass (and again on commit)
        return categorical_losses.chunk_totals(
            y_true,
            y_pred,
            from_logits=self.from_logits,
            sample_weight=sample_weight,
            class_weight=self.class_weight,
            label_smoothing=self.label_smoothing,
            ignore_index=self.ignore_index,
            axis=self.axis,
            clip=self.clip,
            check_classes=lambda k: self._check_classes(k, "y_pred"),
        )
