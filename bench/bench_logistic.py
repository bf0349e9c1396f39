"""fit of fastxent.LogisticRegression (both solvers) vs scikit-learn.

Groups ``logistic-binary`` and ``logistic-5class``: make_classification with
d = 100 features and n = 100 000 samples at full size,
20 000 at "quick" and 500 x 20 at "smoke" (see bench/conftest.py).  Every
implementation minimises the same objective with C = 1 and tol = 1e-8
(scikit-learn's lbfgs, fastxent's lbfgs and gd);
``SGDClassifier(loss="log_loss")`` is shown for reference only (a different,
stochastic estimate of the same model).  Outside full size the fastxent fits
are checked against scikit-learn's objective (1e-6 relative).
"""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy.special import logsumexp  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402

from fastxent import LogisticRegression  # noqa: E402
from fastxent.benchmarks.references import lookup  # noqa: E402

SklearnLR = lookup("LogisticRegression", "scikit-learn")

SHAPES = {"full": (100_000, 100), "quick": (20_000, 100), "smoke": (500, 20)}
C = 1.0
TOL = 1e-8

IMPLEMENTATIONS = {
    "fastxent-lbfgs": lambda: LogisticRegression(C=C, tol=TOL, solver="lbfgs", max_iter=10_000),
    "fastxent-gd": lambda: LogisticRegression(C=C, tol=TOL, solver="gd", max_iter=50_000),
    "sklearn-lbfgs": lambda: SklearnLR(C=C, tol=TOL, max_iter=10_000),
    "sklearn-sgd": lambda: SGDClassifier(loss="log_loss", alpha=1.0, random_state=0),
}

_data = {}


def dataset(n_classes, size):
    key = (n_classes, size)
    if key not in _data:
        n, d = SHAPES[size]
        _data.clear()
        _data[key] = make_classification(
            n_samples=n, n_features=d, n_informative=d // 5, n_classes=n_classes, random_state=0
        )
    return _data[key]


def objective(model, X, y):
    Z = X @ model.coef_.T + model.intercept_
    y_index = np.searchsorted(model.classes_, y)
    if Z.shape[1] == 1:
        losses = np.logaddexp(0.0, Z[:, 0]) - y_index * Z[:, 0]
    else:
        losses = logsumexp(Z, axis=1) - Z[np.arange(Z.shape[0]), y_index]
    return C * losses.sum() + 0.5 * np.sum(model.coef_**2)


@pytest.mark.parametrize("impl", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("n_classes", [2, 5], ids=["binary", "5class"])
def test_logistic_fit(benchmark, bench_size, n_classes, impl):
    X, y = dataset(n_classes, bench_size)
    benchmark.group = f"logistic-{'binary' if n_classes == 2 else '5class'}"
    benchmark.extra_info.update(implementation=impl, size=bench_size, shape=list(X.shape), target_speedup=3.0)

    def fit():
        model = IMPLEMENTATIONS[impl]()
        if impl == "sklearn-sgd":  # alpha penalizes the mean loss: alpha = 1 / (C n)
            model.set_params(alpha=1.0 / (C * X.shape[0]))
        return model.fit(X, y)

    if bench_size == "smoke":
        model = benchmark.pedantic(fit, rounds=1, iterations=1)
    else:
        fit()  # warm-up: JIT compilation is not what we measure
        model = benchmark.pedantic(fit, rounds=3, iterations=1)
    benchmark.extra_info["objective"] = float(objective(model, X, y))
    if impl.startswith("fastxent") and bench_size != "full":
        reference = IMPLEMENTATIONS["sklearn-lbfgs"]().fit(X, y)
        f_ref = objective(reference, X, y)
        assert abs(objective(model, X, y) - f_ref) <= 1e-6 * f_ref
