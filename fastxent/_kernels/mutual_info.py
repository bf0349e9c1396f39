"""Reductions of a contingency table: mutual information and entropies.

A table ``n_ij`` (rows: classes of the first labeling, columns: classes of
the second) has row sums ``a_i``, column sums ``b_j`` and total ``N``.
Only nonzero cells contribute; they are visited in row-major order (the
canonical order of :mod:`fastxent._kernels.contingency`) and added with Neumaier's
compensation, so a dense table and the CSR form of the same table give the
same bits.  Logarithms are libm's (these loops are short: one term per
nonzero cell, not per sample).

* mutual information, term by term as scikit-learn's
  ``mutual_info_score`` writes it (the same rounding, the same zeroing of
  terms below machine epsilon, the total clipped at 0):

  .. math:: I = \\sum_{ij} \\frac{n_{ij}}{N}
            \\Big[(\\log n_{ij} - \\log N) + (\\log N_a + \\log N_b - \\log(a_i b_j))\\Big]

* joint entropy ``H = sum_ij (n_ij / N) log(N / n_ij)`` and conditional
  entropy ``H(rows | columns) = sum_ij (n_ij / N) log(b_j / n_ij)``, each
  logarithm taken as ``log1p((M - n) / n)`` of the exact difference, so
  that cells holding almost all of their column keep full relative
  accuracy.
"""

import math

import numpy as np

from .._infra.jit import kernel, scalar, stable_api
from .._infra.summation import compensated_add

__all__ = [
    "mutual_info_table",
    "joint_entropy_table",
    "conditional_entropy_table",
    "mutual_info_csr",
    "joint_entropy_csr",
    "conditional_entropy_csr",
    "counts_entropy",
    "csr_marginals",
]

EPS = np.finfo(np.float64).eps


@scalar
def _mi_term(nij, ai, bj, n, log_n, log_na_nb):
    c = np.float64(nij)
    p = c / n
    outer = np.float64(np.int64(ai) * np.int64(bj))
    term = p * (math.log(c) - log_n) + p * (-math.log(outer) + log_na_nb)
    return 0.0 if abs(term) < EPS else term


@scalar
def _plogq(nij, m, n):
    """``(n_ij / N) log(m / n_ij)`` via ``log1p`` of the exact difference ``m - n_ij``."""
    c = np.float64(nij)
    return (c / n) * math.log1p(np.float64(m - nij) / c)


@kernel(fastmath=False)
def _table_marginals(table):
    n_rows, n_cols = table.shape
    a = np.zeros(n_rows, dtype=table.dtype)
    b = np.zeros(n_cols, dtype=table.dtype)
    for i in range(n_rows):
        for j in range(n_cols):
            a[i] += table[i, j]
            b[j] += table[i, j]
    return a, b


@kernel(fastmath=False)
def csr_marginals(indptr, indices, data, n_cols):
    """Row and column sums of a CSR table (int64 counts)."""
    n_rows = indptr.shape[0] - 1
    a = np.zeros(n_rows, dtype=data.dtype)
    b = np.zeros(n_cols, dtype=data.dtype)
    for i in range(n_rows):
        for k in range(indptr[i], indptr[i + 1]):
            a[i] += data[k]
            b[indices[k]] += data[k]
    return a, b


@kernel(fastmath=False)
def counts_entropy(counts):
    """Entropy of the distribution ``counts / sum(counts)`` in nats (0 for
    no counts): ``sum_k (c_k / N) log(N / c_k)``."""
    n = counts.sum()
    total = comp = 0.0
    for c in counts:
        if c > 0:
            total, comp = compensated_add(total, comp, _plogq(c, n, n))
    return total + comp if n > 0 else 0.0


# ------------------------------------------------------------ dense tables


@stable_api
@kernel(fastmath=False)
def mutual_info_table(table):
    """Mutual information of a dense contingency table, in nats.

    ``mutual_info_table(table) -> mi``

    .. math:: I = \\sum_{ij} \\frac{n_{ij}}{N} \\log \\frac{N n_{ij}}{a_i b_j},
              \\quad a_i = \\sum_j n_{ij},\\ b_j = \\sum_i n_{ij},\\ N = \\sum_{ij} n_{ij}

    evaluated term by term as ``sklearn.metrics.mutual_info_score`` does
    (terms below machine epsilon in magnitude are zeroed, the total is
    clipped at 0).  A table with at most one row or one column gives 0.

    Parameters
    ----------
    table : 2-D array of non-negative counts, shape (n_rows, n_cols)
        Integer (or integral float) counts; empty rows and columns are
        allowed and ignored.  Any strides.

    Returns
    -------
    mi : float64
        In nats; nan if the table holds no count.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> table = np.array([[2, 0], [0, 2], [0, 1]])
    >>> kernels.mutual_info_table(table)
    0.673011...
    """
    n_rows, n_cols = table.shape
    if n_rows <= 1 or n_cols <= 1:
        return 0.0
    a, b = _table_marginals(table)
    n = np.float64(a.sum())
    log_n = math.log(n)
    log_na_nb = math.log(n) + math.log(np.float64(b.sum()))
    total = comp = 0.0
    for i in range(n_rows):
        for j in range(n_cols):
            if table[i, j] != 0:
                total, comp = compensated_add(total, comp, _mi_term(table[i, j], a[i], b[j], n, log_n, log_na_nb))
    return max(total + comp, 0.0)


@stable_api
@kernel(fastmath=False)
def joint_entropy_table(table):
    """Joint entropy of the two labelings of a dense contingency table, in nats.

    ``joint_entropy_table(table) -> h``

    .. math:: H(X, Y) = -\\sum_{ij} \\frac{n_{ij}}{N} \\log \\frac{n_{ij}}{N}

    Parameters
    ----------
    table : 2-D array of non-negative counts, shape (n_rows, n_cols)
        Any strides; zero cells contribute nothing.

    Returns
    -------
    h : float64
        In nats; 0 for a table without counts.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> table = np.array([[2, 0], [0, 2], [0, 1]])
    >>> kernels.joint_entropy_table(table)
    1.054920...
    """
    n = 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            n += table[i, j]
    total = comp = 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            if table[i, j] > 0:
                total, comp = compensated_add(total, comp, _plogq(table[i, j], n, n))
    return total + comp


@stable_api
@kernel(fastmath=False)
def conditional_entropy_table(table):
    """Conditional entropy of the rows' labeling given the columns', in nats.

    ``conditional_entropy_table(table) -> h``

    .. math:: H(X \\mid Y) = -\\sum_{ij} \\frac{n_{ij}}{N} \\log \\frac{n_{ij}}{b_j},
              \\quad b_j = \\sum_i n_{ij}

    (``H(Y | X)`` is ``conditional_entropy_table(table.T)``).

    Parameters
    ----------
    table : 2-D array of non-negative counts, shape (n_rows, n_cols)
        Rows: classes of X; columns: classes of Y.  Any strides.

    Returns
    -------
    h : float64
        In nats; 0 for a table without counts.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> table = np.array([[2, 0], [0, 2], [0, 1]])
    >>> kernels.conditional_entropy_table(table)
    0.381908...
    >>> kernels.conditional_entropy_table(table.T)
    0.0
    """
    a, b = _table_marginals(table)
    n = np.float64(a.sum())
    total = comp = 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            if table[i, j] > 0:
                total, comp = compensated_add(total, comp, _plogq(table[i, j], b[j], n))
    return total + comp


# -------------------------------------------------------------- CSR tables


@kernel(fastmath=False)
def mutual_info_csr(indptr, indices, data, a, b):
    """:func:`mutual_info_table` of a CSR table with marginals ``a``, ``b``
    (same cells in the same order, so the same bits)."""
    if a.shape[0] <= 1 or b.shape[0] <= 1:
        return 0.0
    n = np.float64(a.sum())
    log_n = math.log(n)
    log_na_nb = math.log(n) + math.log(np.float64(b.sum()))
    total = comp = 0.0
    for i in range(a.shape[0]):
        for k in range(indptr[i], indptr[i + 1]):
            if data[k] != 0:
                total, comp = compensated_add(total, comp, _mi_term(data[k], a[i], b[indices[k]], n, log_n, log_na_nb))
    return max(total + comp, 0.0)


@kernel(fastmath=False)
def joint_entropy_csr(data):
    """:func:`joint_entropy_table` of the cells ``data`` of a canonical table."""
    return counts_entropy(data)


@kernel(fastmath=False)
def conditional_entropy_csr(indptr, indices, data, b):
    """:func:`conditional_entropy_table` of a CSR table with column sums ``b``."""
    n = np.float64(b.sum())
    total = comp = 0.0
    for i in range(indptr.shape[0] - 1):
        for k in range(indptr[i], indptr[i + 1]):
            if data[k] > 0:
                total, comp = compensated_add(total, comp, _plogq(data[k], b[indices[k]], n))
    return total + comp
