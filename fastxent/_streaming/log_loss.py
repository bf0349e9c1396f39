"""Streaming and mergeable ``log_loss`` / ``d2_log_loss_score``.

Each :meth:`LogLossAccumulator.update` runs the same validation and the same
fused kernel pass as :func:`fastxent.log_loss` on one chunk and adds the
chunk's totals -- weighted loss sum, weight sum, per-class weights, sample
count -- to the state with error-free transformations (every sum is kept
as a Neumaier pair, see :mod:`fastxent._streaming.base`), so the order and
size of chunks do not matter: any chunking, and any tree of :meth:`~LogLossAccumulator.merge`
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

from .._api import labels as label_checks
from .._api.log_loss import Totals, d2_from_totals, log_loss_from_totals, validated_totals
from .._api.log_loss_validation import (
    NOT_A_PARAMETER,
    check_params,
    num_samples,
    undefined_metric_warning,
)
from .base import Accumulator, no_samples_error, pair_plus, pair_value

__all__ = ["LogLossAccumulator"]


class LogLossAccumulator(Accumulator):
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

    Notes
    -----
    An empty chunk is accepted and changes nothing (streams produce them);
    :meth:`result` and :meth:`d2_score` raise ``ValueError`` while no sample
    has been added, as ``log_loss`` does on empty input.  A chunk that
    :meth:`update` rejects leaves the state exactly as it was.  ``update``
    and ``merge`` may be called from several threads at once.

    Examples
    --------
    >>> from fastxent import LogLossAccumulator
    >>> acc = LogLossAccumulator(labels=[0, 1])
    >>> acc.update([0, 1], [0.2, 0.7]).update([1], [0.9]).result()
    0.228393...

    The state is a handful of floats and two per-class arrays: it pickles
    small, and accumulators built on different machines merge exactly
    (:meth:`merge`).
    """

    def __init__(self, labels=None):
        super().__init__()
        self.labels = labels
        self.classes_ = None
        if labels is not None:
            self.classes_ = label_checks.fitted_classes(labels)[0]
            label_checks.lexicographic_warning(self.classes_, labels)
            if self.classes_.shape[0] < 2:
                label_checks.raise_one_label(self.classes_, labels)
        self.n_samples_ = 0
        self._loss = (0.0, 0.0)
        self._weight = (0.0, 0.0)
        self._class_weight = None  # (hi, lo) arrays
        self._weighted = False
        self._has_nonzero_weight = False

    # ------------------------------------------------------------------
    def update(self, y_true, y_proba, sample_weight=None):
        """Add one chunk (same arguments and checks as ``log_loss``); returns self.

        An empty chunk is a no-op; a rejected chunk leaves the state unchanged.
        """
        check_params("LogLossAccumulator.update", y_true, y_proba, NOT_A_PARAMETER, sample_weight, None, "deprecated")
        if (
            num_samples(y_proba) == 0
            and num_samples(y_true) == 0
            and (sample_weight is None or num_samples(sample_weight) == 0)
        ):
            return self
        if isinstance(sample_weight, np.ma.MaskedArray) and np.ma.is_masked(sample_weight):
            # log_loss follows scikit-learn: masked weights count in the loss sum (np.dot
            # uses the data) but not in the mean and D2's null model (np.average skips
            # them); chunk totals cannot reproduce that mix.
            raise TypeError(
                "sample_weight is a masked array with masked entries, which "
                "LogLossAccumulator does not take; pass sample_weight.filled(0) to give "
                "them no weight"
            )
        classes = self.classes_
        if classes is None:
            totals = validated_totals(y_true, y_proba, sample_weight, None, allow_zero_weights=True)
        else:
            try:
                # labels as given, so that errors quote them as log_loss does
                totals = validated_totals(
                    y_true,
                    y_proba,
                    sample_weight,
                    classes if self.labels is None else self.labels,
                    label_classes=classes,
                    allow_zero_weights=True,
                )
            except ValueError as error:
                if self.labels is None and str(error).startswith("y_true contains values"):
                    raise ValueError(
                        f"{error} The classes were inferred from the first chunk; pass "
                        "labels= to LogLossAccumulator when a chunk may miss a class."
                    ) from error
                raise
        class_weight = np.asarray(totals.class_weight, dtype=np.float64)
        contribution = (
            totals.classes,
            totals.loss,
            totals.weight,
            class_weight,
            totals.n,
            totals.weighted,
            totals.nonzero > 0,
        )
        return self._add(contribution, "update")

    def _commit(self, contribution, source):
        """Add a validated contribution (numbers, or the Neumaier pairs of
        another state); the caller holds the lock.  Nothing here can fail
        half-way: the new values are computed before any is stored."""
        classes, loss, weight, class_weight, n, weighted, nonzero = contribution
        if self.classes_ is not None and classes is not None and not _same_classes(self.classes_, classes):
            if source == "merge":
                raise ValueError(f"cannot merge accumulators with different classes: {self.classes_} and {classes}")
            # another thread's first chunk fixed other classes meanwhile
            raise ValueError(
                f"y_true has the classes {classes}, but the first chunk fixed "
                f"{self.classes_}; pass labels= to LogLossAccumulator when chunks "
                "may hold different classes."
            )
        if n:
            own_cw = self._class_weight
            if own_cw is None:
                zeros = np.zeros_like(class_weight[0] if isinstance(class_weight, tuple) else class_weight)
                own_cw = (zeros, zeros)
            new = pair_plus(self._loss, loss), pair_plus(self._weight, weight), pair_plus(own_cw, class_weight)
            self._loss, self._weight, self._class_weight = new
            self.n_samples_ += n
            self._weighted = self._weighted or weighted
        if self.classes_ is None:
            self.classes_ = classes
        self._has_nonzero_weight = self._has_nonzero_weight or nonzero

    def _state(self):
        if self.n_samples_ == 0 and self.classes_ is None:
            return None
        return (
            self.classes_,
            self._loss,
            self._weight,
            self._class_weight,
            self.n_samples_,
            self._weighted,
            self._has_nonzero_weight,
        )

    def _check_mergeable(self, other):
        if not isinstance(other, LogLossAccumulator):
            raise TypeError(f"can only merge a LogLossAccumulator, got {type(other).__name__}")

    # ------------------------------------------------------------------
    def _totals(self):
        with self._lock:
            loss, weight, class_weight = self._loss, self._weight, self._class_weight
            n, classes, weighted = self.n_samples_, self.classes_, self._weighted
            nonzero = self._has_nonzero_weight
        if n == 0:
            raise no_samples_error(self)
        if weighted and not nonzero:
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return Totals(
            pair_value(loss),
            pair_value(weight),
            pair_value(class_weight),
            n,
            classes,
            weighted,
            int(nonzero),
        )

    def result(self, normalize=True):
        """The log loss of everything seen (``log_loss(..., normalize=normalize)``).

        Raises ``ValueError`` when no sample has been added.
        """
        check_params("LogLossAccumulator.result", (), None, normalize, None, None, "deprecated")
        return float(log_loss_from_totals(self._totals(), normalize))

    def d2_score(self):
        """The ``d2_log_loss_score`` of everything seen (NaN with an
        ``UndefinedMetricWarning`` for one sample; ``ValueError`` for none)."""
        n = self.n_samples_
        if n == 0:
            raise no_samples_error(self)
        if n < 2:
            warnings.warn(
                "D^2 score is not well-defined with less than two samples.", undefined_metric_warning(), stacklevel=2
            )
            return float("nan")
        return d2_from_totals(self._totals())

    def __repr__(self):
        return f"LogLossAccumulator(labels={self.labels!r}) with {self.n_samples_} samples, classes={self.classes_!r}"


def _same_classes(a, b):
    return a.shape == b.shape and bool(np.all(a == b))
