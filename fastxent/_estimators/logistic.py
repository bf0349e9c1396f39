"""``fastxent.LogisticRegression``: a scikit-learn estimator on Numba solvers.

This module is imported only when ``fastxent.LogisticRegression`` is first
accessed, so ``import fastxent`` stays free of scikit-learn (and SciPy: it
is never imported here; sparse input arrives as a ``scipy.sparse`` object
whose CSR arrays are passed to the kernels).
"""

import warnings
from numbers import Integral, Real

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils._param_validation import Interval, StrOptions
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "fastxent.LogisticRegression is a scikit-learn estimator and needs "
        "scikit-learn: pip install scikit-learn (or pip install 'fastxent[test]')."
    ) from exc

from .._infra.dispatch import run
from .._solvers.fit import SOLVERS as _SOLVERS

__all__ = ["LogisticRegression", "ConvergenceWarning"]

# The kernels count iterations in int64; a larger max_iter is the same as
# this one (no fit gets near it).
_MAX_ITER = np.iinfo(np.int64).max


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """L2-penalized logistic regression fitted by Numba-compiled solvers.

    Minimises scikit-learn's objective

    .. math:: C \\sum_i s_i \\, \\ell(y_i, x_i W^T + b) + \\tfrac12 \\lVert W \\rVert_F^2

    (``s_i`` = sample weight × class weight; the intercept ``b`` is not
    penalized) with the log loss for two classes (one coefficient row) and
    the softmax cross-entropy for more (one row per class), exactly as
    ``sklearn.linear_model.LogisticRegression`` with an L2 penalty does.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularization strength, > 0 (``np.inf``: no penalty).
    fit_intercept : bool, default=True
    class_weight : dict, "balanced" or None, default=None
        Weights multiplying the sample weights by class, as in scikit-learn.
    max_iter : int, default=100
        Maximum number of solver iterations, any non-negative int (values
        beyond ``2**63 - 1``, the kernels' int64 range, act as ``2**63 - 1``;
        nothing is allocated in proportion to it).
    tol : float, default=1e-4
        Stop when the largest gradient entry of ``objective / (C Σ s_i)``
        is at most ``tol`` (scikit-learn's lbfgs criterion).
    warm_start : bool, default=False
        Start from the previous solution when the classes are unchanged.
    solver : {"lbfgs", "gd"}, default="lbfgs"
        "lbfgs": limited-memory BFGS; "gd": accelerated gradient descent
        with backtracking line search and adaptive restart, its steps
        preconditioned by the objective's Hessian at zero (a weighted Gram
        matrix of ``[X, 1]``, built once per fit when ``n_features < 1024``
        and ``X`` is not very sparse; see ``fastxent.kernels.fit_binary_logistic``).
    verbose : int, default=0
        If positive, print the objective ``/ (C Σ s_i)`` after each iteration.

    Notes
    -----
    Parameters are validated as scikit-learn validates its own
    ``LogisticRegression`` (same ``InvalidParameterError`` messages).

    Sample weights (times class weights) are divided by a power of four and
    ``C`` multiplied by it before the fit (an exact rescaling of the same
    objective), so weights near the overflow or underflow threshold fit like
    weights near 1.

    A ``ConvergenceWarning`` is issued whenever the solver did not meet its
    stopping rule: ``max_iter`` ran out, or it stopped early because the
    objective could not be decreased any further in floating point (features
    on scales near 1e154 and beyond, ``tol`` below rounding).  The
    coefficients are then finite and never worse than the start.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        float32 when ``X`` was float32 (the fit itself runs in float64), as
        in scikit-learn; float64 otherwise.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The dtype of ``coef_``.
    n_iter_ : ndarray of shape (1,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X has string column names)

    Examples
    --------
    >>> import numpy as np
    >>> import fastxent
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [1.5, 0.5]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> model = fastxent.LogisticRegression(tol=1e-8).fit(X, y)
    >>> model.coef_.round(4)
    array([[0.9404, 0.3339]])
    >>> model.intercept_.round(4)
    array([-1.1657])
    >>> model.predict([[0.0, 0.0], [3.0, 0.0]])
    array([0, 1])
    >>> model.predict_proba([[1.0, 1.0]]).round(4)
    array([[0.4729, 0.5271]])
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "solver": [StrOptions(set(_SOLVERS))],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        C=1.0,
        fit_intercept=True,
        class_weight=None,
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        solver="lbfgs",
        verbose=0,
    ):
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.solver = solver
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, scipy.sparse CSR matrix} of shape (n_samples, n_features)
            float32 data is used as is (accumulation is in float64).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!r}."
            )
        weights, C = self._weights_and_C(sample_weight, X, y, classes, y_index)

        n_outputs = 1 if classes.shape[0] == 2 else classes.shape[0]
        target = y_index.astype(np.float64)
        coef = self._initial_coef(classes, n_outputs, X.shape[1])
        X_arg = (X.data, X.indices, X.indptr) if _is_sparse(X) else X
        work = (X.nnz if _is_sparse(X) else X.size) * n_outputs
        solve = _SOLVERS[self.solver]
        max_iter = min(int(self.max_iter), _MAX_ITER)
        n_iter, converged, history = run(
            lambda *args: solve(*args, True),
            lambda *args: solve(*args, False),
            work,
            X_arg,
            target,
            weights,
            n_outputs,
            C,
            bool(self.fit_intercept),
            max_iter,
            float(self.tol),
            coef,
        )
        if self.verbose:
            for it, value in enumerate(history):
                print(f"iteration {it:4d}  objective {value:.12g}")
        if not converged and n_iter >= max_iter:
            warnings.warn(
                f"{self.solver} failed to converge after {n_iter} iterations "
                f"(max_iter={self.max_iter}, tol={self.tol}). Increase max_iter or "
                "scale the data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif not converged:
            warnings.warn(
                f"{self.solver} stopped after {n_iter} iterations without reaching "
                f"tol={self.tol}: the objective could not be decreased further in "
                "floating point (features on extreme scales, or tol below rounding). "
                "Scale the data.",
                ConvergenceWarning,
                stacklevel=2,
            )

        coef = coef.reshape(n_outputs, X.shape[1] + 1)
        self.classes_ = classes
        # float32 X gives float32 coefficients, as in scikit-learn
        self.coef_ = coef[:, :-1].astype(X.dtype)
        self.intercept_ = coef[:, -1].astype(X.dtype)
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
        return self

    def _weights_and_C(self, sample_weight, X, y, classes, y_index):
        """The weights s_i = sample weight × class weight, each factor divided by
        a power of four that brings its largest magnitude into [1/4, 1), and
        C multiplied by both powers.

        ``C Σ s_i ℓ_i + ½‖w‖²`` is unchanged, and so is every rounding in the
        solvers (scaling by a power of two is exact, and a power of four
        keeps the preconditioner's √|s_i| exact too), but Σ s_i can no longer
        overflow or fall below 1e-308.
        """
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, copy=True)
        shift = _power_of_four_exponent(weights)
        np.ldexp(weights, -shift, out=weights)
        if self.class_weight is not None:
            # "balanced" is invariant to the scale of the sample weights
            per_class = compute_class_weight(
                self.class_weight, classes=classes, y=y, sample_weight=None if sample_weight is None else weights
            )
            if not np.all(np.isfinite(per_class)):
                # inf/NaN in a dict, or "balanced" with a class of zero total weight
                raise ValueError(
                    f"class_weight must give finite weights, got {per_class.tolist()} for the "
                    f"classes {classes.tolist()} from class_weight={self.class_weight!r}."
                )
            class_shift = _power_of_four_exponent(per_class)
            weights *= np.ldexp(per_class, -class_shift)[y_index]
            shift += class_shift
        if not weights.sum() > 0:
            raise ValueError("sample_weight must have a positive sum (after class_weight).")
        # C overflowing to inf drops a penalty 1 / (C Σ s_i) that is below 1e-307 anyway
        with np.errstate(over="ignore"):
            C = float(np.ldexp(float(self.C), shift))
        return weights, C

    def _initial_coef(self, classes, n_outputs, n_features):
        coef = np.zeros((n_outputs, n_features + 1))
        previous = getattr(self, "coef_", None)
        if (
            self.warm_start
            and previous is not None
            and previous.shape == (n_outputs, n_features)
            and np.array_equal(self.classes_, classes)
        ):
            coef[:, :-1] = self.coef_
            if self.fit_intercept:
                coef[:, -1] = self.intercept_
        return coef.reshape(-1)

    def decision_function(self, X):
        """Logits ``X W^T + b``: shape (n_samples,) for two classes (the
        positive class's logit), (n_samples, n_classes) otherwise; float32
        for float32 ``X`` and a model fitted on float32 data."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        scores = np.asarray(X @ self.coef_.T + self.intercept_)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits.

        Logits that overflow to ±inf (features near 1e308) give the limits:
        a class with logit +inf takes all the probability (shared between
        ties), as scikit-learn's binary model does (its softmax gives NaN).
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:  # log σ(∓z), finite or -inf for every z
            return np.column_stack([-np.logaddexp(0, scores), -np.logaddexp(0, -scores)])
        shift = scores.max(axis=1, keepdims=True)
        overflowed = np.isinf(shift[:, 0])
        if overflowed.any():
            # the largest logits share the mass; -inf - (-inf) would be NaN
            rows = scores[overflowed]
            scores = scores.copy()
            scores[overflowed] = np.where(rows == shift[overflowed], 0.0, -np.inf)
            shift[overflowed] = 0.0
        return scores - (shift + np.log(np.exp(scores - shift).sum(axis=1, keepdims=True)))

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """The most probable class of each sample."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _is_sparse(X):
    return hasattr(X, "indptr") and hasattr(X, "indices")


def _power_of_four_exponent(values):
    """An even k with max |values| / 2**k in [1/4, 1) (0 for all-zero values)."""
    largest = float(np.max(np.abs(values), initial=0.0))
    if not 0.0 < largest < np.inf:
        return 0
    exponent = np.frexp(largest)[1]
    return int(exponent + (exponent % 2))
