"""The curvature preconditioner of solver "gd", and the Cholesky factorization
and solves that solver "newton-cholesky" shares with it.

For the scaled objective ``f = a Σ s_i ℓ(z_i) + λ/2 ‖w‖²`` of
:mod:`fastxent._kernels.logistic`, the Hessian at ``w = 0`` is

.. math::

    M = c \\, a \\, \\tilde X^T S \\tilde X + \\lambda \\, I_{\\text{pen}},
    \\qquad \\tilde X = [X \\; 1],

with ``c = 1/4`` for the binary model (σ'(0)) and ``c = 1/k`` per class for
the k-class softmax model (its Hessian at 0 is ``(I/k - 11^T/k²) ⊗ c a X̃ᵀSX̃``;
the ``11^T`` part acts only on the direction that adds the same vector to
every class, along which the data term is constant and the gradient is
``λ`` times that common part, so the solver never needs curvature there).
``I_pen`` is the identity without the (unpenalized) intercept entry, and
``S = diag(|s_i|)``: a negative sample weight (scikit-learn accepts them)
would make ``M`` indefinite, and ``M`` only needs to be a positive
definite metric close to the curvature.  The Gram matrix ``X̃ᵀ S X̃``
comes from :mod:`fastxent._solvers.gram`.

Features near 1e154 and beyond overflow ``X̃ᵀ S X̃``.  :func:`preconditioner`
then rebuilds it for columns divided by powers of two ``D_j`` (the one at or
above each column's largest ``|x_ij|``, for columns reaching 1; exact
scalings), factors ``M' = D⁻¹ M D⁻¹`` and applies ``M⁻¹ = D⁻¹ M'⁻¹ D⁻¹``:
the steps are the same, only their arithmetic stays in range.
"""

import math

import numpy as np

from .._infra.jit import kernel
from .gram import scaled_gram

__all__ = [
    "MAX_COEFFICIENTS",
    "curvature_factor",
    "preconditioner",
    "preconditioner_worthwhile",
    "solve_factored",
    "cholesky_in_place",
    "column_inv_scales",
]

# Largest d + 1 for which M is built: its Cholesky factorization is serial
# and costs (d+1)³/3 multiply-adds (0.36e9 at 1024).  Measured worthwhile at
# d = 1000 (2e4 × 1000 binary: 28 iterations in 0.46 s against 2185 in 18.3 s).
MAX_COEFFICIENTS = 1024
# Pivots are kept above this fraction of the matrix's own diagonal entry, so
# exactly collinear features (no penalty: λ = 0) do not make M singular.
PIVOT_FLOOR = 1e-10


@kernel
def preconditioner_worthwhile(stored_values, n_rows, n_coef, n_outputs):
    """Whether building ``M`` costs less than the iterations it saves.

    Building costs ``(d+1)²/2`` multiply-adds per row (sparse rows are
    expanded) plus ``(d+1)³/3`` for the factorization, at about eight times
    the rate of the memory-bound loss-and-gradient pass, which costs ``2 k``
    multiply-adds per stored value; the preconditioner saves a hundred
    iterations or more (make_classification, 1e5 × 100: 153 → 18 iterations
    binary, 283 → 39 five-class; 2e4 × 1000: 2185 → 28).
    """
    if n_coef > MAX_COEFFICIENTS:
        return False
    build = 0.5 * n_rows * n_coef * n_coef + n_coef * n_coef * n_coef / 3.0
    return build <= 800.0 * n_outputs * max(stored_values, n_rows)


@kernel
def column_inv_scales(X, n_coef):
    """``1 / D_j``: ``D_j`` the power of two at or above ``max_i |x_ij|`` for the
    columns that reach 1, else 1 (so is the intercept's).  Smaller columns
    are left alone: they cannot overflow, and ``λ / D_j²`` would."""
    largest = np.zeros(n_coef)
    if isinstance(X, tuple):
        data, indices, _ = X
        for q in range(data.shape[0]):
            largest[indices[q]] = max(largest[indices[q]], abs(data[q]))
    else:
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                largest[j] = max(largest[j], abs(X[i, j]))
    inv_scale = np.ones(n_coef)
    for j in range(n_coef - 1):
        if 1.0 <= largest[j] < np.inf:
            inv_scale[j] = math.ldexp(1.0, -math.frexp(largest[j])[1])
    return inv_scale


@kernel
def cholesky_in_place(M):
    """Overwrite the lower triangle of the symmetric ``M`` with its Cholesky
    factor ``L`` (``M = L Lᵀ``), pivots floored at ``PIVOT_FLOOR · M_jj``."""
    p = M.shape[0]
    for j in range(p):
        diagonal = M[j, j]
        lj = M[j, :j]
        pivot = diagonal
        for q in range(j):
            pivot -= lj[q] * lj[q]
        pivot = max(pivot, PIVOT_FLOOR * diagonal)
        if not pivot > 0.0:  # a zero column with no penalty: leave the coordinate unscaled
            pivot = 1.0
        root = np.sqrt(pivot)
        M[j, j] = root
        for i in range(j + 1, p):
            li = M[i, :j]
            acc = M[i, j]
            for q in range(j):
                acc -= li[q] * lj[q]
            M[i, j] = acc / root


@kernel
def _curvature(X, sample_weight, n_coef, n_outputs, loss_scale, l2, fit_intercept, parallel, inv_scale):
    """``D⁻¹ M D⁻¹`` (module docstring), not yet factored."""
    M = scaled_gram(X, sample_weight, n_coef, parallel, inv_scale, None, 1)
    curvature = 0.25 if n_outputs == 1 else 1.0 / n_outputs
    d = n_coef - 1
    M *= curvature * loss_scale
    for j in range(d):
        M[j, j] += l2 * inv_scale[j] * inv_scale[j]
    if not fit_intercept:
        M[d, :] = 0.0
        M[:, d] = 0.0
        M[d, d] = 1.0
    return M


@kernel
def _all_finite(M):
    for value in M.flat:
        if not np.isfinite(value):
            return False
    return True


@kernel
def curvature_factor(X, sample_weight, n_coef, n_outputs, loss_scale, l2, fit_intercept, parallel):
    """The Cholesky factor ``L`` of ``M`` (module docstring) for ``n_coef = d + 1``
    coefficients per class: the lower triangle of a (d + 1, d + 1) float64
    array.  Without an intercept its row and column are those of the
    identity (that gradient entry is always 0)."""
    M = _curvature(X, sample_weight, n_coef, n_outputs, loss_scale, l2, fit_intercept, parallel, np.ones(n_coef))
    cholesky_in_place(M)
    return M


@kernel
def preconditioner(X, sample_weight, n_coef, n_outputs, loss_scale, l2, fit_intercept, parallel):
    """``(L, inv_scale, usable)``: the Cholesky factor of ``D⁻¹ M D⁻¹`` and the
    diagonal of ``D⁻¹`` for :func:`solve_factored`.  ``D`` is the identity
    unless ``M`` overflows (then :func:`column_inv_scales`); ``usable`` is
    false when even the scaled ``M`` is not finite (e.g. weights whose sum
    overflows), and the solver must take plain gradient steps."""
    inv_scale = np.ones(n_coef)
    M = _curvature(X, sample_weight, n_coef, n_outputs, loss_scale, l2, fit_intercept, parallel, inv_scale)
    if not _all_finite(M):
        inv_scale = column_inv_scales(X, n_coef)
        M = _curvature(X, sample_weight, n_coef, n_outputs, loss_scale, l2, fit_intercept, parallel, inv_scale)
        if not _all_finite(M):
            return M, inv_scale, False
    cholesky_in_place(M)
    return M, inv_scale, _all_finite(M)


@kernel
def solve_factored(L, g, n_outputs, out, inv_scale):
    """``out = (I_k ⊗ M)⁻¹ g`` for a flat ``g`` of k blocks of length d + 1,
    with ``L`` the factor of ``M' = D⁻¹ M D⁻¹`` and ``inv_scale`` the diagonal
    of ``D⁻¹`` (:func:`preconditioner`; ones for :func:`curvature_factor`):
    ``M⁻¹ g = D⁻¹ M'⁻¹ D⁻¹ g``, by forward, then back substitution."""
    p = L.shape[0]
    for c in range(n_outputs):
        block = out[c * p : (c + 1) * p]
        for j in range(p):
            acc = g[c * p + j] * inv_scale[j]
            lj = L[j, :j]
            for q in range(j):
                acc -= lj[q] * block[q]
            block[j] = acc / L[j, j]
        for j in range(p - 1, -1, -1):
            acc = block[j]
            for q in range(j + 1, p):
                acc -= L[q, j] * block[q]
            block[j] = acc / L[j, j]
        for j in range(p):
            block[j] *= inv_scale[j]
