"""Solver "newton-cholesky" against scikit-learn's objective, its determinism
across thread counts, its use from a user's ``@njit`` code, and the rule
that picks a solver for a problem's shape."""

import numba
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")

from scipy.special import logsumexp  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression as SklearnLR  # noqa: E402

from fastxent import LogisticRegression, kernels  # noqa: E402
from fastxent._kernels.logistic import binary_logistic_loss_grad_serial, multinomial_logistic_loss_grad_serial  # noqa: E402
from fastxent._solvers.fit import SOLVERS, choose_solver  # noqa: E402
from fastxent._solvers.gram import logistic_gram, sampled_weight  # noqa: E402
from fastxent._solvers.newton import (  # noqa: E402
    GRAM_PER_VALUE,
    MAX_REUSE,
    REUSE,
    SAMPLE_MIN_ROWS,
    SAMPLE_ROWS_PER_COEF,
    _reuse_limit,
    hessian,
)


def objective(X, y_index, s, coef, intercept, C):
    """C Σ s_i ℓ_i + ½‖W‖² (the loss alone for C = inf), in NumPy."""
    Z = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        losses = np.logaddexp(0.0, Z[:, 0]) - y_index * Z[:, 0]
    else:
        losses = logsumexp(Z, axis=1) - Z[np.arange(Z.shape[0]), y_index]
    if np.isinf(C):
        return np.sum(s * losses)
    return C * np.sum(s * losses) + 0.5 * np.sum(coef**2)


def problem(n_classes, n=600, d=6, seed=0):
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=min(4, d - 1), n_redundant=1, n_classes=n_classes, random_state=seed
    )
    return X, y


@pytest.mark.parametrize(
    "n_classes, storage, fit_intercept, weighted",
    [
        (2, "dense", True, False),
        (2, "dense", False, True),
        (2, "csr", True, True),
        (4, "dense", True, True),
        (4, "dense", False, False),
        (4, "csr", False, True),
    ],
)
def test_reaches_sklearn_objective(n_classes, storage, fit_intercept, weighted):
    X, y = problem(n_classes, seed=n_classes)
    if storage == "csr":
        X[np.abs(X) < 0.7] = 0.0
    s = np.random.default_rng(1).uniform(0.2, 3.0, size=y.shape[0]) if weighted else None
    data = sparse.csr_matrix(X) if storage == "csr" else X
    params = dict(C=0.7, fit_intercept=fit_intercept, tol=1e-10)
    reference = SklearnLR(max_iter=10_000, **params).fit(X, y, sample_weight=s)
    ours = LogisticRegression(solver="newton-cholesky", max_iter=100, **params).fit(data, y, sample_weight=s)
    weights = np.ones(y.shape[0]) if s is None else s
    f_ref = objective(X, y, weights, reference.coef_, reference.intercept_, 0.7)
    f_ours = objective(X, y, weights, ours.coef_, ours.intercept_, 0.7)
    assert abs(f_ours - f_ref) <= 1e-9 * f_ref
    assert ours.n_iter_[0] < 20  # Newton steps, not gradient steps
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_collinear_columns_without_penalty(n_classes):
    X, y = problem(n_classes, n=400, d=4, seed=5)
    flip = np.random.default_rng(2).random(y.shape[0]) < 0.2  # label noise: a finite optimum
    y = np.where(flip, (y + 1) % n_classes, y)
    X = np.hstack([X, X[:, :1], 2.0 * X[:, 1:2] - X[:, 2:3]])  # two exactly dependent columns
    reference = SklearnLR(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    ours = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=200).fit(X, y)
    s = np.ones(y.shape[0])
    f_ref = objective(X, y, s, reference.coef_, reference.intercept_, np.inf)
    f_ours = objective(X, y, s, ours.coef_, ours.intercept_, np.inf)
    assert f_ours <= f_ref * (1 + 1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_hessian_matches_finite_differences_of_the_gradient():
    X, y = problem(3, n=200, d=4, seed=7)
    s = np.random.default_rng(3).uniform(0.5, 2.0, size=y.shape[0])
    coef = np.random.default_rng(4).normal(size=(3, 5))
    loss_scale, l2 = 1.0 / s.sum(), 1.0 / (2.0 * s.sum())

    def gradient(flat):
        grad = np.empty((3, 5))
        multinomial_logistic_loss_grad_serial(X, y.astype(np.float64), s, flat.reshape(3, 5), 1.0, True, grad)
        # the scaled objective: a = 1/Σs, λ = 1/(C Σs) with C = 2 (the kernel's C = 1 is a = λ = 1)
        penalized = np.zeros((3, 5))
        penalized[:, :-1] = flat.reshape(3, 5)[:, :-1]
        return (loss_scale * (grad - penalized) + l2 * penalized).ravel()

    H = hessian(X, s, coef.ravel(), 3, loss_scale, l2, True, False, 1)
    step = 1e-6
    numeric = np.column_stack(
        [(gradient(coef.ravel() + step * e) - gradient(coef.ravel() - step * e)) / (2 * step) for e in np.eye(15)]
    )
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-9)


@numba.njit
def binary_hessian(X, s, coef, loss_scale, l2):
    """The binary model's Hessian (its n_outputs is the constant 1)."""
    return hessian(X, s, coef, 1, loss_scale, l2, True, False, 1)


def test_binary_hessian_matches_finite_differences_of_the_gradient():
    X, y = problem(2, n=200, d=4, seed=8)
    s = np.random.default_rng(5).uniform(0.5, 2.0, size=y.shape[0])
    coef = np.random.default_rng(6).normal(size=5)
    loss_scale, l2 = 1.0 / s.sum(), 1.0 / (2.0 * s.sum())

    def gradient(flat):
        grad = np.empty(5)
        binary_logistic_loss_grad_serial(X, y.astype(np.float64), s, flat, 1.0, True, grad)
        penalized = np.append(flat[:-1], 0.0)
        return loss_scale * (grad - penalized) + l2 * penalized

    H = binary_hessian(X, s, coef, loss_scale, l2)
    step = 1e-6
    numeric = np.column_stack([(gradient(coef + step * e) - gradient(coef - step * e)) / (2 * step) for e in np.eye(5)])
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(H, H.T)


def reference_logistic_gram(X, s, coef):
    """X̃ᵀ diag(|s| σ'(z)) X̃ in NumPy, σ'(z) = e/(1+e)² with e = exp(-|z|) (exact where 1 - σ(z) rounds to 0)."""
    Xt = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(X.shape[0])])
    e = np.exp(-np.abs(Xt @ coef))
    return (Xt * (np.abs(s) * e / (1.0 + e) ** 2)[:, None]).T @ Xt


def reference_abs_gram(X, s, coef):
    """|X̃|ᵀ diag(|s| σ'(z)) |X̃|: the sum of the magnitudes of each entry's terms."""
    Xt = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(X.shape[0])])
    e = np.exp(-np.abs(Xt @ coef))
    return (np.abs(Xt) * (np.abs(s) * e / (1.0 + e) ** 2)[:, None]).T @ np.abs(Xt)


def is_float32(arg):
    return (arg[0] if isinstance(arg, tuple) else arg).dtype == np.float32


@pytest.mark.parametrize("n", [0, 1, 9, 513, 5000])
def test_logistic_gram_matches_numpy_for_every_storage(n):
    # logits up to about ±60: σ(z) rounds to 1 beyond 37, where p (1 - p) would be 0 but σ'(z) is not
    rng = np.random.default_rng(n)
    d = 6
    X = rng.normal(size=(n, d)) * np.array([1.0, 5.0, 0.1, 20.0, 1.0, 3.0])
    X[:1] = [0.0, 0.0, 0.0, 75.0, 0.0, 0.0]  # z = 60.7
    coef = np.array([0.5, -1.0, 2.0, 0.8, 0.0, -0.3, 0.7])
    s = rng.uniform(-0.5, 2.0, size=n)  # negative weights count by their magnitude
    dense_X = np.where(np.abs(X) > 0.5, X, 0.0)
    csr = sparse.csr_matrix(dense_X)
    storages = [
        (X, X),
        (np.asfortranarray(X), X),
        (X.astype(np.float32), X.astype(np.float32)),
        ((csr.data, csr.indices, csr.indptr), dense_X),
        ((csr.data.astype(np.float32), csr.indices, csr.indptr), dense_X.astype(np.float32)),
    ]
    for arg, dense in storages:
        expected = reference_logistic_gram(dense, s, coef)
        for parallel in (False, True, None):
            G = logistic_gram(arg, s, coef, parallel, 1)
            if is_float32(arg):
                # float32 tiles: each entry within 512 float32 roundings of the sum of its |terms|
                assert np.all(np.abs(G - expected) <= 512 * 2.0**-24 * reference_abs_gram(dense, s, coef))
            else:
                scale = max(1e-300, np.abs(expected).max())
                np.testing.assert_allclose(G, expected, rtol=1e-11, atol=1e-12 * scale)
            np.testing.assert_array_equal(G, G.T)
    if n:
        big = np.abs(np.column_stack([X, np.ones(n)]) @ coef).max()
        assert big > 37.0  # the rounding range is covered


def assert_identical_for_one_and_two_threads(X, y, tol):
    """The binary newton-cholesky fit gives the same bits with 1 and 2 threads, and converges."""
    yf, start = y.astype(np.float64), np.zeros(X.shape[1] + 1)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            results.append(
                kernels.fit_binary_logistic(X, yf, np.empty(0), start.copy(), 1.0, True, 50, tol, "newton-cholesky")
            )
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][3], results[1][3])
    assert results[0][2]


def test_identical_for_any_thread_count():
    # 40000 rows: more than one chunk of the Gram accumulation, and the
    # loss-and-gradient passes run on the thread pool
    X, y = make_classification(n_samples=40_000, n_features=30, n_informative=10, random_state=3)
    assert_identical_for_one_and_two_threads(X, y, 1e-8)


@numba.njit
def _user_fit(X, y):
    """A user's compiled function fitting through the public kernel, the solver named as a constant."""
    coef, n_iter, converged, _ = kernels.fit_binary_logistic(
        X, y, np.empty(0), np.zeros(X.shape[1] + 1), 1.0, True, 100, 1e-10, "newton-cholesky"
    )
    return coef, n_iter, converged


def test_callable_from_user_njit_code():
    X, y = problem(2, n=300, d=4, seed=11)
    coef, n_iter, converged = _user_fit(X, y.astype(np.float64))
    assert converged and 0 < n_iter < 20
    reference = SklearnLR(tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(coef[:-1], reference.coef_[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(coef[-1], reference.intercept_[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((2_000_000, 20, 2, False, 1.0), "newton-cholesky"),
        ((100_000, 100, 2, False, 1.0), "newton-cholesky"),
        ((100_000, 100, 5, False, 1.0), "gd"),
        ((20_000, 100, 5, False, 1.0), "gd"),
        ((100_000, 300, 20, False, 1.0), "gd"),
        ((20_000, 2_000, 2, False, 1.0), "lbfgs"),
        ((500_000, 100_000, 2, True, 5e-4), "lbfgs"),
        ((500_000, 100_000, 20, True, 5e-4), "lbfgs"),
    ],
)
def test_choose_solver(shape, expected):
    assert choose_solver(*shape) == expected
    assert choose_solver(*shape) in SOLVERS


def sampled_rows(n, tile_step, tile_rows=512):
    """The rows of every tile_step-th tile of tile_rows rows (the Gram's sample)."""
    rows = np.arange(n)
    return rows[(rows // tile_rows) % tile_step == 0]


@pytest.mark.parametrize("n, tile_step", [(1, 3), (1500, 2), (5000, 3), (40_000, 7)])
def test_sampled_gram_sums_every_kth_tile(n, tile_step):
    rng = np.random.default_rng(tile_step)
    X = rng.normal(size=(n, 5)) * np.array([1.0, 4.0, 0.2, 1.0, 9.0])
    coef = np.array([0.3, -0.2, 1.5, 0.0, 0.1, -0.4])
    s = rng.uniform(-0.5, 2.0, size=n)
    keep = sampled_rows(n, tile_step)
    csr = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    for arg, dense in [
        (X, X),
        (np.asfortranarray(X), X),
        ((csr.data, csr.indices, csr.indptr), csr.toarray()),
    ]:
        expected = reference_logistic_gram(dense[keep], s[keep], coef)
        for parallel in (False, True, None):
            G = logistic_gram(arg, s, coef, parallel, tile_step)
            np.testing.assert_allclose(G, expected, rtol=1e-11, atol=1e-12 * np.abs(expected).max())
    assert sampled_weight(s, tile_step) == pytest.approx(np.abs(s[keep]).sum(), rel=1e-12)


def large_problem(n_classes, n=70_000, d=8, seed=0):
    """Rows enough for the Hessian of a fit from zero to be summed over a sample of the tiles."""
    X, y = make_classification(n_samples=n, n_features=d, n_informative=5, n_classes=n_classes, random_state=seed)
    assert n // max(SAMPLE_MIN_ROWS, SAMPLE_ROWS_PER_COEF * (1 if n_classes == 2 else n_classes) * (d + 1)) >= 2
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sampled_hessian_fit_reaches_sklearn_objective(n_classes):
    X, y = large_problem(n_classes)
    s = np.random.default_rng(7).uniform(0.2, 3.0, size=y.shape[0])
    reference = SklearnLR(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=s)
    ours = LogisticRegression(C=0.5, tol=1e-9, solver="newton-cholesky").fit(X, y, sample_weight=s)
    f_ref = objective(X, y, s, reference.coef_, reference.intercept_, 0.5)
    f_ours = objective(X, y, s, ours.coef_, ours.intercept_, 0.5)
    assert f_ours <= f_ref * (1 + 1e-10)
    assert ours.n_iter_[0] < 20


def test_sampled_hessian_fit_is_identical_for_any_thread_count():
    X, y = large_problem(2, seed=4)
    assert_identical_for_one_and_two_threads(X, y, 1e-9)


@pytest.mark.parametrize("case", ["sample without weight", "sample of one class", "sample of other rows"])
def test_misleading_sample_falls_back_to_every_row(case):
    # The sampled tiles (even tile indices at 70,000 rows) hold no weight, or
    # only one class's rows, or rows unlike the others: the fit still reaches
    # the optimum, with the Hessian of every row once the sample misleads.
    X, y = large_problem(2, seed=9)
    s = np.ones(y.shape[0])
    keep = sampled_rows(y.shape[0], 2)
    if case == "sample without weight":
        s[keep] = 0.0
    elif case == "sample of one class":
        order = np.argsort(y, kind="stable")
        X, y = X[order], y[order]
        y[keep] = 0
        y[np.setdiff1d(np.arange(y.shape[0]), keep)[::3]] = 1
    else:
        X[keep] *= 50.0
    reference = SklearnLR(C=1.0, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=s)
    ours = LogisticRegression(C=1.0, tol=1e-9, solver="newton-cholesky", max_iter=100).fit(X, y, sample_weight=s)
    f_ref = objective(X, y, s, reference.coef_, reference.intercept_, 1.0)
    f_ours = objective(X, y, s, ours.coef_, ours.intercept_, 1.0)
    assert f_ours <= f_ref * (1 + 1e-9) + 1e-9
    assert ours.n_iter_[0] < 15  # the sample of scaled rows alone would take over 30 steps


@numba.njit
def reuse_limit(fresh_ratio, n_rows, stored, n_outputs, p, tile_step):
    return _reuse_limit(fresh_ratio, n_rows, stored, n_outputs, p, tile_step)


def test_reuse_limit_weighs_a_hessian_against_a_pass():
    # A Hessian that costs many passes (many coefficients, every row) lets an
    # old factor go on at slower rates than one that costs a fraction of a pass
    # (few coefficients, a sampled Hessian); always within [REUSE, MAX_REUSE].
    n = 100_000
    expensive = reuse_limit(1e-3, n, n * 100, 1, 101, 1)
    sampled = reuse_limit(1e-3, n, n * 100, 1, 101, 3)
    cheap = reuse_limit(1e-3, 2_000_000, 2_000_000 * 20, 1, 21, 61)
    assert REUSE <= cheap < sampled < expensive <= MAX_REUSE
    assert cheap == REUSE
    # log(limit) = log(fresh ratio) P / (H + P): H ≈ 7 P for 1e5 × 100, every row
    hessian = 0.5 * n * 101**2 + 101**3 / 3
    passes = GRAM_PER_VALUE * n * 100
    assert expensive == pytest.approx(1e-3 ** (passes / (hessian + passes)), rel=1e-12)
    assert reuse_limit(0.0, n, n * 100, 1, 101, 1) == REUSE
    assert reuse_limit(0.9, n, n * 100, 1, 101, 1) == MAX_REUSE
    # k classes: k (k+1)/2 Gram products of (d+1)² / 2 and a (k (d+1))³ / 3 factorization
    three = reuse_limit(1e-8, n, n * 100, 3, 303, 1)
    hessian3 = 6 * 0.5 * n * 101**2 + 303**3 / 3
    assert REUSE < three < MAX_REUSE
    assert three == pytest.approx(1e-8 ** (3 * passes / (hessian3 + 3 * passes)), rel=1e-12)
