"""Mutual information, its normalized and adjusted forms, contingency tables,
label entropies, conditional and joint entropy: against scikit-learn 1.9,
NumPy formulas and 50-digit (mpmath) expected mutual information; the
counting and reduction kernels from the user's own ``@njit`` code."""

import math
import pickle
import warnings
from collections import Counter

import numba
import numpy as np
import pytest
import scipy.sparse
import sklearn.metrics as skm
from sklearn.metrics.cluster import contingency_matrix as sk_contingency_matrix
from sklearn.metrics.cluster import expected_mutual_information as sk_emi
from sklearn.metrics.cluster._supervised import _entropy as sk_entropy

import fastxent
from fastxent import kernels

pytestmark = pytest.mark.filterwarnings("ignore:Clustering metrics expects discrete values")

SCORES = ["mutual_info_score", "normalized_mutual_info_score", "adjusted_mutual_info_score"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _outcome(func, *args, **kwargs):
    """(value or (exception type, message), [warning messages])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - compared with the reference's
            value = (type(exc), str(exc))
    return value, [(w.category, str(w.message)) for w in caught if w.category is not RuntimeWarning]


LABELINGS = {
    "small ints": (_rng(0).integers(0, 5, 1000), _rng(1).integers(0, 7, 1000)),
    "int8 and bool": (_rng(2).integers(-3, 3, 60).astype(np.int8), _rng(3).integers(0, 2, 60).astype(bool)),
    "strings and floats": (np.array(["a", "b", "a", "c", "b"]), np.array([1.5, 2.5, 1.5, 1.5, 0.5])),
    "uint64 extremes": (np.array([0, 2**64 - 1, 5, 5, 2**63], dtype=np.uint64), np.array([1, 0, 0, 1, 1])),
    "int64 extremes": (np.array([-(2**63), 2**63 - 1, 0, 0]), np.array([3, 3, 4, 4])),
    "wide int range": (_rng(4).integers(0, 100_000, 3000), _rng(5).integers(0, 5, 3000)),
    "big-endian": (_rng(6).integers(0, 5, 500).astype(">i8"), _rng(7).integers(0, 3, 500).astype(">u4")),
    "strided": (_rng(8).integers(0, 9, 2000)[::2], _rng(9).integers(0, 4, 2000)[1::2]),
    "negative labels": (_rng(10).integers(-50, -40, 400), _rng(11).integers(-3, 3, 400)),
    "lists": ([0, 0, 1, 1, 2], ["x", "y", "x", "y", "y"]),
    "singletons vs pairs": (np.arange(100), np.arange(100) // 2),
    "identical": (np.arange(50) % 7, np.arange(50) % 7),
    "one class": (np.zeros(30, int), _rng(12).integers(0, 3, 30)),
    "one sample": ([4], [7]),
    "many classes": (np.arange(20_000) % 800, np.arange(20_000) % 700),
    "integral floats": (np.array([1.0, 2.0, 1.0, 3.0]), np.array([0, 0, 1, 1])),
}


@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("case", LABELINGS)
def test_scores_match_scikit_learn(name, case):
    x, y = LABELINGS[case]
    expected = getattr(skm, name)(x, y)
    got = getattr(fastxent, name)(x, y)
    assert type(got) is float
    if name == "adjusted_mutual_info_score":
        # scikit-learn's expected MI carries ~1e-9 relative error (log-gamma
        # cancellation); ours is exact to ~1e-15 (checked against mpmath below).
        assert got == pytest.approx(expected, rel=1e-7, abs=1e-12)
    else:
        assert got == pytest.approx(expected, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("method", ["min", "geometric", "arithmetic", "max"])
def test_average_methods(method):
    x, y = LABELINGS["small ints"]
    for name in SCORES[1:]:
        expected = getattr(skm, name)(x, y, average_method=method)
        assert getattr(fastxent, name)(x, y, average_method=method) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("case", LABELINGS)
def test_contingency_matrix_matches_scikit_learn(case):
    x, y = LABELINGS[case]
    expected = sk_contingency_matrix(x, y)
    got = fastxent.contingency_matrix(x, y)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    sparse = fastxent.contingency_matrix(x, y, sparse=True)
    assert scipy.sparse.issparse(sparse) and sparse.format == "csr"
    assert np.array_equal(sparse.toarray(), expected)
    for kwargs in ({"eps": 0.5}, {"dtype": np.float32}, {"dtype": bool}, {"eps": 0.5, "dtype": np.float32}):
        e = sk_contingency_matrix(x, y, **kwargs)
        g = fastxent.contingency_matrix(x, y, **kwargs)
        assert g.dtype == e.dtype and np.array_equal(g, e)


def test_contingency_matrix_nan_labels_are_one_class_as_in_scikit_learn():
    x, y = [np.nan, np.nan, 1.0, 2.0], [1, 2, 1, 1]
    assert np.array_equal(fastxent.contingency_matrix(x, y), sk_contingency_matrix(x, y))


def test_contingency_matrix_empty():
    got = fastxent.contingency_matrix([], [])
    assert got.shape == (0, 0) and got.dtype == np.int64


@pytest.mark.parametrize(
    "labels",
    [
        [],
        [0, 0, 42.0],
        [1, 1, 1],
        ["a", "b", "a"],
        [np.nan, 1.0, np.nan],
        np.arange(1000) % 13,
        [[1, 2], [1, 2]],
        np.array([2**64 - 1, 0], np.uint64),
    ],
)
def test_entropy_of_labels_matches_scikit_learn(labels):
    assert fastxent.entropy_of_labels(labels) == pytest.approx(sk_entropy(labels), rel=1e-14)


HOSTILE = {
    "nan": ([1.0, np.nan], [1, 2]),
    "nan pred": ([1, 2], [1.0, np.nan]),
    "inf": ([1.0, np.inf], [1, 2]),
    "float16 inf": (np.array([1, np.inf], np.float16), [1, 2]),
    "object nan": (np.array([np.nan, "a"], dtype=object), [1, 2]),
    "0-d arrays": (np.array(1), np.array(2)),
    "3-d": (np.zeros((2, 2, 2)), np.zeros((2, 2, 2))),
    "column": (np.zeros((3, 1)), [1, 2, 3]),
    "no columns": (np.zeros((3, 0)), [1, 2, 3]),
    "row pred": ([0, 1, 0], [[1, 1], [0, 0]]),
    "lengths": ([0, 1], [1, 1, 1]),
    "scalar": (1, 2),
    "string": ("abc", "abc"),
    "complex": ([1 + 1j, 2], [1, 2]),
    "bytes": ([b"a", b"b"], [1, 2]),
    "matrix": (np.matrix([[1, 2]]), [1, 2]),
    "continuous": ([0.5, 1.5, 2.5], [1, 1, 2]),
    "continuous 2-d": (np.array([[0.5], [1.5]]), [1, 2]),
    "huge floats": (np.array([1e20, 2e20, 1e20]), [1, 2, 2]),
    "sparse": (scipy.sparse.csr_matrix(np.ones((2, 2))), [1, 2]),
    "None": (None, [1, 2]),
    "mixed objects": (np.array(["a", None], dtype=object), [1, 2]),
}


@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_inputs_give_scikit_learns_answer_or_error(name, case):
    x, y = HOSTILE[case]
    expected, expected_warnings = _outcome(getattr(skm, name), x, y)
    got, got_warnings = _outcome(getattr(fastxent, name), x, y)
    assert got_warnings == expected_warnings
    if isinstance(expected, tuple):
        assert isinstance(got, tuple), got
        assert issubclass(got[0], expected[0]) or issubclass(got[0], ValueError) and expected[0] is ValueError
        if case == "mixed objects":  # numpy's comparison error, with the argument named
            assert "labels_true" in got[1] and expected[1] in got[1]
        else:
            assert got[1] == expected[1]
    else:
        assert not isinstance(got, tuple), got
        assert got == pytest.approx(expected, rel=1e-7, abs=1e-12)


def test_empty_labelings():
    assert fastxent.normalized_mutual_info_score([], []) == 1.0 == skm.normalized_mutual_info_score([], [])
    assert fastxent.adjusted_mutual_info_score([], []) == 1.0 == skm.adjusted_mutual_info_score([], [])
    # scikit-learn fails with "math domain error"; fastxent says why
    with pytest.raises(ValueError, match="labels_true and labels_pred are empty"):
        fastxent.mutual_info_score([], [])
    assert fastxent.conditional_entropy([], []) == 0.0 == fastxent.joint_entropy([], [])
    assert fastxent.entropy_of_labels([]) == 1.0


def test_invalid_parameters_name_the_argument():
    with pytest.raises(ValueError, match="average_method"):
        fastxent.normalized_mutual_info_score([1, 2], [1, 2], average_method="foo")
    with pytest.raises(TypeError, match="average_method"):
        fastxent.adjusted_mutual_info_score([1, 2], [1, 2], average_method=3)
    with pytest.raises(ValueError, match="'eps' parameter"):
        fastxent.contingency_matrix([1, 2], [1, 2], eps=-1)
    with pytest.raises(ValueError, match="'eps' parameter"):
        fastxent.contingency_matrix([1, 2], [1, 2], eps=float("nan"))
    with pytest.raises(ValueError, match="'sparse' parameter"):
        fastxent.contingency_matrix([1, 2], [1, 2], sparse=1)
    with pytest.raises(ValueError, match="Cannot set 'eps' when sparse=True"):
        fastxent.contingency_matrix([1, 2], [1, 2], eps=1.0, sparse=True)
    with pytest.raises(ValueError, match="labels_true must be 1D"):
        fastxent.contingency_matrix(None, [1, 2])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fastxent.contingency_matrix([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="labels_true"):
        fastxent.contingency_matrix(np.array([1, "a"], dtype=object), [1, 2])
    with pytest.raises(TypeError, match="labels"):
        fastxent.entropy_of_labels(5)
    with pytest.raises(TypeError, match="labels"):
        fastxent.entropy_of_labels(np.array(5))


# ------------------------------------------------------- given contingency


CONTINGENCIES = {
    "dense": np.array([[3, 1, 0], [0, 2, 5]]),
    "list": [[1, 2], [3, 4]],
    "float": np.array([[1.5, 2.0], [3.0, 4.0]]),
    "bool": np.ones((2, 3), bool),
    "uint64": np.array([[1, 2], [3, 4]], np.uint64),
    "one row": np.ones((1, 3), int),
    "empty row": np.array([[0, 0], [1, 2], [3, 0]]),
    "csr": scipy.sparse.csr_matrix(np.array([[3, 1, 0], [0, 2, 5]])),
    "csc": scipy.sparse.csc_matrix(np.array([[3, 1, 0], [0, 2, 5]])),
    "coo duplicates": scipy.sparse.coo_matrix(([1, 2, 3, 4], ([0, 0, 1, 1], [1, 1, 0, 2])), shape=(2, 3)),
    "lil": scipy.sparse.lil_matrix(np.array([[3, 1], [0, 2]])),
    "1-d": np.array([1, 2]),
    "0-d": np.array(3),
    "3-d": np.ones((2, 2, 2)),
    "nan": np.array([[np.nan, 2], [3, 4]]),
    "inf": np.array([[np.inf, 2], [3, 4]]),
    "no rows": np.zeros((0, 0), int),
    "no columns": np.zeros((2, 0), int),
    "string": "ab",
}


@pytest.mark.parametrize("case", CONTINGENCIES)
def test_given_contingency_matches_scikit_learn(case):
    c = CONTINGENCIES[case]
    expected, _ = _outcome(skm.mutual_info_score, None, None, contingency=c)
    got, _ = _outcome(fastxent.mutual_info_score, None, None, contingency=c)
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and issubclass(got[0], expected[0]) and got[1] == expected[1]
    else:
        assert got == pytest.approx(expected, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("c", [np.array([[1, -2], [3, 4]]), np.zeros((2, 2), int)])
def test_given_contingency_without_counts_or_negative_is_a_clear_error(c):
    with pytest.raises(ValueError, match="contingency"):
        fastxent.mutual_info_score(None, None, contingency=c)


def test_dense_and_sparse_contingency_give_the_same_bits():
    c = _rng(3).integers(0, 50, (40, 30)) * (_rng(4).random((40, 30)) < 0.3)
    dense = fastxent.mutual_info_score(None, None, contingency=c)
    assert fastxent.mutual_info_score(None, None, contingency=scipy.sparse.csr_matrix(c)) == dense
    x = np.repeat(np.arange(40), c.sum(axis=1))
    y = np.concatenate([np.repeat(np.arange(30), row) for row in c])
    assert fastxent.mutual_info_score(x, y) == dense


# ---------------------------------------------- expected mutual information


def _mp_emi(a, b):
    """50-digit expected mutual information (equal sizes grouped: exact)."""
    mpmath = pytest.importorskip("mpmath")  # skips only the tests that need 50 digits
    mpmath.mp.dps = 50
    n = int(sum(a))
    ca, cb = Counter(int(v) for v in a if v > 0), Counter(int(v) for v in b if v > 0)
    lg = mpmath.loggamma
    total = mpmath.mpf(0)
    for u, mu in ca.items():
        for v, mv in cb.items():
            s = mpmath.mpf(0)
            for k in range(max(1, u + v - n), min(u, v) + 1):
                log_p = (
                    lg(u + 1)
                    + lg(v + 1)
                    + lg(n - u + 1)
                    + lg(n - v + 1)
                    - lg(n + 1)
                    - lg(k + 1)
                    - lg(u - k + 1)
                    - lg(v - k + 1)
                    - lg(n - u - v + k + 1)
                )
                s += mpmath.exp(log_p) * k / n * mpmath.log(mpmath.mpf(n) * k / (u * v))
            total += mu * mv * s
    return total


EMI_CASES = {
    "17 samples": ([6, 6, 5], [5, 6, 6]),
    "random 1000": (np.bincount(_rng(0).integers(0, 10, 1000)), np.bincount(_rng(1).integers(0, 4, 1000))),
    "two halves": ([2500, 2500], [2500, 2500]),
    "wide": ([12_000, 8_000], [5_000, 15_000]),
    "many small": (np.bincount(_rng(2).integers(0, 50, 3000)), np.bincount(_rng(3).integers(0, 40, 3000))),
    "singletons": (np.ones(30, int), np.ones(30, int)),
    "singletons vs pairs": (np.ones(40, int), np.full(20, 2)),
    "one class": ([30], [10, 20]),
    "with zeros": ([0, 10, 0, 5], [7, 8, 0]),
}


@pytest.mark.parametrize("case", EMI_CASES)
def test_expected_mutual_info_is_exact(case):
    a, b = (np.asarray(v, dtype=np.int64) for v in EMI_CASES[case])
    reference = _mp_emi(a, b)
    for emi in (kernels.expected_mutual_info_serial(a, b), kernels.expected_mutual_info_parallel(a, b)):
        if reference == 0:
            assert emi == 0.0
        else:
            assert abs(emi - reference) <= 1e-13 * abs(reference)
    assert kernels.expected_mutual_info_serial(a, b) == kernels.expected_mutual_info_parallel(a, b)


def test_expected_mutual_info_agrees_with_scikit_learn():
    x, y = _rng(5).integers(0, 6, 400), _rng(6).integers(0, 5, 400)
    c = sk_contingency_matrix(x, y)
    expected = sk_emi(c, 400)
    assert kernels.expected_mutual_info_serial(c.sum(axis=1), c.sum(axis=0)) == pytest.approx(expected, rel=1e-10)


def _mp_ami(x, y):
    """AMI with every term in 50 digits (scikit-learn's definition, arithmetic mean)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    c = sk_contingency_matrix(x, y)
    n = c.sum()
    a, b = c.sum(axis=1), c.sum(axis=0)
    mi = sum(
        mpmath.mpf(int(v)) / n * mpmath.log(mpmath.mpf(int(n)) * int(v) / (int(a[i]) * int(b[j])))
        for (i, j), v in np.ndenumerate(c)
        if v
    )
    h = [-sum(mpmath.mpf(int(v)) / n * mpmath.log(mpmath.mpf(int(v)) / n) for v in m if v) for m in (a, b)]
    emi = _mp_emi(a, b)
    return (mi - emi) / ((h[0] + h[1]) / 2 - emi)


@pytest.mark.parametrize("seed", [0, 1])
def test_adjusted_mutual_info_is_exact(seed):
    x = _rng(seed).integers(0, 4, 300)
    y = (x + _rng(seed + 10).integers(0, 2, 300)) % 5
    reference = _mp_ami(x, y)
    assert abs(fastxent.adjusted_mutual_info_score(x, y) - reference) <= 1e-10 * abs(reference)


def test_adjusted_mutual_info_degenerate_cases():
    a = np.arange(200)
    assert fastxent.adjusted_mutual_info_score(a, a) == 1.0  # identical, N classes: E[I] = I = H
    assert fastxent.adjusted_mutual_info_score(a, a[::-1]) == 1.0
    assert fastxent.adjusted_mutual_info_score(a % 5, (a + 2) % 5) == 1.0  # relabeled
    assert fastxent.adjusted_mutual_info_score(np.zeros(9), np.zeros(9)) == 1.0
    assert fastxent.adjusted_mutual_info_score(np.zeros(9), a[:9]) == 0.0
    # every sample apart in one labeling: I = E[I] exactly, so scikit-learn's guard gives eps / denominator
    value = fastxent.adjusted_mutual_info_score(a, a // 2)
    assert 0 < value < 1e-15
    for method in ["min", "geometric", "arithmetic", "max"]:
        assert fastxent.adjusted_mutual_info_score([0, 1, 2, 3], [0, 1, 2, 3], average_method=method) == 1.0


def test_adjusted_mutual_info_many_clusters_is_fast_and_right():
    x, y = np.arange(200_000) % 1600, np.arange(200_000) % 1400
    got = fastxent.adjusted_mutual_info_score(x, y)
    c = fastxent.contingency_matrix(x, y, sparse=True)
    assert c.shape == (1600, 1400)
    a, b = np.asarray(c.sum(axis=1)).ravel(), np.asarray(c.sum(axis=0)).ravel()
    mi = fastxent.mutual_info_score(x, y)
    emi = kernels.expected_mutual_info_serial(a, b)
    h = (fastxent.entropy_of_labels(x) + fastxent.entropy_of_labels(y)) / 2
    assert got == pytest.approx((mi - emi) / (h - emi), rel=1e-12)


# ---------------------------------------------- conditional and joint entropy


def _numpy_entropies(x, y):
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    table = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(table, (xi, yi), 1)
    p = table / table.sum()
    py = p.sum(axis=0)
    nz = p > 0
    joint = -(p[nz] * np.log(p[nz])).sum()
    conditional = -(p[nz] * np.log((p / py)[nz])).sum()
    return conditional, joint


@pytest.mark.parametrize(
    "case",
    ["small ints", "strings and floats", "uint64 extremes", "many classes", "one class", "identical", "wide int range"],
)
def test_conditional_and_joint_entropy_match_numpy(case):
    x, y = LABELINGS[case]
    conditional, joint = _numpy_entropies(np.asarray(x), np.asarray(y))
    assert fastxent.conditional_entropy(x, y) == pytest.approx(conditional, rel=1e-12, abs=1e-15)
    assert fastxent.joint_entropy(x, y) == pytest.approx(joint, rel=1e-12)
    # the chain rule ties them to the label entropy and the mutual information
    hy = fastxent.entropy_of_labels(y)
    assert fastxent.joint_entropy(x, y) == pytest.approx(fastxent.conditional_entropy(x, y) + hy, rel=1e-12)
    if len(set(np.asarray(x).tolist())) > 1 and len(set(np.asarray(y).tolist())) > 1:
        hx = fastxent.entropy_of_labels(x)
        mi = fastxent.mutual_info_score(x, y)
        assert fastxent.conditional_entropy(x, y) == pytest.approx(hx - mi, rel=1e-9, abs=1e-12)


def test_conditional_entropy_is_zero_when_determined():
    x = np.arange(1000) % 10
    assert fastxent.conditional_entropy(x, x) == 0.0
    assert fastxent.conditional_entropy(x // 2, x) == 0.0


@pytest.mark.parametrize("func", [fastxent.conditional_entropy, fastxent.joint_entropy])
def test_conditional_and_joint_entropy_errors_name_the_argument(func):
    with pytest.raises(ValueError, match="labels_x contains NaN"):
        func([1.0, np.nan], [1, 2])
    with pytest.raises(ValueError, match="labels_y must be 1D"):
        func([1, 2], [[1, 2]])
    with pytest.raises(ValueError, match="labels_x and labels_y must have the same length"):
        func([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="labels_y"):
        func([1, 2], 3)


# ---------------------------------------------------------------- kernels


@numba.njit
def _user_serial(x, y, n_x, n_y):
    table = np.zeros((n_x, n_y), dtype=np.int64)
    bounds = kernels.contingency_table_serial(x, y, 0, 0, table)
    a = table.sum(axis=1)
    b = table.sum(axis=0)
    return (
        table,
        bounds,
        kernels.mutual_info_table(table),
        kernels.joint_entropy_table(table),
        kernels.conditional_entropy_table(table),
        kernels.expected_mutual_info_serial(a, b),
    )


@numba.njit(parallel=True)
def _user_prange(xs, ys, n_x, n_y, out):
    for k in numba.prange(xs.shape[0]):
        table = np.zeros((n_x, n_y), dtype=np.int64)
        kernels.contingency_table_serial(xs[k], ys[k], 0, 0, table)
        out[k, 0] = kernels.mutual_info_table(table)
        out[k, 1] = kernels.expected_mutual_info_serial(table.sum(axis=1), table.sum(axis=0))


@numba.njit
def _user_parallel_count(x, y, x_min, y_min, table):
    return kernels.contingency_table_parallel(x, y, x_min, y_min, table)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_kernels_from_user_njit(dtype):
    x = _rng(0).integers(0, 6, 3000).astype(dtype)
    y = _rng(1).integers(0, 4, 3000).astype(dtype)
    table, bounds, mi, joint, conditional, emi = _user_serial(x, y, 6, 4)
    assert np.array_equal(table, sk_contingency_matrix(x, y))
    assert bounds == (0, 5, 0, 3)
    assert mi == pytest.approx(skm.mutual_info_score(x, y), rel=1e-14)
    assert joint == pytest.approx(fastxent.joint_entropy(x, y), rel=1e-15)
    assert conditional == pytest.approx(fastxent.conditional_entropy(x, y), rel=1e-15)
    assert emi == pytest.approx(sk_emi(table, 3000), rel=1e-10)


def test_kernels_from_user_prange():
    xs = _rng(2).integers(0, 5, (6, 500))
    ys = _rng(3).integers(0, 3, (6, 500))
    out = np.empty((6, 2))
    _user_prange(xs, ys, 5, 3, out)
    for k in range(6):
        assert out[k, 0] == pytest.approx(skm.mutual_info_score(xs[k], ys[k]), rel=1e-14)
        c = sk_contingency_matrix(xs[k], ys[k])
        assert out[k, 1] == pytest.approx(sk_emi(c, 500), rel=1e-10)


def test_parallel_counting_kernel_equals_serial_and_skips_outside_labels():
    x = _rng(4).integers(-5, 200, 300_000)
    y = _rng(5).integers(0, 50, 300_000).astype(np.uint16)
    serial = np.zeros((100, 30), dtype=np.int64)
    parallel = np.zeros((100, 30), dtype=np.int64)
    bounds_s = kernels.contingency_table_serial(x, y, 0, 0, serial)
    bounds_p = _user_parallel_count(x, y, 0, 0, parallel)
    assert bounds_s == bounds_p == (-5, 199, 0, 49)
    assert np.array_equal(serial, parallel)
    inside = (x >= 0) & (x < 100) & (y < 30)
    assert serial.sum() == inside.sum()
    # counts are added: a second chunk accumulates
    kernels.contingency_table_serial(x, y, 0, 0, serial)
    assert np.array_equal(serial, 2 * parallel)


def test_counting_kernel_uint64_near_the_top():
    top = np.uint64(2**64 - 1)
    x = np.array([top, top - np.uint64(1), top], dtype=np.uint64)
    y = np.array([0, 1, 1], dtype=np.uint64)
    table = np.zeros((2, 2), dtype=np.int64)
    kernels.contingency_table_serial(x, y, top - np.uint64(1), np.uint64(0), table)
    assert table.tolist() == [[0, 1], [1, 1]]


def test_large_input_takes_the_parallel_counting_path():
    x = _rng(6).integers(0, 100, 400_000)
    y = _rng(7).integers(0, 100, 400_000)
    assert fastxent.mutual_info_score(x, y) == pytest.approx(skm.mutual_info_score(x, y), rel=1e-13)
    # a rare label past the guessed range: counted again with the true range
    x[-1] = 10_000
    assert fastxent.mutual_info_score(x, y) == pytest.approx(skm.mutual_info_score(x, y), rel=1e-13)


def test_inputs_are_not_modified():
    x = _rng(8).integers(0, 5, 100)
    y = _rng(9).integers(0, 5, 100)
    x.setflags(write=False)
    before = y.copy()
    fastxent.adjusted_mutual_info_score(x, y)
    fastxent.contingency_matrix(x, y)
    assert np.array_equal(before, y)


def test_scores_pickle_nothing_odd():
    # public functions are plain module functions (picklable by reference)
    for name in SCORES + ["contingency_matrix", "jensenshannon", "conditional_entropy", "joint_entropy"]:
        assert pickle.loads(pickle.dumps(getattr(fastxent, name))) is getattr(fastxent, name)
    assert math.isfinite(fastxent.mutual_info_score([0, 1], [1, 0]))
