"""Solver "newton-cholesky": Newton's method on the exact Hessian, factored by Cholesky.

Minimises the scaled objective ``f = a Σ s_i ℓ_i + λ/2 ‖w‖²`` of
:mod:`fastxent._kernels.logistic` (``a = 1/Σ s_i``, ``λ = 1/(C Σ s_i)``,
scikit-learn's scaling, so ``tol`` has scikit-learn's meaning).  Each
iteration forms the Hessian at the current point,

.. math::

    H = a \\, \\tilde X^T D \\tilde X + \\lambda I_{\\text{pen}}, \\qquad
    D = \\operatorname{diag}\\big(|s_i| \\, p_i (1 - p_i)\\big), \\quad
    p_i = \\sigma(\\tilde x_i \\cdot w)

for the binary model, and for the k-class softmax model the full
``k (d+1)`` square matrix whose block ``(c, c')`` is
``a X̃ᵀ diag(|s_i| p_ic (δ_cc' - p_ic')) X̃`` (plus ``λ`` on the penalized
diagonal), factors it (:func:`fastxent._solvers.preconditioner.cholesky_in_place`,
pivots floored so that collinear columns without penalty, and the
softmax's flat direction of equal intercept shifts, stay solvable) and steps
along ``-H⁻¹ ∇f``.

* The Gram products ``X̃ᵀ D X̃`` come from :mod:`fastxent._solvers.gram`
  (tiled, each entry accumulated by one thread in a fixed order: the result
  does not depend on the thread count).  ``|s_i|`` in place of ``s_i`` keeps
  ``H`` positive semi-definite under negative sample weights; it is then a
  metric close to the curvature and the line search keeps the fit descending.
* **Sampled Hessians** for a fit from zero on many rows: the data term is
  summed over every K-th tile of rows (``K = n // max(SAMPLE_MIN_ROWS,
  SAMPLE_ROWS_PER_COEF p)``, ``p`` coefficients) and scaled by the ratio of
  the rows' total weight to the sample's.  Far from the solution the
  Hessian changes from step to step by more than the sample misses, so the
  steps converge as fast as exact ones, at ``1/K`` of the Gram cost
  (make_classification 1e5 × 100 binary, tol 1e-8: 9 iterations either
  way, the Hessians of a third of the rows; 2e6 × 20:
  7 iterations instead of 8, the Hessians of one 61st of the rows).  Near
  the solution the sample's error limits the convergence to a linear rate
  of about 0.1 per step, the rate the reuse of an earlier factor gives
  too.  Once a fresh sampled Hessian's full step fails to halve
  ``max |∇f|`` (or its line search fails), every row is summed from then on.
  The gradient and the stopping test always take every row: the sample
  changes the path to the solution, not the solution.
* **Line search**: Armijo backtracking from the full Newton step (accepted
  from the second or third iteration on: quadratic convergence).  Once ``f``
  is flat to rounding, a trial that lowers ``max |∇f|`` is accepted instead.
* Stops when ``max_i |∇f_i| <= tol``, the criterion of the other solvers, so
  every solver stops at the same objective to within ``tol``.  A failed line
  search or a non-finite point ends the fit with ``converged`` false at the
  last accepted point (never worse than the start).

One iteration costs one pass for the probabilities (none for the binary
model: its row weights are computed as the Gram pass reads each row),
``k (k+1) / 2`` Gram passes of ``(d+1)²/2`` multiply-adds per row, a ``(k (d+1))³/3``
factorization and one loss-and-gradient pass per line-search trial: the
solver for ``n >> k d`` (rows far more numerous than coefficients).  A CSR
``X`` is expanded row by row into the dense Gram tiles, so it suits sparse
data with few columns only.
"""

import numba
import numpy as np

from .._infra.arrays import copy_into
from .._infra.jit import inline_scalar, inlined_kernel, kernel, kernel_by_type, parallel_kernel
from .._infra.summation import block_bounds, n_blocks
from .._kernels.logistic import PARALLEL_MIN_WORK, is_binary_literal, loss_grad, stored_values
from .._math.binary import sigmoid
from .common import dot, finite_point, first_evaluation, max_abs, record
from .gram import logistic_gram, sampled_weight, weighted_gram
from .preconditioner import cholesky_in_place, solve_factored

__all__ = ["newton_solve", "hessian", "row_probabilities"]

ARMIJO = 1e-4
MAX_LINE_SEARCH = 50
ROUNDING = 1e-13
# An earlier Hessian's factor is used again after a full step that divided
# max |∇f| by at least 1 / REUSE, and by less where a Hessian costs many
# passes (see _reuse_limit), never by less than 1 / MAX_REUSE.
REUSE = 0.1
MAX_REUSE = 0.5
# One stored value of a loss-and-gradient pass costs about as much time as
# GRAM_PER_VALUE multiply-adds of a Gram product or a factorization (a pass
# streams X and waits on memory, a Gram tile is reused from cache: 1e5 x 100,
# one pass 1.7 ms in float32 and 2.6 ms in float64, a Hessian over a third of
# the rows 3.9 ms and 5.8 ms).
GRAM_PER_VALUE = 7.3
# The Hessian is summed over every K-th tile of rows (gram._ROWS rows each),
# K = n // max(SAMPLE_MIN_ROWS, SAMPLE_ROWS_PER_COEF * p) (at least 1), while
# a fresh sampled Hessian's full step divides max |∇f| by 1 / SAMPLED_PROGRESS
# or more; then by every row.
SAMPLE_MIN_ROWS = 1 << 15
SAMPLE_ROWS_PER_COEF = 256
SAMPLED_PROGRESS = 0.5


@inline_scalar
def _row_logit(X, w, i):
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


@kernel
def _row_logits(X, coef, n_outputs, i, z):
    """z[c] = x_i · w_c + b_c for row ``i`` of a dense ``X`` or a CSR tuple."""
    n_coef = coef.shape[0] // n_outputs
    for c in range(n_outputs):
        z[c] = _row_logit(X, coef[c * n_coef : (c + 1) * n_coef], i)


@kernel
def _block_probabilities(X, coef, n_outputs, start, stop, P):
    """P[i] = σ(z_i) (binary) or softmax(z_i) for the rows of one block."""
    z = np.empty(n_outputs)
    for i in range(start, stop):
        _row_logits(X, coef, n_outputs, i, z)
        if n_outputs == 1:
            P[i, 0] = sigmoid(z[0])
        else:
            m = z[0]
            for c in range(1, n_outputs):
                m = max(m, z[c])
            total = 0.0
            for c in range(n_outputs):
                e = np.exp(z[c] - m)
                P[i, c] = e
                total += e
            for c in range(n_outputs):
                P[i, c] /= total


@parallel_kernel
def _probabilities_parallel(X, coef, n_outputs, P):
    n = P.shape[0]
    for blk in numba.prange(n_blocks(n)):
        start, stop = block_bounds(blk, n)
        _block_probabilities(X, coef, n_outputs, start, stop, P)


@kernel
def _probabilities_serial(X, coef, n_outputs, P):
    n = P.shape[0]
    for blk in range(n_blocks(n)):
        start, stop = block_bounds(blk, n)
        _block_probabilities(X, coef, n_outputs, start, stop, P)


@kernel
def row_probabilities(X, n_rows, coef, n_outputs, parallel):
    """``(n, k)`` model probabilities: σ(z_i) in column 0 for the binary model,
    softmax(z_i) otherwise (each row computed alone: any thread count gives
    the same values)."""
    P = np.empty((n_rows, n_outputs))
    # parallel=None prunes the parallel call when this is compiled (as in loss_grad)
    if parallel is not None and parallel and stored_values(X) * n_outputs >= PARALLEL_MIN_WORK:
        _probabilities_parallel(X, coef, n_outputs, P)
    else:
        _probabilities_serial(X, coef, n_outputs, P)
    return P


@kernel
def _binary_data_hessian(X, sample_weight, coef, n_outputs, loss_scale, parallel, tile_step):
    """``a X̃ᵀ diag(|s_i| σ'(z_i)) X̃``: the row weights come from the Gram pass
    itself, with no pass for the probabilities."""
    H = logistic_gram(X, sample_weight, coef, parallel, tile_step)
    for j in range(H.shape[0]):
        for k in range(H.shape[1]):
            H[j, k] *= loss_scale
    return H


@kernel
def _multinomial_data_hessian(X, sample_weight, coef, n_outputs, loss_scale, parallel, tile_step):
    """The k-class data term, block by block (module docstring)."""
    n = sample_weight.shape[0]
    p = coef.shape[0]
    n_coef = p // n_outputs
    H = np.zeros((p, p))
    P = row_probabilities(X, n, coef, n_outputs, parallel)
    row_weight = np.empty(n)
    for c in range(n_outputs):
        for c2 in range(c, n_outputs):
            # |s_i| p_ic (δ - p_ic'): for c = c' the weight p(1-p) >= 0, else -p_c p_c' (sign applied below)
            for i in range(n):
                pc = P[i, c]
                other = 1.0 - pc if c2 == c else P[i, c2]
                row_weight[i] = abs(sample_weight[i]) * pc * other
            G = weighted_gram(X, row_weight, n_coef, parallel, tile_step)
            sign = loss_scale if c2 == c else -loss_scale
            for j in range(n_coef):
                for k in range(n_coef):
                    value = sign * G[j, k]
                    H[c * n_coef + j, c2 * n_coef + k] = value
                    H[c2 * n_coef + k, c * n_coef + j] = value
    return H


@kernel_by_type(prefer_literal=True)
def _data_hessian(X, sample_weight, coef, n_outputs, loss_scale, parallel, tile_step):
    """The data term of the Hessian: the binary model's for the literal
    ``n_outputs`` 1 (the binary entry points), the softmax model's for a
    run-time number of classes; only the one chosen is compiled."""
    return _binary_data_hessian if is_binary_literal(n_outputs) else _multinomial_data_hessian


@inlined_kernel
def hessian(X, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, parallel, tile_step):
    """The Hessian of the scaled objective at ``coef`` (module docstring): a
    ``(p, p)`` float64 array, ``p = k (d + 1)``, its data term summed over the
    rows of every ``tile_step``-th tile of X (1: every row; the caller scales
    ``loss_scale`` for the rows left out).  Without an intercept, its rows and
    columns are those of the identity (that gradient entry is 0)."""
    n_coef = coef.shape[0] // n_outputs
    H = _data_hessian(X, sample_weight, coef, n_outputs, loss_scale, parallel, tile_step)
    for c in range(n_outputs):
        for j in range(n_coef - 1):
            H[c * n_coef + j, c * n_coef + j] += l2
        if not fit_intercept:
            last = c * n_coef + n_coef - 1
            H[last, :] = 0.0
            H[:, last] = 0.0
            H[last, last] = 1.0
    return H


@inlined_kernel
def _factor(X, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, parallel, tile_step):
    """``(L, usable)``: the Cholesky factor of the Hessian at ``coef``, and
    whether it is finite."""
    L = hessian(X, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, parallel, tile_step)
    cholesky_in_place(L)
    for j in range(L.shape[0]):
        if not np.isfinite(L[j, j]):
            return L, False
    return L, True


@kernel
def _sampling(sample_weight, coef, loss_scale):
    """``(tile_step, hessian_scale)``: the tiles of rows the Hessian is summed
    over (every ``tile_step``-th), and ``a`` scaled by ``Σ|s_i|`` over all rows
    / over the sampled ones.

    Only a fit from zero samples: it starts far from the solution, where the
    Hessian changes from step to step by more than a sample of
    ``SAMPLE_ROWS_PER_COEF`` rows per coefficient misses, while a warm start
    (any non-zero coefficient) is usually close enough for the exact
    Hessian's quadratic convergence to pay at once.  ``(1, a)`` also when
    there are too few rows to sample, or the sampled rows hold no weight.
    """
    tile_step = max(1, sample_weight.shape[0] // max(SAMPLE_MIN_ROWS, SAMPLE_ROWS_PER_COEF * coef.shape[0]))
    if tile_step == 1 or max_abs(coef) != 0.0:
        return 1, loss_scale
    scale = loss_scale * (sampled_weight(sample_weight, 1) / sampled_weight(sample_weight, tile_step))
    if not (0.0 < scale < np.inf):
        return 1, loss_scale
    return tile_step, scale


@kernel
def _reuse_limit(fresh_ratio, n_rows, stored, n_outputs, p, tile_step):
    """The largest ratio ``max|∇f_new| / max|∇f|`` of a full step after which
    the factor of an earlier Hessian is used again.

    A step with a fresh Hessian divided ``max |∇f|`` by ``1 / fresh_ratio``
    at the cost of a Hessian ``H`` and a pass ``P``; a step with the old
    factor divides it by ``1 / r`` for ``P`` alone (the rate of the last such
    step, expected to hold).  Per decade of ``max |∇f|`` the old factor is
    cheaper while ``log r ≤ log(fresh_ratio) P / (H + P)``, with ``H`` and
    ``P`` counted as Gram multiply-adds (``k (k+1)/2`` Gram products of the
    sampled rows, the factorization) and stored values × ``GRAM_PER_VALUE``.
    Kept in ``[REUSE, MAX_REUSE]``.
    """
    n_coef = p // n_outputs
    sampled_rows = (n_rows + tile_step - 1) // tile_step
    hessian_cost = 0.5 * n_outputs * (n_outputs + 1) * 0.5 * sampled_rows * n_coef * n_coef + p * p * p / 3.0
    pass_cost = GRAM_PER_VALUE * max(stored * n_outputs, n_rows)
    limit = fresh_ratio ** (pass_cost / (hessian_cost + pass_cost)) if fresh_ratio > 0.0 else 0.0
    return max(REUSE, min(MAX_REUSE, limit))


@kernel
def _direction(L, usable, g, g_max, direction):
    """direction = -H⁻¹ g from the factor ``L``, or a steepest-descent step
    ``-g / max(1, max|g|)`` when ``L`` is unusable or gives no descent; returns
    the slope ``g · direction``."""
    if usable:
        solve_factored(L, g, 1, direction, np.ones(L.shape[0]))
        for j in range(direction.shape[0]):
            direction[j] = -direction[j]
        slope = dot(g, direction)
        if slope < 0.0 and finite_point(slope, direction):
            return slope
    for j in range(direction.shape[0]):
        direction[j] = -g[j] / max(1.0, g_max)
    return dot(g, direction)


@inlined_kernel  # one level with its entry point (fit.py)
def newton_solve(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    """Minimise the penalized logistic loss by Newton's method, updating ``coef`` in place.

    The factor of an earlier Hessian is used again after a fresh Hessian's
    full step reduced ``max |∇f|`` by ``1 / REUSE`` or more, and then for as
    long as its own steps pay for themselves (:func:`_reuse_limit`): once the
    fit is that close, the old factor keeps the convergence fast and each
    reuse saves the ``k (k+1) / 2`` Gram passes that dominate an iteration
    (make_classification 1e5 × 100 binary, float32 or float64: 4 Hessians
    instead of 5 in the same 9 iterations, the fit 5-10 % faster).

    Parameters are those of :func:`fastxent._solvers.lbfgs.lbfgs_solve`.

    Returns
    -------
    n_iter : int
    converged : bool
        Whether ``max |∇f| <= tol`` was met.
    objective_history : float64 ndarray of shape (n_iter + 1,)
        The scaled objective ``F / (C Σ s_i)`` at the start and after each iteration.
    """
    loss_scale, l2, f, g, history, usable = first_evaluation(
        X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, coef, parallel
    )
    if not usable:
        return 0, False, history[:1]
    p = coef.shape[0]
    tile_step, hessian_scale = _sampling(sample_weight, coef, loss_scale)
    direction = np.empty(p)
    x_new = np.empty(p)
    g_new = np.empty(p)
    L = np.empty((0, 0))
    usable = False
    fresh = False  # whether L is the Hessian at coef
    fresh_ratio = REUSE  # max|∇f| ratio of the last full step with a fresh Hessian
    stored = stored_values(X)
    it = 0
    while it < max_iter:
        g_max = max_abs(g)
        if g_max <= tol:
            return it, True, history[: it + 1]
        if not fresh and L.shape[0] == 0:
            L, usable = _factor(
                X, sample_weight, coef, n_outputs, hessian_scale, l2, fit_intercept, parallel, tile_step
            )
            fresh = True
        slope = _direction(L, usable, g, g_max, direction)
        t = 1.0
        accepted = False
        for _ in range(MAX_LINE_SEARCH):
            for j in range(p):
                x_new[j] = coef[j] + t * direction[j]
            f_new = loss_grad(X, y, sample_weight, x_new, n_outputs, loss_scale, l2, fit_intercept, parallel, g_new)
            if finite_point(f_new, g_new):
                if f_new <= f + ARMIJO * t * slope:
                    accepted = True
                    break
                if abs(f_new - f) <= ROUNDING * abs(f) and max_abs(g_new) < g_max:
                    accepted = True  # f is flat to rounding: progress is measured by the gradient
                    break
            t *= 0.5
        if not accepted:
            if not fresh:  # an earlier Hessian's direction: retry with the current one
                L = np.empty((0, 0))
                continue
            if tile_step > 1:  # the sampled rows misled the step: every row from now on
                tile_step, hessian_scale = 1, loss_scale
                L = np.empty((0, 0))
                fresh = False
                continue
            return it, False, history[: it + 1]
        copy_into(coef, x_new)
        copy_into(g, g_new)
        f = f_new
        it += 1
        history = record(history, it, f)
        ratio = max_abs(g) / g_max
        if fresh and t == 1.0:
            fresh_ratio = ratio
        if fresh and tile_step > 1 and not (t == 1.0 and ratio <= SAMPLED_PROGRESS):
            tile_step, hessian_scale = 1, loss_scale
            L = np.empty((0, 0))
        # A fresh Hessian's step says little of how an old factor will do far
        # from the solution: reuse starts after a step of ratio REUSE or less,
        # and goes on while the steps with the old factor pay for themselves.
        limit = REUSE if fresh else _reuse_limit(fresh_ratio, sample_weight.shape[0], stored, n_outputs, p, tile_step)
        fresh = False
        if not (t == 1.0 and ratio <= limit):
            L = np.empty((0, 0))  # slow progress: form the Hessian at the new point
    return it, max_abs(g) <= tol, history[: it + 1]
