"""``fastxent.jensenshannon`` against ``scipy.spatial.distance.jensenshannon``:
values, shapes, dtypes, axes, broadcasting, nan / zero / negative input,
warnings and errors; the row kernels from the user's own ``@njit`` code."""

import warnings

import numba
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon as scipy_js

import fastxent
from fastxent import kernels


def _rng(seed=0):
    return np.random.default_rng(seed)


def _outcome(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - compared with SciPy's
            value = (type(exc), str(exc))
    return value, sorted({(w.category.__name__, str(w.message)) for w in caught})


def _same(expected, got, rtol=1e-13):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and got[0] is expected[0] and got[1] == expected[1], got
        return
    assert type(got) is type(expected), (type(got), type(expected))
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-15 if rtol < 1e-8 else 1e-7)
    assert np.array_equal(np.isnan(got), np.isnan(expected))


P = _rng(0).random((40, 7))
Q = _rng(1).random((40, 7))

CASES = {
    "rows": ((P, Q), {"axis": 1}),
    "columns": ((P, Q), {}),
    "negative axis keepdims": ((P, Q), {"axis": -1, "keepdims": True}),
    "keepdims axis 0": ((P, Q), {"axis": 0, "keepdims": True}),
    "base 2": ((P, Q, 2.0), {"axis": 1}),
    "1-d": ((P[0], Q[0]), {}),
    "1-d base": ((P[0], Q[0]), {"base": 10}),
    "1-d keepdims": ((P[0], Q[0]), {"keepdims": True}),
    "3-d middle axis": ((_rng(2).random((3, 5, 4)), _rng(3).random((3, 5, 4))), {"axis": 1}),
    "ints": ((np.arange(12).reshape(3, 4), np.arange(12, 24).reshape(3, 4)), {"axis": 1}),
    "int and float": ((np.arange(1, 13).reshape(3, 4), P[:3, :4]), {"axis": 1}),
    "bools": ((np.array([True, False, True]), np.array([True, True, False])), {}),
    "uint64": ((np.array([1, 2, 3], np.uint64), np.array([3, 2, 1], np.uint64)), {}),
    "big-endian": ((P.astype(">f8"), Q), {"axis": 1}),
    "strided": ((P[::2, ::2], Q[1::2, ::2]), {"axis": 1}),
    "Fortran": ((np.asfortranarray(P), np.asfortranarray(Q)), {"axis": 1}),
    "long rows": ((_rng(4).random((3, 5000)), _rng(5).random((3, 5000))), {"axis": 1}),
    "long columns": ((_rng(6).random((5000, 3)), _rng(7).random((5000, 3))), {"axis": 0}),
    "one long slice": ((_rng(8).random(100_000), _rng(9).random(100_000)), {}),
    "many rows": ((_rng(10).random((50_000, 10)), _rng(11).random((50_000, 10))), {"axis": 1}),
    "lists": (([1, 0, 0], [0, 1, 0]), {}),
    "scipy's examples": (([1.0, 0.0], [0.5, 0.5]), {}),
    "identical": ((P, P), {"axis": 1}),
    "proportional": ((P, 4 * P), {"axis": 1}),
    "one-hot vs one-hot": ((np.eye(4), np.eye(4)[::-1]), {"axis": 1}),
    "zeros in both": ((np.array([0.0, 0.5, 0.5]), np.array([0.0, 1.0, 0.0])), {}),
    "all zero row": ((np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 2.0]])), {"axis": 1}),
    "zero sum with signs": (([1.0, -1.0], [1.0, 1.0]), {}),
    "negative value": (([-1.0, 2.0], [1.0, 1.0]), {}),
    "nan": (([np.nan, 1.0], [1.0, 1.0]), {}),
    "inf": (([np.inf, 1.0], [1.0, 1.0]), {}),
    "tiny and huge": (([1e-310, 1.0], [1.0, 1e-310]), {}),
    "huge values": (([1e300, 1e300], [1e-300, 1.0]), {}),
    "empty distributions": ((np.zeros((3, 0)), np.zeros((3, 0))), {"axis": 1}),
    "no distributions": ((np.zeros((0, 3)), np.zeros((0, 3))), {"axis": 1}),
    "base 1": ((P, Q), {"axis": 1, "base": 1.0}),
    "negative base": ((P, Q), {"axis": 1, "base": -2.0}),
    "broadcast": ((P, Q[0]), {"axis": 1}),
    "axis None": ((P, Q), {"axis": None}),
    "axis tuple": ((P, Q), {"axis": (0, 1)}),
    "axis out of range": ((P, Q), {"axis": 2}),
    "0-d": ((1.0, 2.0), {}),
    "shape mismatch": ((P, Q[:3]), {"axis": 1}),
    "complex": (([1 + 1j, 1.0], [1.0, 1.0]), {}),
    "strings": ((["a", "b"], ["c", "d"]), {}),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_scipy(case):
    args, kwargs = CASES[case]
    expected, expected_warnings = _outcome(scipy_js, *args, **kwargs)
    got, got_warnings = _outcome(fastxent.jensenshannon, *args, **kwargs)
    _same(expected, got)
    if case != "zero sum with signs":  # SciPy also warns about inf - inf in its sum
        assert got_warnings == expected_warnings


@pytest.mark.parametrize("kwargs", [{"axis": 1}, {"axis": 0}, {"axis": 1, "base": 2.0}])
def test_float32_is_computed_in_float64_and_rounded_once(kwargs):
    """SciPy computes float32 input in float32; fastxent in float64."""
    p, q = P.astype(np.float32), Q.astype(np.float32)
    expected = scipy_js(p, q, **kwargs)
    got = fastxent.jensenshannon(p, q, **kwargs)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, scipy_js(p.astype(np.float64), q.astype(np.float64), **kwargs), rtol=1e-7)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_float16_follows_scipys_formula():
    p, q = P.astype(np.float16), Q.astype(np.float16)
    expected = scipy_js(p, q, axis=1)
    got = fastxent.jensenshannon(p, q, axis=1)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_rounding_below_zero_gives_zero_not_nan():
    p = _rng(19).random((500, 6))
    q = p * 3  # proportional up to rounding: SciPy's sqrt of a negative rounding error is nan
    d = fastxent.jensenshannon(p, q, axis=1)
    assert not np.isnan(d).any() and np.all(d < 1e-7)


def test_float32_scalar_with_base_promotes_like_scipy():
    p, q = P[0].astype(np.float32), Q[0].astype(np.float32)
    assert type(fastxent.jensenshannon(p, q)) is type(scipy_js(p, q)) is np.float32
    assert type(fastxent.jensenshannon(p, q, 2.0)) is type(scipy_js(p, q, 2.0)) is np.float64


def test_identical_rows_are_exactly_zero_and_never_nan():
    rows = _rng(12).random((2000, 9)) * 10.0 ** _rng(13).integers(-5, 5, (2000, 1))
    assert np.all(fastxent.jensenshannon(rows, rows, axis=1) == 0.0)
    near = rows * (1 + 1e-15 * _rng(14).standard_normal(rows.shape))
    d = fastxent.jensenshannon(rows, near, axis=1)
    assert not np.isnan(d).any() and np.all(d < 1e-6)


def test_zeros_and_a_wide_range_of_magnitudes_match_scipy():
    """Rows mixing zeros, values down to 1e-300 and near-equal pairs (ratios
    of every size, a subnormal ratio included) against SciPy's formula.  The
    divergences are compared (SciPy's own rounding of a divergence near 0
    is ~1e-16 absolute, which a square root would blow up)."""
    rng = _rng(20)
    p = 10.0 ** rng.uniform(-300, 0, (3000, 8)) * (rng.random((3000, 8)) < 0.8)
    q = np.where(rng.random((3000, 8)) < 0.3, p * (1 + 1e-9 * rng.standard_normal((3000, 8))), rng.random((3000, 8)))
    q[::7] = 10.0 ** rng.uniform(-300, 0, (429, 8))
    p[:, 0] += 1.0  # no all-zero row
    expected = scipy_js(p, q, axis=1) ** 2
    np.testing.assert_allclose(fastxent.jensenshannon(p, q, axis=1) ** 2, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("order", ["C", "F"])  # rows read in place, rows loaded transposed
@pytest.mark.parametrize("m", [1, 2, 3, 7, 10])  # odd lengths leave one column after the pairs
def test_special_rows_among_ordinary_ones_match_scipy(m, order):
    """Rows that take the exact formula (a negative, nan or infinite value, a
    zero or subnormal sum, a subnormal ratio) scattered among ordinary rows
    with zeros, over several tiles of every row length, against SciPy row by row."""
    rng = _rng(21)
    n = 1000
    p = rng.random((n, m)) * (rng.random((n, m)) < 0.7)
    q = rng.random((n, m)) * (rng.random((n, m)) < 0.7)
    p[:, 0] += 0.5  # the ordinary rows have positive sums
    q[:, -1] += 0.5
    special = [
        (-1.0, 1.0),  # negative value
        (np.nan, 1.0),
        (np.inf, 1.0),
        (0.0, 0.0),  # with the zeros below: all-zero rows
        (1e-310, 1e-312),  # subnormal values and sums
        (1e-300, 1e-5),  # a ratio below the normal range
    ]
    rows = rng.choice(n, size=(len(special), 3), replace=False)
    for (a, b), chosen in zip(special, rows):
        for r in chosen:
            if a == 0.0 and b == 0.0:
                p[r] = 0.0
            elif abs(a) < 1e-200:
                p[r] = 0.0
                q[r] = 0.0
                p[r, 0], q[r, 0] = a, b
            p[r, 0], q[r, -1] = a, b
    with np.errstate(all="ignore"):
        expected = np.array([scipy_js(p[r], q[r]) for r in range(n)])
        got = fastxent.jensenshannon(np.asarray(p, order=order), np.asarray(q, order=order), axis=1)
    np.testing.assert_allclose(got**2, expected**2, rtol=1e-12, atol=1e-15)
    assert np.array_equal(np.isnan(got), np.isnan(expected))


@pytest.mark.parametrize("m", [4, 5000])  # tiled rows, long rows
def test_subnormal_sums_are_normalized_like_scipy(m):
    """A row sum whose reciprocal overflows (subnormal values only) is divided
    by, as SciPy does, instead of multiplied by its infinite reciprocal."""
    p = np.zeros((3, m))
    q = np.zeros((3, m))
    p[:, 0], q[:, -1] = 1e-310, 1e-312
    p[1, -1] = 1e-320
    q[2, 0] = 1.0
    np.testing.assert_allclose(fastxent.jensenshannon(p, q, axis=1), scipy_js(p, q, axis=1), rtol=1e-13)


def test_inputs_are_not_modified():
    p, q = P.copy(), Q.copy()
    p.setflags(write=False)
    fastxent.jensenshannon(p, q, axis=1)
    assert np.array_equal(p, P) and np.array_equal(q, Q)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(70_000, 5), (40, 5000)])  # tiled rows, long rows
def test_bits_do_not_depend_on_the_driver(shape, order):
    p = np.asarray(_rng(15).random(shape), order=order)
    q = np.asarray(_rng(16).random(shape), order=order)
    serial, parallel = np.empty(shape[0]), np.empty(shape[0])
    kernels.jensenshannon_rows_serial(p, q, serial)
    kernels.jensenshannon_rows_parallel(p, q, parallel)
    assert np.array_equal(serial, parallel)
    d = fastxent.jensenshannon(p, q, axis=1)
    assert np.array_equal(d, np.sqrt(serial))


def test_rows_read_in_place_and_rows_loaded_transposed_agree():
    p, q = _rng(17).random((5000, 10)), _rng(18).random((5000, 10))
    in_place = fastxent.jensenshannon(p, q, axis=1)
    transposed = fastxent.jensenshannon(np.asfortranarray(p), np.asfortranarray(q), axis=1)
    np.testing.assert_allclose(in_place, transposed, rtol=1e-14)
    np.testing.assert_allclose(in_place, scipy_js(p, q, axis=1), rtol=1e-13)


def test_short_rows_compile_no_long_row_or_parallel_kernel(fresh_process):
    # In a fresh process with an empty cache, 1e5 rows of a few values type only the
    # serial tiled kernels; a row that needs SciPy's exact formula then compiles it.
    script = """
import numpy as np
import fastxent
from fastxent._kernels import entropy_slices, jensenshannon
from scipy.spatial.distance import jensenshannon as scipy_js
rng = np.random.default_rng(0)
P, Q = rng.random((100_000, 10)), rng.random((100_000, 10))
fastxent.jensenshannon(P, Q, axis=1)
assert not jensenshannon._js_long_row.signatures
assert not entropy_slices._slice_sums.signatures
assert not jensenshannon.long_rows_driver_serial.signatures
assert not jensenshannon.rows_driver_parallel.signatures  # 1e5 rows of 10 values run serially
assert not jensenshannon.exact_rows.signatures
P[7, 3] = -1.0
P[9] = 1e-310
d = fastxent.jensenshannon(P, Q, axis=1)
assert jensenshannon.exact_rows.signatures
np.testing.assert_allclose(d[5:12], scipy_js(P[5:12], Q[5:12], axis=1), rtol=1e-13)
assert d[7] == np.inf
print("ok")
"""
    assert fresh_process(script).strip() == "ok"


@numba.njit(parallel=True)
def _user_prange(p, q, out):
    for i in numba.prange(p.shape[0]):
        kernels.jensenshannon_rows_serial(p[i], q[i], out[i])


@numba.njit
def _user_serial(p, q):
    out = np.empty(p.shape[0])
    kernels.jensenshannon_rows_parallel(p, q, out)
    return np.sqrt(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernels_from_user_njit(dtype):
    p = _rng(17).random((4, 30, 6)).astype(dtype)
    q = _rng(18).random((4, 30, 6)).astype(dtype)
    out = np.empty((4, 30))
    _user_prange(p, q, out)
    expected = scipy_js(p.astype(np.float64), q.astype(np.float64), axis=2)
    np.testing.assert_allclose(np.sqrt(out), expected, rtol=1e-13)
    np.testing.assert_allclose(_user_serial(p[0], q[0]), expected[0], rtol=1e-13)
