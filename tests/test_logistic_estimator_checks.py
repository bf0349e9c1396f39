"""fastxent.LogisticRegression against scikit-learn's estimator API checks.

scikit-learn lists two expected failures for its own ``LogisticRegression``
(``check_sample_weight_equivalence_on_dense_data`` / ``_on_sparse_data``,
in ``sklearn.utils._test_common.instance_generator``); both solvers here
pass them, so no check is marked as an expected failure.
"""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastxent import LogisticRegression  # noqa: E402


# Some checks fit with max_iter=100 on data that needs more; the estimator then warns
# as scikit-learn's own LogisticRegression does, which scikit-learn's checks allow.
@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
@parametrize_with_checks([LogisticRegression(), LogisticRegression(solver="gd", max_iter=1000)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
