"""scikit-learn's own ``LogisticRegression`` tests, run against fastxent.

Imports ``sklearn/linear_model/tests/test_logistic.py`` and runs the tests
listed in ``RUN`` with the module global ``LogisticRegression`` replaced by
a constructor that builds ``fastxent.LogisticRegression`` for
``solver="lbfgs"`` (the default) and scikit-learn's own estimator for any
other solver.  So a test that compares solvers (``lbfgs`` against
``newton-cg``, ``sag``, ... on the same data) checks fastxent's lbfgs against
scikit-learn's other solvers, and ``LogisticRegressionCV``, which some tests
also fit, stays scikit-learn's.  Parametrizations are expanded
(``conftest.expand_parametrize``) keeping only the combinations that build
fastxent's estimator: ``solver="lbfgs"``, ``LR``/``est`` =
``LogisticRegression`` (not ``LogisticRegressionCV``), ``problem="single"``.
Each test keeps its own ``filterwarnings`` marks and the module's, and gets
``global_random_seed=42`` (scikit-learn's default seed).  Every case must
build fastxent's estimator at least once.

Run (``RUN``): predictions on small data (dense and CSR), glmnet's
coefficients, the solver/penalty/dual error messages, ``sparsify`` /
``densify``, input validation, writable ``coef_``, NaN input, agreement with
``_logistic_regression_path`` and with scikit-learn's other solvers (binary,
multinomial, unpenalized multinomial), string labels, sample weights against
repeated samples, class weights against sample weights, multinomial against
one-vs-rest probabilities, ``max_iter`` and its ``ConvergenceWarning``,
``n_iter_``'s shape, warm starts, float32 in / float32 out, ``penalty=None``
against ``C=np.inf``, the symmetric multinomial solution, inputs left
unmodified, int64 CSR indices, ``max_iter=0``, and the deprecation warnings of
``penalty`` and ``n_jobs``.

Out (``OUT``, each with its reason): tests of ``LogisticRegressionCV`` and its
scoring, of the ``liblinear``, ``saga``, ``sag``, ``newton-cg`` and
``newton-cholesky`` solvers, of the L1 and elastic-net penalties (fastxent
fits the L2 penalty or none), of the private path functions, of array-API
inputs (fastxent takes NumPy arrays and SciPy CSR matrices) and of
scikit-learn's experimental callbacks (not implemented here), and the
deprecation test of ``l1_ratio=None``, whose run time is three
``LogisticRegressionCV`` fits (its one ``LogisticRegression`` warning is
compared with scikit-learn's in ``test_logistic_estimator_params.py``).  The
test that the module holds exactly ``RUN`` and ``OUT`` catches tests added by
a new scikit-learn.
"""

import inspect

import pytest

sklearn_tests = pytest.importorskip("sklearn.linear_model.tests.test_logistic")

from conftest import expand_parametrize  # noqa: E402

import fastxent  # noqa: E402

RUN = {
    "test_predict_2_classes",
    "test_predict_3_classes",
    "test_logistic_glmnet",
    "test_check_solver_option",
    "test_sparsify",
    "test_inconsistent_input",
    "test_write_parameters",
    "test_nan",
    "test_consistency_path",
    "test_multinomial_logistic_regression_string_inputs",
    "test_logistic_regression_solvers",
    "test_logistic_regression_solvers_multiclass",
    "test_logistic_regression_solvers_multiclass_unpenalized",
    "test_logistic_regression_sample_weights",
    "test_logistic_regression_solver_class_weights",
    "test_logistic_regression_class_weights",
    "test_logreg_intercept_scaling_zero",
    "test_logreg_predict_proba_multinomial",
    "test_max_iter",
    "test_n_iter",
    "test_warm_start",
    "test_dtype_match",
    "test_penalty_none",
    "test_c_inf_no_warning",
    "test_multinomial_identifiability_on_iris",
    "test_sample_weight_not_modified",
    "test_large_sparse_matrix",
    "test_zero_max_iter",
    "test_penalty_deprecated",
    "test_logisticregression_warns_with_n_jobs",
}

_CV = "LogisticRegressionCV only"
_LIBLINEAR = "liblinear solver only"
_L1 = "L1 or elastic-net penalty (saga or liblinear solver)"
_PATH = "private path function _logistic_regression_path only"
OUT = {
    "test_logistic_cv": _CV,
    "test_logistic_cv_refit_false_non_elasticnet": _CV,
    "test_logistic_cv_mock_scorer": _CV,
    "test_logistic_cv_multinomial_score": _CV,
    "test_multinomial_cv_iris": _CV,
    "test_logistic_cv_folds_with_classes_missing": _CV,
    "test_logistic_cv_sparse": _CV,
    "test_logistic_regressioncv_class_weights": _CV,
    "test_logistic_regression_cv_refit": _CV,
    "test_LogisticRegressionCV_GridSearchCV_elastic_net": _CV,
    "test_LogisticRegressionCV_no_refit": _CV,
    "test_LogisticRegressionCV_elasticnet_attribute_shapes": _CV,
    "test_LogisticRegressionCV_on_folds": _CV,
    "test_lr_cv_scores_differ_when_sample_weight_is_requested": _CV,
    "test_lr_cv_scores_without_enabling_metadata_routing": _CV,
    "test_passing_params_without_enabling_metadata_routing": _CV,
    "test_logisticregressioncv_warns_with_use_legacy_attributes": _CV,
    "test_lr_scoring_warns": _CV,
    "test_get_default_scorer": _CV,
    "test_scores_attribute_layout_elasticnet": _CV,
    "test_liblinear_dual_random_state": _LIBLINEAR,
    "test_sample_and_class_weight_equivalence_liblinear": _LIBLINEAR,
    "test_liblinear_decision_function_zero": _LIBLINEAR,
    "test_logisticregression_liblinear_sample_weight": _LIBLINEAR,
    "test_liblinear_with_large_values": _LIBLINEAR,
    "test_liblinear_not_stuck": _LIBLINEAR,
    "test_liblinear_multiclass_raises": _LIBLINEAR,
    "test_elasticnet_l1_ratio_err_helpful": _L1,
    "test_logreg_l1": _L1,
    "test_saga_vs_liblinear": _L1,
    "test_elastic_net_coeffs": _L1,
    "test_elastic_net_l1_l2_equivalence": _L1,
    "test_elastic_net_vs_l1_l2": _L1,
    "test_LogisticRegression_elastic_net_objective": _L1,
    "test_l1_ratio_non_elasticnet": _L1,
    "test_elastic_net_versus_sgd": _L1,
    "test_lr_penalty_l1ratio_incompatible": _L1,
    "test_l1_ratio_None_deprecated": (
        "three LogisticRegressionCV fits make its run time; its one LogisticRegression fit, with "
        "l1_ratio=None, is compared with scikit-learn's warnings in tests/test_logistic_estimator_params.py"
    ),
    "test_warm_start_newton_solver": "newton-cg and newton-cholesky solvers only",
    "test_single_feature_newton_cg": "newton-cg solver only",
    "test_newton_cholesky_fallback_to_lbfgs": (
        "scikit-learn's newton-cholesky falling back to its own lbfgs, compared by iteration count"
    ),
    "test_warm_start_converge_LR": "sag solver only",
    "test_logistic_regression_path_convergence_fail": _PATH,
    "test_logistic_regression_path_coefs_multinomial": _PATH,
    "test_logistic_regression_path_init_coefs": _PATH,
    "test_logistic_regression_array_api_compliance": "array-API namespaces (PyTorch, CuPy, ...) as input",
    "test_logistic_regression_array_api_warm_start": "array-API namespaces (PyTorch, CuPy, ...) as input",
    "test_logistic_regression_callback_support": "scikit-learn's experimental callbacks (set_callbacks)",
    "test_logistic_regression_callback_fitted_estimator": "scikit-learn's experimental callbacks (set_callbacks)",
    "test_logistic_regression_callback_support_warning": "scikit-learn's experimental callbacks (set_callbacks)",
}

# The solvers that both libraries have under the same name and that the suite runs against fastxent.
SHARED_SOLVERS = {"lbfgs"}
SklearnLR = sklearn_tests.LogisticRegression
built = []


def routed_logistic_regression(*args, **kwargs):
    """fastxent's estimator for a shared solver, scikit-learn's for any other."""
    if kwargs.get("solver", "lbfgs") not in SHARED_SOLVERS:
        return SklearnLR(*args, **kwargs)
    built.append(kwargs)
    return fastxent.LogisticRegression(*args, **kwargs)


def _runs_fastxent(kwargs):
    return (
        kwargs.get("solver", "lbfgs") in SHARED_SOLVERS
        and kwargs.get("problem", "single") == "single"
        and all(value is not sklearn_tests.LogisticRegressionCV for value in kwargs.values())
    )


def _marks(owner):
    marks = getattr(owner, "pytestmark", [])
    # a module's pytestmark may be one MarkDecorator rather than a list of Marks
    return [getattr(mark, "mark", mark) for mark in (marks if isinstance(marks, list) else [marks])]


def _warning_marks(func):
    return [mark for mark in _marks(sklearn_tests) + _marks(func) if mark.name == "filterwarnings"]


def _cases():
    for name in sorted(RUN):
        func = getattr(sklearn_tests, name)
        for case_id, kwargs in expand_parametrize(func):
            if not _runs_fastxent(kwargs):
                continue
            kwargs = {k: routed_logistic_regression if v is SklearnLR else v for k, v in kwargs.items()}
            if "global_random_seed" in inspect.signature(func).parameters:
                kwargs["global_random_seed"] = 42
            yield pytest.param(name, kwargs, id=case_id, marks=_warning_marks(func))


CASES = list(_cases())


def test_every_sklearn_test_is_listed_and_every_listed_run_has_cases():
    module_tests = {n for n in dir(sklearn_tests) if n.startswith("test_") and callable(getattr(sklearn_tests, n))}
    assert not RUN & set(OUT) and module_tests == RUN | set(OUT)
    assert {case.values[0] for case in CASES} == RUN and len(CASES) >= 40


@pytest.mark.parametrize("name, kwargs", CASES)
def test_sklearn_logistic_test_passes_with_fastxent(name, kwargs, monkeypatch):
    monkeypatch.setattr(sklearn_tests, "LogisticRegression", routed_logistic_regression)
    built.clear()
    getattr(sklearn_tests, name)(**kwargs)
    assert built, "the scikit-learn test did not build fastxent's LogisticRegression"
