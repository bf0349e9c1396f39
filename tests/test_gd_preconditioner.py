"""The weighted Gram products (fastxent._solvers.gram), the curvature preconditioner of
solver "gd" (fastxent._solvers.preconditioner) and both gd paths."""

import numba
import numpy as np
import pytest

sparse = pytest.importorskip("scipy.sparse")

from fastxent._kernels.logistic import loss_grad  # noqa: E402
from fastxent._solvers.common import solver_scaling  # noqa: E402
from fastxent._solvers.fit import BINARY_SOLVERS  # noqa: E402
from fastxent._solvers.gd import gd_iterate  # noqa: E402
from fastxent._solvers.gram import _largest_magnitude, weighted_gram  # noqa: E402
from fastxent._solvers.lbfgs import lbfgs_solve  # noqa: E402
from fastxent._solvers.preconditioner import (  # noqa: E402
    MAX_COEFFICIENTS,
    cholesky_in_place,
    curvature_factor,
    preconditioner_worthwhile,
    solve_factored,
)


def reference_gram(X, w):
    Xt = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(X.shape[0])])
    return (Xt * np.abs(w)[:, None]).T @ Xt


def assert_float32_gram_close(G, X, w):
    """float32 data is multiplied and summed in float32 per tile of 512 rows: each
    entry lies within 512 float32 roundings of the sum of its terms' magnitudes."""
    bound = 512 * 2.0**-24 * reference_gram(np.abs(X), w)
    assert np.all(np.abs(G - reference_gram(X, w)) <= bound)


def storages(X):
    """The layouts the kernels accept, as (name, kernel argument, dense equivalent)."""
    yield "C64", np.ascontiguousarray(X), X
    yield "F64", np.asfortranarray(X), X
    yield "C32", X.astype(np.float32), X.astype(np.float32).astype(np.float64)
    yield "strided", X[:, ::-1], X[:, ::-1]
    sparse_X = np.where(np.abs(X) > 0.8, X, 0.0)
    csr = sparse.csr_matrix(sparse_X)
    yield "CSR", (csr.data, csr.indices, csr.indptr), sparse_X
    yield "CSR32", (csr.data.astype(np.float32), csr.indices, csr.indptr), sparse_X.astype(np.float32)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 511, 512, 1025])
@pytest.mark.parametrize("d", [1, 3, 4, 5, 17])
def test_weighted_gram_matches_numpy(n, d):
    rng = np.random.default_rng(n * 31 + d)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=d)
    w = rng.uniform(0.0, 3.0, size=n)
    w[::5] = 0.0  # zero weights are allowed
    w[1::7] *= -1.0  # so are negative ones (scikit-learn's rule); M uses |s_i|
    for name, arg, dense in storages(X):
        G = weighted_gram(arg, w, d + 1, True, 1)
        if name.endswith("32"):
            assert_float32_gram_close(G, dense.astype(np.float64), w)
        else:
            expected = reference_gram(dense, w)
            scale = max(1.0, abs(expected).max())
            np.testing.assert_allclose(G, expected, rtol=1e-12, atol=1e-12 * scale, err_msg=name)
        assert np.array_equal(G, G.T)


@pytest.mark.parametrize("sparse_input", [False, True])
def test_float32_gram_neither_overflows_nor_underflows(sparse_input):
    # Tiles of values near float32's largest and smallest normal numbers, and a
    # tile mixing both: their products overflow or vanish in float32 unless the
    # tile is rescaled first
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1600, 6)).astype(np.float32)
    X[:512] *= np.float32(1e37)
    X[512:1024] *= np.float32(1e-36)
    X[1100, 2] = np.float32(3e38)
    X[1101, 3] = np.float32(1e-37)
    w = rng.uniform(0.5, 2.0, size=1600)
    if sparse_input:
        csr = sparse.csr_matrix(X)
        arg = (csr.data, csr.indices, csr.indptr)
    else:
        arg = X
    G = weighted_gram(arg, w, 7, False, 1)
    assert np.isfinite(G).all()
    assert_float32_gram_close(G, X.astype(np.float64), w)
    # the tiny tile's own block is not lost to underflow
    tiny = weighted_gram(X[512:1024], w[512:1024], 7, False, 1)
    assert_float32_gram_close(tiny, X[512:1024].astype(np.float64), w[512:1024])
    assert np.all(np.diag(tiny)[:6] > 0.0)


def test_weighted_gram_sums_duplicate_csr_entries():
    # scipy.sparse keeps duplicates until sum_duplicates(); they mean their sum
    data = np.array([1.0, 2.0, 4.0, -1.0])
    indices = np.array([0, 0, 1, 1], dtype=np.int32)
    indptr = np.array([0, 2, 4], dtype=np.int32)
    w = np.array([1.0, 2.0])
    dense = sparse.csr_matrix((data, indices, indptr), shape=(2, 2)).toarray()
    np.testing.assert_allclose(weighted_gram((data, indices, indptr), w, 3, False, 1), reference_gram(dense, w))


def test_weighted_gram_is_identical_for_any_thread_count():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 40))  # 512 × 44² rows·entries per tile: the parallel branch
    w = rng.uniform(0.5, 2.0, size=5000)
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            results.append(weighted_gram(X, w, 41, True, 1))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], weighted_gram(X, w, 41, False, 1))


def test_cholesky_matches_numpy():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(30, 30))
    M = A @ A.T + 0.1 * np.eye(30)
    L = M.copy()
    cholesky_in_place(L)
    np.testing.assert_allclose(np.tril(L), np.linalg.cholesky(M), rtol=1e-10, atol=1e-12)


def test_cholesky_of_a_singular_matrix_stays_finite():
    # collinear columns and no penalty (C = inf), plus an all-zero column
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    X = np.column_stack([X, X[:, 0] - 2.0 * X[:, 1], np.zeros(200)])
    M = X.T @ X
    L = M.copy()
    cholesky_in_place(L)
    L = np.tril(L)
    assert np.all(np.isfinite(L)) and np.all(np.diag(L) > 0)
    assert L[4, 4] == 1.0  # the zero column is left unscaled
    np.testing.assert_allclose(L[:3] @ L[:3].T, M[:3, :3], rtol=1e-12)
    # the dependent column's pivot is floored at PIVOT_FLOOR of its diagonal
    assert L[3, 3] ** 2 >= 1e-10 * M[3, 3] * (1 - 1e-12)


def test_solve_factored_applies_the_inverse_to_every_class_block():
    rng = np.random.default_rng(6)
    A = rng.normal(size=(7, 7))
    M = A @ A.T + np.eye(7)
    L = M.copy()
    cholesky_in_place(L)
    g = rng.normal(size=3 * 7)
    out = np.empty_like(g)
    solve_factored(L, g, 3, out, np.ones(7))
    expected = np.linalg.solve(M, g.reshape(3, 7).T).T.ravel()
    np.testing.assert_allclose(out, expected, rtol=1e-10)


# The binary model's n_outputs is the constant 1, known when the caller is
# compiled: these give the solver kernels that constant, as the binary entry
# points do (from Python, a 1 is a run-time number of softmax classes).


@numba.njit
def binary_loss_grad(X, y, w, coef, n_outputs, a, l2, fit_intercept, parallel, grad):
    return loss_grad(X, y, w, coef, 1, a, l2, fit_intercept, parallel, grad)


@numba.njit
def binary_gd_iterate(X, y, w, n_outputs, C, fit_intercept, max_iter, tol, coef, parallel, precondition):
    return gd_iterate(X, y, w, 1, C, fit_intercept, max_iter, tol, coef, parallel, precondition)


def hessian_vector_product(X, y, w, n_outputs, a, l2, fit_intercept, v, h=1e-5):
    """(∇f(h v) - ∇f(-h v)) / 2h at w = 0, from the loss-and-gradient kernel."""
    g_up, g_down = np.empty_like(v), np.empty_like(v)
    evaluate = binary_loss_grad if n_outputs == 1 else loss_grad
    evaluate(X, y, w, h * v, n_outputs, a, l2, fit_intercept, False, g_up)
    evaluate(X, y, w, -h * v, n_outputs, a, l2, fit_intercept, False, g_down)
    return (g_up - g_down) / (2 * h)


def test_a_run_time_single_output_is_refused():
    X, y, w = np.ones((4, 2)), np.zeros(4), np.ones(4)
    with pytest.raises(ValueError, match="n_outputs"):
        loss_grad(X, y, w, np.zeros(3), 1, 0.25, 0.0, True, False, np.empty(3))
    assert binary_loss_grad(X, y, w, np.zeros(3), 1, 0.25, 0.0, True, False, np.empty(3)) == pytest.approx(np.log(2.0))


@pytest.mark.parametrize("n_outputs", [1, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_curvature_factor_is_the_hessian_at_zero(n_outputs, fit_intercept):
    rng = np.random.default_rng(7)
    n, d = 300, 5
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.2, 1.0, 5.0]
    y = rng.integers(0, 2 if n_outputs == 1 else n_outputs, size=n).astype(np.float64)
    w = rng.uniform(0.2, 2.0, size=n)
    a, l2 = solver_scaling(w, 2.0)
    L = np.tril(curvature_factor(X, w, d + 1, n_outputs, a, l2, fit_intercept, False))
    M = L @ L.T
    for _ in range(5):
        v = rng.normal(size=(n_outputs, d + 1))
        if n_outputs > 1:
            v -= v.mean(axis=0)  # the softmax gauge direction carries no data curvature
        if not fit_intercept:
            v[:, -1] = 0.0
        hv = hessian_vector_product(X, y, w, n_outputs, a, l2, fit_intercept, v.ravel())
        np.testing.assert_allclose(v.ravel() @ hv, np.einsum("ci,ij,cj->", v, M, v), rtol=1e-6)


def test_preconditioner_worthwhile_decisions():
    assert preconditioner_worthwhile(100_000 * 100, 100_000, 101, 1)  # the bench case
    assert preconditioner_worthwhile(20_000 * 1000, 20_000, 1001, 1)
    assert not preconditioner_worthwhile(1000 * 2000, 1000, MAX_COEFFICIENTS + 1, 1)
    assert not preconditioner_worthwhile(50, 10, 1001, 1)  # factorization dominates
    # very sparse rows: expanding them costs far more than the passes
    assert not preconditioner_worthwhile(100_000 * 5, 100_000, 1001, 1)


def problem(n_classes, n=2000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    # features on scales from 0.1 to 10, two of them correlated
    X = rng.normal(size=(n, d)) * np.logspace(-1, 1, d)
    X[:, 1] = X[:, 0] * 3.0 + 0.1 * rng.normal(size=n)
    logits = X / X.std(axis=0) @ rng.normal(size=(d, n_classes))
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    if n_classes == 2:
        y = (y == 1).astype(np.int64)
    return X, y.astype(np.float64), rng.uniform(0.5, 1.5, size=n)


def solve_with(solver, X, n_features, y, w, n_outputs, C, fit_intercept, *extra):
    if n_outputs == 1:
        solver = {lbfgs_solve: BINARY_SOLVERS["lbfgs"], gd_iterate: binary_gd_iterate}[solver]
    coef = np.zeros(n_outputs * (n_features + 1))
    n_iter, converged, history = solver(X, y, w, n_outputs, C, fit_intercept, 100_000, 1e-9, coef, True, *extra)
    return coef, n_iter, converged, history


def logits(X, coef, n_outputs):
    """The model's logits; softmax ones centred (adding one value to every
    class's intercept changes neither the loss nor the gradient)."""
    W = coef.reshape(n_outputs, -1)
    Z = X @ W[:, :-1].T + W[:, -1]
    return Z if n_outputs == 1 else Z - Z.mean(axis=1, keepdims=True)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("storage", ["dense", "CSR"])
def test_both_gd_paths_reach_the_lbfgs_optimum(n_classes, fit_intercept, storage):
    X, y, w = problem(n_classes, seed=n_classes)
    if storage == "CSR":
        X[np.abs(X) < 0.3 * np.abs(X).std(axis=0)] = 0.0
        csr = sparse.csr_matrix(X)
        arg = (csr.data, csr.indices, csr.indptr)
    else:
        arg = X
    n_outputs = 1 if n_classes == 2 else n_classes
    C = 10.0
    ref, _, converged, ref_history = solve_with(lbfgs_solve, arg, X.shape[1], y, w, n_outputs, C, fit_intercept)
    assert converged
    iterations, fitted = {}, {}
    for precondition in (True, False):
        coef, n_iter, converged, history = solve_with(
            gd_iterate, arg, X.shape[1], y, w, n_outputs, C, fit_intercept, precondition
        )
        assert converged
        assert abs(history[-1] - ref_history[-1]) <= 1e-9 * abs(ref_history[-1])
        if not fit_intercept:
            assert np.all(coef.reshape(n_outputs, -1)[:, -1] == 0.0)
        iterations[precondition] = n_iter
        fitted[precondition] = logits(X, coef, n_outputs)
    # the coefficients of correlated features are less well determined than the
    # logits; lbfgs stops earlier (its relative-decrease rule) than tol = 1e-9
    np.testing.assert_allclose(fitted[True], fitted[False], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fitted[True], logits(X, ref, n_outputs), rtol=1e-4, atol=1e-4)
    # features on scales 0.1 .. 10: the preconditioner is what makes gd usable
    assert iterations[True] * 10 <= iterations[False]


def test_preconditioned_gd_without_penalty_on_collinear_features():
    # C = inf: M is singular (exactly collinear columns); its pivots are floored
    rng = np.random.default_rng(11)
    X = rng.normal(size=(500, 4))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    y = (X[:, 0] - X[:, 2] + rng.logistic(size=500) > 0).astype(np.float64)
    w = np.ones(500)
    _, _, converged_ref, ref_history = solve_with(lbfgs_solve, X, X.shape[1], y, w, 1, np.inf, True)
    coef, _, converged, history = solve_with(gd_iterate, X, X.shape[1], y, w, 1, np.inf, True, True)
    assert converged and converged_ref
    assert np.all(np.isfinite(coef))
    assert abs(history[-1] - ref_history[-1]) <= 1e-9 * abs(ref_history[-1])


def test_gd_fit_is_identical_for_any_thread_count():
    X, y, w = problem(3, n=20_000, d=40, seed=12)  # parallel Gram tiles and passes
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            results.append(solve_with(gd_iterate, X, X.shape[1], y, w, 3, 1.0, True, True))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_negative_sample_weights_keep_the_metric_positive_definite():
    from sklearn.linear_model import LogisticRegression as SklearnLR

    from fastxent import LogisticRegression

    rng = np.random.default_rng(13)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.logistic(size=300) > 0).astype(np.int64)
    w = np.ones(300)
    w[:5] = -0.5
    reference = SklearnLR(tol=1e-10, max_iter=1000).fit(X, y, sample_weight=w)
    ours = LogisticRegression(solver="gd", tol=1e-10, max_iter=1000).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, rtol=1e-6, atol=1e-8)


@numba.njit
def largest_magnitude(values):
    # a private helper of compiled code: reached from a compiled caller, as the Gram kernel does
    return _largest_magnitude(values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_largest_magnitude_reads_the_bits_of_every_value(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    cases = [
        ([1.0, -3.5, 2.0], 3.5),
        ([0.0, -0.0], 0.0),
        ([tiny, -2 * tiny], 2 * float(tiny)),
        ([-np.inf, 2.0], np.inf),
        ([-float(np.finfo(dtype).max), 1.0], float(np.finfo(dtype).max)),
    ]
    for values, expected in cases:
        assert largest_magnitude(np.array(values, dtype=dtype)) == expected
    assert np.isnan(largest_magnitude(np.array([1.0, np.nan, 2.0], dtype=dtype)))
    assert np.isnan(largest_magnitude(np.array([1.0, -np.nan], dtype=dtype)))
    assert largest_magnitude(np.empty(0, dtype=dtype)) == 0.0
