"""fastxent.LogisticRegression, its solvers and its fused loss-and-gradient kernel."""

import inspect
import pickle
import warnings

import numba
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")

from scipy.special import logsumexp  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SklearnLR  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastxent  # noqa: E402
from fastxent import LogisticRegression  # noqa: E402
from fastxent._kernels.logistic import (  # noqa: E402
    PARALLEL_MIN_WORK,
    _blocks_per_chunk,
    binary_logistic_loss_grad_csr_serial,
    binary_logistic_loss_grad_serial,
    multinomial_logistic_loss_grad_csr_parallel,
    multinomial_logistic_loss_grad_csr_serial,
    multinomial_logistic_loss_grad_parallel,
    multinomial_logistic_loss_grad_serial,
)
from fastxent._solvers.fit import (  # noqa: E402
    BINARY_SOLVERS,
    fit_binary_logistic,
    fit_binary_logistic_csr,
    fit_multinomial_logistic,
    fit_multinomial_logistic_csr,
    thread_pool_used,
)
from fastxent._solvers.lbfgs import MAX_MEMORY, MIN_MEMORY, PAIR_BYTES, lbfgs_memory  # noqa: E402

SOLVERS = ("lbfgs", "gd", "newton-cholesky")


# ---------------------------------------------------------------- references


def reference_objective(X, y_index, sample_weight, coef, intercept, C):
    """C Σ s_i ℓ_i + ½‖W‖² in NumPy (binary when coef has one row)."""
    Z = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        z = Z[:, 0]
        losses = np.logaddexp(0.0, z) - y_index * z
    else:
        losses = logsumexp(Z, axis=1) - Z[np.arange(Z.shape[0]), y_index]
    return C * np.sum(sample_weight * losses) + 0.5 * np.sum(coef**2)


def reference_gradient(X, y_index, sample_weight, coef, intercept, C, fit_intercept):
    Z = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        R = (1.0 / (1.0 + np.exp(-Z[:, 0])) - y_index)[:, None]
    else:
        P = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
        R = P - np.eye(coef.shape[0])[y_index]
    R *= sample_weight[:, None]
    grad_w = C * np.asarray(X.T @ R).T + coef
    grad_b = C * R.sum(axis=0) if fit_intercept else np.zeros(coef.shape[0])
    return np.column_stack([grad_w, grad_b])


def make_problem(n_classes, n=600, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    y = rng.integers(0, n_classes, size=n)
    w = rng.uniform(0.1, 2.0, size=n)
    return X, y, w


def as_storage(X, storage):
    if storage == "C64":
        return np.ascontiguousarray(X)
    if storage == "F64":
        return np.asfortranarray(X)
    if storage == "C32":
        return np.ascontiguousarray(X, dtype=np.float32)
    return sparse.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))


# ----------------------------------------------------- fused kernel vs NumPy


@pytest.mark.parametrize("storage", ["C64", "F64", "C32", "CSR"])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_grad_kernel_matches_numpy(storage, n_classes, fit_intercept):
    X, y, w = make_problem(n_classes, n=5000)  # > one block of rows, parallel driver
    X = as_storage(X, storage)
    rng = np.random.default_rng(1)
    rows = 1 if n_classes == 2 else n_classes
    coef = rng.normal(size=(rows, X.shape[1] + 1))
    if not fit_intercept:
        coef[:, -1] = 0.0
    C = 3.0
    before = (X.copy(), y.copy(), w.copy(), coef.copy())
    grad = np.empty_like(coef)
    yf = y.astype(np.float64)
    if n_classes == 2:
        if storage == "CSR":
            value = binary_logistic_loss_grad_csr_serial(
                X.data, X.indices, X.indptr, yf, w, coef[0], C, fit_intercept, grad[0]
            )
        else:
            value = binary_logistic_loss_grad_serial(X, yf, w, coef[0], C, fit_intercept, grad[0])
    elif storage == "CSR":
        value = multinomial_logistic_loss_grad_csr_serial(
            X.data, X.indices, X.indptr, yf, w, coef, C, fit_intercept, grad
        )
    else:
        value = multinomial_logistic_loss_grad_serial(X, yf, w, coef, C, fit_intercept, grad)
    Xref = X.astype(np.float64)
    expected = reference_objective(Xref, y, w, coef[:, :-1], coef[:, -1], C)
    expected_grad = reference_gradient(Xref, y, w, coef[:, :-1], coef[:, -1], C, fit_intercept)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9, atol=1e-9 * np.abs(expected_grad).max())
    for got, orig in zip((X, y, w, coef), before):  # inputs untouched
        np.testing.assert_array_equal(
            got.toarray() if sparse.issparse(got) else got, orig.toarray() if sparse.issparse(orig) else orig
        )


@pytest.mark.parametrize("n_classes", [3, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_kernel_on_wide_rows_matches_numpy(n_classes, dtype):
    # 600 features span three feature blocks of the softmax logits and
    # gradient (the last one partial), classes go by pairs (and one alone
    # when k is odd), and 1003 rows end chunks with fewer than four rows.
    X, y, w = make_problem(n_classes, n=1003, d=600, seed=7)
    X = X.astype(dtype)
    coef = np.random.default_rng(8).normal(size=(n_classes, 601)) * 0.05
    yf = y.astype(np.float64)
    results = []
    for kernel in (multinomial_logistic_loss_grad_serial, multinomial_logistic_loss_grad_parallel):
        grad = np.empty_like(coef)
        results.append((kernel(X, yf, w, coef, 2.0, True, grad), grad))
    Xref = X.astype(np.float64)
    expected = reference_objective(Xref, y, w, coef[:, :-1], coef[:, -1], 2.0)
    expected_grad = reference_gradient(Xref, y, w, coef[:, :-1], coef[:, -1], 2.0, True)
    np.testing.assert_allclose(results[0][0], expected, rtol=1e-12)
    np.testing.assert_allclose(results[0][1], expected_grad, rtol=1e-9, atol=1e-9 * np.abs(expected_grad).max())
    assert results[0][0] == results[1][0]  # same blocks and order on the thread pool
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_gradient_matches_central_differences(n_classes):
    X, y, w = make_problem(n_classes, n=300, d=5, seed=3)
    rows = 1 if n_classes == 2 else n_classes
    coef = np.random.default_rng(4).normal(size=(rows, 6))
    yf = y.astype(np.float64)

    def value_and_grad(c):
        g = np.empty_like(c)
        if n_classes == 2:
            return binary_logistic_loss_grad_serial(X, yf, w, c[0], 0.7, True, g[0]), g
        return multinomial_logistic_loss_grad_serial(X, yf, w, c, 0.7, True, g), g

    _, grad = value_and_grad(coef)
    h = 1e-6
    numeric = np.empty_like(coef)
    for idx in np.ndindex(coef.shape):
        up, down = coef.copy(), coef.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (value_and_grad(up)[0] - value_and_grad(down)[0]) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_loss_grad_is_identical_for_any_thread_count():
    X, y, w = make_problem(3, n=60_000, d=6, seed=5)  # above PARALLEL_MIN_WORK
    coef = np.random.default_rng(6).normal(size=(3, 7))
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            grad = np.empty_like(coef)
            value = multinomial_logistic_loss_grad_parallel(X, y.astype(np.float64), w, coef, 1.0, True, grad)
            fit = LogisticRegression(tol=1e-10, max_iter=500).fit(X, y, sample_weight=w)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        results.append((value, grad, fit.coef_))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][2], results[1][2])


@numba.njit
def blocks_per_chunk(X, n, n_coef):
    return _blocks_per_chunk(X, n, n_coef)


def test_csr_chunks_share_gradients_and_match_numpy_for_any_thread_count():
    # 40,000 rows are 20 blocks: chunks of two blocks, one of them short
    n, k = 40_000, 3
    X, y, w = make_problem(k, n=n, d=6, seed=7)
    X = as_storage(X, "CSR")
    csr = (X.data, X.indices, X.indptr)
    coef = np.random.default_rng(8).normal(size=(k, 7))
    assert blocks_per_chunk(csr, n, coef.size) == 2
    # a 500,000 x 100,000 x 20-class gradient: 8 chunks of 16 MB, not one per block
    assert blocks_per_chunk(csr, 500_000, 20 * 100_001) == 31
    results = []
    for kernel, threads in [(multinomial_logistic_loss_grad_csr_serial, 1)] + [
        (multinomial_logistic_loss_grad_csr_parallel, threads) for threads in (1, 2)
    ]:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            grad = np.empty_like(coef)
            value = kernel(*csr, y.astype(np.float64), w, coef, 2.0, True, grad)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        results.append((value, grad))
    for value, grad in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])
    Xref = X.toarray()
    expected_grad = reference_gradient(Xref, y, w, coef[:, :-1], coef[:, -1], 2.0, True)
    np.testing.assert_allclose(
        results[0][0], reference_objective(Xref, y, w, coef[:, :-1], coef[:, -1], 2.0), rtol=1e-12
    )
    np.testing.assert_allclose(results[0][1], expected_grad, rtol=1e-9, atol=1e-9 * np.abs(expected_grad).max())


# ------------------------------------------------ parity with scikit-learn


def sklearn_objective(model, X, y, sample_weight, C):
    y_index = np.searchsorted(model.classes_, y)
    return reference_objective(X, y_index, sample_weight, model.coef_, model.intercept_, C)


def effective_weights(y, sample_weight, class_weight):
    from sklearn.utils.class_weight import compute_class_weight

    sw = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    if class_weight is None:
        return sw
    classes = np.unique(y)
    per_class = compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sample_weight)
    return sw * per_class[np.searchsorted(classes, y)]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighting", ["none", "sample_weight", "balanced"])
def test_parity_with_sklearn(solver, n_classes, C, fit_intercept, weighting):
    """The parity grid at CI size (bench/parity_logistic.py runs n=1e5, d=100)."""
    X, y = make_classification(
        n_samples=3000,
        n_features=20,
        n_informative=8,
        n_classes=n_classes,
        weights=None if n_classes > 2 else [0.7],
        random_state=int(C * 10) + n_classes,
    )
    sample_weight = (
        np.random.default_rng(0).uniform(0.2, 3.0, size=y.shape[0]) if weighting == "sample_weight" else None
    )
    class_weight = "balanced" if weighting == "balanced" else None
    params = dict(C=C, fit_intercept=fit_intercept, class_weight=class_weight, tol=1e-8)
    reference = SklearnLR(max_iter=10_000, **params).fit(X, y, sample_weight=sample_weight)
    ours = LogisticRegression(solver=solver, max_iter=20_000, **params).fit(X, y, sample_weight=sample_weight)
    s = effective_weights(y, sample_weight, class_weight)
    f_ref = sklearn_objective(reference, X, y, s, C)
    f_ours = sklearn_objective(ours, X, y, s, C)
    assert f_ours <= f_ref * (1 + 1e-6)
    assert abs(f_ours - f_ref) <= 1e-6 * f_ref
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-4)
    assert ours.coef_.shape == reference.coef_.shape
    assert ours.intercept_.shape == reference.intercept_.shape


def test_lbfgs_memory_follows_the_coefficient_count():
    widest = PAIR_BYTES // (16 * MAX_MEMORY)
    assert [lbfgs_memory(p) for p in (1, widest, widest + 1)] == [MAX_MEMORY, MAX_MEMORY, MIN_MEMORY]


@pytest.mark.parametrize("n_features", [2000, 40_000])
def test_lbfgs_reaches_sklearn_objective_with_long_and_short_memory(n_features):
    # 3 (2001) coefficients: 40 pairs; 3 (40,001): past PAIR_BYTES, 10 pairs.
    X = sparse.random(400, n_features, density=0.01, random_state=3, format="csr")
    y = np.random.default_rng(3).integers(0, 3, size=400)
    assert lbfgs_memory(3 * (n_features + 1)) == (MAX_MEMORY if n_features == 2000 else MIN_MEMORY)
    params = dict(C=10.0, tol=1e-8, max_iter=10_000)
    reference = SklearnLR(**params).fit(X, y)
    ours = LogisticRegression(solver="lbfgs", **params).fit(X, y)
    s = np.ones(y.shape[0])
    f_ref = sklearn_objective(reference, X, y, s, 10.0)
    f_ours = sklearn_objective(ours, X, y, s, 10.0)
    assert abs(f_ours - f_ref) <= 1e-6 * f_ref


@pytest.mark.parametrize("solver", SOLVERS)
def test_seed_example_matches_sklearn_log_loss(solver):
    """The README example."""
    X, y = make_classification(
        n_samples=1000, n_features=10, n_informative=5, n_redundant=0, n_clusters_per_class=1, random_state=42
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    ours = LogisticRegression(solver=solver, tol=1e-8).fit(X_train, y_train)
    reference = SklearnLR(tol=1e-8).fit(X_train, y_train)
    ours_loss = fastxent.log_loss(y_test, ours.predict_proba(X_test))
    reference_loss = sklearn.metrics.log_loss(y_test, reference.predict_proba(X_test))
    assert abs(ours_loss - reference_loss) <= 1e-6


@pytest.mark.parametrize("solver", SOLVERS)
def test_sparse_input_matches_dense(solver):
    X, y, w = make_problem(3, n=800, d=10, seed=7)
    X[np.abs(X) < 1.0] = 0.0
    dense = LogisticRegression(solver=solver, tol=1e-9, max_iter=5000).fit(X, y, sample_weight=w)
    csr = LogisticRegression(solver=solver, tol=1e-9, max_iter=5000).fit(sparse.csr_matrix(X), y, sample_weight=w)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(csr.predict_proba(sparse.csr_matrix(X)), dense.predict_proba(X), atol=1e-10)


def test_serial_fit_compiles_no_parallel_driver():
    """Below every pool threshold the estimator passes parallel=None, whose
    type prunes the parallel drivers when the solver is compiled."""
    X, y, _ = make_problem(2, n=800, d=6, seed=8)
    LogisticRegression(solver="lbfgs").fit(X, y)
    parallel_types = {sig[-1] for sig in BINARY_SOLVERS["lbfgs"].signatures}  # the binary fits' entry
    assert numba.types.none in parallel_types
    assert not thread_pool_used("lbfgs", 800, 6, 1, 800 * 6)
    assert thread_pool_used("lbfgs", PARALLEL_MIN_WORK, 1, 1, PARALLEL_MIN_WORK)
    assert not thread_pool_used("gd", 800, 6000, 5, 800 * 6000 // 1000)  # no preconditioner, few values
    assert not thread_pool_used("newton-cholesky", 800, 6, 1, 800 * 6)
    # Gram products on the pool from 2**23 multiply-adds (rows × padded²) on
    assert not thread_pool_used("newton-cholesky", 10_000, 20, 1, 10_000 * 20)  # 10,000 × 24²: one thread
    assert thread_pool_used("newton-cholesky", 20_000, 20, 1, 20_000 * 20)  # Gram chunks
    assert thread_pool_used("newton-cholesky", 2_000, 100, 1, 2_000 * 100)  # one chunk, its tiles split


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky"])
def test_binary_fit_compiles_no_softmax_kernel(solver, fresh_process):
    # In a fresh process with an empty cache: the binary entry passes the
    # solvers a literal 1, so the softmax blocks are never typed; a 3-class
    # fit then compiles them.
    script = f"""
import numpy as np
from fastxent import LogisticRegression
from fastxent._kernels import logistic
from fastxent._math import softmax
from fastxent._solvers import newton
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
model = LogisticRegression(solver={solver!r}).fit(X, y)
assert model.predict_proba(X).shape == (300, 2)
assert not logistic._multinomial_dense_rows.signatures
assert not softmax.softmax_row_loss_grad.signatures
assert not newton.row_probabilities.signatures
LogisticRegression(solver={solver!r}).fit(X, np.arange(300) % 3)
assert logistic._multinomial_dense_rows.signatures
print("ok")
"""
    assert fresh_process(script).strip() == "ok"


def test_read_only_input_runs_the_solver_compiled_for_writable_input():
    # pandas' copy-on-write arrays and memory maps are read-only: the estimator
    # hands its solver read-only views, so both kinds share one specialization.
    X, y, _ = make_problem(2, n=300, d=4, seed=9)
    csr = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    for data in (X, csr):
        writable = LogisticRegression().fit(data, y)
        compiled = len(BINARY_SOLVERS["lbfgs"].signatures)
        frozen = data.copy()
        for array in (frozen.data, frozen.indices, frozen.indptr) if sparse.issparse(frozen) else (frozen,):
            array.flags.writeable = False
        model = LogisticRegression().fit(frozen, y)
        assert len(BINARY_SOLVERS["lbfgs"].signatures) == compiled
        np.testing.assert_array_equal(model.coef_, writable.coef_)


def test_float32_input_fits_like_float64():
    X, y, _ = make_problem(2, n=800, d=6, seed=8)
    X32 = X.astype(np.float32)
    m32 = LogisticRegression(tol=1e-10, max_iter=1000).fit(X32, y)
    m64 = LogisticRegression(tol=1e-10, max_iter=1000).fit(X32.astype(np.float64), y)
    # the fit runs in float64 on the same values; the coefficients are then
    # rounded to float32, as scikit-learn keeps float32 data's dtype
    assert m32.coef_.dtype == np.float32
    np.testing.assert_array_equal(m32.coef_, m64.coef_.astype(np.float32))


# ------------------------------------------------ solvers as @njit kernels


@numba.njit
def _user_simulation(X, y, n_rounds):
    """A user's own compiled loop that refits both models every round."""
    n, d = X.shape
    sw = np.ones(n)
    coef = np.zeros(d + 1)
    total_iter = 0
    for r in range(n_rounds):
        coef, n_iter, converged, history = fit_binary_logistic(X, y, sw, coef, 1.0, True, 200, 1e-8, "lbfgs")
        total_iter += n_iter
        sw[r] += 1.0  # the simulation changes the data between refits
    coef_gd, n_iter_gd, converged_gd, _ = fit_binary_logistic(X, y, sw, np.zeros(d + 1), 1.0, True, 5000, 1e-8, "gd")
    # with two classes, softmax at C/2 is the binary model at C (W = (-w/2, w/2))
    coef_mn, _, converged_mn, _ = fit_multinomial_logistic(X, y, sw, np.zeros((2, d + 1)), 0.5, True, 5000, 1e-8, "gd")
    return coef, coef_gd, coef_mn, total_iter, converged and converged_gd and converged_mn, sw


@numba.njit(parallel=True)
def _user_parallel_driver(X, y):
    """A user's parallel @njit function calling the kernels outside its prange."""
    sw = np.ones(X.shape[0])
    k = 3
    coef0 = np.zeros((k, X.shape[1] + 1))
    coef, n_iter, converged, _ = fit_multinomial_logistic(X, y, sw, coef0, 1.0, True, 500, 1e-8, "lbfgs")
    scores = np.empty(X.shape[0])
    for i in numba.prange(X.shape[0]):
        scores[i] = X[i] @ coef[0, :-1] + coef[0, -1]
    return coef, converged, scores


def test_solvers_are_callable_from_user_njit_code():
    X, y, _ = make_problem(2, n=400, d=5, seed=9)
    yf = y.astype(np.float64)
    coef, coef_gd, coef_mn, total_iter, converged, sw = _user_simulation(X, yf, 3)
    assert converged and total_iter > 0
    reference = SklearnLR(tol=1e-10, max_iter=1000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(coef_gd[:-1], reference.coef_[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(coef_mn[1] - coef_mn[0], coef_gd, rtol=1e-5, atol=1e-6)

    X3, y3, _ = make_problem(3, n=500, d=4, seed=10)
    coef3, converged3, scores = _user_parallel_driver(X3, y3.astype(np.float64))
    assert converged3
    reference3 = SklearnLR(tol=1e-10, max_iter=1000).fit(X3, y3)
    np.testing.assert_allclose(coef3[:, :-1], reference3.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores, X3 @ coef3[0, :-1] + coef3[0, -1])


def test_csr_fit_kernels_match_dense_kernels():
    X, y, w = make_problem(3, n=300, d=6, seed=11)
    X[np.abs(X) < 0.8] = 0.0
    Xs = sparse.csr_matrix(X)
    yf = y.astype(np.float64)
    dense, _, _, _ = fit_multinomial_logistic(X, yf, w, np.zeros((3, 7)), 2.0, True, 1000, 1e-10, "lbfgs")
    csr, _, _, _ = fit_multinomial_logistic_csr(
        Xs.data, Xs.indices, Xs.indptr, yf, w, np.zeros((3, 7)), 2.0, True, 1000, 1e-10, "lbfgs"
    )
    np.testing.assert_allclose(csr, dense, rtol=1e-7, atol=1e-9)
    yb = (y == 1).astype(np.float64)
    dense_b, _, _, _ = fit_binary_logistic(X, yb, w, np.zeros(7), 2.0, False, 5000, 1e-10, "gd")
    csr_b, _, _, _ = fit_binary_logistic_csr(
        Xs.data, Xs.indices, Xs.indptr, yb, w, np.zeros(7), 2.0, False, 5000, 1e-10, "gd"
    )
    np.testing.assert_allclose(csr_b, dense_b, rtol=1e-7, atol=1e-9)
    assert csr_b[-1] == 0.0


# ------------------------------------------------------------- estimator


@pytest.mark.parametrize("solver", SOLVERS)
def test_estimator_api(solver):
    X, y, _ = make_problem(3, n=300, d=4, seed=12)
    labels = np.array(["ant", "bee", "cat"])[y]
    model = LogisticRegression(solver=solver, max_iter=2000).fit(X, labels)
    assert list(model.classes_) == ["ant", "bee", "cat"]
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    assert model.n_features_in_ == 4 and model.n_iter_.shape == (1,)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-12, atol=1e-14)
    assert set(model.predict(X)) <= set(model.classes_)
    assert model.score(X, labels) == np.mean(model.predict(X) == labels)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])

    binary = LogisticRegression(solver=solver).fit(X, y == 1)
    assert binary.coef_.shape == (1, 4) and binary.decision_function(X).shape == (300,)
    assert binary.predict_proba(X).shape == (300, 2)


def test_extreme_logits_give_finite_log_proba():
    X = np.array([[-1.0], [1.0], [-2.0], [2.0]])
    y = np.array([0, 1, 0, 1])
    model = LogisticRegression(C=1e6, max_iter=50).fit(X, y)
    far = np.array([[-1e4], [1e4]])
    log_proba = model.predict_log_proba(far)
    assert np.all(np.isfinite(log_proba)) and np.all(log_proba <= 0)
    np.testing.assert_allclose(model.predict_proba(far).sum(axis=1), 1.0)


def test_class_weight_dict_equals_sample_weight():
    X, y, _ = make_problem(2, n=400, d=3, seed=13)
    by_class = LogisticRegression(class_weight={0: 1.0, 1: 3.0}, tol=1e-10).fit(X, y)
    by_sample = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-8)


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_and_convergence_warning(solver):
    X, y, _ = make_problem(3, n=500, d=5, seed=14)
    model = LogisticRegression(solver=solver, max_iter=2, warm_start=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model.fit(X, y)
    assert model.n_iter_[0] == 2
    model.set_params(max_iter=5000, tol=1e-8)
    model.fit(X, y)
    cold = LogisticRegression(solver=solver, max_iter=5000, tol=1e-8).fit(X, y)
    assert model.n_iter_[0] < cold.n_iter_[0]
    np.testing.assert_allclose(model.predict_proba(X), cold.predict_proba(X), atol=1e-6)


def test_verbose_prints_objective_per_iteration(capsys):
    X, y, _ = make_problem(2, n=200, d=3, seed=15)
    model = LogisticRegression(verbose=1).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "objective" in line]
    assert len(lines) == model.n_iter_[0] + 1
    values = [float(line.split()[-1]) for line in lines]
    assert values[-1] <= values[0]
    LogisticRegression(verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(C=0.0), "C"),
        (dict(C=-1.0), "C"),
        (dict(C="1"), "C"),
        (dict(max_iter=-1), "max_iter"),
        (dict(max_iter=1.5), "max_iter"),
        (dict(tol=-1e-3), "tol"),
        (dict(solver="newton"), "solver"),
        (dict(class_weight="auto"), "class_weight"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(params, name):
    X, y, _ = make_problem(2, n=50, d=2)
    with pytest.raises(ValueError, match=name):
        LogisticRegression(**params).fit(X, y)


def test_bad_input_raises():
    X, y, _ = make_problem(2, n=50, d=2)
    with pytest.raises(ValueError, match="class"):
        LogisticRegression().fit(X, np.zeros(50))
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        LogisticRegression().fit(X, y, sample_weight=np.zeros(50))
    with pytest.raises(ValueError):
        LogisticRegression().fit(X, y[:-1])
    with pytest.raises(ValueError, match="features"):
        LogisticRegression().fit(X, y).predict(np.ones((3, 5)))


def test_read_only_inputs_are_accepted_and_untouched():
    X, y, w = make_problem(2, n=300, d=4, seed=16)
    for a in (X, y, w):
        a.setflags(write=False)
    model = LogisticRegression().fit(X, y, sample_weight=w)
    assert model.predict(X).shape == (300,)


def test_pipeline_gridsearch_cross_val_clone_pickle():
    X, y = make_classification(n_samples=300, n_features=6, n_classes=3, n_informative=4, random_state=0)
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.5
    search = GridSearchCV(
        pipe, {"logisticregression__C": [0.1, 1.0], "logisticregression__solver": list(SOLVERS)}, cv=3
    ).fit(X, y)
    assert search.best_params_["logisticregression__C"] in (0.1, 1.0)
    model = LogisticRegression(C=0.5, solver="gd").fit(X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "coef_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_get_set_params():
    model = LogisticRegression()
    # the drop-in constructor: scikit-learn's parameters, defaults and argument kinds
    assert model.get_params() == SklearnLR().get_params()
    assert inspect.signature(LogisticRegression) == inspect.signature(SklearnLR)
    assert model.set_params(C=2.0, solver="gd") is model and model.C == 2.0


def test_import_fastxent_does_not_import_sklearn():
    import subprocess
    import sys

    code = "import sys, fastxent; assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fastxent.LogisticRegression is LogisticRegression


def test_fit_from_a_cold_process_with_cached_kernels(tmp_path):
    """Solvers loaded from Numba's on-disk cache must start the thread pool
    before running (a cached caller of parallel code does not do it itself)."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, fastxent\n"
        "X = np.random.default_rng(0).normal(size=(40, 3)); y = np.arange(40) % 3\n"
        "print(fastxent.LogisticRegression(solver='gd').fit(X, y).n_iter_[0])\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert first.stdout == second.stdout
