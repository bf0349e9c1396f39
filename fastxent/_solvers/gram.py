"""The curvature preconditioner of solver "gd": a weighted Gram matrix and its
Cholesky factor; and the weighted Gram products of solver "newton-cholesky"
(:func:`weighted_gram`, and :func:`logistic_gram`, whose row weights are the
binary model's ``|s_i| σ'(z_i)``, computed as each row is read).

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
definite metric close to the curvature.

Features near 1e154 and beyond overflow ``X̃ᵀ S X̃``.  :func:`preconditioner`
then rebuilds it for columns divided by powers of two ``D_j`` (the one at or
above each column's largest ``|x_ij|``, for columns reaching 1; exact
scalings), factors ``M' = D⁻¹ M D⁻¹`` and applies ``M⁻¹ = D⁻¹ M'⁻¹ D⁻¹``:
the steps are the same, only their arithmetic stays in range.

The Gram matrix ``X̃ᵀ S X̃`` is accumulated over fixed tiles of rows: each
tile is copied, transposed and scaled by ``√|s_i|``, into a ``(d + 1, _ROWS)``
buffer (rows padded to a multiple of 4 with zeros), so every entry is a
contiguous, vectorized dot product, computed sixteen at a time in 4×4
blocks; each entry is accumulated by one thread in tile order, within
chunks of rows whose partial matrices are added in chunk order, so the
result does not depend on the thread count.
"""

import math

import numba
import numpy as np

from .._infra.jit import inline_scalar, kernel, parallel_kernel
from .._math.elementary import exp

__all__ = [
    "curvature_factor",
    "preconditioner",
    "preconditioner_worthwhile",
    "solve_factored",
    "weighted_gram",
    "logistic_gram",
    "row_logit",
    "cholesky_in_place",
]

_ROWS = 512
# The Gram accumulation is split into at most _MAX_CHUNKS chunks of whole
# tiles, at least _MIN_CHUNK_ROWS rows each, their partial matrices taking
# at most _CHUNK_BYTES together: enough chunks for every thread of a small
# machine, one thread-pool launch per chunk rather than per tile.
_MAX_CHUNKS = 16
_MIN_CHUNK_ROWS = 4 * _ROWS
_CHUNK_BYTES = 1 << 26
# A tile's blocks are shared out to the thread pool from this many
# multiply-adds (rows × padded²) on; smaller tiles are accumulated serially.
_SPLIT_TILE_WORK = 1 << 17
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


@inline_scalar
def row_logit(X, w, i):
    """``x_i · w[:d] + w[d]`` for row ``i`` of a dense ``X`` or a CSR tuple
    (``w`` one model's ``d + 1`` coefficients, intercept last)."""
    d = w.shape[0] - 1
    z = w[d]
    if isinstance(X, tuple):
        data, indices, indptr = X
        for q in range(indptr[i], indptr[i + 1]):
            z += data[q] * w[indices[q]]
    else:
        x = X[i]
        for j in range(d):
            z += x[j] * w[j]
    return z


@inline_scalar
def _logistic_root(z):
    """√(σ(z) (1 − σ(z))) as ``e / (1 + e²)``, ``e = exp(−|z|/2)``: no
    cancellation in ``1 − σ(z)`` for large ``|z|``, and one exponential."""
    e = exp(-0.5 * abs(z))
    return e / (1.0 + e * e)


@kernel
def _fill_tile(X, sample_weight, n_coef, start, stop, T, inv_scale, coef):
    """T[j, r] = √w_i x_ij / D_j and T[d, r] = √w_i for the rows i = start + r
    (d = X's number of columns, ``inv_scale`` = 1/D; rows of T past d are
    padding, left alone).

    The row weight ``w_i`` is ``|s_i|`` when ``coef`` is None, and
    ``|s_i| σ'(z_i)`` for the binary model's coefficients ``coef`` (``z_i =
    x_i · w + b``), computed here while the row is in cache: the Hessian then
    needs no separate pass over X for the probabilities.
    """
    m = stop - start
    d = n_coef - 1
    if isinstance(X, tuple):
        data, indices, indptr = X
        T[: d + 1, :m] = 0.0
        for r in range(m):
            i = start + r
            root = np.sqrt(abs(sample_weight[i]))
            if coef is not None:
                root *= _logistic_root(row_logit(X, coef, i))
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                T[j, r] += root * data[q] * inv_scale[j]  # duplicates add, as in the loss
            T[d, r] = root
    else:
        # Eight rows at a time, column by column: the writes to T are then
        # 64-byte runs rather than one scattered value per row (row by row,
        # the transposition took longer than the Gram products).
        roots = np.empty(8)
        for r0 in range(0, m, 8):
            rows = min(8, m - r0)
            block = X[start + r0 : start + r0 + rows]
            for u in range(rows):
                root = np.sqrt(abs(sample_weight[start + r0 + u]))
                if coef is not None:
                    root *= _logistic_root(row_logit(X, coef, start + r0 + u))
                roots[u] = root
                T[d, r0 + u] = root
            for j in range(d):
                t = T[j, r0 : r0 + rows]
                c = inv_scale[j]
                for u in range(rows):
                    t[u] = roots[u] * block[u, j] * c


@kernel
def _accumulate_block(T, m, j0, k0, G):
    """G[j0:j0+4, k0:k0+4] += T[j0:j0+4] · T[k0:k0+4]ᵀ over the first m columns.

    Sixteen dot products at once: each loaded value serves four
    multiply-adds (a single dot product is limited by its two loads).
    """
    a0, a1, a2, a3 = T[j0, :m], T[j0 + 1, :m], T[j0 + 2, :m], T[j0 + 3, :m]
    b0, b1, b2, b3 = T[k0, :m], T[k0 + 1, :m], T[k0 + 2, :m], T[k0 + 3, :m]
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
    for r in range(m):
        x0, x1, x2, x3 = a0[r], a1[r], a2[r], a3[r]
        y0, y1, y2, y3 = b0[r], b1[r], b2[r], b3[r]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s23 += x2 * y3
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s33 += x3 * y3
    G[j0, k0] += s00
    G[j0, k0 + 1] += s01
    G[j0, k0 + 2] += s02
    G[j0, k0 + 3] += s03
    G[j0 + 1, k0] += s10
    G[j0 + 1, k0 + 1] += s11
    G[j0 + 1, k0 + 2] += s12
    G[j0 + 1, k0 + 3] += s13
    G[j0 + 2, k0] += s20
    G[j0 + 2, k0 + 1] += s21
    G[j0 + 2, k0 + 2] += s22
    G[j0 + 2, k0 + 3] += s23
    G[j0 + 3, k0] += s30
    G[j0 + 3, k0 + 1] += s31
    G[j0 + 3, k0 + 2] += s32
    G[j0 + 3, k0 + 3] += s33


@kernel
def _accumulate_block_row(T, m, jb, G):
    """The 4×4 blocks (jb, kb), kb >= jb, of the upper triangle."""
    for kb in range(jb, T.shape[0] // 4):
        _accumulate_block(T, m, 4 * jb, 4 * kb, G)


@parallel_kernel
def _accumulate_parallel(T, m, G):
    nb = T.shape[0] // 4
    # Block row jb holds nb - jb blocks: pairing jb with nb - 1 - jb gives
    # every prange iteration the same work.
    for jj in numba.prange((nb + 1) // 2):
        _accumulate_block_row(T, m, jj, G)
        if nb - 1 - jj != jj:
            _accumulate_block_row(T, m, nb - 1 - jj, G)


@kernel
def _accumulate_serial(T, m, G):
    for jb in range(T.shape[0] // 4):
        _accumulate_block_row(T, m, jb, G)


@kernel
def weighted_gram(X, sample_weight, n_coef, parallel):
    """``X̃ᵀ S X̃`` with ``X̃ = [X 1]``, ``S = diag(|s_i|)``: a float64 array of
    shape (d + 1, d + 1)."""
    return _scaled_gram(X, sample_weight, n_coef, parallel, np.ones(n_coef), None)


@kernel
def logistic_gram(X, sample_weight, coef, parallel):
    """``X̃ᵀ diag(|s_i| σ(z_i) (1 − σ(z_i))) X̃``, ``z_i = x̃_i · coef``: the data
    part of the binary logistic Hessian at ``coef`` (length d + 1, intercept
    last), in one pass over X."""
    n_coef = coef.shape[0]
    return _scaled_gram(X, sample_weight, n_coef, parallel, np.ones(n_coef), coef)


@kernel
def _gram_rows(X, sample_weight, n_coef, start, stop, parallel, inv_scale, coef, G):
    """G += D⁻¹ X̃ᵀ S X̃ D⁻¹ over the rows ``start:stop``, tile by tile in order
    (the thread pool, if ``parallel``, splits each tile's blocks)."""
    padded = G.shape[0]
    T = np.zeros((padded, _ROWS))
    for lo in range(start, stop, _ROWS):
        hi = min(lo + _ROWS, stop)
        _fill_tile(X, sample_weight, n_coef, lo, hi, T, inv_scale, coef)
        # parallel=None prunes the parallel call when this is compiled (as in loss_grad)
        if parallel is not None and parallel and (hi - lo) * padded * padded >= _SPLIT_TILE_WORK:
            _accumulate_parallel(T, hi - lo, G)
        else:
            _accumulate_serial(T, hi - lo, G)


@kernel
def _chunk_rows(n, padded):
    """Rows per chunk (whole tiles), from ``n`` and the matrix size alone, so
    the chunks and the order of their sum do not depend on the thread count."""
    most = min(_MAX_CHUNKS, max(1, _CHUNK_BYTES // (8 * padded * padded)), max(1, n // _MIN_CHUNK_ROWS))
    tiles = (n + _ROWS - 1) // _ROWS
    return (tiles + most - 1) // most * _ROWS


def gram_uses_pool(n_rows, n_coef):
    """Whether :func:`weighted_gram` of ``n_rows`` rows and ``n_coef`` columns, given
    ``parallel=True``, runs on the thread pool: with more than one chunk, or a
    tile large enough for :func:`_gram_rows` to split."""
    padded = (n_coef + 3) // 4 * 4
    if n_rows > _chunk_rows(n_rows, padded):
        return True
    return min(_ROWS, n_rows) * padded * padded >= _SPLIT_TILE_WORK


@parallel_kernel
def _gram_chunks_parallel(X, sample_weight, n_coef, inv_scale, coef, chunk_rows, partial):
    n = sample_weight.shape[0]
    for chunk in numba.prange(partial.shape[0]):
        start = chunk * chunk_rows
        _gram_rows(X, sample_weight, n_coef, start, min(start + chunk_rows, n), False, inv_scale, coef, partial[chunk])


@kernel
def _scaled_gram(X, sample_weight, n_coef, parallel, inv_scale, coef):
    """``D⁻¹ X̃ᵀ W X̃ D⁻¹`` for ``inv_scale`` = the diagonal of ``D⁻¹``, ``W`` the
    row weights of :func:`_fill_tile` (``S`` when ``coef`` is None).

    The rows are split into chunks of whole tiles (:func:`_chunk_rows`: a
    number fixed by ``n`` and ``d`` alone), each accumulated into its own
    matrix by one thread, and the chunks' matrices are added in chunk
    order: the result does not depend on the thread count.  A single chunk
    (few rows, or a large matrix) has each tile's blocks split between the
    threads instead."""
    n = sample_weight.shape[0]
    padded = (n_coef + 3) // 4 * 4  # whole 4×4 blocks; the padding rows stay 0
    chunk_rows = _chunk_rows(n, padded)
    n_chunks = (n + chunk_rows - 1) // chunk_rows
    if n_chunks <= 1:
        G = np.zeros((padded, padded))
        _gram_rows(X, sample_weight, n_coef, 0, n, parallel, inv_scale, coef, G)
    else:
        partial = np.zeros((n_chunks, padded, padded))
        if parallel is not None and parallel:
            _gram_chunks_parallel(X, sample_weight, n_coef, inv_scale, coef, chunk_rows, partial)
        else:
            for chunk in range(n_chunks):
                start = chunk * chunk_rows
                stop = min(start + chunk_rows, n)
                # parallel is False or None here; None keeps the pool out of this compilation
                _gram_rows(X, sample_weight, n_coef, start, stop, parallel, inv_scale, coef, partial[chunk])
        G = partial[0]
        for chunk in range(1, n_chunks):
            G += partial[chunk]
    gram = np.empty((n_coef, n_coef))
    for j in range(n_coef):
        for k in range(j, n_coef):
            gram[j, k] = G[j, k]
            gram[k, j] = G[j, k]
    return gram


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
    M = _scaled_gram(X, sample_weight, n_coef, parallel, inv_scale, None)
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
