"""Weighted Gram products ``X̃ᵀ W X̃`` (``X̃ = [X 1]``, ``W`` diagonal) for the
logistic solvers: :func:`weighted_gram` (``W = diag(|s_i|)``, the curvature
preconditioner of solver "gd", :mod:`fastxent._solvers.preconditioner`) and
:func:`logistic_gram` (``W = diag(|s_i| σ'(z_i))``, the binary Hessian of solver
"newton-cholesky", its row weights computed as each tile of rows is read).

The matrix is accumulated over fixed tiles of rows: each tile is copied and
transposed into a ``(d + 1, _ROWS)`` buffer (rows padded to a multiple of 4
with zeros), its row weights ``√w_i`` are computed from it, a column at a
time (so they vectorize across rows), and applied to it; every entry is then
a contiguous, vectorized dot product, computed sixteen at a time in 4×4
blocks; each entry is accumulated by one thread in tile order, within
chunks of rows whose partial matrices are added in chunk order, so the
result does not depend on the thread count.

A ``tile_step`` K > 1 sums over the rows of every K-th tile only (the
tiles whose index is a multiple of K, a rule of the row alone): the sampled
Hessians of solver "newton-cholesky".

The tile takes X's floating type.  For float32 data the products and their
sums over one tile (512 rows) are float32, which doubles the multiply-adds
per instruction; each tile's sums are then added in float64.  The entries
of the matrix are then exact to about 1e-6 relative (float64 tiles: 1e-15),
which only changes the Newton or preconditioned steps by as much, not the
fit: the objective and its gradient, hence the stopping point, stay in
float64.  A column of a float32 tile whose values are very large or very
small is rescaled by a power of two before its products are formed
(:func:`_weigh_tile`), so that they neither overflow nor underflow.
"""

import math

import numba
import numpy as np

from .._infra.floats import float_bits, float_from_bits, max2
from .._infra.jit import inline_scalar, inlined_kernel, kernel, parallel_kernel
from .._math.elementary import exp

__all__ = ["weighted_gram", "logistic_gram", "scaled_gram", "sampled_weight", "gram_uses_pool"]

_ROWS = 512
# A row of a float32 tile whose largest value lies outside this range is
# rescaled by a power of two: its products (at most _TILE_LARGEST² each, 512
# of them per sum) then stay far from float32's overflow, and those of its
# largest values far above its smallest normal number.
_TILE_SMALLEST = 2.0**-40
_TILE_LARGEST = 2.0**40
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
# A Gram product uses the thread pool only from this many multiply-adds
# (rows × padded²) on: a smaller one takes a few milliseconds in one thread,
# and a fit whose passes and Gram products all stay below the thresholds
# compiles no parallel kernel (a first newton-cholesky fit of 10,000 × 20
# compiled about 2 s less).
_POOL_MIN_WORK = 1 << 23


@inline_scalar
def _logistic_root(z):
    """√(σ(z) (1 − σ(z))) as ``e / (1 + e²)``, ``e = exp(−|z|/2)``: no
    cancellation in ``1 − σ(z)`` for large ``|z|``, and one exponential."""
    e = exp(-0.5 * abs(z))
    return e / (1.0 + e * e)


@kernel
def _load_tile(X, n_coef, start, stop, T, inv_scale):
    """T[j, r] = x_ij / D_j for the rows i = start + r and the columns j < d
    (d = X's number of columns, ``inv_scale`` = 1/D)."""
    m = stop - start
    d = n_coef - 1
    if isinstance(X, tuple):
        data, indices, indptr = X
        T[:d, :m] = 0.0
        for r in range(m):
            i = start + r
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                T[j, r] += data[q] * inv_scale[j]  # duplicates add, as in the loss
    else:
        # Eight rows at a time, column by column: the writes to T are then
        # 64-byte runs rather than one scattered value per row (row by row,
        # the transposition took longer than the Gram products).
        for r0 in range(0, m, 8):
            rows = min(8, m - r0)
            block = X[start + r0 : start + r0 + rows]
            for j in range(d):
                t = T[j, r0 : r0 + rows]
                c = inv_scale[j]
                for u in range(rows):
                    t[u] = block[u, j] * c


@kernel
def _row_roots(T, m, sample_weight, start, inv_scale, coef, roots):
    """roots[r] = √w_i for the tile's rows i = start + r: ``w_i = |s_i|`` when
    ``coef`` is None, else ``|s_i| σ'(z_i)`` for the binary model's
    coefficients (``z_i = x_i · w + b``).

    The logits are taken from the loaded tile, a column at a time, so they
    vectorize across rows, as do the square roots and the exponentials (row
    by row, the dot products and ``σ'`` took longer than reading X).
    """
    if coef is None:
        for r in range(m):
            roots[r] = np.sqrt(abs(sample_weight[start + r]))
    else:
        d = coef.shape[0] - 1
        roots[:m] = coef[d]
        for j in range(d):
            t = T[j, :m]
            w = coef[j] / inv_scale[j]
            for r in range(m):
                roots[r] += t[r] * w
        for r in range(m):
            roots[r] = np.sqrt(abs(sample_weight[start + r])) * _logistic_root(roots[r])


@kernel
def _largest_magnitude(values):
    """``max |values|`` (as float64) of a float32 or float64 array, through the
    bit patterns: those of non-negative floats are ordered as the floats
    are, and an integer maximum vectorizes (a floating-point one does not,
    without the fast-math flag that drops NaN checks).  A NaN's bits exceed
    infinity's, so a NaN gives a non-finite result."""
    top = float_bits(values.dtype.type(0))
    for r in range(values.shape[0]):
        top = max2(top, float_bits(abs(values[r])))
    return np.float64(float_from_bits(top))


@kernel
def _weigh_tile(T, m, n_coef, roots, inv_scale, weight):
    """T[j, r] *= roots[r] for j < d, and T[d, r] = roots[r] / D_d.

    In a float32 tile, a row whose values could lie outside
    ``[_TILE_SMALLEST, _TILE_LARGEST]`` (judged by the bound ``max_r |T_jr| ·
    max_r roots_r``) is multiplied as well by the power of two ``f_j`` that
    brings that bound into ``[1/2, 1)``, and ``weight[j] = 1 / f_j`` (an exact
    rescaling: ``G_jk = weight_j weight_k Σ_r T_jr T_kr``).  The products are
    formed in float64 and rounded once to T's type.
    """
    d = n_coef - 1
    single = T.itemsize == 4
    top_root = _largest_magnitude(roots[:m]) if single else 1.0
    for j in range(n_coef):
        t = T[j, :m]
        factor = 1.0
        if single:
            bound = top_root * (_largest_magnitude(t) if j < d else inv_scale[d])
            weight[j] = 1.0
            if 0.0 < bound < np.inf and not (_TILE_SMALLEST <= bound <= _TILE_LARGEST):
                exponent = math.frexp(bound)[1]
                factor = math.ldexp(1.0, -exponent)
                weight[j] = math.ldexp(1.0, exponent)
        if j < d:
            for r in range(m):
                t[r] = t[r] * (roots[r] * factor)
        else:
            last = inv_scale[d] * factor
            for r in range(m):
                t[r] = roots[r] * last


@kernel
def _accumulate_block(T, m, j0, k0, weight, G):
    """G[j, k] += weight[j] weight[k] (T[j] · T[k]) for j in j0:j0+4, k in k0:k0+4,
    over the first m columns, the products summed in T's type.

    Sixteen dot products at once: each loaded value serves four
    multiply-adds (a single dot product is limited by its two loads).
    """
    a0, a1, a2, a3 = T[j0, :m], T[j0 + 1, :m], T[j0 + 2, :m], T[j0 + 3, :m]
    b0, b1, b2, b3 = T[k0, :m], T[k0 + 1, :m], T[k0 + 2, :m], T[k0 + 3, :m]
    zero = T.dtype.type(0)
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
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
    w0, w1, w2, w3 = weight[j0], weight[j0 + 1], weight[j0 + 2], weight[j0 + 3]
    v0, v1, v2, v3 = weight[k0], weight[k0 + 1], weight[k0 + 2], weight[k0 + 3]
    G[j0, k0] += s00 * (w0 * v0)
    G[j0, k0 + 1] += s01 * (w0 * v1)
    G[j0, k0 + 2] += s02 * (w0 * v2)
    G[j0, k0 + 3] += s03 * (w0 * v3)
    G[j0 + 1, k0] += s10 * (w1 * v0)
    G[j0 + 1, k0 + 1] += s11 * (w1 * v1)
    G[j0 + 1, k0 + 2] += s12 * (w1 * v2)
    G[j0 + 1, k0 + 3] += s13 * (w1 * v3)
    G[j0 + 2, k0] += s20 * (w2 * v0)
    G[j0 + 2, k0 + 1] += s21 * (w2 * v1)
    G[j0 + 2, k0 + 2] += s22 * (w2 * v2)
    G[j0 + 2, k0 + 3] += s23 * (w2 * v3)
    G[j0 + 3, k0] += s30 * (w3 * v0)
    G[j0 + 3, k0 + 1] += s31 * (w3 * v1)
    G[j0 + 3, k0 + 2] += s32 * (w3 * v2)
    G[j0 + 3, k0 + 3] += s33 * (w3 * v3)


@kernel
def _accumulate_block_row(T, m, jb, weight, G):
    """The 4×4 blocks (jb, kb), kb >= jb, of the upper triangle."""
    for kb in range(jb, T.shape[0] // 4):
        _accumulate_block(T, m, 4 * jb, 4 * kb, weight, G)


@parallel_kernel
def _accumulate_parallel(T, m, weight, G):
    nb = T.shape[0] // 4
    # Block row jb holds nb - jb blocks: pairing jb with nb - 1 - jb gives
    # every prange iteration the same work.
    for jj in numba.prange((nb + 1) // 2):
        _accumulate_block_row(T, m, jj, weight, G)
        if nb - 1 - jj != jj:
            _accumulate_block_row(T, m, nb - 1 - jj, weight, G)


@kernel
def _accumulate_serial(T, m, weight, G):
    for jb in range(T.shape[0] // 4):
        _accumulate_block_row(T, m, jb, weight, G)


@inlined_kernel  # a thin entry to scaled_gram: no level of its own
def weighted_gram(X, sample_weight, n_coef, parallel, tile_step):
    """``X̃ᵀ S X̃`` with ``X̃ = [X 1]``, ``S = diag(|s_i|)``: a float64 array of
    shape (d + 1, d + 1), summed over the rows of every ``tile_step``-th tile
    of ``_ROWS`` rows (1: every row)."""
    return scaled_gram(X, sample_weight, n_coef, parallel, np.ones(n_coef), None, tile_step)


@inlined_kernel  # a thin entry to scaled_gram: no level of its own
def logistic_gram(X, sample_weight, coef, parallel, tile_step):
    """``X̃ᵀ diag(|s_i| σ(z_i) (1 − σ(z_i))) X̃``, ``z_i = x̃_i · coef``: the data
    part of the binary logistic Hessian at ``coef`` (length d + 1, intercept
    last), in one pass over X (over the rows of every ``tile_step``-th tile)."""
    n_coef = coef.shape[0]
    return scaled_gram(X, sample_weight, n_coef, parallel, np.ones(n_coef), coef, tile_step)


@kernel
def sampled_weight(sample_weight, tile_step):
    """``Σ |s_i|`` over the rows that a Gram product with ``tile_step`` sums
    over: those of the tiles of ``_ROWS`` rows whose index is a multiple of
    ``tile_step`` (a rule of the row alone, whatever the chunks or threads)."""
    total = 0.0
    n = sample_weight.shape[0]
    for lo in range(0, n, _ROWS * tile_step):
        for i in range(lo, min(lo + _ROWS, n)):
            total += abs(sample_weight[i])
    return total


@kernel
def _tile_buffer(X, padded):
    """The tile in X's floating type (module docstring)."""
    if isinstance(X, tuple):
        return np.zeros((padded, _ROWS), X[0].dtype)
    return np.zeros((padded, _ROWS), X.dtype)


@kernel
def _gram_rows(X, sample_weight, n_coef, start, stop, parallel, inv_scale, coef, tile_step, G):
    """G += D⁻¹ X̃ᵀ S X̃ D⁻¹ over the sampled tiles of the rows ``start:stop``
    (``start`` a multiple of ``_ROWS``), tile by tile in order (the thread
    pool, if ``parallel`` and the rows hold ``_POOL_MIN_WORK`` multiply-adds,
    splits each large enough tile's blocks)."""
    padded = G.shape[0]
    T = _tile_buffer(X, padded)
    roots = np.empty(_ROWS)
    weight = np.ones(padded)
    first_tile = (start // _ROWS + tile_step - 1) // tile_step * tile_step
    for lo in range(first_tile * _ROWS, stop, _ROWS * tile_step):
        hi = min(lo + _ROWS, stop)
        _load_tile(X, n_coef, lo, hi, T, inv_scale)
        _row_roots(T, hi - lo, sample_weight, lo, inv_scale, coef, roots)
        _weigh_tile(T, hi - lo, n_coef, roots, inv_scale, weight)
        # parallel=None prunes the parallel call when this is compiled (as in loss_grad)
        if (
            parallel is not None
            and parallel
            and (stop - start) * padded * padded >= _POOL_MIN_WORK
            and (hi - lo) * padded * padded >= _SPLIT_TILE_WORK
        ):
            _accumulate_parallel(T, hi - lo, weight, G)
        else:
            _accumulate_serial(T, hi - lo, weight, G)


@kernel
def rows_per_chunk(n, padded):
    """Rows per chunk (whole tiles), from ``n`` and the matrix size alone, so
    the chunks and the order of their sum do not depend on the thread count."""
    most = min(_MAX_CHUNKS, max(1, _CHUNK_BYTES // (8 * padded * padded)), max(1, n // _MIN_CHUNK_ROWS))
    tiles = (n + _ROWS - 1) // _ROWS
    return (tiles + most - 1) // most * _ROWS


def gram_uses_pool(n_rows, n_coef):
    """Whether :func:`weighted_gram` of ``n_rows`` rows and ``n_coef`` columns, given
    ``parallel=True``, runs on the thread pool: from ``_POOL_MIN_WORK``
    multiply-adds on, with more than one chunk or a tile large enough for
    :func:`_gram_rows` to split."""
    padded = (n_coef + 3) // 4 * 4
    if n_rows * padded * padded < _POOL_MIN_WORK:
        return False
    if n_rows > rows_per_chunk(n_rows, padded):
        return True
    return min(_ROWS, n_rows) * padded * padded >= _SPLIT_TILE_WORK


@parallel_kernel
def _gram_chunks_parallel(X, sample_weight, n_coef, inv_scale, coef, tile_step, chunk_rows, partial):
    n = sample_weight.shape[0]
    for chunk in numba.prange(partial.shape[0]):
        start = chunk * chunk_rows
        stop = min(start + chunk_rows, n)
        _gram_rows(X, sample_weight, n_coef, start, stop, False, inv_scale, coef, tile_step, partial[chunk])


@kernel
def scaled_gram(X, sample_weight, n_coef, parallel, inv_scale, coef, tile_step):
    """``D⁻¹ X̃ᵀ W X̃ D⁻¹`` for ``inv_scale`` = the diagonal of ``D⁻¹``, ``W`` the
    row weights of :func:`_row_roots` (``S`` when ``coef`` is None), summed
    over the rows of the tiles that :func:`sampled_weight` describes.

    The rows are split into chunks of whole tiles (:func:`rows_per_chunk`: a
    number fixed by ``n`` and ``d`` alone), each accumulated into its own
    matrix by one thread, and the chunks' matrices are added in chunk
    order: the result does not depend on the thread count.  A single chunk
    (few rows, or a large matrix) has each tile's blocks split between the
    threads instead.  Below ``_POOL_MIN_WORK`` multiply-adds the product
    stays in the calling thread (:func:`gram_uses_pool`)."""
    n = sample_weight.shape[0]
    padded = (n_coef + 3) // 4 * 4  # whole 4×4 blocks; the padding rows stay 0
    chunk_rows = rows_per_chunk(n, padded)
    n_chunks = (n + chunk_rows - 1) // chunk_rows
    if n_chunks <= 1:
        G = np.zeros((padded, padded))
        # np.int64(0), not 0: a literal argument would compile _gram_rows once more
        _gram_rows(X, sample_weight, n_coef, np.int64(0), n, parallel, inv_scale, coef, tile_step, G)
    else:
        partial = np.zeros((n_chunks, padded, padded))
        if parallel is not None and parallel and n * padded * padded >= _POOL_MIN_WORK:
            _gram_chunks_parallel(X, sample_weight, n_coef, inv_scale, coef, tile_step, chunk_rows, partial)
        else:
            for chunk in range(n_chunks):
                start = chunk * chunk_rows
                stop = min(start + chunk_rows, n)
                # parallel is False or None, or the product is below _POOL_MIN_WORK
                # (None keeps the pool out of this compilation)
                _gram_rows(X, sample_weight, n_coef, start, stop, parallel, inv_scale, coef, tile_step, partial[chunk])
        G = partial[0]
        for chunk in range(1, n_chunks):
            G += partial[chunk]
    gram = np.empty((n_coef, n_coef))
    for j in range(n_coef):
        for k in range(j, n_coef):
            gram[j, k] = G[j, k]
            gram[k, j] = G[j, k]
    return gram
