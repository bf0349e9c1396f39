"""scikit-learn's own tests of the mutual-information metrics, run against fastxent.

Imports ``sklearn/metrics/cluster/tests/test_supervised.py``, expands the
``pytest.mark.parametrize`` marks of the tests listed in ``RUN`` and runs
each with the module globals it uses replaced by fastxent's:

* ``mutual_info_score``, ``normalized_mutual_info_score``,
  ``adjusted_mutual_info_score``, ``contingency_matrix`` -> the drop-ins;
* ``_entropy`` -> ``fastxent.entropy_of_labels``;
* ``expected_mutual_information(contingency, n_samples)`` -> the kernel
  ``fastxent.kernels.expected_mutual_info_serial`` on the table's margins;
* ``check_clusterings`` and ``_generalized_average`` -> fastxent's
  validation and averaging.

Parametrized ``score_func`` arguments are swapped the same way; the other
metrics in scikit-learn's ``score_funcs`` list (rand, adjusted rand,
homogeneity, completeness, V-measure), which fastxent does not provide,
are not run.  Where a test also calls one of those (``v_measure_score``,
``fowlkes_mallows_score``), scikit-learn's own function stays, so the test
checks fastxent against scikit-learn.

Out (listed in ``OUT`` with the reason), every other test of the module:
tests of metrics fastxent does not provide (pair confusion, rand, adjusted
rand, homogeneity/completeness/V-measure, Fowlkes-Mallows), and the
deprecation test of scikit-learn's public ``entropy`` name (fastxent's
``entropy_of_labels`` is not deprecated).  The test that the module holds
exactly ``RUN`` and ``OUT`` catches tests added by a new scikit-learn.
"""

import numpy as np
import pytest

sklearn_tests = pytest.importorskip("sklearn.metrics.cluster.tests.test_supervised")

from conftest import expand_parametrize  # noqa: E402

import fastxent  # noqa: E402
from fastxent import kernels  # noqa: E402
from fastxent._api import clusterings as _clusterings  # noqa: E402
from fastxent._api import mutual_info as _mutual_info  # noqa: E402

RUN = {
    "test_error_messages_on_wrong_input",
    "test_generalized_average",
    "test_perfect_matches",
    "test_perfect_matches_with_changing_means",
    "test_adjusted_mutual_info_score",
    "test_expected_mutual_info_overflow",
    "test_int_overflow_mutual_info_fowlkes_mallows_score",
    "test_entropy",
    "test_entropy_array_api",
    "test_contingency_matrix",
    "test_contingency_matrix_sparse",
    "test_exactly_zero_info_score",
    "test_v_measure_and_mutual_information",
    "test_mutual_info_score_positive_constant_label",
    "test_check_clustering_error",
    "test_normalized_mutual_info_score_bounded",
}

OUT = {
    "test_homogeneous_but_not_complete_labeling": "homogeneity/completeness/V-measure only",
    "test_complete_but_not_homogeneous_labeling": "homogeneity/completeness/V-measure only",
    "test_not_complete_and_not_homogeneous_labeling": "homogeneity/completeness/V-measure only",
    "test_beta_parameter": "homogeneity/completeness/V-measure only",
    "test_non_consecutive_labels": "V-measure, rand and adjusted rand only",
    "test_adjustment_for_chance": "adjusted rand only",
    "test_public_entropy_deprecation": "deprecation of scikit-learn's public `entropy` name",
    "test_fowlkes_mallows_score": "Fowlkes-Mallows only",
    "test_fowlkes_mallows_score_properties": "Fowlkes-Mallows only",
    "test_pair_confusion_matrix_fully_dispersed": "pair confusion matrix only",
    "test_pair_confusion_matrix_single_cluster": "pair confusion matrix only",
    "test_pair_confusion_matrix": "pair confusion matrix only",
    "test_rand_score_edge_cases": "rand score only",
    "test_rand_score": "rand score only",
    "test_adjusted_rand_score_overflow": "adjusted rand only",
}


def _expected_mutual_information(contingency, n_samples):
    a = np.asarray(contingency.sum(axis=1)).ravel().astype(np.int64)
    b = np.asarray(contingency.sum(axis=0)).ravel().astype(np.int64)
    assert a.sum() == n_samples
    return kernels.expected_mutual_info_serial(a, b)


OURS = {
    "mutual_info_score": fastxent.mutual_info_score,
    "normalized_mutual_info_score": fastxent.normalized_mutual_info_score,
    "adjusted_mutual_info_score": fastxent.adjusted_mutual_info_score,
    "contingency_matrix": fastxent.contingency_matrix,
    "_entropy": fastxent.entropy_of_labels,
    "expected_mutual_information": _expected_mutual_information,
    "check_clusterings": _clusterings.check_clusterings,
    "_generalized_average": _mutual_info._generalized_average,
}

# scikit-learn's function objects captured by parametrize marks -> ours
SWAP = {id(getattr(sklearn_tests, name)): name for name in OURS if hasattr(sklearn_tests, name)}
NOT_PROVIDED = {id(f) for f in sklearn_tests.score_funcs} - set(SWAP)


def _expand(func):
    """expand_parametrize without the combinations that use a metric fastxent does not provide."""
    for case_id, kwargs in expand_parametrize(func):
        if not any(id(v) in NOT_PROVIDED for v in kwargs.values()):
            yield case_id, kwargs


CASES = [
    pytest.param(name, kwargs, id=case_id)
    for name in sorted(RUN)
    for case_id, kwargs in _expand(getattr(sklearn_tests, name))
]


def test_every_sklearn_test_is_run_or_listed_out():
    tests = {n for n in dir(sklearn_tests) if n.startswith("test_") and callable(getattr(sklearn_tests, n))}
    assert tests == RUN | set(OUT)


def test_suite_was_found():
    names = {case.values[0] for case in CASES}
    assert names == RUN
    assert len(CASES) >= 30


@pytest.mark.filterwarnings("ignore:Clustering metrics expects discrete values")
@pytest.mark.parametrize("name, kwargs", CASES)
def test_sklearn_cluster_test_passes_with_fastxent(name, kwargs, monkeypatch):
    calls = []

    def counted(func):
        def wrapper(*args, **kw):
            calls.append(func.__name__)
            return func(*args, **kw)

        return wrapper

    for attr, func in OURS.items():
        monkeypatch.setattr(sklearn_tests, attr, counted(func))
    kwargs = {k: counted(OURS[SWAP[id(v)]]) if id(v) in SWAP else v for k, v in kwargs.items()}
    getattr(sklearn_tests, name)(**kwargs)
    assert calls, "the scikit-learn test did not call a substituted function"
