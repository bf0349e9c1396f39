"""SciPy's own ``jensenshannon`` tests, run against ``fastxent.jensenshannon``.

From ``scipy/spatial/tests/test_distance.py``:

* ``test_jensenshannon`` -- with the module's ``jensenshannon`` replaced;
* ``TestPdist.test_pdist_jensenshannon_{random,random_float32,random_nonC,
  iris,iris_float32,iris_nonC}`` -- against SciPy's stored distances, with
  ``pdist`` computing the ``'jensenshannon'`` metric as one
  ``fastxent.jensenshannon(P, Q, axis=1)`` call over all pairs of rows
  and ``'test_jensenshannon'`` (SciPy's Python path) as ``pdist`` with
  ``fastxent.jensenshannon`` as the metric function, both on the float64
  input ``pdist`` itself converts to;
* ``Test{Pdist,Cdist}.test_{pdist,cdist}_{calling_conventions,extra_args}``
  with ``metric="jensenshannon"`` -- these pass the metric as
  ``eval("jensenshannon")``, which resolves to fastxent's, and compare it
  with SciPy's compiled metric (same values, same exceptions).

SciPy's other ``jensenshannon`` mentions are tests that skip the metric
("not applicable": weights, immutable input).
"""

import itertools

import numpy as np
import pytest

scipy_tests = pytest.importorskip("scipy.spatial.tests.test_distance")

import scipy.spatial.distance  # noqa: E402

import fastxent  # noqa: E402

PDIST_TESTS = [
    "test_pdist_jensenshannon_random",
    "test_pdist_jensenshannon_random_float32",
    "test_pdist_jensenshannon_random_nonC",
    "test_pdist_jensenshannon_iris",
    "test_pdist_jensenshannon_iris_float32",
    "test_pdist_jensenshannon_iris_nonC",
]
METRIC_TESTS = [
    ("TestPdist", "test_pdist_calling_conventions"),
    ("TestPdist", "test_pdist_extra_args"),
    ("TestCdist", "test_cdist_calling_conventions"),
    ("TestCdist", "test_cdist_extra_args"),
]


def _counted(calls):
    def wrapper(*args, **kwargs):
        calls.append(1)
        return fastxent.jensenshannon(*args, **kwargs)

    return wrapper


def _pdist_with_fastxent(calls):
    scipy_pdist = scipy.spatial.distance.pdist

    def pdist(X, metric="euclidean", **kwargs):
        if metric == "jensenshannon":
            X = np.asarray(X, dtype=np.float64)
            i, j = zip(*itertools.combinations(range(X.shape[0]), 2))
            calls.append(1)
            return fastxent.jensenshannon(X[list(i)], X[list(j)], axis=1, **kwargs)
        if metric == "test_jensenshannon":
            return scipy_pdist(np.asarray(X, dtype=np.float64), metric=_counted(calls), **kwargs)
        return scipy_pdist(X, metric=metric, **kwargs)

    return pdist


def test_the_tests_exist():
    assert callable(scipy_tests.test_jensenshannon)
    for name in PDIST_TESTS:
        assert callable(getattr(scipy_tests.TestPdist, name))
    for cls, name in METRIC_TESTS:
        assert callable(getattr(getattr(scipy_tests, cls), name))


def test_scipy_test_jensenshannon(monkeypatch):
    calls = []
    monkeypatch.setattr(scipy_tests, "jensenshannon", _counted(calls))
    scipy_tests.test_jensenshannon()
    assert len(calls) >= 9


@pytest.mark.parametrize("name", PDIST_TESTS)
def test_scipy_pdist_jensenshannon(name, monkeypatch):
    calls = []
    monkeypatch.setattr(scipy_tests, "pdist", _pdist_with_fastxent(calls))
    suite = scipy_tests.TestPdist()
    suite.setup_method()
    getattr(suite, name)()
    assert calls


@pytest.mark.parametrize("cls, name", METRIC_TESTS)
def test_scipy_metric_conventions(cls, name, monkeypatch):
    calls = []
    monkeypatch.setattr(scipy_tests, "jensenshannon", _counted(calls))
    suite = getattr(scipy_tests, cls)()
    suite.setup_method()
    getattr(suite, name)("jensenshannon")
    assert calls
