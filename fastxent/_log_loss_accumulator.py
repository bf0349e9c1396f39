"""Streaming and mergeable ``log_loss`` / ``d2_log_loss_score``.

Each :meth:`LogLossAccumulator.update` runs the same validation and the same
fused kernel pass as :func:`fastxent.log_loss` on one chunk and adds the
chunk's totals -- weighted loss sum, weight sum, per-class weights, sample
count -- to the state with error-free transformations (TwoSum: every sum is
kept as an unevaluated pair ``hi + lo``), so the order and size of chunks do
not matter: any chunking, and any tree of :meth:`~LogLossAccumulator.merge`
calls, gives the one-call result to ~1e-15 relative.

Classes
-------
The columns of ``y_proba`` belong to the sorted classes.  They are fixed
once, either up front (``labels=``, as in ``log_loss``) or, with
``labels=None``, by the first non-empty chunk, which must then contain every
class (a one-call ``log_loss`` infers them from all of ``y_true``; a stream
cannot).  A later chunk with a label outside the classes raises
``ValueError``; pass ``labels=`` whenever a chunk may miss a class.  Merging
accumulators with different classes raises ``ValueError``.

Each chunk is clipped with the ``eps`` of its own dtype, exactly as a call of
``log_loss`` on that chunk would; feed chunks of one dtype to reproduce a
one-call result.
"""

import warnings

import numpy as np

from . import _labels
from ._classification import Totals, _d2_from_totals, _log_loss, _validated_totals
from ._log_loss_validation import (
    NOT_A_PARAMETER, check_params, num_samples, undefined_metric_warning,
)

__all__ = ["LogLossAccumulator"]


def _two_sum(hi, lo, x):
    """(hi, lo) + x, keeping the rounding error of the addition in lo."""
    total = hi + x
    back = total - hi
    error = (hi - (total - back)) + (x - back)
    return total, lo + error


class LogLossAccumulator:
    """Accumulate ``log_loss`` and ``d2_log_loss_score`` over chunks of data.

    Parameters
    ----------
    labels : array-like, default=None
        All class labels (sorted order gives the columns of ``y_proba``, as
        in :func:`fastxent.log_loss`).  When None, the classes are those of
        the first chunk passed to :meth:`update`, which must contain every
        class.

    Attributes
    ----------
    classes_ : ndarray or None
        The sorted classes, once known.
    n_samples_ : int
        Number of samples seen.

    Examples
    --------
    >>> acc = LogLossAccumulator(labels=[0, 1])
    >>> acc.update([0, 1], [0.2, 0.7]).update([1], [0.9]).result()  # doctest: +ELLIPSIS
    0.2284...

    The state is a handful of floats and two per-class arrays: it pickles
    small, and accumulators built on different machines merge exactly
    (:meth:`merge`).
    """

    def __init__(self, labels=None):
        self.labels = labels
        self.classes_ = None
        if labels is not None:
            self.classes_ = _labels.fitted_classes(labels)[0]
            _labels.lexicographic_warning(self.classes_, labels)
            if self.classes_.shape[0] < 2:
                _labels.raise_one_label(self.classes_, labels)
        self.n_samples_ = 0
        self._loss = (0.0, 0.0)
        self._weight = (0.0, 0.0)
        self._class_weight = None  # (hi, lo) arrays
        self._weighted = False
        self._has_nonzero_weight = False

    # ------------------------------------------------------------------
    def update(self, y_true, y_proba, sample_weight=None):
        """Add one chunk (same arguments and checks as ``log_loss``); returns self."""
        check_params("LogLossAccumulator.update", y_true, y_proba, NOT_A_PARAMETER,
                      sample_weight, None, "deprecated")
        if num_samples(y_proba) == 0 and num_samples(y_true) == 0:
            return self
        if self.classes_ is None:
            totals = _validated_totals(y_true, y_proba, sample_weight, None,
                                       allow_zero_weights=True)
            self.classes_ = totals.classes
        else:
            try:
                totals = _validated_totals(y_true, y_proba, sample_weight, self.classes_,
                                           label_classes=self.classes_,
                                           allow_zero_weights=True)
            except ValueError as error:
                if self.labels is None and str(error).startswith("y_true contains values"):
                    raise ValueError(
                        f"{error} The classes were inferred from the first chunk; pass "
                        "labels= to LogLossAccumulator when a chunk may miss a class."
                    ) from error
                raise
        self._add(totals.loss, totals.weight, np.asarray(totals.class_weight, dtype=np.float64),
                  totals.n, totals.weighted)
        self._has_nonzero_weight = self._has_nonzero_weight or totals.nonzero > 0
        return self

    def _add(self, loss, weight, class_weight, n, weighted):
        self._loss = _two_sum(*self._loss, loss)
        self._weight = _two_sum(*self._weight, weight)
        if self._class_weight is None:
            self._class_weight = (np.zeros_like(class_weight), np.zeros_like(class_weight))
        self._class_weight = _two_sum(*self._class_weight, class_weight)
        self.n_samples_ += n
        self._weighted = self._weighted or weighted

    def merge(self, other):
        """Add the state of another accumulator (same classes); returns self."""
        if not isinstance(other, LogLossAccumulator):
            raise TypeError(f"can only merge a LogLossAccumulator, got {type(other).__name__}")
        if other.n_samples_ == 0 and other.classes_ is None:
            return self
        if self.classes_ is None:
            self.classes_ = other.classes_
        elif other.classes_ is not None and not (
            self.classes_.shape == other.classes_.shape
            and np.all(self.classes_ == other.classes_)
        ):
            raise ValueError(
                f"cannot merge accumulators with different classes: {self.classes_} "
                f"and {other.classes_}"
            )
        if other.n_samples_:
            for part in (0, 1):
                self._add(other._loss[part], other._weight[part], other._class_weight[part],
                          0, other._weighted)
            self.n_samples_ += other.n_samples_
        self._has_nonzero_weight = self._has_nonzero_weight or other._has_nonzero_weight
        return self

    # ------------------------------------------------------------------
    def _totals(self):
        if self.n_samples_ == 0:
            raise ValueError("LogLossAccumulator has seen no samples; call update() first.")
        if self._weighted and not self._has_nonzero_weight:
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return Totals(
            self._loss[0] + self._loss[1],
            self._weight[0] + self._weight[1],
            self._class_weight[0] + self._class_weight[1],
            self.n_samples_,
            self.classes_,
            self._weighted,
            int(self._has_nonzero_weight),
        )

    def result(self, normalize=True):
        """The log loss of everything seen (``log_loss(..., normalize=normalize)``)."""
        return float(_log_loss(self._totals(), normalize))

    def d2_score(self):
        """The ``d2_log_loss_score`` of everything seen (NaN with an
        ``UndefinedMetricWarning`` for fewer than two samples)."""
        if self.n_samples_ < 2:
            warnings.warn("D^2 score is not well-defined with less than two samples.",
                          undefined_metric_warning(), stacklevel=2)
            return float("nan")
        return _d2_from_totals(self._totals())

    def __repr__(self):
        return (f"LogLossAccumulator(labels={self.labels!r}) with {self.n_samples_} samples, "
                f"classes={self.classes_!r}")
