"""Whole logistic-regression fits callable from ``@njit`` code, one per model and storage.

The four ``fit_*`` kernels take the solver by name, as scikit-learn's
``LogisticRegression(solver=...)`` does: ``"lbfgs"``
(:mod:`fastxent._solvers.lbfgs`), ``"gd"`` (:mod:`fastxent._solvers.gd`) or
``"newton-cholesky"`` (:mod:`fastxent._solvers.newton`).
The name is a compile-time constant (``numba.literally``): each fit is
specialized for the one solver it names and compiles nothing of the other,
and the specialization is kept in Numba's on-disk cache like any other.
A compiled solver passed as an argument would also specialize, but Numba
keys such a specialization on the dispatcher object of the running process,
so it would be compiled again in every process and never read back from
the cache.
"""

import numba
import numpy as np
from numba.core import types
from numba.core.errors import TypingError

from .._infra.jit import JIT_DISABLED, kernel, specialized, stable_api
from .._kernels.logistic import PARALLEL_MIN_WORK, penalty_only
from .common import solver_scaling, start_coef, usable_scaling
from .gd import gd_solve
from .gram import gram_uses_pool
from .lbfgs import lbfgs_solve
from .newton import newton_solve
from .preconditioner import preconditioner_worthwhile

__all__ = [
    "SOLVERS",
    "choose_solver",
    "BINARY_SOLVERS",
    "fit_binary_logistic",
    "fit_multinomial_logistic",
    "fit_binary_logistic_csr",
    "fit_multinomial_logistic_csr",
]


# choose_solver: "newton-cholesky" (binary fits only) while its Hessians cost
# at most this many loss-and-gradient passes' worth of multiply-adds (one
# Hessian costs n (d+1)²/2 + (d+1)³/3, one pass 2 max(stored values, n)), and
# while the (d+1) square Hessian stays small.
NEWTON_MAX_PASSES = 150
NEWTON_MAX_COEFFICIENTS = 2048


def choose_solver(n_samples, n_features, n_classes, is_sparse, density):
    """The solver expected to fit a problem of this shape fastest.

    * ``"newton-cholesky"`` for a binary fit whose rows far outnumber its
      coefficients: a Newton iteration costs a weighted Gram pass of
      ``(d+1)²/2`` multiply-adds per row (sparse rows are expanded) and a
      ``(d+1)³/3`` factorization; it is chosen while that is at most
      ``NEWTON_MAX_PASSES`` loss-and-gradient passes (2 multiply-adds per
      stored value) and ``d + 1 <= NEWTON_MAX_COEFFICIENTS``.  Measured in
      one run each (make_classification, tol 1e-8, C = 1, 2 cores shared
      with other work, so ratios only): 5e5 × 20 binary newton-cholesky
      7 iterations 1.3 s, gd 20 iterations 5.6 s; 1e5 × 100 binary
      6 iterations 0.91 s, gd 18 iterations 2.2 s.  A k-class Hessian costs
      ``k (k+1)/2`` Gram passes and a ``(k (d+1))³/3`` factorization, which
      gd's cheaper iterations beat: five classes, 2e4 × 100, gd 34 iterations
      1.3 s, newton-cholesky 6 iterations 1.8 s; 1e5 × 100, gd 33 iterations
      6.2 s, newton-cholesky 6 iterations 7.3 s (one interleaved run each,
      load average 4 to 4.7 on 2 cores).
    * ``"gd"`` (accelerated gradient descent preconditioned by the Hessian at
      zero) when that preconditioner is built
      (:func:`fastxent._solvers.preconditioner.preconditioner_worthwhile`): many
      classes on a few hundred features.
    * ``"lbfgs"`` otherwise (wide or very sparse ``X``), where gd would take
      plain gradient steps.

    Parameters
    ----------
    n_samples, n_features, n_classes : int
        Shape of the problem (``n_classes`` is 2 for a binary fit).
    is_sparse : bool
        Whether ``X`` is stored as CSR.
    density : float
        Fraction of stored entries of ``X`` (1.0 for dense).

    Returns
    -------
    str
        A key of :data:`SOLVERS`.
    """
    k = 1 if n_classes <= 2 else int(n_classes)
    n_coef = int(n_features) + 1
    stored = float(n_samples) * n_features * (density if is_sparse else 1.0)
    one_pass = 2.0 * max(stored, float(n_samples), 1.0)
    hessian = 0.5 * n_samples * n_coef * n_coef + n_coef**3 / 3.0
    if k == 1 and n_coef <= NEWTON_MAX_COEFFICIENTS and hessian <= NEWTON_MAX_PASSES * one_pass:
        return "newton-cholesky"
    if preconditioner_worthwhile(int(stored), int(n_samples), n_coef, k):
        return "gd"
    return "lbfgs"


def thread_pool_used(solver, n_samples, n_features, n_outputs, stored):
    """Whether ``SOLVERS[solver]`` called with ``parallel=True`` could run anything on the thread pool.

    A fit for which this is false runs with ``parallel=None`` and compiles no
    parallel driver, at no cost in speed: the loss-and-gradient passes (and
    newton-cholesky's row probabilities) use the pool from
    ``PARALLEL_MIN_WORK`` stored values × outputs on; newton-cholesky's
    Hessians, and gd's preconditioner when it builds one, accumulate a Gram
    matrix, on the pool from a size :func:`fastxent._solvers.gram.gram_uses_pool` tells.

    Parameters
    ----------
    solver : str
        A key of :data:`SOLVERS`.
    n_samples, n_features : int
        Shape of ``X``.
    n_outputs : int
        1 for the binary model, k for k classes.
    stored : int
        Values stored in ``X`` (``n_samples × n_features`` when dense).

    Returns
    -------
    bool
    """
    if stored * n_outputs >= PARALLEL_MIN_WORK:
        return True
    n_coef = n_features + 1
    if solver == "gd" and not preconditioner_worthwhile(stored, n_samples, n_coef, n_outputs):
        return False
    return solver != "lbfgs" and gram_uses_pool(n_samples, n_coef)


def _unknown_solver(name):
    return f"solver must be one of {sorted(SOLVERS)}, got {name!r}"


@specialized
def run_solver(solver, X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, parallel, coef):
    """``SOLVERS[solver](X, ..., coef, parallel)``, resolved when the caller is compiled."""
    if isinstance(solver, types.StringLiteral):
        if solver.literal_value not in SOLVERS:
            raise TypingError(_unknown_solver(solver.literal_value))
        solve = SOLVERS[solver.literal_value]

        def chosen(solver, X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, parallel, coef):
            return solve(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel)

        return chosen
    if JIT_DISABLED:  # plain Python: the type of a str carries no value, pick by the value itself

        def by_value(solver, X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, parallel, coef):
            if solver not in SOLVERS:
                raise ValueError(_unknown_solver(solver))
            return SOLVERS[solver](X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel)

        return by_value
    return None  # a name that is not a literal: Numba retries with its literal type


# Each solver is compiled into its entry points (it is an inlined kernel):
# into these for the kernel API (any n_outputs, a literal 1 from the binary
# kernels), into the ones below for the estimator's binary fits.


@kernel
def lbfgs_fit(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    return lbfgs_solve(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel)


@kernel
def gd_fit(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    return gd_solve(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel)


@kernel
def newton_fit(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    return newton_solve(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel)


SOLVERS = {"lbfgs": lbfgs_fit, "gd": gd_fit, "newton-cholesky": newton_fit}


# The binary model's entry points, one per solver (the arguments of
# SOLVERS'; ``n_outputs`` must be 1).  Each passes its solver the constant
# 1, which reaches it as a literal: every ``n_outputs == 1`` test below is
# decided when the fit is compiled, so a binary fit compiles none of the
# softmax kernels.  Plain functions rather than one taking the solver's name:
# a name would be made literal by a failed first compilation in every process.


@kernel
def lbfgs_binary(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    return lbfgs_solve(X, y, sample_weight, 1, C, fit_intercept, max_iter, tol, coef, parallel)


@kernel
def gd_binary(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    return gd_solve(X, y, sample_weight, 1, C, fit_intercept, max_iter, tol, coef, parallel)


@kernel
def newton_binary(X, y, sample_weight, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel):
    return newton_solve(X, y, sample_weight, 1, C, fit_intercept, max_iter, tol, coef, parallel)


BINARY_SOLVERS = {"lbfgs": lbfgs_binary, "gd": gd_binary, "newton-cholesky": newton_binary}


@kernel
def _weights(y, sample_weight):
    """``sample_weight``, or unit weights for a length-0 one (the solvers' scaling
    and the gd preconditioner read one weight per sample)."""
    return sample_weight if sample_weight.shape[0] > 0 else np.ones(y.shape[0])


@kernel
def _n_classes(y, coef0):
    """Rows of the multinomial coefficients: ``coef0``'s, else ``max(y) + 1``."""
    if coef0.shape[0] > 0:
        return coef0.shape[0]
    return int(np.max(y)) + 1 if y.shape[0] > 0 else 0


@kernel
def _one_class_fit(coef0, n_features, sample_weight, C, fit_intercept, max_iter):
    """The softmax model of one class: its probability is 1 whatever the
    logits, so the objective is the penalty alone, ``λ/2 ‖w‖²`` in the
    solvers' scaling (:func:`solver_scaling`, which the history reports),
    minimized by ``w = 0`` with the intercept where it starts: one exact
    (Newton) step, or none when the penalty is already 0 (``w = 0``, or no
    penalty at all).  The solvers take a run-time ``n_outputs`` for the
    softmax of two classes or more only (their 1 is the binary model's
    constant), hence this closed form.  Like the
    solvers, a ``max_iter`` below 1 or an unusable scaling returns the
    start, not converged."""
    coef = start_coef(coef0, 1, fit_intercept) if coef0.size > 0 else np.zeros(n_features + 1)
    loss_scale, l2 = solver_scaling(sample_weight, C)
    start = l2 * penalty_only(coef, np.empty(0))
    history = np.empty(1 if start == 0.0 else 2)
    history[0] = start
    if max_iter < 1 or not usable_scaling(loss_scale, l2) or not np.isfinite(start):
        return coef, 0, False, history[:1]
    if start == 0.0:
        return coef, 0, True, history
    coef[:n_features] = 0.0
    history[1] = 0.0
    return coef, 1, True, history


@kernel
def _fit(X, n_features, y, sample_weight, coef0, n_outputs, C, fit_intercept, max_iter, tol, solver):
    numba.literally(solver)
    if coef0.size > 0:
        coef = start_coef(coef0, n_outputs, fit_intercept)
    else:
        coef = np.zeros(n_outputs * (n_features + 1))
    w = _weights(y, sample_weight)
    n_iter, converged, history = run_solver(solver, X, y, w, n_outputs, C, fit_intercept, max_iter, tol, True, coef)
    return coef, n_iter, converged, history


@stable_api
@kernel
def fit_binary_logistic(X, y, sample_weight, coef0, C, fit_intercept, max_iter, tol, solver):
    """Fit an L2-penalized binary logistic regression with the named solver.

    ``fit_binary_logistic(X, y, sample_weight, coef0, C, fit_intercept, max_iter, tol, solver)
    -> (coef, n_iter, converged, objective_history)``

    .. math:: \\min_{w, b}\\; C \\sum_i s_i \\left[\\log(1 + e^{z_i}) - y_i z_i\\right]
              + \\tfrac12 \\lVert w \\rVert^2, \\qquad z_i = x_i \\cdot w + b

    (scikit-learn's objective).  Callable from ``@njit`` code.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, any layout
    y : float64 ndarray of shape (n,)
        Targets in {0, 1}.
    sample_weight : float64 ndarray of shape (n,), or length 0 for unit weights
        Non-negative, not all zero.
    coef0 : float64 ndarray of shape (d + 1,), or length 0 for zeros
        Starting point ``[w, b]`` (not modified).
    C : float
        Inverse regularization strength (``np.inf``: no penalty).
    fit_intercept : bool
        False fits no intercept (``b`` stays 0).
    max_iter : int
        Maximum number of iterations (nothing is allocated in proportion to it).
    tol : float
        Stop when ``max |∇F| <= tol · C Σ s_i``, scikit-learn's criterion.
    solver : str, a compile-time constant
        ``"lbfgs"`` (limited-memory BFGS with an Armijo line search),
        ``"gd"`` (accelerated gradient descent, preconditioned by the Hessian
        at zero where that pays) or ``"newton-cholesky"`` (Newton's method on
        the exact Hessian, for rows far more numerous than coefficients).
        Only the named solver is compiled; :func:`choose_solver` names the
        one expected fastest for a shape.

    Returns
    -------
    coef : float64 ndarray of shape (d + 1,)
        The fitted ``[w, b]`` (a new array).
    n_iter : int
        Iterations run.
    converged : bool
        Whether the ``tol`` criterion (for ``"lbfgs"`` also SciPy's
        relative-decrease rule) was met.  False when ``max_iter`` ran out, or
        when the fit stopped early (``n_iter < max_iter``: failed line search,
        an objective or gradient that overflowed, for ``"gd"`` a stall);
        ``coef`` is then the last accepted point, finite and never worse than
        ``coef0``.
    objective_history : float64 ndarray of shape (n_iter + 1,)
        ``F / (C Σ s_i)`` at the start and after each iteration.

    Notes
    -----
    With ``"gd"`` the steps are preconditioned by the Hessian of the
    objective at zero, ``M = C/4 [X 1]ᵀ S [X 1] + I`` (identity without the
    intercept entry; ``C/k`` in place of ``C/4`` for ``k`` classes): gradient
    descent in the coordinates ``M^{1/2} [w, b]``, so the iteration count does
    not depend on the scale or correlation of the features.  ``M`` costs
    ``(d+1)²/2`` multiply-adds per row and a Cholesky factorization; it is
    skipped (plain gradient steps) for ``d >= 1024`` or very sparse ``X``.

    For ``n·d`` from about 1e6 the evaluations run on Numba's thread pool.
    Importing ``fastxent.kernels`` starts that pool, which a copy of this
    kernel loaded from Numba's on-disk cache needs.  Unit weights
    (``sample_weight`` of length 0) cost one array of ``n`` ones.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [1.5, 0.5]])
    >>> no_weights = np.empty(0)
    >>> y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    >>> coef, n_iter, converged, history = kernels.fit_binary_logistic(X, y, no_weights, np.zeros(3), 1.0,
    ...     True, 100, 1e-8, "lbfgs")
    >>> coef.round(4)
    array([ 0.9404,  0.3339, -1.1657])
    >>> converged
    True
    >>> bool(history[-1] < history[0])
    True
    >>> kernels.fit_binary_logistic(X, y, no_weights, np.zeros(3), 1.0, True, 1000, 1e-8, "gd")[0].round(4)
    array([ 0.9404,  0.3339, -1.1657])
    """
    numba.literally(solver)
    return _fit(X, X.shape[1], y, sample_weight, coef0, 1, C, fit_intercept, max_iter, tol, solver)


@stable_api
@kernel
def fit_multinomial_logistic(X, y, sample_weight, coef0, C, fit_intercept, max_iter, tol, solver):
    """Fit an L2-penalized multinomial (softmax) logistic regression with the named solver.

    ``fit_multinomial_logistic(X, y, sample_weight, coef0, C, fit_intercept, max_iter, tol, solver)
    -> (coef, n_iter, converged, objective_history)``

    .. math:: \\min_{W, b}\\; C \\sum_i s_i \\left[\\log \\sum_c e^{z_{ic}} - z_{i y_i}\\right]
              + \\tfrac12 \\lVert W \\rVert_F^2, \\qquad z_{ic} = x_i \\cdot W_c + b_c

    As :func:`fit_binary_logistic` with ``y`` holding class indices
    ``0 .. k-1`` and coefficients of shape ``(k, d + 1)`` (``[W | b]``).

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, any layout
    y : float64 ndarray of shape (n,)
        Class indices in ``0 .. k-1``.
    sample_weight : float64 ndarray of shape (n,), or length 0 for unit weights
    coef0 : float64 ndarray of shape (k, d + 1), or length 0 for zeros
        Starting point ``[W | b]`` (not modified); ``k`` is read from it, or
        is ``max(y) + 1`` when it has length 0.
    C, fit_intercept, max_iter, tol, solver
        As in :func:`fit_binary_logistic`.

    Returns
    -------
    coef : float64 ndarray of shape (k, d + 1)
    n_iter : int
    converged : bool
    objective_history : float64 ndarray of shape (n_iter + 1,)
        As in :func:`fit_binary_logistic`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [1.5, 0.5]])
    >>> no_weights = np.empty(0)
    >>> y = np.array([0.0, 1.0, 1.0, 2.0, 2.0])
    >>> coef, n_iter, converged, history = kernels.fit_multinomial_logistic(X, y, no_weights, np.zeros((3, 3)),
    ...     1.0, True, 100, 1e-8, "lbfgs")
    >>> coef.round(4)
    array([[-0.7486,  0.2216,  0.3052],
           [ 0.1934, -0.422 ,  0.4339],
           [ 0.5552,  0.2004, -0.7391]])
    >>> converged
    True
    """
    numba.literally(solver)
    k = _n_classes(y, coef0)
    if k == 1:
        coef, n_iter, converged, history = _one_class_fit(
            coef0, X.shape[1], _weights(y, sample_weight), C, fit_intercept, max_iter
        )
    else:
        coef, n_iter, converged, history = _fit(
            X, X.shape[1], y, sample_weight, coef0, k, C, fit_intercept, max_iter, tol, solver
        )
    return coef.reshape((k, X.shape[1] + 1)), n_iter, converged, history


@kernel
def _csr_features(indices, coef0, n_outputs):
    """Columns of a CSR ``X``: from ``coef0``'s shape, else ``max(indices) + 1``."""
    if coef0.size > 0:
        return coef0.size // n_outputs - 1
    return int(np.max(indices)) + 1 if indices.shape[0] > 0 else 0


@stable_api
@kernel
def fit_binary_logistic_csr(data, indices, indptr, y, sample_weight, coef0, C, fit_intercept, max_iter, tol, solver):
    """:func:`fit_binary_logistic` for a CSR ``X`` given as its three arrays.

    ``fit_binary_logistic_csr(data, indices, indptr, y, sample_weight, coef0, C, fit_intercept, max_iter, tol,
    solver) -> (coef, n_iter, converged, objective_history)``

    Parameters
    ----------
    data : float32 or float64 ndarray of shape (nnz,)
    indices : int32 or int64 ndarray of shape (nnz,)
        Column index of each stored value.
    indptr : int32 or int64 ndarray of shape (n + 1,)
        Row ``i`` is ``data[indptr[i]:indptr[i + 1]]``.
    y, sample_weight, C, fit_intercept, max_iter, tol, solver
        As in :func:`fit_binary_logistic`.
    coef0 : float64 ndarray of shape (d + 1,), or length 0 for zeros
        Starting point; its shape gives ``d``.  With length 0, ``d`` is the
        largest column index plus one (pass zeros of shape ``(d + 1,)`` when
        the last columns may hold no stored value).

    Returns
    -------
    coef, n_iter, converged, objective_history
        As in :func:`fit_binary_logistic`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> import scipy.sparse
    >>> X = scipy.sparse.csr_matrix([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [1.5, 0.5]])
    >>> no_weights = np.empty(0)
    >>> y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    >>> coef, n_iter, converged, history = kernels.fit_binary_logistic_csr(X.data, X.indices, X.indptr, y,
    ...     no_weights, np.zeros(3), 1.0, True, 100, 1e-8, "lbfgs")
    >>> coef.round(4)
    array([ 0.9404,  0.3339, -1.1657])
    >>> converged
    True
    """
    numba.literally(solver)
    d = _csr_features(indices, coef0, 1)
    return _fit((data, indices, indptr), d, y, sample_weight, coef0, 1, C, fit_intercept, max_iter, tol, solver)


@stable_api
@kernel
def fit_multinomial_logistic_csr(
    data, indices, indptr, y, sample_weight, coef0, C, fit_intercept, max_iter, tol, solver
):
    """:func:`fit_multinomial_logistic` for a CSR ``X`` given as its three arrays.

    ``fit_multinomial_logistic_csr(data, indices, indptr, y, sample_weight, coef0, C, fit_intercept, max_iter, tol,
    solver) -> (coef, n_iter, converged, objective_history)``

    Parameters
    ----------
    data : float32 or float64 ndarray of shape (nnz,)
    indices : int32 or int64 ndarray of shape (nnz,)
        Column index of each stored value.
    indptr : int32 or int64 ndarray of shape (n + 1,)
        Row ``i`` is ``data[indptr[i]:indptr[i + 1]]``.
    y, sample_weight, C, fit_intercept, max_iter, tol, solver
        As in :func:`fit_multinomial_logistic`.
    coef0 : float64 ndarray of shape (k, d + 1), or length 0 for zeros
        Starting point; its shape gives ``k`` and ``d``.  With length 0,
        ``k = max(y) + 1`` and ``d`` is the largest column index plus one.

    Returns
    -------
    coef, n_iter, converged, objective_history
        As in :func:`fit_multinomial_logistic`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> import scipy.sparse
    >>> X = scipy.sparse.csr_matrix([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [1.5, 0.5]])
    >>> no_weights = np.empty(0)
    >>> y = np.array([0.0, 1.0, 1.0, 2.0, 2.0])
    >>> coef, n_iter, converged, history = kernels.fit_multinomial_logistic_csr(X.data, X.indices, X.indptr, y,
    ...     no_weights, np.zeros((3, 3)), 1.0, True, 100, 1e-8, "lbfgs")
    >>> coef.round(4)
    array([[-0.7486,  0.2216,  0.3052],
           [ 0.1934, -0.422 ,  0.4339],
           [ 0.5552,  0.2004, -0.7391]])
    >>> converged
    True
    """
    numba.literally(solver)
    k = _n_classes(y, coef0)
    d = _csr_features(indices, coef0, k)
    if k == 1:
        coef, n_iter, converged, history = _one_class_fit(
            coef0, d, _weights(y, sample_weight), C, fit_intercept, max_iter
        )
    else:
        coef, n_iter, converged, history = _fit(
            (data, indices, indptr), d, y, sample_weight, coef0, k, C, fit_intercept, max_iter, tol, solver
        )
    return coef.reshape((k, d + 1)), n_iter, converged, history
