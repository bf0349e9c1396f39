"""``ContingencyAccumulator``: the contingency table of two labelings, streamed.

Each chunk is counted by the same code as the one-call scores (validation
included) into a canonical table; tables are merged by taking the sorted
union of the classes and adding the counts of equal cells, in integers.
The merged table is therefore exactly the table of the concatenated data
(same classes, same cells in the same order), and every score finished
from it has the one-call value bit for bit, for any chunking and any order
of merges.  The state is the classes and the nonzero cells (at most one
per sample, usually far fewer), so it pickles small and merges across
processes (``fastxent.dask`` does this).
"""

import numpy as np

from .._api.clusterings import Table, build_table, check_clusterings
from .._api.mutual_info import (
    adjusted_mutual_info_from_table,
    conditional_entropy_from_table,
    joint_entropy_from_table,
    mutual_info_from_table,
    normalized_mutual_info_from_table,
)
from .._kernels.mutual_info import csr_marginals
from .base import Accumulator

__all__ = ["ContingencyAccumulator"]


def _union(a, b, name):
    if a is None:
        return b
    try:
        return np.union1d(a, b)
    except TypeError as exc:
        raise TypeError(f"{name} of this chunk cannot be compared with the classes seen before: {exc}") from None


def _coo(table):
    rows = np.repeat(np.arange(table.shape[0], dtype=np.int64), np.diff(table.indptr))
    return rows, table.indices, table.data


class ContingencyAccumulator(Accumulator):
    """Streaming, mergeable contingency table of two labelings.

    ``update(labels_true, labels_pred)`` adds a chunk of samples,
    ``merge(other)`` adds another accumulator's samples, ``result()`` gives
    the contingency table and its classes; ``mutual_info()``,
    ``normalized_mutual_info()``, ``adjusted_mutual_info()``,
    ``conditional_entropy()`` and ``joint_entropy()`` finish the scores of
    :mod:`fastxent` from it, equal bit for bit to the one-call functions on
    the concatenated chunks.  Picklable.

    Examples
    --------
    >>> import fastxent
    >>> acc = fastxent.ContingencyAccumulator()
    >>> acc.update([0, 0, 1], [1, 1, 0]).update([1, 2], [0, 0])  # doctest: +ELLIPSIS
    <fastxent...ContingencyAccumulator object at ...>
    >>> acc.adjusted_mutual_info() == fastxent.adjusted_mutual_info_score(
    ...     [0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    True
    """

    def __init__(self):
        super().__init__()
        self.classes_true = None
        self.classes_pred = None
        self.rows = np.zeros(0, dtype=np.int64)  # nonzero cells in row-major order
        self.cols = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)

    @property
    def n_samples(self):
        return int(self.counts.sum())

    # ---------------------------------------------------------- building

    def update(self, labels_true, labels_pred):
        """Add a chunk: two label arrays of one length (checked as the scores check them).

        Returns ``self``.
        """
        table = build_table(*check_clusterings(labels_true, labels_pred))
        contribution = (table.classes_true, table.classes_pred, *_coo(table)) if table.n_samples else None
        return self._add(contribution, "update")

    def _check_mergeable(self, other):
        if not isinstance(other, ContingencyAccumulator):
            raise TypeError(f"other must be a ContingencyAccumulator; got {type(other).__name__}")

    def _state(self):
        if self.classes_true is None:
            return None
        return self.classes_true, self.classes_pred, self.rows, self.cols, self.counts

    def _commit(self, contribution, source):
        """Merge the cells of ``contribution`` (classes and nonzero cells)
        into the state; a label type that cannot be compared with the classes
        seen raises before anything changes."""
        classes_true, classes_pred, rows, cols, counts = contribution
        union_true = _union(self.classes_true, classes_true, "labels_true")
        union_pred = _union(self.classes_pred, classes_pred, "labels_pred")
        n_cols = union_pred.shape[0]
        keys = [
            np.searchsorted(union_true, classes_true)[rows] * n_cols + np.searchsorted(union_pred, classes_pred)[cols]
        ]
        values = [counts]
        if self.classes_true is not None:
            keys.append(
                np.searchsorted(union_true, self.classes_true)[self.rows] * n_cols
                + np.searchsorted(union_pred, self.classes_pred)[self.cols]
            )
            values.append(self.counts)
        key = np.concatenate(keys)
        value = np.concatenate(values)
        order = np.argsort(key, kind="stable")
        key, value = key[order], value[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        new_counts = np.add.reduceat(value, starts).astype(np.int64)
        new_rows, new_cols = np.divmod(key[starts], n_cols)
        self.counts, self.rows, self.cols = new_counts, new_rows, new_cols
        self.classes_true, self.classes_pred = union_true, union_pred

    # ----------------------------------------------------------- results

    def _table(self):
        state = self._snapshot()
        if state is None:
            none = np.zeros(0, dtype=np.int64)
            return Table(np.zeros(0), np.zeros(0), np.zeros(1, dtype=np.int64), none, none, none, none)
        classes_true, classes_pred, rows, cols, counts = state
        n_rows, n_cols = classes_true.shape[0], classes_pred.shape[0]
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        row_sums, col_sums = csr_marginals(indptr, cols, counts, n_cols)
        return Table(classes_true, classes_pred, indptr, cols, counts, row_sums, col_sums)

    def result(self, *, sparse=False):
        """``(contingency, classes_true, classes_pred)``.

        ``contingency[i, j]`` counts the samples of class ``classes_true[i]``
        and ``classes_pred[j]`` (classes sorted as ``np.unique`` sorts
        them): ``fastxent.contingency_matrix`` of the concatenated chunks.
        A dense int64 array, or a ``scipy.sparse`` CSR matrix with
        ``sparse=True``.
        """
        table = self._table()
        if sparse:
            import scipy.sparse

            contingency = scipy.sparse.csr_matrix((table.data, table.indices, table.indptr), shape=table.shape)
        else:
            contingency = table.dense()
        return contingency, table.classes_true, table.classes_pred

    def mutual_info(self):
        """``mutual_info_score`` of the samples seen (nats)."""
        table = self._table()
        if table.n_samples == 0:
            raise ValueError("no samples: the mutual information of no samples is undefined")
        return mutual_info_from_table(table)

    def normalized_mutual_info(self, average_method="arithmetic"):
        """``normalized_mutual_info_score`` of the samples seen."""
        _check_average(average_method)
        return normalized_mutual_info_from_table(self._table(), average_method)

    def adjusted_mutual_info(self, average_method="arithmetic"):
        """``adjusted_mutual_info_score`` of the samples seen."""
        _check_average(average_method)
        return adjusted_mutual_info_from_table(self._table(), average_method)

    def conditional_entropy(self):
        """``conditional_entropy(labels_true, labels_pred)``: H(true | pred), nats."""
        return conditional_entropy_from_table(self._table())

    def joint_entropy(self):
        """``joint_entropy`` of the samples seen (nats)."""
        return joint_entropy_from_table(self._table())


def _check_average(average_method):
    if average_method not in ("arithmetic", "max", "min", "geometric"):
        raise ValueError(f"average_method must be 'arithmetic', 'geometric', 'min' or 'max'; got {average_method!r}")
