"""scikit-learn's own log-loss tests, run against fastxent.

Imports ``sklearn/metrics/tests/test_classification.py``, picks every test
whose name contains ``log_loss`` (``test_log_loss*`` and
``test_d2_log_loss_score*``), expands their ``pytest.mark.parametrize``
marks and runs each with the module globals ``log_loss`` and
``d2_log_loss_score`` replaced by fastxent's.  Nothing is skipped or
expected to fail.
"""

import pytest

sklearn_tests = pytest.importorskip("sklearn.metrics.tests.test_classification")

from conftest import expand_parametrize  # noqa: E402

import fastxent  # noqa: E402


def _cases():
    for name in sorted(dir(sklearn_tests)):
        func = getattr(sklearn_tests, name)
        if name.startswith("test_") and "log_loss" in name and callable(func):
            for case_id, kwargs in expand_parametrize(func):
                yield pytest.param(name, kwargs, id=case_id)


CASES = list(_cases())


def test_suite_was_found():
    names = {case.values[0] for case in CASES}
    assert {"test_log_loss", "test_d2_log_loss_score", "test_log_loss_pandas_input"} <= names
    assert len(names) >= 10


# scikit-learn runs its tests with user warnings left as warnings; its label-order
# test passes unsorted labels on purpose and gets this one from both libraries.
@pytest.mark.filterwarnings("ignore:Labels passed were:UserWarning")
@pytest.mark.parametrize("name, kwargs", CASES)
def test_sklearn_log_loss_test_passes_with_fastxent(name, kwargs, monkeypatch):
    calls = []

    def counted(func):
        def wrapper(*args, **kw):
            calls.append(func.__name__)
            return func(*args, **kw)

        return wrapper

    monkeypatch.setattr(sklearn_tests, "log_loss", counted(fastxent.log_loss))
    monkeypatch.setattr(sklearn_tests, "d2_log_loss_score", counted(fastxent.d2_log_loss_score))
    getattr(sklearn_tests, name)(**kwargs)
    assert calls, "the scikit-learn test did not call the substituted function"
