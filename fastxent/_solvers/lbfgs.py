"""Solver "lbfgs": limited-memory BFGS, entirely in compiled code.

Minimises the scaled objective ``f = F / (C Σ s_i)`` of
:mod:`fastxent._kernels.logistic` (scikit-learn's scaling, so ``tol`` has
scikit-learn's meaning) with

* the two-loop recursion over the last ``m`` pairs
  ``(s_k, y_k) = (x_{k+1} - x_k, ∇f_{k+1} - ∇f_k)``, initial inverse Hessian
  ``γ I`` with ``γ = s·y / y·y``.  ``m`` (:func:`lbfgs_memory`) is 40 while
  the pairs take at most ``PAIR_BYTES`` (64 MiB, up to about 100,000
  coefficients), else scikit-learn/SciPy's 10.  The longer memory saves
  passes over ``X`` (tol 1e-8, C = 1: make_classification 20k × 2,000
  binary 153 iterations with 10 pairs, 83 with 40; CSR 500k × 100k, 50
  values per row, binary 137 with 10, 96 with 40) and costs little beside
  a pass, while with millions of coefficients it saves none (the same CSR
  rows, 20 classes: 436 iterations with 10, 450 with 40) and costs ``16 m``
  bytes per coefficient;
* a backtracking Armijo line search from the unit step with safeguarded
  quadratic interpolation (the objective is convex, so ``s·y >= 0`` holds
  without a curvature condition; pairs with ``s·y`` ~ 0 are skipped);
* SciPy's stopping rules: ``max_i |∇f_i| <= tol`` or a relative decrease of
  ``f`` below ``64 ε`` (L-BFGS-B's ``ftol`` as scikit-learn sets it).
* Overflow never ends a fit silently: a trial point whose objective or
  gradient is not finite is rejected like one that fails the Armijo test, a
  non-finite start, a lost descent direction or a failed line search stop
  the fit with ``converged`` false at the last accepted (finite, never worse
  than the start) point.  Features on scales near 1e154 and beyond end that
  way after zero iterations, as in scikit-learn/SciPy (the unit-length first
  step is 1e154 times too long and the line search gives up).

Each iteration costs one evaluation of the fused loss-and-gradient kernel
(more only when the unit step is rejected).
"""

import numpy as np

from .._infra.jit import inlined_kernel, kernel
from .._kernels.logistic import loss_grad
from .common import dot, finite_point, first_evaluation, max_abs, norm2, record

__all__ = ["lbfgs_solve"]

MIN_MEMORY = 10
MAX_MEMORY = 40
PAIR_BYTES = 1 << 26
ARMIJO = 1e-4
MAX_LINE_SEARCH = 50
FTOL = 64 * np.finfo(np.float64).eps


@kernel(fastmath=False)
def _add_scaled(v, a, u):
    """v += a u, rounded as NumPy's ``v + a * u`` (no fused multiply-add), as a loop:
    an array expression would compile NumPy's broadcasting machinery."""
    for i in range(v.shape[0]):
        v[i] += a * u[i]


@kernel
def _steepest_descent(g, direction):
    """direction = -g / max(1, ‖g‖): what :func:`_two_loop` gives with no pairs
    (a call of it with a constant 0 would compile a second specialization)."""
    gamma = min(1.0, 1.0 / norm2(g))
    for i in range(g.shape[0]):
        direction[i] = -g[i] * gamma


@kernel
def _two_loop(g, S, Y, rho, alpha, n_pairs, newest, direction):
    """direction = -H g, H the L-BFGS inverse Hessian approximation."""
    if n_pairs == 0:
        _steepest_descent(g, direction)
        return
    m = S.shape[0]
    for i in range(g.shape[0]):
        direction[i] = -g[i]
    for q in range(n_pairs):
        idx = (newest - q) % m
        a = rho[idx] * dot(S[idx], direction)
        alpha[idx] = a
        _add_scaled(direction, -a, Y[idx])
    y_new = Y[newest]
    gamma = 1.0 / (rho[newest] * dot(y_new, y_new))
    for i in range(direction.shape[0]):
        direction[i] *= gamma
    for q in range(n_pairs - 1, -1, -1):
        idx = (newest - q) % m
        beta = rho[idx] * dot(Y[idx], direction)
        _add_scaled(direction, alpha[idx] - beta, S[idx])


@kernel
def lbfgs_memory(n_coef):
    """Pairs kept: ``MAX_MEMORY`` while they fit in ``PAIR_BYTES``, else ``MIN_MEMORY``."""
    return MAX_MEMORY if 16 * MAX_MEMORY * n_coef <= PAIR_BYTES else MIN_MEMORY


@inlined_kernel  # one level with its entry point (fit.py)
def lbfgs_solve(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    """Minimise the penalized logistic loss with L-BFGS, updating ``coef`` in place.

    Parameters are those of :func:`fastxent._kernels.logistic.loss_grad`
    (``coef`` flat float64, its initial value the starting point), plus
    ``max_iter`` (iterations, any non-negative int64: nothing is allocated in
    proportion to it) and ``tol`` (on max |∇f| of the scaled objective).

    Returns
    -------
    n_iter : int
    converged : bool
    objective_history : float64 ndarray of shape (n_iter + 1,)
        The scaled objective ``(C Σ s_i ℓ_i + ½‖w‖²) / (C Σ s_i)`` (the value
        scikit-learn's lbfgs reports) at the start and after each iteration.
    """
    loss_scale, l2, f, g, history, usable = first_evaluation(
        X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, coef, parallel
    )
    if not usable:
        return 0, False, history[:1]
    p = coef.shape[0]
    if max_abs(g) <= tol:
        return 0, True, history[:1]
    memory = lbfgs_memory(p)
    S = np.zeros((memory, p))
    Y = np.zeros((memory, p))
    rho = np.zeros(memory)
    alpha = np.zeros(memory)
    direction = np.empty(p)
    x_new = np.empty(p)
    g_new = np.empty(p)
    # a typed zero: a literal 0 would make Numba compile _two_loop for it as well
    n_pairs = np.int64(0)
    newest = memory - 1
    for it in range(max_iter):
        _two_loop(g, S, Y, rho, alpha, n_pairs, newest, direction)
        slope = dot(g, direction)
        if not slope < 0.0:  # lost descent (rounding): restart from steepest descent
            n_pairs = 0
            _steepest_descent(g, direction)
            slope = dot(g, direction)
            if not slope < 0.0:  # the gradient itself is unusable
                return it, False, history[: it + 1]
        t = 1.0
        accepted = False
        for _ in range(MAX_LINE_SEARCH):
            for i in range(p):
                x_new[i] = coef[i] + t * direction[i]
            f_new = loss_grad(X, y, sample_weight, x_new, n_outputs, loss_scale, l2, fit_intercept, parallel, g_new)
            finite = finite_point(f_new, g_new)
            if finite and f_new <= f + ARMIJO * t * slope:
                accepted = True
                break
            if finite:
                # minimiser of the quadratic through f, slope and f_new, kept in [t/10, t/2]
                t_quad = -slope * t * t / (2.0 * (f_new - f - slope * t))
                t = max(0.1 * t, min(0.5 * t, t_quad))
            else:
                t *= 0.1
        if not accepted:
            return it, False, history[: it + 1]
        newest = (newest + 1) % memory
        s_vec = S[newest]
        y_vec = Y[newest]
        for i in range(p):
            s_vec[i] = x_new[i] - coef[i]
            y_vec[i] = g_new[i] - g[i]
            coef[i] = x_new[i]
            g[i] = g_new[i]
        sy = dot(s_vec, y_vec)
        if sy > 1e-12 * dot(y_vec, y_vec) and sy > 0.0:
            rho[newest] = 1.0 / sy
            n_pairs = min(n_pairs + 1, memory)
        else:  # no curvature information (or y·y overflowed): forget this pair
            newest = (newest - 1) % memory
        f_old = f
        f = f_new
        history = record(history, it + 1, f)
        if max_abs(g) <= tol:
            return it + 1, True, history[: it + 2]
        if f_old - f <= FTOL * max(abs(f_old), abs(f), 1.0):
            return it + 1, True, history[: it + 2]
    n_iter = max(max_iter, 0)
    return n_iter, False, history[: n_iter + 1]
