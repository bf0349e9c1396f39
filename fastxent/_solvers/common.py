"""Pieces shared by the solvers: vector arithmetic, the scaling of the
objective, the objective-history buffer and the starting point."""

import numpy as np

from .._infra.jit import inlined_kernel, kernel
from .._kernels.logistic import loss_grad

__all__ = [
    "max_abs",
    "dot",
    "norm2",
    "MAX_L2",
    "solver_scaling",
    "usable_scaling",
    "finite_point",
    "new_history",
    "record",
    "start_coef",
    "first_evaluation",
]


@kernel
def max_abs(v):
    """max_i |v_i| (0 for an empty vector); NaN if any entry is NaN, so that
    ``max_abs(g) <= tol`` never passes for a NaN gradient (Python's ``max``
    would drop the NaN)."""
    m = 0.0
    for i in range(v.shape[0]):
        a = abs(v[i])
        if a > m or np.isnan(a):
            m = a
    return m


@kernel
def dot(a, b):
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i] * b[i]
    return acc


@kernel
def norm2(v):
    """Euclidean norm of ``v``, scaled by its largest entry so that it stays
    finite wherever it is representable (``sqrt(dot(v, v))`` overflows from
    entries of about 1e154)."""
    m = max_abs(v)
    if not 0.0 < m < np.inf:
        return m
    acc = 0.0
    for i in range(v.shape[0]):
        r = v[i] / m
        acc += r * r
    return m * np.sqrt(acc)


# The penalty weight λ = 1 / (C Σ s_i) is capped here: an infinite λ (C Σ s_i
# rounding to 0) would turn the penalty's gradient λ w at w = 0 into NaN,
# while any λ this large already pins w to within 1e-300 of 0.
MAX_L2 = 1e300


@kernel
def solver_scaling(sample_weight, C):
    """``(a, λ) = (1 / Σ s_i, 1 / (C Σ s_i))``: the solvers minimise
    ``F / (C Σ s_i)``, scikit-learn's scaling of ``F = C Σ s ℓ + ½‖w‖²``
    (``λ`` capped at ``MAX_L2``).  ``a`` is 0 or infinite when ``Σ s_i``
    overflows or is below about 1e-308: :func:`usable_scaling` tells."""
    sw_sum = 0.0
    for i in range(sample_weight.shape[0]):
        sw_sum += sample_weight[i]
    return 1.0 / sw_sum, min(1.0 / (C * sw_sum), MAX_L2)


@kernel
def usable_scaling(loss_scale, l2):
    """Whether :func:`solver_scaling` gave a finite, positive ``a`` and a
    finite ``λ`` (else the objective is 0·∞ or ∞ and no fit is possible)."""
    return 0.0 < loss_scale < np.inf and 0.0 <= l2 < np.inf


@kernel
def finite_point(f, g):
    """Whether an objective value and its gradient are all finite."""
    return np.isfinite(f) and np.isfinite(max_abs(g))


# The objective history starts this long and doubles when full: nothing is
# reserved in proportion to max_iter (which may be 2**63 - 1).
_HISTORY_START = 64


@kernel
def new_history(max_iter):
    """An empty history buffer for a fit of at most ``max_iter`` iterations."""
    return np.empty(min(max(max_iter, 0), _HISTORY_START - 1) + 1)


@kernel
def record(history, n, value):
    """Store ``value`` as entry ``n`` of the history, doubling the buffer when
    it is full; returns the (possibly new) buffer."""
    if n >= history.shape[0]:
        grown = np.empty(2 * history.shape[0])
        for i in range(n):  # a loop: slice assignment compiles NumPy's broadcasting checks
            grown[i] = history[i]
        history = grown
    history[n] = value
    return history


@kernel
def start_coef(coef0, n_outputs, fit_intercept):
    """A float64 flat copy of the initial coefficients (intercepts zeroed
    when they are not fitted)."""
    coef = np.empty(coef0.size)
    i = 0
    for value in coef0.flat:
        coef[i] = value
        i += 1
    if not fit_intercept:
        d1 = coef0.size // n_outputs
        for c in range(n_outputs):
            coef[c * d1 + d1 - 1] = 0.0
    return coef


@inlined_kernel  # a level compiled on its own would re-optimize everything below it
def first_evaluation(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, coef, parallel):
    """The start of a fit: ``(a, λ, f, g, history, usable)`` with the scaling of
    :func:`solver_scaling`, the objective and gradient at ``coef``, the history
    holding ``f``, and whether the scaling and the start are finite (a fit
    that is not ``usable`` returns ``0, False, history[:1]``)."""
    loss_scale, l2 = solver_scaling(sample_weight, C)
    history = new_history(max_iter)
    g = np.empty(coef.shape[0])
    f = loss_grad(X, y, sample_weight, coef, n_outputs, loss_scale, l2, fit_intercept, parallel, g)
    history[0] = f
    return loss_scale, l2, f, g, history, usable_scaling(loss_scale, l2) and finite_point(f, g)
