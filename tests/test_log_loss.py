"""fastxent.log_loss / d2_log_loss_score against scikit-learn 1.9.

Every comparison runs both libraries on the same input and compares the
value (1e-12 relative for float64; the input dtype's precision for float32
and float16, which scikit-learn computes in), the exception type and text,
and the text of every warning.
"""

import math
import pickle
import warnings

import numba
import numpy as np
import pytest
from conftest import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastxent
from fastxent._kernels import log_loss as kernels

RTOL = {np.float64: 1e-12, np.float32: 2e-6, np.float16: 4e-3}


def outcome(func, *args, **kwargs):
    """(value or 'Error: message', [warning texts]) of one call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = func(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the type is compared too
            value = f"{type(error).__name__}: {error}"
    messages = [(w.category.__name__, str(w.message)) for w in caught if w.category is not RuntimeWarning]
    return value, messages


def assert_same(name, *args, rtol=1e-12, atol=1e-300, **kwargs):
    """fastxent.<name> behaves exactly like sklearn.metrics.<name> on these arguments."""
    expected, expected_warnings = outcome(reference(name, "scikit-learn"), *args, **kwargs)
    actual, actual_warnings = outcome(getattr(fastxent, name), *args, **kwargs)
    assert actual_warnings == expected_warnings
    if isinstance(expected, str) or isinstance(actual, str):
        # InvalidParameterError is scikit-learn's name; fastxent's class has it too.
        assert actual == expected
    elif math.isnan(expected):
        assert math.isnan(actual)
    else:
        assert actual == pytest.approx(expected, rel=rtol, abs=atol)
    return actual


def probabilities(rng, n, k, dtype=np.float64):
    P = rng.random((n, k)) + 0.01
    return (P / P.sum(axis=1, keepdims=True)).astype(dtype)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

LABEL_KINDS = {
    "int01": lambda rng, n, k: rng.integers(0, k, n),
    "int_shifted": lambda rng, n, k: rng.integers(0, k, n) * 7 - 3,
    "int32": lambda rng, n, k: rng.integers(0, k, n).astype(np.int32),
    "bool": lambda rng, n, k: rng.integers(0, 2, n).astype(bool),
    "float": lambda rng, n, k: rng.integers(0, k, n).astype(np.float64) + 1.0,
    "str": lambda rng, n, k: np.array(["ham", "spam", "eggs", "bacon", "x"])[rng.integers(0, k, n)],
    "list": lambda rng, n, k: rng.integers(0, k, n).tolist(),
    "huge_range": lambda rng, n, k: rng.integers(0, k, n) * 10**12,
}


@pytest.mark.parametrize("kind", sorted(LABEL_KINDS))
@pytest.mark.parametrize("n", [1, 7, 5000, 70000])
def test_binary_positive_class_probabilities(kind, n):
    rng = np.random.default_rng(n)
    y = LABEL_KINDS[kind](rng, n, 2)
    p = rng.random(n)
    assert_same("log_loss", y, p)
    assert_same("log_loss", y, p, normalize=False)
    w = rng.random(n)
    assert_same("log_loss", y, p, sample_weight=w)
    assert_same("d2_log_loss_score", y, p, sample_weight=w)


@pytest.mark.parametrize("kind", ["int01", "int_shifted", "str", "float", "list", "huge_range"])
@pytest.mark.parametrize("n, k", [(3, 3), (600, 5), (40000, 4)])
def test_multiclass_probabilities(kind, n, k):
    rng = np.random.default_rng(k * n)
    y = LABEL_KINDS[kind](rng, n, k)
    P = probabilities(rng, n, k)
    assert_same("log_loss", y, P)
    assert_same("log_loss", y, P, normalize=False, sample_weight=rng.integers(0, 3, n))
    assert_same("d2_log_loss_score", y, P)
    assert_same("d2_log_loss_score", y, P, sample_weight=rng.random(n))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("ndim", [1, 2])
def test_dtypes_clip_with_their_own_eps(dtype, ndim):
    rng = np.random.default_rng(3)
    n = 3000
    y = rng.integers(0, 2, n)
    P = probabilities(rng, n, 2, dtype)
    P[:5] = [[0, 1], [1, 0], [0, 1], [1, 0], [0.5, 0.5]]  # exact 0 and 1 (clipped)
    p = P[:, 1] if ndim == 1 else P
    value = assert_same("log_loss", y, p, rtol=RTOL[dtype])
    eps = np.finfo(dtype).eps
    assert value > 0
    assert fastxent.log_loss([0, 1], np.array([1, 0], dtype=dtype)) == pytest.approx(-math.log(eps), rel=RTOL[dtype])
    assert_same("d2_log_loss_score", y, p, rtol=RTOL[dtype] * 10, atol=RTOL[dtype] * 10)


def test_one_minus_p_is_rounded_in_float32_like_scikit_learn():
    # 1 - p in float32 is not 1 - p in float64; the loss follows float32.
    p = np.array([0.1, 0.3, 0.7, 1e-3], dtype=np.float32)
    y = np.array([0, 0, 0, 1])
    q = np.clip(np.float32(1) - p[:3], np.finfo(np.float32).eps, 1 - np.finfo(np.float32).eps)
    expected = -(np.log(q.astype(np.float64)).sum() + math.log(float(p[3]))) / 4
    assert fastxent.log_loss(y, p) == pytest.approx(expected, rel=1e-15)


def test_labels_argument():
    rng = np.random.default_rng(5)
    y = rng.integers(1, 4, 500)
    P = probabilities(rng, 500, 4)
    for labels in ([0, 1, 2, 3], range(4), np.arange(4), [3, 2, 1, 0], [0.0, 1.0, 2.0, 3.0]):
        assert_same("log_loss", y, P, labels=labels)
        assert_same("d2_log_loss_score", y, P, labels=labels)
    assert_same("log_loss", y, P[:, :3], labels=[1, 2, 3])
    assert_same("log_loss", y.astype(str), P[:, :3], labels=["1", "2", "3"])
    assert_same("log_loss", y, P[:, :2], labels=[1, 2, 3])
    assert_same("log_loss", y, P[:, 3], labels=[1, 3])
    assert_same("log_loss", y, P[:, 3], labels=[1, 2])


@pytest.mark.requires("pandas")
def test_pandas_inputs():
    import pandas as pd

    y = pd.Series(["ham", "spam", "spam", "ham", "eggs"])
    P = pd.DataFrame(probabilities(np.random.default_rng(0), 5, 3))
    assert_same("log_loss", y, P)
    assert_same("log_loss", pd.Series([0, 1, 1]), pd.Series([0.2, 0.6, 0.9]))
    assert_same("log_loss", pd.Series([0, 1, 1], dtype="Int64"), pd.Series([0.2, 0.6, 0.9], dtype="Float64"))
    assert_same("log_loss", pd.Series([True, False, True]), pd.Series([0.2, 0.6, 0.9]))
    assert_same("log_loss", pd.Series(["a", "b", "a"], dtype="category"), [0.2, 0.6, 0.9])
    assert_same("d2_log_loss_score", y, P, sample_weight=pd.Series([1.0, 2, 3, 4, 5]))


def test_label_indicator_y_true():
    T = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]])
    P = probabilities(np.random.default_rng(1), 4, 3)
    assert_same("log_loss", T, P)
    assert_same("log_loss", T, P, sample_weight=[1, 2, 3, 4])
    assert_same("d2_log_loss_score", T, P)
    assert_same("log_loss", T, P[:, :2])
    assert_same("log_loss", T, P, labels=[0, 1, 2])
    assert_same("log_loss", np.array([[0], [1], [1]]), [0.3, 0.6, 0.8])


# ---------------------------------------------------------------------------
# Errors and warnings, word for word
# ---------------------------------------------------------------------------

P2 = [[0.5, 0.5], [0.5, 0.5]]
CASES = {
    "no y_proba": (([0, 1],), {}),
    "scalar y_true": ((1, [0.2]), {}),
    "string y_true": (("ab", [0.2, 0.3]), {}),
    "0-d y_proba": (([0], np.array(0.5)), {}),
    "float y_proba": (([0], 0.5), {}),
    "empty": (([], []), {}),
    "empty 2-D": (([], np.zeros((0, 2))), {}),
    "no columns": (([0, 1], np.zeros((2, 0))), {}),
    "3-D": (([0, 1], np.zeros((2, 1, 1))), {}),
    "nan": (([0, 1], [np.nan, 0.5]), {}),
    "nan 2-D": (([0, 1], [[np.nan, 0.5], [0.5, 0.5]]), {}),
    "inf": (([0, 1], [np.inf, 0.5]), {}),
    "inf float32": (([0, 1], np.array([np.inf, 0.5], np.float32)), {}),
    ">1": (([0, 1], [1.5, 0.5]), {}),
    ">1 float32": (([0, 1], np.array([1.5, 0.5], np.float32)), {}),
    ">1 float16": (([0, 1], np.array([1.5, 0.5], np.float16)), {}),
    "<0": (([0, 1], [-0.5, 0.5]), {}),
    "<0 2-D": (([0, 1], [[-0.5, 1.5], [0.5, 0.5]]), {}),
    ">1 before length": (([0, 1, 1], [1.5, 0.5]), {}),
    "length": (([0, 1, 1], [0.5, 0.5]), {}),
    "weight length": (([0, 1], [0.5, 0.5]), {"sample_weight": [1, 2, 3]}),
    "weight nan": (([0, 1], [0.5, 0.5]), {"sample_weight": [1, np.nan]}),
    "weight nan after p": (([0, 1], [1.5, 0.5]), {"sample_weight": [1, np.nan]}),
    "weight inf": (([0, 1], [0.5, 0.5]), {"sample_weight": [1, np.inf]}),
    "weight inf float32": (([0, 1], [0.5, 0.5]), {"sample_weight": np.array([1, np.inf], np.float32)}),
    "weight 2-D": (([0, 1], [0.5, 0.5]), {"sample_weight": [[1, 2]]}),
    "weight column": (([0, 1], [0.5, 0.5]), {"sample_weight": [[1], [2]]}),
    "weights zero": (([0, 1], [0.5, 0.5]), {"sample_weight": [0, 0]}),
    "weights sum to zero": (([0, 1], [0.5, 0.5]), {"sample_weight": [1, -1]}),
    "weights sum to zero, sum": (([0, 1], [0.5, 0.5]), {"sample_weight": [1, -1], "normalize": False}),
    "scalar weight": (([0, 1], [0.5, 0.5]), {"sample_weight": 2.0}),
    "normalize=1": (([0, 1], [0.5, 0.5]), {"normalize": 1}),
    "normalize=None": (([0, 1], [0.5, 0.5]), {"normalize": None}),
    "labels string": (([0, 1], [0.5, 0.5]), {"labels": "ab"}),
    "continuous y": (([0.5, 1.5], [0.5, 0.5]), {}),
    "continuous y array": ((np.array([0.5, 1.5]), [0.5, 0.5]), {}),
    "continuous labels": (([0.5, 1.5], [0.5, 0.5]), {"labels": [0.5, 1.5]}),
    "mixed types": (([0, "a"], [0.5, 0.5]), {}),
    "mixed object array": ((np.array([0, "a"], dtype=object), [0.5, 0.5]), {}),
    "nan label": (([0, np.nan], [0.5, 0.5]), {}),
    "None label": (([None, 1], [0.5, 0.5]), {}),
    "bytes labels": (([b"a", b"b"], [0.5, 0.5]), {}),
    "set y_true": (({0, 1}, [0.5, 0.5]), {}),
    "None y_true": ((None, [0.5, 0.5]), {}),
    "undeclared array": ((np.array([0, 3]), [0.5, 0.5]), {"labels": [0, 1]}),
    "undeclared list": (([0, 3], [0.5, 0.5]), {"labels": np.array([0, 1])}),
    "undeclared strings": ((["a", "b", "c"], [[0.9, 0.1, 0.0]] * 3), {"labels": ["a", "c", "d"]}),
    "undeclared, unsorted labels": ((["a", "b"], P2), {"labels": ["c", "a"]}),
    "string labels, int y": (([0, 1], [0.5, 0.5]), {"labels": ["a", "b"]}),
    "mixed labels": (([0, 1], [0.5, 0.5]), {"labels": [0, "b"]}),
    "one label": (([2, 2], P2), {}),
    "one label bool": ((np.array([True, True]), [0.5, 0.5]), {}),
    "one label float": ((np.array([2.0, 2.0]), [0.5, 0.5]), {}),
    "one label 1-D": ((np.array([0, 0, 0]), [0.5, 0.5, 0.2]), {}),
    "one label given": (([1, 1], [0.5, 0.5]), {"labels": [1]}),
    "one label given str": ((["a", "a"], [0.5, 0.5]), {"labels": np.array(["a"])}),
    "empty labels": (([0, 1], [0.2, 0.4]), {"labels": []}),
    "duplicate labels": (([0, 1], P2), {"labels": [0, 1, 1]}),
    "unsorted labels": (([0, 1], P2), {"labels": np.array([1, 0])}),
    "unsorted string labels": ((["b", "a"], [0.2, 0.4]), {"labels": np.array(["b", "a"])}),
    "too many classes": (([0, 1, 2], [[0.5, 0.5]] * 3), {}),
    "too many classes str": ((["a", "b", "c"], [[0.5, 0.5]] * 3), {}),
    "too many classes bool 3 columns": ((np.array([True, False]), [[0.2, 0.3, 0.5]] * 2), {}),
    "too few classes": (([0, 1], [[0.2, 0.3, 0.5]] * 2), {}),
    "too many labels": (([0, 1], P2), {"labels": [0, 1, 2]}),
    "too many labels 1-D": (([0, 1], [0.5, 0.5]), {"labels": [0, 1, 2]}),
    "rows do not sum to one": (([0, 1, 1], [[0.5, 0.6]] * 3), {}),
    "rows do not sum, too many classes": (([0, 1, 2], [[0.5, 0.6]] * 3), {}),
    "rows do not sum, unsorted labels": (([0, 1], [[0.5, 0.6]] * 2), {"labels": [1, 0]}),
    "one column": (([0, 1], [[0.2], [0.4]]), {}),
    "one column, 3 classes": (([0, 1, 2], [[0.2], [0.4], [0.1]]), {}),
    "multioutput y_true": ((np.array([[0, 1], [2, 0]]), P2), {}),
    "complex y_proba": (([0, 1], np.array([0.5, 0.5 + 1j])), {}),
    "string y_proba": (([0, 1], ["a", "b"]), {}),
    "numeric strings": (([0, 1], ["0.5", "0.5"]), {}),
    "object y_proba": (([0, 1], np.array([0.5, 0.5], dtype=object)), {}),
    "bool y_proba": (([0, 1], np.array([False, True])), {}),
    "int y_proba": (([0, 1, 0], [[1, 0], [0, 1], [1, 0]]), {}),
    "ragged": (([0, 1], [[0.5, 0.5], [0.5]]), {}),
    "y_pred keyword": (([0, 1],), {"y_pred": [0.2, 0.3]}),
    "y_pred and y_proba": (([0, 1], [0.2, 0.3]), {"y_pred": [0.2, 0.3]}),
    "y_pred bad type": (([0, 1],), {"y_pred": 3}),
    "y_pred string": (([0, 1],), {"y_pred": "foo"}),
    "negative int labels": (([-1, 1, -1], [0.2, 0.4, 0.3]), {}),
    "uint64 labels": ((np.array([0, 2**63, 0], dtype=np.uint64), [0.2, 0.4, 0.1]), {}),
    "huge int labels": (([0, 10**12], [0.2, 0.4]), {}),
    "tuple y_true": (((0, 1), [0.2, 0.4]), {}),
    "object strings": ((np.array(["a", "b"], dtype=object), [0.2, 0.4]), {}),
}
D2_ONLY = {
    "one sample": (([0], [0.5]), {}),
    "one sample, bad p": (([0], [1.5]), {}),
    "one sample 2-D": (([1], [[0.5, 0.5]]), {}),
    "length vs one sample": (([0, 1], [[0.5, 0.5]]), {}),
}
# Deliberate differences (see the module docstring of fastxent._api.log_loss):
# string sample weights fail in NumPy's float conversion with its own message.
DIFFERENT = {"string weights": (([0, 1], [0.5, 0.5]), {"sample_weight": ["a", "b"]})}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_loss_errors_and_warnings_match(name):
    args, kwargs = CASES[name]
    assert_same("log_loss", *args, **kwargs)


@pytest.mark.parametrize("name", sorted(set(CASES) | set(D2_ONLY)))
def test_d2_errors_and_warnings_match(name):
    args, kwargs = {**CASES, **D2_ONLY}[name]
    kwargs = {key: value for key, value in kwargs.items() if key != "normalize"}
    assert_same("d2_log_loss_score", *args, **kwargs)


def test_string_weights_are_rejected():
    args, kwargs = DIFFERENT["string weights"]
    with pytest.raises(ValueError, match="could not convert string to float"):
        fastxent.log_loss(*args, **kwargs)


def test_invalid_parameter_error_is_both_value_and_type_error():
    with pytest.raises(ValueError, match="'y_true' parameter of log_loss"):
        fastxent.log_loss(1, [0.5])
    with pytest.raises(TypeError, match="'normalize' parameter of log_loss"):
        fastxent.log_loss([0, 1], [0.5, 0.5], normalize="yes")


@pytest.mark.requires("sklearn")
def test_undefined_metric_warning_is_scikit_learns_when_loaded():
    from sklearn.exceptions import UndefinedMetricWarning

    with pytest.warns(UndefinedMetricWarning, match="not well-defined"):
        assert math.isnan(fastxent.d2_log_loss_score([1], [[0.5, 0.5]]))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def problems(draw):
    n = draw(st.integers(1, 300))
    k = draw(st.sampled_from([1, 2, 3, 5]))  # 1: a 1-D positive-class vector
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_classes = max(k, 2)
    y = rng.integers(0, n_classes, n)
    y[: min(n, n_classes)] = np.arange(min(n, n_classes))
    label_kind = draw(st.sampled_from(["int", "bool", "str", "offset"]))
    if label_kind == "bool" and n_classes == 2:
        y = y.astype(bool)
    elif label_kind == "str":
        y = np.array(["c0", "c1", "c2", "c3", "c4"])[y]
    elif label_kind == "offset":
        y = y * 3 - 2
    P = probabilities(rng, n, n_classes, dtype)
    extremes = draw(st.integers(0, min(n, 4)))
    if extremes:  # rows that put probability exactly 0 and 1 somewhere
        P[:extremes] = 0
        P[np.arange(extremes), rng.integers(0, n_classes, extremes)] = 1
    if k == 1:
        P = P[:, 1].copy()
    layout = draw(st.sampled_from(["C", "F", "strided", "readonly"]))
    if layout == "F":
        P = np.asfortranarray(P)
    elif layout == "strided":
        wide = np.zeros((P.shape[0] * 2,) + P.shape[1:], dtype)
        wide[::2] = P
        P = wide[::2]
    elif layout == "readonly":
        P.setflags(write=False)
    weights = None
    if draw(st.booleans()):
        weights = rng.random(n) + draw(st.sampled_from([0.0, 1.0]))
    return y, P, weights


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.booleans())
def test_random_problems_match_scikit_learn(problem, normalize):
    y, P, weights = problem
    rtol = RTOL[P.dtype.type]
    before = (y.copy(), P.copy(), None if weights is None else weights.copy())
    assert_same("log_loss", y, P, sample_weight=weights, normalize=normalize, rtol=rtol)
    # D^2 = 1 - a / b: scikit-learn's float32 a has a float32 rounding error.
    assert_same(
        "d2_log_loss_score", y, P, sample_weight=weights, rtol=rtol * 100, atol=1e-12 if P.dtype == np.float64 else 1e-5
    )
    np.testing.assert_array_equal(y, before[0])
    np.testing.assert_array_equal(P, before[1])
    if weights is not None:
        np.testing.assert_array_equal(weights, before[2])


def test_inputs_are_not_modified():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 50000)
    P = probabilities(rng, 50000, 3)
    P[0] = [0.0, 0.0, 1.0]
    w = rng.random(50000)
    copies = pickle.dumps((y, P, w))
    fastxent.log_loss(y, P, sample_weight=w)
    fastxent.d2_log_loss_score(y, P, labels=[0, 1, 2])
    fastxent.log_loss(y % 2, P[:, 0])
    assert pickle.dumps((y, P, w)) == copies


def test_ten_million_samples_within_1e13_of_fsum():
    rng = np.random.default_rng(7)
    n = 10_000_000
    y = rng.integers(0, 2, n)
    p = rng.random(n)
    eps = np.finfo(np.float64).eps
    q = np.clip(np.where(y == 1, p, 1 - p), eps, 1 - eps)
    reference = -math.fsum(np.log(q)) / n
    del q
    assert fastxent.log_loss(y, p) == pytest.approx(reference, rel=1e-13, abs=0)


def test_bit_identical_for_one_and_two_threads():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 200_000)
    P = probabilities(rng, 200_000, 4)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 1):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            results.append((fastxent.log_loss(y, P), fastxent.log_loss(y % 2, P[:, 1])))
    finally:
        numba.set_num_threads(before)
    assert results[0] == results[1] == results[2]


def test_integer_labels_take_the_kernel_path_not_np_unique(monkeypatch):
    # O(N) label handling: no sort of y_true for integer labels (labels= is
    # small and may be sorted).
    unique = np.unique

    def forbidden(values, *args, **kwargs):
        if np.size(values) >= 1000:
            raise AssertionError("np.unique was called on y_true")
        return unique(values, *args, **kwargs)

    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 1000) + 10
    P = probabilities(rng, 1000, 5)
    expected = reference("log_loss", "scikit-learn")(y, P)
    monkeypatch.setattr(np, "unique", forbidden)
    assert fastxent.log_loss(y, P) == pytest.approx(expected, rel=1e-12)
    assert fastxent.log_loss(y - 10, P, labels=range(5)) == pytest.approx(expected, rel=1e-12)
    assert fastxent.log_loss(y > 12, P[:, 0]) > 0


# ---------------------------------------------------------------------------
# Kernels from a user's own @njit code
# ---------------------------------------------------------------------------


def test_kernels_callable_from_user_njit():
    @numba.njit
    def user_binary(y, p, eps, w):
        return kernels.binary_log_loss_sum_serial(y, p, w, eps, 1.0 - eps)

    @numba.njit
    def user_multiclass(y, P, eps, w):
        class_weight = np.empty(P.shape[1])
        loss, weight = kernels.multiclass_log_loss_sum_parallel(y, P, w, eps, 1.0 - eps, class_weight)
        return loss, weight, class_weight

    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 5000)
    P = probabilities(rng, 5000, 3)
    w = rng.random(5000)
    eps = float(np.finfo(np.float64).eps)
    sk_log_loss = reference("log_loss", "scikit-learn")

    loss, weight, class_weight = user_multiclass(y, P, eps, w)
    assert loss == pytest.approx(sk_log_loss(y, P, sample_weight=w, normalize=False), rel=1e-12)
    assert weight == pytest.approx(w.sum(), rel=1e-14)
    np.testing.assert_allclose(class_weight, np.bincount(y, weights=w), rtol=1e-13)
    loss, weight, _ = user_multiclass(y, P, eps, np.empty(0))
    assert loss == pytest.approx(sk_log_loss(y, P, normalize=False), rel=1e-12)
    assert weight == 5000

    yb = y % 2
    p = P[:, 1]
    loss, weight, positive = user_binary(yb, p, eps, w)
    assert loss == pytest.approx(sk_log_loss(yb, p, sample_weight=w, normalize=False), rel=1e-12)
    assert positive == pytest.approx(w[yb == 1].sum(), rel=1e-13)
    p32 = p.astype(np.float32)
    loss32, _, _ = user_binary(yb.astype(bool), p32, float(np.finfo(np.float32).eps), np.empty(0))
    assert loss32 == pytest.approx(fastxent.log_loss(yb, p32, normalize=False), rel=1e-13)


def test_kernels_callable_from_user_parallel_njit():
    @numba.njit(parallel=True)
    def chunked_loss(y, P, eps, n_chunks):
        n = y.shape[0]
        partial = np.zeros(n_chunks)
        for c in numba.prange(n_chunks):
            start = c * n // n_chunks
            stop = (c + 1) * n // n_chunks
            loss, _ = kernels.multiclass_log_loss_sum_serial(
                y[start:stop], P[start:stop], np.empty(0), eps, 1.0 - eps, np.empty(0)
            )
            partial[c] = loss
        return partial.sum()

    rng = np.random.default_rng(9)
    y = rng.integers(0, 4, 20000)
    P = probabilities(rng, 20000, 4)
    total = chunked_loss(y, P, float(np.finfo(np.float64).eps), 8)
    assert total == pytest.approx(reference("log_loss", "scikit-learn")(y, P, normalize=False), rel=1e-12)


# ---------------------------------------------------------------------------
# Hostile inputs: byte order, masks, integer extremes (same outcome as scikit-learn)
# ---------------------------------------------------------------------------

P3 = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
PK3 = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
MA = np.ma.array
HOSTILE = {
    "big-endian int64 y_true": ((np.array([0, 1, 1], ">i8"), P3), {}),
    "big-endian int32 y_true, 3 classes": ((np.array([2, 0, 1], ">i4"), PK3), {}),
    "big-endian shifted y_true": ((np.array([5, 1, 2], ">i8"), PK3), {}),
    "big-endian uint64 y_true": ((np.array([0, 2**64 - 1, 2**64 - 1], ">u8"), P3), {}),
    "big-endian float y_true": ((np.array([0, 1, 1], ">f8"), [0.3, 0.6, 0.8]), {}),
    "big-endian y_proba": (([0, 1, 1], P3.astype(">f8")), {}),
    "big-endian float32 y_proba": (([0, 1, 1], P3.astype(">f4")), {}),
    "big-endian weights and labels": (
        ([0, 1, 1], P3),
        {"sample_weight": np.array([1, 2, 3], ">f8"), "labels": np.array([0, 1], ">i8")},
    ),
    "int64 extremes": (([-(2**63), 2**63 - 1, -(2**63)], [0.2, 0.8, 0.3]), {}),
    "int64 extremes array": ((np.array([-(2**63), 2**63 - 1, -(2**63)]), [0.2, 0.8, 0.3]), {}),
    "int64 extremes, 3 classes": ((np.array([-(2**63), 0, 2**63 - 1]), PK3), {}),
    "int64 extremes as labels": (
        (np.array([-(2**63), 2**63 - 1, -(2**63)]), [0.2, 0.8, 0.3]),
        {"labels": [-(2**63), 2**63 - 1]},
    ),
    "near int64 max": ((np.array([2**62, 2**63 - 1, 2**62]), [0.2, 0.8, 0.3]), {}),
    "beyond float64 precision": ((np.array([2**60 + 1, 2**60 + 3, 2**60 + 1]), [0.2, 0.8, 0.3]), {}),
    "beyond float64 precision, 3 classes": ((np.array([2**60 + 1, 2**60 + 3, 2**60 + 2]), PK3), {}),
    "uint64 extremes": ((np.array([0, 2**64 - 1, 0], np.uint64), [0.2, 0.8, 0.3]), {}),
    "uint64 extremes, 3 classes": ((np.array([0, 2**63, 2**64 - 1], np.uint64), PK3), {}),
    "uint64 labels given": (
        (np.array([1, 2**64 - 1, 1], np.uint64), [0.2, 0.8, 0.3]),
        {"labels": np.array([1, 2**64 - 1], np.uint64)},
    ),
    "int8 labels, more columns than int8 holds": ((np.array([0, 1, 2], np.int8), np.full((3, 200), 1 / 200)), {}),
    "float labels 2**63": (([2.0**63, -(2.0**63), 2.0**63], [0.2, 0.8, 0.3]), {}),
    "float labels 1e308": (([1e308, -1e308, 1e308], [0.2, 0.8, 0.3]), {}),
    "float labels 2**70": (([2.0**70, 0.0, 2.0**70], [0.2, 0.8, 0.3]), {}),
    "float labels 5e-324": (([5e-324, 0.0, 5e-324], [0.2, 0.8, 0.3]), {}),
    "python ints beyond int64": (([2**64, 0, 1], PK3), {}),
    "0-d labels": (([0, 1, 1], [0.2, 0.8, 0.3]), {"labels": np.array(1)}),
    "masked y_true, nothing masked": ((MA([0, 1, 1], mask=[0, 0, 0]), [0.2, 0.8, 0.3]), {}),
    "masked y_true, labels cover the data": ((MA([0, 0, 1], mask=[0, 1, 0]), P3), {"labels": [0, 1]}),
    "masked y_proba": (([0, 1, 1], MA(P3, mask=[[0, 1], [0, 0], [0, 0]])), {}),
    "masked 1-D y_proba, nan under the mask": (([0, 1, 1], MA([0.2, np.nan, 0.4], mask=[0, 1, 0])), {}),
    "masked y_proba, 2 under the mask": (([0, 1, 1], MA([0.2, 2.0, 0.4], mask=[0, 1, 0])), {}),
    "masked weights": (([0, 1, 1], P3), {"sample_weight": MA([1, 2, 3.0], mask=[0, 1, 0])}),
    "masked int weights": (([0, 1, 1], [0.8, 0.4, 0.5]), {"sample_weight": MA([1, 2, 3], mask=[0, 1, 0])}),
    "masked weights, sum": (([0, 1, 1], P3), {"sample_weight": MA([1, 2, 3.0], mask=[0, 1, 0]), "normalize": False}),
    "masked weights, unmasked sum zero": (([0, 1, 1], P3), {"sample_weight": MA([0, 2, 0.0], mask=[0, 1, 0])}),
    "masked weights, all masked": (([0, 1, 1], P3), {"sample_weight": MA([1, 2, 3.0], mask=[1, 1, 1])}),
    "masked weights, nan under the mask": (([0, 1, 1], P3), {"sample_weight": MA([1, np.nan, 3], mask=[0, 1, 0])}),
    "masked 2-D indicator y_true": ((MA([[1, 0], [0, 1], [0, 1]], mask=[[0, 0], [1, 0], [0, 0]]), P3), {}),
    "normalize='no'": (([0, 1], [0.5, 0.5]), {"normalize": "no"}),
    "normalize np.bool": (([0, 1], [0.2, 0.5]), {"normalize": np.False_}),
    "normalize 0-d array": (([0, 1], [0.2, 0.5]), {"normalize": np.array(True)}),
}
# scikit-learn's outcome with masked labels comes from iterating over their
# distinct values, masked constant included: its TypeError, whose text
# fastxent completes with the argument's name.
MASKED_LABELS = {
    "y_true": ((MA([0, 1, 1], mask=[0, 1, 0]), P3), {}),
    "y_true, 1-D y_proba": ((MA([0.0, 1, 1], mask=[0, 1, 0]), [0.2, 0.8, 0.3]), {}),
    "y_true strings": ((MA(["a", "b", "b"], mask=[0, 1, 0]), P3), {}),
    "y_true, undeclared value under the mask": ((MA([0, 5, 1], mask=[0, 1, 0]), P3), {"labels": [0, 1]}),
    "labels": (([0, 1, 1], [0.2, 0.8, 0.3]), {"labels": MA([0, 1, 2], mask=[0, 0, 1])}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_inputs_match_scikit_learn(name):
    args, kwargs = HOSTILE[name]
    assert_same("log_loss", *args, **kwargs)
    kwargs = {key: value for key, value in kwargs.items() if key != "normalize"}
    assert_same("d2_log_loss_score", *args, **kwargs)


@pytest.mark.parametrize("name", sorted(MASKED_LABELS))
@pytest.mark.parametrize("func", ["log_loss", "d2_log_loss_score"])
def test_masked_labels_raise_scikit_learns_type_error(name, func):
    args, kwargs = MASKED_LABELS[name]
    with pytest.raises(TypeError, match="unhashable type: 'MaskedConstant'") as expected:
        reference(func, "scikit-learn")(*args, **kwargs)
    argument = "labels" if "labels" in kwargs and name == "labels" else "y_true"
    with pytest.raises(TypeError) as actual:
        getattr(fastxent, func)(*args, **kwargs)
    assert str(actual.value).startswith(str(expected.value))
    if "undeclared" not in name:
        assert argument in str(actual.value)


def test_masked_input_does_not_depend_on_earlier_calls():
    """The outcome of a masked call is the same before and after plain calls
    (Numba once accepted a masked array only after a plain one had compiled)."""
    y, p = MA([0, 1, 1]), MA([0.2, 0.8, 0.3], mask=[0, 1, 0])
    first = fastxent.log_loss(y, p), fastxent.log_loss([0, 1, 1], MA(P3))
    fastxent.log_loss(np.array([0, 1, 1]), np.array([0.2, 0.8, 0.3]))
    fastxent.log_loss(np.array([0, 1, 1]), P3)
    assert (fastxent.log_loss(y, p), fastxent.log_loss([0, 1, 1], MA(P3))) == first
    sk_log_loss = reference("log_loss", "scikit-learn")
    assert first == pytest.approx((sk_log_loss(y, p), sk_log_loss([0, 1, 1], MA(P3))), rel=1e-12)


def test_big_endian_input_is_converted_once_and_not_modified():
    y = np.array([0, 1, 1], ">i8")
    P = P3.astype(">f8")
    before = y.copy(), P.copy()
    assert fastxent.log_loss(y, P) == pytest.approx(fastxent.log_loss([0, 1, 1], P3), rel=1e-15)
    assert y.dtype == np.dtype(">i8") and P.dtype == np.dtype(">f8")
    np.testing.assert_array_equal(y, before[0])
    np.testing.assert_array_equal(P, before[1])
