"""fastxent.LogisticRegression's drop-in constructor against scikit-learn 1.9's.

Every parameter of scikit-learn's ``LogisticRegression`` is accepted and
validated with scikit-learn's messages; the penalty parameters give
scikit-learn's warnings and, for what is not fitted here (L1, elastic net,
the dual problem), a ``ValueError`` that starts with scikit-learn's lbfgs
message; the parameters without effect leave the coefficients bit for bit
unchanged.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy import sparse  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SklearnLR  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from fastxent import LogisticRegression  # noqa: E402
from fastxent._solvers.fit import choose_solver  # noqa: E402

X, y = make_classification(n_samples=60, n_features=3, n_informative=2, n_redundant=0, random_state=3)


def fit_warnings(model):
    """(category, message) of every warning the fit issues, ConvergenceWarning aside."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [(w.category, str(w.message)) for w in record if w.category is not ConvergenceWarning]


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty="l3"),
        dict(penalty="deprecated "),
        dict(l1_ratio=1.5),
        dict(l1_ratio="0"),
        dict(dual="no"),
        dict(intercept_scaling=0),
        dict(intercept_scaling=-1.0),
        dict(random_state="seed"),
        dict(n_jobs=1.5),
    ],
)
def test_invalid_new_parameters_raise_sklearns_error(params):
    with pytest.raises(InvalidParameterError) as expected:
        SklearnLR(**params).fit(X, y)
    with pytest.raises(InvalidParameterError) as ours:
        LogisticRegression(**params).fit(X, y)
    assert str(ours.value) == str(expected.value)


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty="l2"),
        dict(penalty=None),
        dict(penalty=None, C=2.0),
        dict(penalty="l2", l1_ratio=0.5),
        dict(l1_ratio=None),
        dict(l1_ratio=0.5, C=np.inf),
        dict(l1_ratio=1, C=np.inf),
        dict(n_jobs=1),
        dict(C=np.inf),
    ],
)
def test_penalty_parameters_warn_and_fit_as_in_sklearn(params):
    tight = dict(tol=1e-10, max_iter=1000)
    reference, ours = SklearnLR(**params, **tight), LogisticRegression(**params, **tight)
    assert fit_warnings(ours) == fit_warnings(reference)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, rtol=1e-5, atol=1e-7)


@pytest.mark.filterwarnings("ignore:'penalty' was deprecated:FutureWarning")
@pytest.mark.parametrize(
    "params", [dict(l1_ratio=1), dict(l1_ratio=0.5), dict(penalty="l1"), dict(penalty="elasticnet", l1_ratio=0.5)]
)
def test_l1_and_elastic_net_raise_naming_the_alternative(params):
    with pytest.raises(ValueError) as expected:
        SklearnLR(**params).fit(X, y)
    with pytest.raises(ValueError, match="solver='saga'") as ours:
        LogisticRegression(**params).fit(X, y)
    assert str(ours.value).startswith(str(expected.value))


def test_dual_raises_like_sklearn():
    with pytest.raises(ValueError) as expected:
        SklearnLR(dual=True).fit(X, y)
    with pytest.raises(ValueError) as ours:
        LogisticRegression(dual=True).fit(X, y)
    assert str(ours.value).startswith(str(expected.value))


@pytest.mark.parametrize("params", [dict(intercept_scaling=1e4), dict(random_state=0), dict(random_state=7)])
def test_parameters_without_effect_leave_the_fit_unchanged(params):
    baseline = LogisticRegression().fit(X, y)
    model = LogisticRegression(**params).fit(X, y)
    np.testing.assert_array_equal(model.coef_, baseline.coef_)
    np.testing.assert_array_equal(model.intercept_, baseline.intercept_)


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_auto_runs_the_chosen_solver(storage):
    X_fit = sparse.csr_matrix(X) if storage == "csr" else X
    chosen = choose_solver(X.shape[0], X.shape[1], 2, storage == "csr", 1.0)
    auto = LogisticRegression(solver="auto").fit(X_fit, y)
    explicit = LogisticRegression(solver=chosen).fit(X_fit, y)
    assert auto.solver_ == chosen and explicit.solver_ == chosen
    np.testing.assert_array_equal(auto.coef_, explicit.coef_)


def test_int64_csr_indices_fit_as_int32():
    X_csr = sparse.csr_matrix(X)
    wide = X_csr.copy()
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    np.testing.assert_array_equal(LogisticRegression().fit(wide, y).coef_, LogisticRegression().fit(X_csr, y).coef_)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_outputs_have_sklearns_dtypes(n_classes):
    X32, y3 = X.astype(np.float32), np.arange(60) % n_classes
    reference, ours = SklearnLR(tol=1e-10).fit(X32, y3), LogisticRegression(tol=1e-10).fit(X32, y3)
    for method in ("decision_function", "predict_proba", "predict_log_proba"):
        expected = getattr(reference, method)(X32)
        got = getattr(ours, method)(X32)
        assert got.dtype == expected.dtype == np.float32, method
        # scikit-learn evaluates a float32 fit's loss in float32, fastxent in float64
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)
    assert ours.coef_.dtype == ours.intercept_.dtype == np.float32
    assert ours.score(X32, y3) == reference.score(X32, y3)
