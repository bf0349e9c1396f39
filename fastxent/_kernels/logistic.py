"""The fused loss-and-gradient kernel of L2-penalized logistic regression.

One pass over the rows of ``X`` computes, for coefficients ``coef``,

.. math::

    F(w, b) = a \\sum_i s_i \\, \\ell(y_i, x_i \\cdot w + b)
              + \\tfrac{\\lambda}{2} \\lVert w \\rVert^2

and its gradient: each row is read once, its logit(s) ``z_i`` are formed, the
per-sample loss and ``d\\ell/dz`` come from the core per-sample math
(:mod:`fastxent._math.binary`, :mod:`fastxent._math.softmax`), and
``s_i \\, d\\ell/dz_i \\, x_i`` is added to the gradient while the row is still
in cache.  The intercept ``b`` is never penalized.

* Binary (``n_outputs`` the constant 1, a literal when the caller is
  compiled): :math:`\\ell` is the log loss of a logit, ``y`` holds 0/1
  targets, ``coef = [w_0 .. w_{d-1}, b]``.
* Multinomial (``n_outputs`` a run-time ``k >= 2``): :math:`\\ell` is the
  softmax cross-entropy, ``y`` holds class indices ``0 .. k-1``, ``coef`` is
  the row-major flattening of a ``(k, d + 1)`` array whose last column holds
  the intercepts.

The model is told by the *type* of ``n_outputs``, so that a fit compiles the
row kernels of its own model only (a 3-class fit that also compiled the
binary ones took 2 s longer the first time); a run-time ``n_outputs`` below 2
is refused with a ``ValueError``.

scikit-learn's ``LogisticRegression`` minimises ``C Σ s_i ℓ_i + ½‖w‖²``;
that is ``a = C, λ = 1``.  The solvers use the equivalent, better-scaled
``a = 1 / Σ s_i, λ = 1 / (C Σ s_i)`` (scikit-learn's own internal scaling),
so that ``tol`` means exactly what it means in scikit-learn.

``X`` is either a dense 2-D float32/float64 array (any layout: C-ordered rows
are read row by row, other layouts in short column-contiguous chunks) or a
CSR matrix given as the tuple ``(data, indices, indptr)``.  Rows are split
into the fixed blocks of :mod:`fastxent._infra.summation`, and consecutive
blocks into chunks (:func:`_blocks_per_chunk`); each chunk is evaluated by one
thread, its blocks in order, each block writing its loss to its own slot and
adding its gradient to the chunk's.  The slots and the chunk gradients are
added in order with compensated summation; as the blocks and chunks depend on
``n`` and the gradient's size alone, results do not depend on the thread count.
For a CSR ``X`` the softmax kernel works on a feature-major ``(d + 1, k)`` copy
of the coefficients and gradient, so that a stored value touches k adjacent
entries.
"""

import numba
import numpy as np
from numba.core import types

from .._infra.floats import max2, min2
from .._infra.jit import (
    inline_scalar,
    inlined_kernel,
    kernel,
    kernel_by_type,
    parallel_kernel,
    stable_api,
    start_thread_pool,
    strict_inline,
)
from .._infra.prefetch import prefetch_row
from .._infra.summation import block_bounds, compensated_sum, compensated_sum_columns, n_blocks
from .._math.binary import binary_logit_loss_grad
from .._math.softmax import softmax_row_loss_grad
from .._math.softmax_columns import softmax_columns_loss_grad

__all__ = [
    "binary_logistic_loss_grad_serial",
    "binary_logistic_loss_grad_parallel",
    "multinomial_logistic_loss_grad_serial",
    "multinomial_logistic_loss_grad_parallel",
    "binary_logistic_loss_grad_csr_serial",
    "binary_logistic_loss_grad_csr_parallel",
    "multinomial_logistic_loss_grad_csr_serial",
    "multinomial_logistic_loss_grad_csr_parallel",
]

# A solver launches one evaluation per iteration, hundreds per fit: the
# thread pool pays off only from about a millisecond of serial work (and a
# launch on a busy machine can wait for a descheduled worker).
PARALLEL_MIN_WORK = 1 << 20
# Rows per chunk of the dense blocks: 128 rows of a few hundred features stay
# in L2 between the logit pass and the gradient pass.  Row-contiguous chunks
# also stay within _CHUNK_BYTES (wide rows: fewer rows per chunk, at least 4).
_CHUNK = 128
_CHUNK_BYTES = 1 << 18
# Features per block of the softmax logits and gradient: four rows' pieces
# (8 KiB in float64) and every class's coefficients for them stay in L1.
_FEATURE_BLOCK = 256
# A CSR block of 2048 rows touches a few thousand gradient entries, while a
# gradient of its own would cost zeroing and summing all k (d + 1) of them:
# CSR blocks share one gradient per chunk, at most _MAX_GRAD_CHUNKS chunks
# (enough for every thread of a small machine) taking at most
# _GRAD_CHUNK_BYTES together.
_MAX_GRAD_CHUNKS = 16
_GRAD_CHUNK_BYTES = 1 << 27
# Stored values ahead of the current one whose coefficient and gradient rows
# the multinomial CSR rows prefetch: a row of a table beyond the core's own
# cache arrives about when the loop reaches it.
PREFETCH_AHEAD = 16


@inline_scalar
def _weight(sample_weight, i):
    """``sample_weight[i]``, or 1 when ``sample_weight`` has length 0 (no weights)."""
    return sample_weight[i] if sample_weight.shape[0] > 0 else 1.0


# --------------------------------------------------------------------------
# Per-block work.  Each returns the block's Σ s_i ℓ_i and adds
# Σ s_i dℓ/dz_i [x_i, 1] into ``grad`` (zeroed by the caller); an empty
# ``grad`` asks for the loss only (the line searches need no gradient).


@kernel
def _contiguous_chunk_rows(X):
    """Rows per chunk of a row-contiguous block: a multiple of 4, from 4 to
    _CHUNK, the chunk taking at most _CHUNK_BYTES."""
    rows = _CHUNK_BYTES // max(1, X.shape[1] * X.itemsize) // 4 * 4
    return min(_CHUNK, max(4, rows))


@kernel
def _sum_first(values, m):
    """``Σ values[:m]``, in a loop that only reads.

    Reductions are kept out of loops that also store: LLVM vectorizes such
    a loop behind a run-time check that its stores and loads do not
    overlap, and falls back to the scalar loop when the check fails, which
    sums in another order; whether it fails depends on where the buffers
    were allocated, so the last bits of a loss would vary from call to
    call.  A loop that only reads is vectorized unconditionally.
    """
    total = 0.0
    for r in range(m):
        total += values[r]
    return total


@kernel
def _chunk_binary_losses(y, sample_weight, c0, m, z, terms):
    """Σ s_i ℓ_i over the rows c0 .. c0 + m whose logits are ``z[:m]``; ``z``
    becomes their weighted dℓ/dz (``terms``: scratch for the s_i ℓ_i, summed
    apart, :func:`_sum_first`)."""
    for r in range(m):
        value, dz = binary_logit_loss_grad(y[c0 + r], z[r], 1.0)
        s = _weight(sample_weight, c0 + r)
        terms[r] = s * value
        z[r] = s * dz
    return _sum_first(terms, m)


@kernel
def _feature_block(d, n_outputs):
    """Features per block of :func:`_chunk_logits` and :func:`_chunk_gradient`:
    all of them for one model, which reuses no piece of a row."""
    return d if n_outputs == 1 else _FEATURE_BLOCK


@kernel
def _four_rows(X, i, j0, j1):
    """Features ``j0 .. j1`` of the rows ``i .. i + 3``."""
    return X[i, j0:j1], X[i + 1, j0:j1], X[i + 2, j0:j1], X[i + 3, j0:j1]


@kernel
def _class_piece(coef, c, d, j0, j1):
    """Entries ``j0 .. j1`` of class ``c``'s ``d + 1`` in a flat class-major array."""
    return coef[c * (d + 1) + j0 : c * (d + 1) + j1]


@kernel
def _chunk_logits(X, coef, n_outputs, c0, m, Z):
    """``Z[c, r] = x_i · w_c + b_c`` for the rows ``i = c0 + r < c0 + m`` of a
    row-contiguous ``X``, four rows by two classes at a time, over blocks of
    ``_FEATURE_BLOCK`` features: each load of four row pieces serves every
    class while in L1, and each coefficient load four multiply-adds."""
    d = X.shape[1]
    whole = m - m % 4
    pairs = n_outputs - n_outputs % 2
    block = _feature_block(d, n_outputs)
    for c in range(n_outputs):
        for r in range(m):
            Z[c, r] = coef[c * (d + 1) + d]
    for j0 in range(0, d, block):
        j1 = min(d, j0 + block)
        for r in range(0, whole, 4):
            x0, x1, x2, x3 = _four_rows(X, c0 + r, j0, j1)
            for c in range(0, pairs, 2):
                u = _class_piece(coef, c, d, j0, j1)
                v = _class_piece(coef, c + 1, d, j0, j1)
                u0, u1, u2, u3 = Z[c, r], Z[c, r + 1], Z[c, r + 2], Z[c, r + 3]
                v0, v1, v2, v3 = Z[c + 1, r], Z[c + 1, r + 1], Z[c + 1, r + 2], Z[c + 1, r + 3]
                for j in range(j1 - j0):
                    uj = u[j]
                    vj = v[j]
                    u0 += x0[j] * uj
                    u1 += x1[j] * uj
                    u2 += x2[j] * uj
                    u3 += x3[j] * uj
                    v0 += x0[j] * vj
                    v1 += x1[j] * vj
                    v2 += x2[j] * vj
                    v3 += x3[j] * vj
                Z[c, r], Z[c, r + 1], Z[c, r + 2], Z[c, r + 3] = u0, u1, u2, u3
                Z[c + 1, r], Z[c + 1, r + 1], Z[c + 1, r + 2], Z[c + 1, r + 3] = v0, v1, v2, v3
            for c in range(pairs, n_outputs):
                u = _class_piece(coef, c, d, j0, j1)
                u0, u1, u2, u3 = Z[c, r], Z[c, r + 1], Z[c, r + 2], Z[c, r + 3]
                for j in range(j1 - j0):
                    uj = u[j]
                    u0 += x0[j] * uj
                    u1 += x1[j] * uj
                    u2 += x2[j] * uj
                    u3 += x3[j] * uj
                Z[c, r], Z[c, r + 1], Z[c, r + 2], Z[c, r + 3] = u0, u1, u2, u3
        for r in range(whole, m):
            x = X[c0 + r, j0:j1]
            for c in range(n_outputs):
                u = _class_piece(coef, c, d, j0, j1)
                z = Z[c, r]
                for j in range(j1 - j0):
                    z += x[j] * u[j]
                Z[c, r] = z


@kernel
def _chunk_gradient(X, Z, n_outputs, c0, m, grad):
    """``g_c += Σ_r Z[c, r] [x_i, 1]`` over the same rows, four rows by two
    classes at a time over blocks of features (as :func:`_chunk_logits`):
    each gradient entry is loaded and stored once per four rows, in row order."""
    d = X.shape[1]
    whole = m - m % 4
    pairs = n_outputs - n_outputs % 2
    block = _feature_block(d, n_outputs)
    for j0 in range(0, d, block):
        j1 = min(d, j0 + block)
        for r in range(0, whole, 4):
            x0, x1, x2, x3 = _four_rows(X, c0 + r, j0, j1)
            for c in range(0, pairs, 2):
                g = _class_piece(grad, c, d, j0, j1)
                h = _class_piece(grad, c + 1, d, j0, j1)
                g0, g1, g2, g3 = Z[c, r], Z[c, r + 1], Z[c, r + 2], Z[c, r + 3]
                h0, h1, h2, h3 = Z[c + 1, r], Z[c + 1, r + 1], Z[c + 1, r + 2], Z[c + 1, r + 3]
                for j in range(j1 - j0):
                    a, b, e, f = x0[j], x1[j], x2[j], x3[j]
                    g[j] += (g0 * a + g1 * b) + (g2 * e + g3 * f)
                    h[j] += (h0 * a + h1 * b) + (h2 * e + h3 * f)
            for c in range(pairs, n_outputs):
                g = _class_piece(grad, c, d, j0, j1)
                g0, g1, g2, g3 = Z[c, r], Z[c, r + 1], Z[c, r + 2], Z[c, r + 3]
                for j in range(j1 - j0):
                    g[j] += (g0 * x0[j] + g1 * x1[j]) + (g2 * x2[j] + g3 * x3[j])
        for r in range(whole, m):
            x = X[c0 + r, j0:j1]
            for c in range(n_outputs):
                g = _class_piece(grad, c, d, j0, j1)
                gr = Z[c, r]
                for j in range(j1 - j0):
                    g[j] += gr * x[j]
    for c in range(n_outputs):
        for r in range(0, whole, 4):
            grad[c * (d + 1) + d] += (Z[c, r] + Z[c, r + 1]) + (Z[c, r + 2] + Z[c, r + 3])
        for r in range(whole, m):
            grad[c * (d + 1) + d] += Z[c, r]


@kernel
def _binary_dense_rows(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    # A chunk of rows at a time, in three passes while they are in cache: the
    # logits (_chunk_logits); the losses and dℓ/dz, over the chunk's logits,
    # a loop that vectorizes across rows (row by row, the exponential and
    # logarithm of each row took longer than its dot product); the gradient
    # (_chunk_gradient).
    Z = np.empty((1, _CHUNK))
    terms = np.empty(_CHUNK)
    loss = 0.0
    rows = _contiguous_chunk_rows(X)
    for c0 in range(start, stop, rows):
        m = min(rows, stop - c0)
        _chunk_logits(X, coef, 1, c0, m, Z)
        loss += _chunk_binary_losses(y, sample_weight, c0, m, Z[0], terms)
        if grad.shape[0] > 0:
            _chunk_gradient(X, Z, 1, c0, m, grad)
    return loss


@kernel
def _binary_dense_chunks(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    with_grad = grad.shape[0] > 0
    d = X.shape[1]
    b = coef[d]
    z = np.empty(_CHUNK)
    terms = np.empty(_CHUNK)
    loss = 0.0
    for c0 in range(start, stop, _CHUNK):
        m = min(_CHUNK, stop - c0)
        for r in range(m):
            z[r] = b
        for j in range(d):
            col = X[c0 : c0 + m, j]
            wj = coef[j]
            for r in range(m):
                z[r] += col[r] * wj
        loss += _chunk_binary_losses(y, sample_weight, c0, m, z, terms)
        if not with_grad:
            continue
        grad[d] += _sum_first(z, m)
        for j in range(d):
            col = X[c0 : c0 + m, j]
            acc = 0.0
            for r in range(m):
                acc += col[r] * z[r]
            grad[j] += acc
    return loss


@kernel
def _binary_csr_rows(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    data, indices, indptr = X
    with_grad = grad.shape[0] > 0
    d = coef.shape[0] - 1
    b = coef[d]
    loss = 0.0
    for r in range(stop - start):
        i = start + r
        lo = indptr[i]
        hi = indptr[i + 1]
        z = b
        for q in range(lo, hi):
            z += data[q] * coef[indices[q]]
        value, dz = binary_logit_loss_grad(y[i], z, 1.0)
        s = _weight(sample_weight, i)
        loss += s * value
        if with_grad:
            g = s * dz
            for q in range(lo, hi):
                grad[indices[q]] += g * data[q]
            grad[d] += g
    return loss


@kernel
def _multinomial_dense_rows(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    # Three passes per chunk of rows, as in _binary_dense_rows, the softmax
    # losses and gradients vectorized across rows (softmax_columns_loss_grad).
    Z, targets, weights, scratch = _softmax_chunk_buffers(n_outputs)
    loss = 0.0
    rows = _contiguous_chunk_rows(X)
    for c0 in range(start, stop, rows):
        m = min(rows, stop - c0)
        _chunk_logits(X, coef, n_outputs, c0, m, Z)
        loss += _chunk_softmax(y, sample_weight, c0, m, Z, targets, weights, scratch)
        if grad.shape[0] > 0:
            _chunk_gradient(X, Z, n_outputs, c0, m, grad)
    return loss


@kernel
def _multinomial_dense_chunks(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    d = X.shape[1]
    W = coef.reshape((n_outputs, d + 1))
    with_grad = grad.shape[0] > 0
    G = grad.reshape((n_outputs, d + 1) if with_grad else (0, 0))
    Z, targets, weights, scratch = _softmax_chunk_buffers(n_outputs)
    loss = 0.0
    for c0 in range(start, stop, _CHUNK):
        m = min(_CHUNK, stop - c0)
        for c in range(n_outputs):
            zc = Z[c]
            for r in range(m):
                zc[r] = W[c, d]
            for j in range(d):
                col = X[c0 : c0 + m, j]
                wcj = W[c, j]
                for r in range(m):
                    zc[r] += col[r] * wcj
        loss += _chunk_softmax(y, sample_weight, c0, m, Z, targets, weights, scratch)
        if not with_grad:
            continue
        for c in range(n_outputs):
            G[c, d] += _sum_first(Z[c], m)
        for j in range(d):
            col = X[c0 : c0 + m, j]
            for c in range(n_outputs):
                zc = Z[c]
                acc = 0.0
                for r in range(m):
                    acc += col[r] * zc[r]
                G[c, j] += acc
    return loss


@kernel
def _softmax_chunk_buffers(n_outputs):
    """Logits by class for a chunk of rows, the rows' classes and weights, and
    the scratch space of :func:`softmax_columns_loss_grad`."""
    return (
        np.empty((n_outputs, _CHUNK)),
        np.empty(_CHUNK, dtype=np.intp),
        np.empty(_CHUNK),
        np.empty((3, _CHUNK)),
    )


@kernel
def _chunk_softmax(y, sample_weight, c0, m, Z, targets, weights, scratch):
    """Σ s_i ℓ_i over the rows c0 .. c0 + m whose logits are Z's first m
    columns, which become the weighted dℓ/dz."""
    for r in range(m):
        targets[r] = int(y[c0 + r])
        weights[r] = _weight(sample_weight, c0 + r)
    return softmax_columns_loss_grad(targets, weights, Z, m, scratch)


@kernel
def _multinomial_csr_rows(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    # coef and grad are feature-major here, (d + 1, k) (see objective): a
    # stored value reads and updates k adjacent entries, not k entries d + 1
    # apart (4x faster at k = 20, d = 1e4).  Each class's sums keep their
    # order: the intercept, then the row's stored values in turn.
    data, indices, indptr = X
    d = coef.shape[0] // n_outputs - 1
    WT = coef.reshape((d + 1, n_outputs))
    with_grad = grad.shape[0] > 0
    GT = grad.reshape((d + 1, n_outputs) if with_grad else (0, 0))
    z = np.empty(n_outputs)
    dz = np.empty(n_outputs)
    last = indices.shape[0] - 1
    loss = 0.0
    for r in range(stop - start):
        i = start + r
        lo = indptr[i]
        hi = indptr[i + 1]
        for c in range(n_outputs):  # an element loop: a row-to-row slice assignment compiles broadcast checks
            z[c] = WT[d, c]
        for q in range(lo, hi):
            prefetch_row(WT, indices[min2(q + PREFETCH_AHEAD, last)])
            value = data[q]
            w = WT[indices[q]]
            for c in range(n_outputs):
                z[c] += value * w[c]
        s = _weight(sample_weight, i)
        loss += s * softmax_row_loss_grad(int(y[i]), z, s, dz)
        if with_grad:
            for q in range(lo, hi):
                prefetch_row(GT, indices[min2(q + PREFETCH_AHEAD, last)])
                value = data[q]
                g = GT[indices[q]]
                for c in range(n_outputs):
                    g[c] += dz[c] * value
            g = GT[d]
            for c in range(n_outputs):
                g[c] += dz[c]
    return loss


# The blocks of dense rows whose layout is known at run time only.  All row
# kernels take the same arguments, so _block_loss_grad's callers call the one
# it chooses directly.


@strict_inline
def _rows_are_contiguous(X):
    """Whether each row of a dense ``X`` is contiguous (the row kernels' layout)."""
    return X.shape[1] <= 1 or X.strides[1] == X.itemsize


@kernel
def _binary_strided_block(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    if _rows_are_contiguous(X):
        return _binary_dense_rows(X, y, sample_weight, coef, n_outputs, start, stop, grad)
    return _binary_dense_chunks(X, y, sample_weight, coef, n_outputs, start, stop, grad)


@kernel
def _multinomial_strided_block(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    if _rows_are_contiguous(X):
        return _multinomial_dense_rows(X, y, sample_weight, coef, n_outputs, start, stop, grad)
    return _multinomial_dense_chunks(X, y, sample_weight, coef, n_outputs, start, stop, grad)


def is_binary_literal(n_outputs):
    """Whether the Numba type of ``n_outputs`` is the literal 1: the binary
    model (the binary entry points pass the constant); any other type is the
    softmax model's run-time number of classes."""
    return isinstance(n_outputs, types.IntegerLiteral) and n_outputs.literal_value == 1


@kernel_by_type(prefer_literal=True)
def _block_loss_grad(X, y, sample_weight, coef, n_outputs, start, stop, grad):
    """Dispatch one block of rows to the kernel for X's storage and the model.

    Both are chosen from the argument types when the caller is compiled: a
    CSR tuple compiles no dense kernel, a C-contiguous X no chunked
    (column-wise) kernel, only other layouts test the strides at run time;
    the literal ``n_outputs`` 1 compiles the binary kernels alone, a
    run-time one the softmax kernels alone (module docstring).
    """
    binary = is_binary_literal(n_outputs)
    if isinstance(X, types.BaseTuple):
        return _binary_csr_rows if binary else _multinomial_csr_rows
    if isinstance(X, types.Array) and X.layout == "C":
        return _binary_dense_rows if binary else _multinomial_dense_rows
    return _binary_strided_block if binary else _multinomial_strided_block


@kernel
def _binary_outputs(n_outputs):
    return n_outputs


@kernel
def _softmax_outputs(n_outputs):
    if n_outputs < 2:
        raise ValueError(
            "n_outputs: a run-time number of outputs is the softmax model's and must be at least 2 "
            "(the binary model is the constant 1, known when the caller is compiled)"
        )
    return n_outputs


@kernel_by_type(prefer_literal=True)
def _checked_outputs(n_outputs):
    """``n_outputs``, refused (``ValueError``) when it is a run-time value below 2:
    the row kernels would take it for a softmax model of one class."""
    return _binary_outputs if is_binary_literal(n_outputs) else _softmax_outputs


@strict_inline
def _chunk_loss_grad(X, y, sample_weight, coef, n_outputs, chunk_blocks, chunk, block_loss, grad):
    """The blocks of one chunk, in order: their losses into ``block_loss``, their gradients added into ``grad``."""
    n = y.shape[0]
    nb = block_loss.shape[0]
    first = chunk * chunk_blocks
    last = first + chunk_blocks if first + chunk_blocks < nb else nb
    for blk in range(first, last):
        start, stop = block_bounds(blk, n)
        block_loss[blk] = _block_loss_grad(X, y, sample_weight, coef, n_outputs, start, stop, grad)


# Two drivers with the same body: the parallel one a kernel of its own, the
# serial one compiled into objective (as a level of its own it re-optimized
# every row kernel below it: first 3-class fit 0.6 s, binary 0.3 s).


@parallel_kernel
def _chunks_parallel(X, y, sample_weight, coef, n_outputs, chunk_blocks, block_loss, chunk_grad):
    for chunk in numba.prange(chunk_grad.shape[0]):
        _chunk_loss_grad(X, y, sample_weight, coef, n_outputs, chunk_blocks, chunk, block_loss, chunk_grad[chunk])


@inlined_kernel
def _chunks_serial(X, y, sample_weight, coef, n_outputs, chunk_blocks, block_loss, chunk_grad):
    for chunk in range(chunk_grad.shape[0]):
        _chunk_loss_grad(X, y, sample_weight, coef, n_outputs, chunk_blocks, chunk, block_loss, chunk_grad[chunk])


@kernel
def is_csr(X):
    """Whether X is a CSR tuple ``(data, indices, indptr)`` rather than a dense array.

    A function of its own: an ``isinstance`` test makes Numba type the whole
    function that contains it twice (once to propagate literals), which for
    a large caller costs more than this call.
    """
    return isinstance(X, tuple)


@kernel
def stored_values(X):
    """Values stored by a dense X or a CSR tuple (the work of one pass)."""
    if isinstance(X, tuple):
        return X[0].shape[0]
    return X.shape[0] * X.shape[1]


@kernel
def _blocks_per_chunk(X, n, n_coef):
    """Consecutive row blocks that share one gradient (see the module docstring).

    A dense block's work, ``BLOCK × d × k`` multiply-adds, dwarfs its own
    gradient of ``k (d + 1)`` entries: one block per chunk.  A CSR X gets
    ``m = min(16, n_blocks(n), max(1, 2²⁷ / (8 n_coef)))`` chunks of
    ``⌈n_blocks(n) / m⌉`` blocks, a number fixed by ``n`` and ``n_coef``.
    """
    nb = n_blocks(n)
    if not isinstance(X, tuple) or nb <= 1:
        return 1
    most = min2(min2(_MAX_GRAD_CHUNKS, nb), max2(1, _GRAD_CHUNK_BYTES // (8 * n_coef)))
    return (nb + most - 1) // most


@inlined_kernel  # a level compiled on its own would re-optimize everything below it
def loss_grad(X, y, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, parallel, grad):
    """Objective and gradient for any X storage and model (the solvers' entry).

    Parameters
    ----------
    X : 2-D float array or tuple (data, indices, indptr)
        Dense design matrix, or a CSR matrix's arrays.
    y : 1-D array
        0/1 targets (``n_outputs == 1``) or class indices.
    sample_weight : 1-D float array, or length 0 for unit weights
    coef : 1-D float64 array of length ``n_outputs * (d + 1)``
        Row-major ``(n_outputs, d + 1)`` coefficients, intercepts last.
    n_outputs : int
        The constant 1 for the binary model (a literal when the caller is
        compiled), a run-time k >= 2 for the k-class softmax model.
    loss_scale, l2 : float
        ``a`` and ``λ`` of ``F = a Σ s_i ℓ_i + λ/2 ‖w‖²``.
    fit_intercept : bool
        If false, the intercept entries of ``grad`` are set to 0.
    parallel : bool or None
        Whether the thread pool may be used (it is, from ``PARALLEL_MIN_WORK``
        stored values × outputs on); false in a forked child of a GNU OpenMP
        process.  None: never, decided when the caller is compiled, so that
        no parallel driver is compiled for it.
    grad : 1-D float64 array like ``coef``, or empty
        Receives ∇F; an empty array skips the gradient (F only, less work).

    Returns
    -------
    float
        F(coef).
    """
    use_pool = parallel  # None stays None: objective then compiles the serial driver alone
    if parallel is not None:
        use_pool = parallel and stored_values(X) * n_outputs >= PARALLEL_MIN_WORK
    return objective(X, y, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, use_pool, grad)


@kernel
def objective(X, y, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, use_pool, grad):
    """:func:`loss_grad` on the thread pool (``use_pool``) or in the calling thread (false or None;
    None compiles no parallel driver)."""
    _checked_outputs(n_outputs)
    n = y.shape[0]
    p = coef.shape[0]
    d1 = p // n_outputs
    with_grad = grad.shape[0] > 0
    # The CSR softmax kernel reads and writes feature-major (d + 1, k) arrays.
    feature_major = is_csr(X) and n_outputs > 1
    work_coef = np.empty(p)
    for c in range(n_outputs):
        for j in range(d1):
            work_coef[j * n_outputs + c if feature_major else c * d1 + j] = coef[c * d1 + j]
    nb = n_blocks(n)
    chunk_blocks = _blocks_per_chunk(X, n, p)
    block_loss = np.zeros(nb)
    chunk_grad = np.zeros(((nb + chunk_blocks - 1) // chunk_blocks, p if with_grad else 0))
    # `is None` of an argument is pruned when this is compiled: a None caller never types the parallel call.
    if use_pool is not None and use_pool:
        _chunks_parallel(X, y, sample_weight, work_coef, n_outputs, chunk_blocks, block_loss, chunk_grad)
    else:
        _chunks_serial(X, y, sample_weight, work_coef, n_outputs, chunk_blocks, block_loss, chunk_grad)
    data_grad = compensated_sum_columns(chunk_grad)
    penalty = 0.0
    for c in range(n_outputs):
        for j in range(d1):
            w = coef[c * d1 + j]
            data = loss_scale * data_grad[j * n_outputs + c if feature_major else c * d1 + j] if with_grad else 0.0
            if j < d1 - 1:
                penalty += w * w
                if with_grad:
                    grad[c * d1 + j] = data + l2 * w
            elif with_grad:
                grad[c * d1 + j] = data if fit_intercept else 0.0
    return loss_scale * compensated_sum(block_loss) + 0.5 * l2 * penalty


# --------------------------------------------------------------------------
# Public kernels (re-exported by fastxent.kernels): F = C Σ s_i ℓ_i + ½‖w‖².


@kernel
def penalty_only(coef, grad):
    """``½‖w‖²`` of one model's ``d + 1`` coefficients (intercept last, not
    penalized), and its gradient into ``grad`` unless ``grad`` is empty."""
    d = coef.shape[0] - 1
    penalty = 0.0
    for j in range(d):
        penalty += coef[j] * coef[j]
    if grad.shape[0] > 0:
        for j in range(d):
            grad[j] = coef[j]
        grad[d] = 0.0
    return 0.5 * penalty


@kernel
def _multinomial(X, y, sample_weight, coef, C, fit_intercept, use_pool, grad):
    """The multinomial objective for ``(k, d + 1)`` coefficients (``grad`` alike, or empty)."""
    flat_grad = grad.reshape(grad.size)
    if coef.shape[0] == 1:
        # One class: the softmax gives it probability 1 whatever the logits,
        # every loss is 0 and the penalty remains.  (The objective refuses a
        # run-time n_outputs of 1: its 1 is the binary model's constant.)
        return penalty_only(coef.reshape(coef.size), flat_grad)
    return objective(
        X, y, sample_weight, coef.reshape(coef.size), coef.shape[0], C, 1.0, fit_intercept, use_pool, flat_grad
    )


@stable_api
@kernel
def binary_logistic_loss_grad_serial(X, y, sample_weight, coef, C, fit_intercept, grad):
    """L2-penalized binary logistic loss and its gradient, in one pass over ``X``, in the calling thread.

    ``binary_logistic_loss_grad_serial(X, y, sample_weight, coef, C, fit_intercept, grad) -> value``

    .. math:: F(w, b) = C \\sum_i s_i \\left[\\log(1 + e^{z_i}) - y_i z_i\\right]
              + \\tfrac12 \\lVert w \\rVert^2, \\qquad z_i = x_i \\cdot w + b

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, any layout
    y : float64 ndarray of shape (n,)
        Targets in {0, 1}.
    sample_weight : float64 ndarray of shape (n,), or length 0 for unit weights
        Non-negative weights ``s_i``.
    coef : float64 ndarray of shape (d + 1,)
        ``[w, b]``.
    C : float
        Inverse regularization strength.
    fit_intercept : bool
        If false, ``grad[d]`` is set to 0 (``b`` should then be 0).
    grad : float64 ndarray of shape (d + 1,), or length 0 for none
        Overwritten with ∇F; length 0 computes F only (less work).

    Returns
    -------
    value : float64
        F(w, b), bit-identical for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 1.0])
    >>> grad = np.empty(3)
    >>> kernels.binary_logistic_loss_grad_serial(X, y, sample_weight, np.zeros(3), 1.0, True, grad)
    2.079441...
    >>> grad
    array([-1.5,  0. , -0.5])
    """
    return objective(X, y, sample_weight, coef, 1, C, 1.0, fit_intercept, None, grad)


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def binary_logistic_loss_grad_parallel(X, y, sample_weight, coef, C, fit_intercept, grad):
    """L2-penalized binary logistic loss and its gradient, in one pass over ``X``, on Numba's thread pool.

    ``binary_logistic_loss_grad_parallel(X, y, sample_weight, coef, C, fit_intercept, grad) -> value``

    The arguments and, bit for bit, the result of :func:`binary_logistic_loss_grad_serial`.

    Parameters
    ----------
    X, y, sample_weight, coef, C, fit_intercept, grad
        As in :func:`binary_logistic_loss_grad_serial`.

    Returns
    -------
    value : float64
        F(w, b).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 1.0])
    >>> grad = np.empty(3)
    >>> kernels.binary_logistic_loss_grad_parallel(X, y, sample_weight, np.zeros(3), 1.0, True, grad)
    2.079441...
    >>> grad
    array([-1.5,  0. , -0.5])
    """
    return objective(X, y, sample_weight, coef, 1, C, 1.0, fit_intercept, True, grad)


@stable_api
@kernel
def multinomial_logistic_loss_grad_serial(X, y, sample_weight, coef, C, fit_intercept, grad):
    """L2-penalized multinomial (softmax) logistic loss and gradient, one pass, in the calling thread.

    ``multinomial_logistic_loss_grad_serial(X, y, sample_weight, coef, C, fit_intercept, grad) -> value``

    .. math:: F(W, b) = C \\sum_i s_i \\left[\\log \\sum_c e^{z_{ic}} - z_{i y_i}\\right]
              + \\tfrac12 \\lVert W \\rVert_F^2, \\qquad z_{ic} = x_i \\cdot W_c + b_c

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, any layout
    y : float64 (or integer) ndarray of shape (n,)
        Class indices in ``0 .. k-1``.
    sample_weight : float64 ndarray of shape (n,), or length 0 for unit weights
        Non-negative weights ``s_i``.
    coef : C-contiguous float64 ndarray of shape (k, d + 1)
        ``[W | b]``.
    C : float
        Inverse regularization strength.
    fit_intercept : bool
        If false, the last column of ``grad`` is set to 0.
    grad : C-contiguous float64 ndarray of shape (k, d + 1), or of length 0 for none
        Overwritten with ∇F; length 0 (e.g. shape ``(0, d + 1)``) computes F only.

    Returns
    -------
    value : float64
        F(W, b), bit-identical for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 2.0])
    >>> grad = np.empty((3, 3))
    >>> kernels.multinomial_logistic_loss_grad_serial(X, y, sample_weight, np.zeros((3, 3)), 1.0, True, grad)
    3.295836...
    >>> grad.round(6)
    array([[ 1.      , -0.333333, -0.      ],
           [-0.      ,  0.666667, -0.      ],
           [-1.      , -0.333333, -0.      ]])
    """
    return _multinomial(X, y, sample_weight, coef, C, fit_intercept, None, grad)


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def multinomial_logistic_loss_grad_parallel(X, y, sample_weight, coef, C, fit_intercept, grad):
    """L2-penalized multinomial (softmax) logistic loss and gradient, one pass, on Numba's thread pool.

    ``multinomial_logistic_loss_grad_parallel(X, y, sample_weight, coef, C, fit_intercept, grad) -> value``

    The arguments and, bit for bit, the result of :func:`multinomial_logistic_loss_grad_serial`.

    Parameters
    ----------
    X, y, sample_weight, coef, C, fit_intercept, grad
        As in :func:`multinomial_logistic_loss_grad_serial`.

    Returns
    -------
    value : float64
        F(W, b).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 2.0])
    >>> grad = np.empty((3, 3))
    >>> kernels.multinomial_logistic_loss_grad_parallel(X, y, sample_weight, np.zeros((3, 3)), 1.0, True, grad)
    3.295836...
    >>> grad.round(6)
    array([[ 1.      , -0.333333, -0.      ],
           [-0.      ,  0.666667, -0.      ],
           [-1.      , -0.333333, -0.      ]])
    """
    return _multinomial(X, y, sample_weight, coef, C, fit_intercept, True, grad)


@stable_api
@kernel
def binary_logistic_loss_grad_csr_serial(data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad):
    """:func:`binary_logistic_loss_grad_serial` for a CSR ``X`` given by its three
    arrays (``d`` is ``coef.shape[0] - 1``).

    ``binary_logistic_loss_grad_csr_serial(data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad)
    -> value``

    Parameters
    ----------
    data : float32 or float64 ndarray of shape (nnz,)
    indices : int32 or int64 ndarray of shape (nnz,)
        Column index of each stored value.
    indptr : int32 or int64 ndarray of shape (n + 1,)
        Row ``i`` is ``data[indptr[i]:indptr[i + 1]]``.
    y, sample_weight, coef, C, fit_intercept, grad
        As in :func:`binary_logistic_loss_grad_serial`.

    Returns
    -------
    value : float64
        F at ``coef``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> import scipy.sparse
    >>> X = scipy.sparse.csr_matrix([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 1.0])
    >>> grad = np.empty(3)
    >>> kernels.binary_logistic_loss_grad_csr_serial(X.data, X.indices, X.indptr, y, sample_weight,
    ...     np.zeros(3), 1.0, True, grad)
    2.079441...
    >>> grad
    array([-1.5,  0. , -0.5])
    """
    return objective((data, indices, indptr), y, sample_weight, coef, 1, C, 1.0, fit_intercept, None, grad)


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def binary_logistic_loss_grad_csr_parallel(data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad):
    """:func:`binary_logistic_loss_grad_csr_serial` on Numba's thread pool (bit-identical result).

    ``binary_logistic_loss_grad_csr_parallel(data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad)
    -> value``

    Parameters
    ----------
    data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad
        As in :func:`binary_logistic_loss_grad_csr_serial`.

    Returns
    -------
    value : float64
        F at ``coef``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> import scipy.sparse
    >>> X = scipy.sparse.csr_matrix([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 1.0])
    >>> grad = np.empty(3)
    >>> kernels.binary_logistic_loss_grad_csr_parallel(X.data, X.indices, X.indptr, y, sample_weight,
    ...     np.zeros(3), 1.0, True, grad)
    2.079441...
    >>> grad
    array([-1.5,  0. , -0.5])
    """
    return objective((data, indices, indptr), y, sample_weight, coef, 1, C, 1.0, fit_intercept, True, grad)


@stable_api
@kernel
def multinomial_logistic_loss_grad_csr_serial(data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad):
    """:func:`multinomial_logistic_loss_grad_serial` for a CSR ``X`` given by its
    three arrays (``d`` is ``coef.shape[1] - 1``).

    ``multinomial_logistic_loss_grad_csr_serial(data, indices, indptr, y, sample_weight, coef, C, fit_intercept,
    grad) -> value``

    Parameters
    ----------
    data : float32 or float64 ndarray of shape (nnz,)
    indices : int32 or int64 ndarray of shape (nnz,)
        Column index of each stored value.
    indptr : int32 or int64 ndarray of shape (n + 1,)
        Row ``i`` is ``data[indptr[i]:indptr[i + 1]]``.
    y, sample_weight, coef, C, fit_intercept, grad
        As in :func:`multinomial_logistic_loss_grad_serial`.

    Returns
    -------
    value : float64
        F at ``coef``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> import scipy.sparse
    >>> X = scipy.sparse.csr_matrix([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 2.0])
    >>> grad = np.empty((3, 3))
    >>> kernels.multinomial_logistic_loss_grad_csr_serial(X.data, X.indices, X.indptr, y, sample_weight,
    ...     np.zeros((3, 3)), 1.0, True, grad)
    3.295836...
    >>> grad.round(6)
    array([[ 1.      , -0.333333, -0.      ],
           [-0.      ,  0.666667, -0.      ],
           [-1.      , -0.333333, -0.      ]])
    """
    return _multinomial((data, indices, indptr), y, sample_weight, coef, C, fit_intercept, None, grad)


@stable_api
@kernel  # its prange loops are in the parallel driver it calls
def multinomial_logistic_loss_grad_csr_parallel(data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad):
    """:func:`multinomial_logistic_loss_grad_csr_serial` on Numba's thread pool (bit-identical result).

    ``multinomial_logistic_loss_grad_csr_parallel(data, indices, indptr, y, sample_weight, coef, C, fit_intercept,
    grad) -> value``

    Parameters
    ----------
    data, indices, indptr, y, sample_weight, coef, C, fit_intercept, grad
        As in :func:`multinomial_logistic_loss_grad_csr_serial`.

    Returns
    -------
    value : float64
        F at ``coef``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> import scipy.sparse
    >>> X = scipy.sparse.csr_matrix([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sample_weight = np.ones(3)
    >>> y = np.array([0.0, 1.0, 2.0])
    >>> grad = np.empty((3, 3))
    >>> kernels.multinomial_logistic_loss_grad_csr_parallel(X.data, X.indices, X.indptr, y, sample_weight,
    ...     np.zeros((3, 3)), 1.0, True, grad)
    3.295836...
    >>> grad.round(6)
    array([[ 1.      , -0.333333, -0.      ],
           [-0.      ,  0.666667, -0.      ],
           [-1.      , -0.333333, -0.      ]])
    """
    return _multinomial((data, indices, indptr), y, sample_weight, coef, C, fit_intercept, True, grad)


# The solvers (serial loops over the parallel objective) crash when loaded
# from Numba's cache into a process whose thread pool never started.
start_thread_pool()
