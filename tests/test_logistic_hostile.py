"""fastxent.LogisticRegression and its solver kernels on hostile input: features
on extreme scales, extreme weights and C, float32 data, huge max_iter, invalid
parameters.  Each answer is scikit-learn's, a correct fit where scikit-learn
overflows, or a ConvergenceWarning with finite coefficients; never NaN."""

import warnings

import numba
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SklearnLR  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from fastxent import LogisticRegression  # noqa: E402
from fastxent._solvers.common import max_abs, new_history, norm2, record  # noqa: E402
from fastxent._solvers.fit import fit_binary_logistic, fit_multinomial_logistic  # noqa: E402
from fastxent._solvers.gd import gd_iterate  # noqa: E402

SOLVERS = ("lbfgs", "gd")


def problem(n_classes=2, n=300, d=4, seed=1):
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    return X, y


def fit_recording(model, X, y, **fit_params):
    """Fit and return the ConvergenceWarnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, **fit_params)
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def assert_finite_model(model):
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))


# ------------------------------------------------- features on extreme scales


@pytest.mark.parametrize("scale", [1e154, 1e155, 1e200])
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_gd_fits_hugely_scaled_features_like_scaled_ones(scale, storage):
    # At these scales the penalty on w ~ 1/scale is negligible: the answer is
    # scikit-learn's unpenalized fit of the unscaled data, divided by scale.
    # scikit-learn itself stops after 0 iterations with zero coefficients
    # and a ConvergenceWarning; gd warns too (its gradient, 1e154 times the
    # unscaled one, cannot meet tol) but fits.
    X, y = problem()
    reference = SklearnLR(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    big = X * scale
    big = sparse.csr_matrix(big) if storage == "csr" else big
    model = LogisticRegression(solver="gd")
    caught = fit_recording(model, big, y)
    assert caught, "a fit that does not meet tol must warn"
    assert_finite_model(model)
    np.testing.assert_allclose(model.coef_ * scale, reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(big), reference.predict(X))
    np.testing.assert_allclose(model.predict_proba(big), reference.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("scale", [1e154, 1e155, 1e200])
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_lbfgs_on_hugely_scaled_features_warns_like_sklearn(scale, storage):
    # scikit-learn/SciPy: the first (unit-length) step is far too long, the
    # line search gives up, ConvergenceWarning, zero coefficients.  At 1e155
    # fastxent used to report convergence after one iteration instead.
    X, y = problem()
    big = X * scale
    big = sparse.csr_matrix(big) if storage == "csr" else big
    reference = SklearnLR()
    with pytest.warns(ConvergenceWarning):
        reference.fit(big, y)
    model = LogisticRegression()
    with pytest.warns(ConvergenceWarning, match="stopped after 0 iterations"):
        model.fit(big, y)
    assert_finite_model(model)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.predict(big), reference.predict(big))


def test_one_huge_column_among_normal_ones():
    X, y = problem()
    huge = X.copy()
    huge[:, 1] *= 1e200
    reference = SklearnLR()
    with pytest.warns(ConvergenceWarning):
        reference.fit(huge, y)
    lbfgs = LogisticRegression()
    with pytest.warns(ConvergenceWarning):
        lbfgs.fit(huge, y)
    assert_finite_model(lbfgs)
    np.testing.assert_array_equal(lbfgs.predict(huge), reference.predict(huge))
    # gd: column 1 is effectively unpenalized, as after a (large) rescaling
    gd = LogisticRegression(solver="gd", max_iter=10_000)
    fit_recording(gd, huge, y)
    assert_finite_model(gd)
    rescaled = X.copy()
    rescaled[:, 1] *= 1e4
    expected = SklearnLR(tol=1e-12, max_iter=10_000).fit(rescaled, y)
    np.testing.assert_allclose(gd.coef_ * [1, 1e200, 1, 1], expected.coef_ * [1, 1e4, 1, 1], rtol=1e-5)
    assert gd.score(huge, y) >= reference.score(huge, y)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", [1e-154, 1e-300])
def test_tiny_feature_scales_match_sklearn(solver, scale):
    X, y = problem()
    reference = SklearnLR().fit(X * scale, y)
    model = LogisticRegression(solver=solver)
    assert not fit_recording(model, X * scale, y)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-4)
    np.testing.assert_array_equal(model.predict(X * scale), reference.predict(X * scale))
    np.testing.assert_allclose(model.predict_proba(X * scale), reference.predict_proba(X * scale), atol=1e-4)


def test_multinomial_gd_on_huge_scale():
    X, _ = problem()
    y = np.arange(X.shape[0]) % 3
    reference = SklearnLR(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    model = LogisticRegression(solver="gd", max_iter=2000)
    assert fit_recording(model, X * 1e154, y)
    np.testing.assert_allclose(model.predict_proba(X * 1e154), reference.predict_proba(X), atol=1e-6)


# ------------------------------------------- the solver kernels, hostile input


def kernel_cases():
    X, y = problem(n=200)
    ones = np.ones(200)
    return {
        "X 1e306": (X * 1e306, ones),  # the gradient's sums overflow
        "NaN in X": (np.where(X > 1.0, np.nan, X), ones),
        "subnormal weights": (X, np.full(200, 1e-320)),  # 1 / Σ s_i = inf
        "weights summing to inf": (X, np.full(200, 1e307)),  # 1 / Σ s_i = 0
    }, y.astype(np.float64)


@pytest.mark.parametrize("case", ["X 1e306", "NaN in X", "subnormal weights", "weights summing to inf"])
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_binary_kernels_never_return_nan(case, solver):
    cases, y = kernel_cases()
    X, w = cases[case]
    coef, n_iter, converged, history = fit_binary_logistic(X, y, w, np.zeros(5), 1.0, True, 1000, 1e-6, solver)
    assert np.all(np.isfinite(coef))
    assert history.shape == (n_iter + 1,)
    if case == "X 1e306" and solver == "gd":
        # gd still fits (rescaled preconditioner), without meeting tol
        assert not converged and history[-1] < history[0]
    else:
        assert (n_iter, converged) == (0, False)
        np.testing.assert_array_equal(coef, 0.0)


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_multinomial_kernels_never_return_nan(solver):
    X, _ = problem(n=200)
    y = (np.arange(200) % 3).astype(np.float64)
    coef, n_iter, converged, _ = fit_multinomial_logistic(
        X * 1e200, y, np.ones(200), np.zeros((3, 5)), 1.0, True, 50, 1e-6, solver
    )
    assert np.all(np.isfinite(coef)) and not converged and n_iter <= 50


@numba.njit
def binary_gd_iterate(X, y, w, coef):
    """Plain gradient steps for the binary model (whose n_outputs is the constant 1)."""
    return gd_iterate(X, y, w, 1, 1.0, True, 1000, 1e-6, coef, False, False)


def test_gd_without_preconditioner_stops_when_the_line_search_fails():
    # plain gradient steps at 1e154: every trial overflows the objective until
    # the line search gives up; it used to take the last (infinite) trial
    X, y = problem(n=200)
    coef = np.zeros(5)
    n_iter, converged, history = binary_gd_iterate(X * 1e154, y.astype(np.float64), np.ones(200), coef)
    assert not converged and n_iter < 1000
    assert np.all(np.isfinite(coef)) and history[-1] <= history[0]


def test_max_abs_propagates_nan_and_norm2_does_not_overflow():
    assert np.isnan(max_abs(np.array([1.0, np.nan, 2.0])))
    assert np.isnan(max_abs(np.array([np.nan, 0.5])))
    assert max_abs(np.array([-3.0, 2.0])) == 3.0
    v = np.array([3e200, 4e200])
    assert norm2(v) == pytest.approx(5e200, rel=1e-15)
    assert norm2(np.zeros(3)) == 0.0


# ------------------------------------------------------------------ float32


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_dtype_match(solver, fit_intercept, storage):
    # scikit-learn's own test_dtype_match, on its X and Y1
    X = np.array([[-1, 0], [0, 1], [1, 1]])
    Y1 = [0, 1, 1]
    make = sparse.csr_matrix if storage == "csr" else np.asarray
    X_32, X_64 = make(X.astype(np.float32)), make(X.astype(np.float64))
    y_32, y_64 = np.array(Y1, dtype=np.float32), np.array(Y1, dtype=np.float64)
    template = LogisticRegression(solver=solver, tol=5e-4, fit_intercept=fit_intercept)
    lr_32 = clone(template).fit(X_32, y_32)
    lr_64 = clone(template).fit(X_64, y_64)
    reference_32 = SklearnLR(tol=5e-4, fit_intercept=fit_intercept).fit(X_32, y_32)
    assert lr_32.coef_.dtype == lr_32.intercept_.dtype == reference_32.coef_.dtype == np.float32
    assert lr_64.coef_.dtype == lr_64.intercept_.dtype == np.float64
    np.testing.assert_allclose(lr_32.coef_, lr_64.coef_.astype(np.float32), atol=2 * 1.72 * 5e-4)
    for method in ("decision_function", "predict_proba", "predict_log_proba"):
        ours = getattr(lr_32, method)(X_32)
        assert ours.dtype == getattr(reference_32, method)(X_32).dtype == np.float32, method
        np.testing.assert_allclose(ours, getattr(lr_64, method)(X_64), rtol=1e-5, atol=1e-6)
        # a float64 X on a float32 model gives float64, as numpy's promotion does in scikit-learn
        assert getattr(lr_32, method)(X_64).dtype == getattr(reference_32, method)(X_64).dtype == np.float64


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_multinomial_matches_float64_to_float32_precision(solver):
    X, _ = problem(n=400, d=6, seed=8)
    y = np.arange(400) % 3
    m32 = LogisticRegression(solver=solver, tol=1e-10, max_iter=2000).fit(X.astype(np.float32), y)
    m64 = LogisticRegression(solver=solver, tol=1e-10, max_iter=2000).fit(X.astype(np.float32).astype(np.float64), y)
    assert m32.coef_.dtype == np.float32 and m32.predict_proba(X.astype(np.float32)).dtype == np.float32
    # the fit runs in float64 on the same values: only the final rounding differs
    np.testing.assert_array_equal(m32.coef_, m64.coef_.astype(np.float32))
    np.testing.assert_array_equal(m32.intercept_, m64.intercept_.astype(np.float32))


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_across_dtypes(solver):
    X, y = problem(n=300, seed=3)
    cold32 = LogisticRegression(solver=solver, tol=1e-8, max_iter=1000).fit(X.astype(np.float32), y)
    warm = LogisticRegression(solver=solver, tol=1e-8, max_iter=1000, warm_start=True)
    warm.fit(X, y)
    warm.fit(X.astype(np.float32), y)
    assert warm.coef_.dtype == np.float32
    np.testing.assert_allclose(warm.coef_, cold32.coef_, rtol=1e-4, atol=1e-5)
    warm.fit(X, y)  # back to float64 from float32 coefficients
    assert warm.coef_.dtype == np.float64
    assert_finite_model(warm)


# ----------------------------------------------------------------- max_iter


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("max_iter", [4_000_000_000, 10**20, np.uint64(2**64 - 1), np.iinfo(np.int64).max])
def test_huge_max_iter_fits(solver, max_iter):
    # scikit-learn fits these in a few iterations; a history of max_iter + 1
    # floats used to be preallocated (MemoryError / OverflowError)
    X, y = problem()
    expected = LogisticRegression(solver=solver).fit(X, y)
    model = LogisticRegression(solver=solver, max_iter=max_iter)
    assert not fit_recording(model, X, y)
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    assert model.n_iter_[0] == expected.n_iter_[0] < 100


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_kernel_history_with_max_iter_2_to_the_62(solver):
    X, y = problem(n=200)
    yf = y.astype(np.float64)
    _, n_iter, _, history = fit_binary_logistic(X, yf, np.ones(200), np.zeros(5), np.inf, True, 2**62, 0.0, solver)
    assert history.shape == (n_iter + 1,) and np.all(np.isfinite(history))
    _, _, _, bounded = fit_binary_logistic(X, yf, np.ones(200), np.zeros(5), np.inf, True, 500, 0.0, solver)
    np.testing.assert_array_equal(history, bounded[: n_iter + 1])
    if solver == "gd":  # tol = 0: gd runs into its stall rule, past the first buffer
        assert n_iter > 64


def test_history_buffer_doubles_and_keeps_its_values():
    history = new_history(2**62)
    for n in range(200):
        history = record(history, n, float(n))
    np.testing.assert_array_equal(history[:200], np.arange(200.0))
    assert new_history(0).shape == (1,) and new_history(3).shape == (4,)


@pytest.mark.parametrize("scale", [1.0, 1e154])
def test_tol_zero_with_unbounded_max_iter_terminates(scale):
    # lbfgs stops on SciPy's relative-decrease rule, as scikit-learn does;
    # gd on its stall rule, with a warning (tol = 0 is never met)
    X, y = problem()
    reference = SklearnLR(tol=0).fit(X, y)
    gd = LogisticRegression(solver="gd", tol=0, max_iter=10**20)
    with pytest.warns(ConvergenceWarning, match="stopped after"):
        gd.fit(X * scale, y)
    assert gd.n_iter_[0] < 5000
    np.testing.assert_array_equal(gd.predict(X * scale), reference.predict(X))
    if scale == 1.0:
        np.testing.assert_allclose(gd.coef_, reference.coef_, rtol=1e-6)
        lbfgs = LogisticRegression(tol=0, max_iter=10**20)
        assert not fit_recording(lbfgs, X, y)
        np.testing.assert_allclose(lbfgs.coef_, reference.coef_, rtol=1e-6)


# ------------------------------------------------------ parameter validation


@pytest.mark.parametrize(
    "params",
    [
        dict(max_iter=1.5),
        dict(max_iter=-1),
        dict(max_iter=1.0),
        dict(max_iter="10"),
        dict(max_iter=None),
        dict(tol=np.inf),
        dict(tol=np.nan),
        dict(tol=-1.0),
        dict(C=0),
        dict(C=np.nan),
        dict(C=-1.0),
        dict(C="1"),
        dict(fit_intercept="no"),
        dict(warm_start="yes"),
        dict(verbose=-1),
        dict(class_weight="auto"),
        dict(class_weight=[1, 2]),
    ],
)
def test_invalid_parameters_raise_sklearns_error(params):
    X, y = problem(n=50)
    with pytest.raises(InvalidParameterError) as expected:
        SklearnLR(**params).fit(X, y)
    with pytest.raises(InvalidParameterError) as ours:
        LogisticRegression(**params).fit(X, y)
    assert str(ours.value) == str(expected.value)
    assert isinstance(ours.value, ValueError)


@pytest.mark.parametrize(
    "params", [dict(max_iter=True), dict(C=True), dict(tol=True), dict(max_iter=np.int8(3)), dict(C=np.float32(0.5))]
)
def test_parameters_sklearn_accepts_are_accepted(params):
    X, y = problem(n=100)
    reference = SklearnLR(**params)
    ours = LogisticRegression(**params)
    assert bool(fit_recording(reference, X, y)) == bool(fit_recording(ours, X, y))
    np.testing.assert_array_equal(ours.predict(X), reference.predict(X))


# ------------------------------------------------------ weights, C, X variants


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "sample_scale, class_weight",
    [
        (1e306, None),
        (1.0, {0: 1e308, 1: 1e308}),
        (1e300, {0: 1e300, 1: 1e300}),
        (1e-300, None),
        (1e-160, {0: 1e-160, 1: 1e-160}),
    ],
)
def test_extreme_weights_fit_the_same_objective(solver, sample_scale, class_weight):
    # C Σ s_i ℓ_i + ½‖w‖² with every s_i = k is the unweighted objective at C·k;
    # scikit-learn overflows Σ s_i (zero coefficients, RuntimeWarnings)
    X, y = problem()
    k = sample_scale * (1.0 if class_weight is None else class_weight[0])
    expected = LogisticRegression(solver=solver, C=k, tol=1e-8, max_iter=1000)
    expected_warned = fit_recording(expected, X, y)
    model = LogisticRegression(solver=solver, tol=1e-8, max_iter=1000, class_weight=class_weight)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, sample_weight=np.full(X.shape[0], sample_scale))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert bool(expected_warned) == any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert_finite_model(model)
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-6, atol=1e-9 * np.abs(expected.coef_).max())
    np.testing.assert_allclose(model.intercept_, expected.intercept_, atol=1e-6)  # tol = 1e-8


def test_weight_normalization_leaves_ordinary_fits_unchanged():
    # the weights are rescaled by a power of four: every rounding is the same
    X, y = problem()
    w = np.random.default_rng(0).uniform(0.2, 3.0, size=X.shape[0])
    for solver in SOLVERS:
        a = LogisticRegression(solver=solver, tol=1e-10).fit(X, y, sample_weight=w)
        b = LogisticRegression(solver=solver, tol=1e-10, C=4.0**3).fit(X, y, sample_weight=w / 4.0**3)
        np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("C", [1e-308, 1e-320])
def test_vanishing_C_is_finite_and_honest(solver, C):
    # scikit-learn stops at zero coefficients (intercept 0, no warning); here
    # gd fits the intercept (w ≈ 0) and lbfgs warns that it stopped
    X, y = problem()
    model = LogisticRegression(solver=solver, C=C)
    caught = fit_recording(model, X, y)
    assert_finite_model(model)
    assert np.all(np.abs(model.coef_) < 1e-290)
    if not caught:
        p = y.mean()
        np.testing.assert_allclose(model.intercept_, np.log(p / (1 - p)), atol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("C", [np.inf, 1e308])
def test_no_penalty_matches_sklearn(solver, C):
    X, y = problem()
    reference = SklearnLR(C=C, tol=1e-10, max_iter=1000).fit(X, y)
    model = LogisticRegression(solver=solver, C=C, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_big_endian_and_masked_X_fit_like_native(solver):
    X, y = problem()
    native = LogisticRegression(solver=solver).fit(X, y)
    for variant in (X.astype(">f8"), np.ma.masked_array(X, mask=X > 1.0)):
        model = LogisticRegression(solver=solver).fit(variant, y)
        np.testing.assert_array_equal(model.coef_, native.coef_)
        np.testing.assert_array_equal(model.predict_proba(variant), native.predict_proba(X))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "name", ["one sample per class", "one per class, 3 classes", "constant features", "zero features"]
)
def test_degenerate_data_matches_sklearn(solver, name):
    X, y = problem()
    X, y = {
        "one sample per class": (X[:2], np.array([0, 1])),
        "one per class, 3 classes": (X[:3], np.array([0, 1, 2])),
        "constant features": (np.ones_like(X), y),
        "zero features": (np.zeros_like(X), y),
    }[name]
    reference = SklearnLR(tol=1e-10, max_iter=1000).fit(X, y)
    model = LogisticRegression(solver=solver, tol=1e-10, max_iter=5000).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, -2, 3, 7], dtype=np.int8),
        np.array([2**64 - 1, 2**64 - 3, 2**64 - 1, 5], dtype=np.uint64),  # a span beyond any table
        np.array([2**64 - 1, 2**64 - 3, 2**64 - 1, 2**64 - 2], dtype=np.uint64),
        np.array([-(2**63), 2**63 - 1, -(2**63), 0], dtype=np.int64),  # the span overflows int64
        np.array([-(2**63), -(2**63) + 2, -(2**63) + 1, -(2**63)], dtype=np.int64),
        np.array([10**9, 0, 10**9, 1], dtype=np.int32),
        np.array([1, 0, 1, 0], dtype=np.uint16),
        np.array([5, 3, 5, 9], dtype=">i8"),  # big-endian: classes_ keep the byte order, as np.unique's
    ],
    ids=lambda labels: f"{labels.dtype}:{labels.min()}..{labels.max()}",
)
def test_integer_labels_at_every_width_and_extreme_fit_like_their_ranks(labels):
    """Integer classes are found without sorting when their span is small:
    the classes (values and dtype) and the fit are those of the labels' ranks."""
    X, _ = problem(n=400)
    y = np.resize(labels, X.shape[0])
    ranks = np.unique(y, return_inverse=True)[1]
    model = LogisticRegression().fit(X, y)
    by_rank = LogisticRegression().fit(X, ranks)
    assert model.classes_.dtype == y.dtype
    np.testing.assert_array_equal(model.classes_, np.unique(y))
    np.testing.assert_array_equal(model.coef_, by_rank.coef_)
    np.testing.assert_array_equal(model.predict(X), np.unique(y)[by_rank.predict(X)])


def test_target_errors_are_sklearns():
    X, _ = problem(n=6)
    for y in (np.array([0.5, 1.0, 0.5, 1.5, 0.5, 1.0]), np.array([4, 4, 4, 4, 4, 4])):
        with pytest.raises(ValueError) as expected:
            SklearnLR().fit(X, y)
        with pytest.raises(ValueError) as ours:
            LogisticRegression().fit(X, y)
        assert str(ours.value) == str(expected.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X_raises_sklearns_error(bad):
    X, y = problem(n=50)
    X[3, 1] = bad
    with pytest.raises(ValueError) as expected:
        SklearnLR().fit(X, y)
    with pytest.raises(ValueError) as ours:
        LogisticRegression().fit(X, y)
    assert str(ours.value) == str(expected.value)


# X @ coef overflows in NumPy's matmul for 1e308 features, scikit-learn's and ours alike
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_overflowing_logits_at_predict_time_give_the_limits(solver):
    # features near 1e308 make the logits ±inf: scikit-learn's binary model
    # answers 0/1 (it used to be NaN here); its softmax answers NaN, the limit
    # is all the probability on the +inf class
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    far = np.array([[1e308, 0.0], [-1e308, 0.0], [0.5, 0.5]])
    binary_y = (X[:, 0] > 0).astype(int)
    ours = LogisticRegression(solver=solver).fit(X, binary_y)
    reference = SklearnLR().fit(X, binary_y)
    np.testing.assert_array_equal(ours.predict_proba(far)[:2], reference.predict_proba(far)[:2])
    np.testing.assert_array_equal(ours.predict_log_proba(far)[:2], reference.predict_log_proba(far)[:2])
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    ours = LogisticRegression(solver=solver).fit(X, y)
    reference = SklearnLR().fit(X, y)
    assert np.all(np.isinf(ours.decision_function(far)[:2].max(axis=1)))
    proba = ours.predict_proba(far)
    np.testing.assert_array_equal(proba[:2], [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(proba[2], reference.predict_proba(far[2:])[0], atol=1e-3)
    np.testing.assert_array_equal(ours.predict(far), reference.predict(far))
    assert ours.predict_log_proba(far[2:].astype(np.float32)).dtype == np.float64  # float64 model
    ties = ours.predict_log_proba(np.array([[0.0, 0.0]]))  # unaffected finite rows
    np.testing.assert_allclose(np.exp(ties).sum(), 1.0)


@pytest.mark.parametrize("class_weight", [{0: np.inf, 1: 1.0}, {0: np.nan, 1: 1.0}])
def test_non_finite_class_weight_is_a_clear_error(class_weight):
    # scikit-learn stops at zero coefficients with a ConvergenceWarning
    X, y = problem(n=50)
    with pytest.raises(ValueError, match="class_weight must give finite weights"):
        LogisticRegression(class_weight=class_weight).fit(X, y)


def test_balanced_with_a_class_of_zero_total_weight_is_a_clear_error():
    X, y = problem(n=50)
    with pytest.raises(ValueError, match="class_weight"):
        LogisticRegression(class_weight="balanced").fit(X, y, sample_weight=(y == 1) * 1.0)


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_kernels_with_max_iter_zero_or_negative_return_the_start(solver):
    X, y = problem(n=100)
    for max_iter in (0, -5):
        coef, n_iter, converged, history = fit_binary_logistic(
            X, y.astype(np.float64), np.ones(100), np.zeros(5), 1.0, True, max_iter, 1e-4, solver
        )
        assert (n_iter, converged, history.shape) == (0, False, (1,))
        np.testing.assert_array_equal(coef, 0.0)


def one_class_problem(seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    coef = rng.normal(size=(1, 4))
    return X, np.zeros(40), rng.uniform(0.5, 2.0, size=40), coef


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("threads", ["serial", "parallel"])
def test_one_class_softmax_loss_is_the_penalty_alone(storage, threads):
    """A softmax of one class gives it probability 1 for any logits (torch's
    cross entropy is 0), so the multinomial objective is ½‖w‖², not the
    binary model's loss."""
    import torch

    from fastxent import kernels

    X, y, w, coef = one_class_problem()
    logits = torch.tensor(X @ coef[0, :3] + coef[0, 3])[:, None]
    assert torch.nn.functional.cross_entropy(logits, torch.zeros(40, dtype=torch.long), reduction="sum") == 0
    grad = np.full_like(coef, np.nan)
    if storage == "dense":
        kernel = getattr(kernels, f"multinomial_logistic_loss_grad_{threads}")
        value = kernel(X, y, w, coef, 10.0, True, grad)
    else:
        Xs = sparse.csr_matrix(X)
        kernel = getattr(kernels, f"multinomial_logistic_loss_grad_csr_{threads}")
        value = kernel(Xs.data, Xs.indices, Xs.indptr, y, w, coef, 10.0, True, grad)
    assert value == pytest.approx(0.5 * np.sum(coef[0, :3] ** 2), rel=1e-15)
    np.testing.assert_array_equal(grad, [[*coef[0, :3], 0.0]])


@pytest.mark.parametrize("solver", ["lbfgs", "gd", "newton-cholesky"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_class_multinomial_fit_is_zero_weights_and_the_starting_intercept(solver, fit_intercept):
    from fastxent import kernels

    X, y, w, coef0 = one_class_problem()
    Xs = sparse.csr_matrix(X)
    fits = [
        kernels.fit_multinomial_logistic(X, y, w, coef0, 1.0, fit_intercept, 100, 1e-8, solver),
        kernels.fit_multinomial_logistic_csr(
            Xs.data, Xs.indices, Xs.indptr, y, w, coef0, 1.0, fit_intercept, 100, 1e-8, solver
        ),
    ]
    # The history is in the solvers' scaling, F / (C Σ s_i), as for any fit.
    start = 0.5 * np.sum(coef0[0, :3] ** 2) / w.sum()
    for coef, n_iter, converged, history in fits:
        np.testing.assert_array_equal(coef, [[0.0, 0.0, 0.0, coef0[0, 3] if fit_intercept else 0.0]])
        assert (n_iter, converged) == (1, True)
        np.testing.assert_allclose(history, [start, 0.0], rtol=1e-14)
    coef, n_iter, converged, history = kernels.fit_multinomial_logistic(
        X, y, w, np.empty((0, 0)), 1.0, True, 100, 1e-8, solver
    )
    np.testing.assert_array_equal(coef, np.zeros((1, 4)))
    assert (n_iter, converged, history.tolist()) == (0, True, [0.0])


@pytest.mark.parametrize("solver", ["lbfgs", "gd", "newton-cholesky"])
def test_one_class_multinomial_fit_without_penalty_or_iterations_keeps_the_start(solver):
    from fastxent import kernels

    X, y, w, coef0 = one_class_problem()
    # No penalty: the objective is 0 everywhere, so the start is a minimizer.
    coef, n_iter, converged, history = kernels.fit_multinomial_logistic(X, y, w, coef0, np.inf, True, 100, 1e-8, solver)
    np.testing.assert_array_equal(coef, coef0)
    assert (n_iter, converged, history.tolist()) == (0, True, [0.0])
    # No iterations allowed: the start, not converged, as every solver returns it.
    for max_iter in (0, -5):
        coef, n_iter, converged, history = kernels.fit_multinomial_logistic(
            X, y, w, coef0, 1.0, True, max_iter, 1e-8, solver
        )
        np.testing.assert_array_equal(coef, coef0)
        assert (n_iter, converged, history.shape) == (0, False, (1,))
