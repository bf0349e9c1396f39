"""Streaming, mergeable binary and categorical cross-entropy (SPEC §3).

An accumulator's state is three numbers: the weighted loss sum (kept as a
Neumaier pair, so adding chunk totals loses nothing), the ``"mean"``
normalizer (sum of the weights PyTorch divides by) and the sample count.
``update`` runs the same validated kernel as the one-call functions on a
chunk; ``merge`` adds states; ``result`` finishes the reduction.  Any
chunking of the data, in any order, gives the one-call result to ~1e-15
relative.  Accumulators are plain Python objects and pickle as such.
"""

import numpy as np

from . import _binary_losses, _categorical_losses
from ._validation import REDUCTIONS

__all__ = ["BinaryCrossEntropyAccumulator", "CrossEntropyAccumulator"]


def _neumaier_add(total, comp, value):
    t = total + value
    if abs(total) >= abs(value):
        comp += (total - t) + value
    else:
        comp += (value - t) + total
    return t, comp


class _Accumulator:
    """Shared state handling; subclasses define ``_chunk`` and ``_config``."""

    def __init__(self):
        self._loss = (0.0, 0.0)
        self._norm = (0.0, 0.0)
        self.n_samples_ = 0

    def _add(self, loss_sum, normalizer, n_samples):
        self._loss = _neumaier_add(*self._loss, loss_sum)
        self._norm = _neumaier_add(*self._norm, normalizer)
        self.n_samples_ += n_samples

    @property
    def loss_sum_(self):
        """Weighted sum of the per-sample losses seen so far."""
        total, comp = self._loss
        return total + comp if np.isfinite(total) else total

    @property
    def weight_sum_(self):
        """The divisor of ``reduction="mean"`` accumulated so far."""
        return self._norm[0] + self._norm[1]

    def update(self, y_true, y_pred, sample_weight=None):
        """Add a chunk of samples (same arguments as the one-call function).

        Returns
        -------
        self
        """
        self._add(*self._chunk(y_true, y_pred, sample_weight))
        return self

    def merge(self, other):
        """Add the state of another accumulator of the same configuration.

        Returns
        -------
        self
        """
        if type(other) is not type(self) or other._config() != self._config():
            raise ValueError("other must be an accumulator of the same type and configuration")
        self._add(other._loss[0], other._norm[0], other.n_samples_)
        self._add(other._loss[1], other._norm[1], 0)
        return self

    def result(self, reduction="mean"):
        """The loss over everything seen: ``"mean"`` (0 when nothing counted) or ``"sum"``."""
        if reduction not in REDUCTIONS or reduction == "none":
            raise ValueError(f'reduction must be "mean" or "sum" for an accumulator; got {reduction!r}')
        if reduction == "sum":
            return float(self.loss_sum_)
        norm = self.weight_sum_
        return float(self.loss_sum_ / norm) if norm != 0.0 else 0.0


class BinaryCrossEntropyAccumulator(_Accumulator):
    """Streaming :func:`fastxent.binary_cross_entropy`.

    Parameters
    ----------
    from_logits : bool, default False
    pos_weight : float >= 0, optional
    clip : "auto", None or float, default "auto"
        As in :func:`fastxent.binary_cross_entropy`.

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
        problem = _binary_losses._Problem(y_true, y_pred, self.from_logits, sample_weight, self.pos_weight, self.clip)
        total = problem.run(1.0, np.empty(0), np.empty(0, dtype=problem.dtype))
        return total, problem.normalizer(), problem.pred.shape[0]


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

    def _chunk(self, y_true, y_pred, sample_weight):
        problem = _categorical_losses._Problem(
            y_true, y_pred, self.from_logits, sample_weight, self.class_weight,
            self.label_smoothing, self.ignore_index, self.axis, self.clip,
        )
        k = problem.pred.shape[1]
        if self.n_classes_ is not None and k != self.n_classes_:
            raise ValueError(f"y_pred has {k} classes but earlier chunks had {self.n_classes_}")
        self.n_classes_ = k
        total = problem.run(1.0, np.empty(0), np.empty((0, k), dtype=problem.dtype))
        return total, problem.normalizer(), problem.pred.shape[0]

    def merge(self, other):
        if (
            isinstance(other, CrossEntropyAccumulator)
            and None not in (self.n_classes_, other.n_classes_)
            and self.n_classes_ != other.n_classes_
        ):
            raise ValueError(f"other has {other.n_classes_} classes but this accumulator has {self.n_classes_}")
        super().merge(other)
        self.n_classes_ = self.n_classes_ if self.n_classes_ is not None else other.n_classes_
        return self
