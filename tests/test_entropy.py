"""fastxent.entropy against scipy.stats.entropy, and fastxent.kl_divergence.

SciPy's own TestEntropy runs in test_scipy_entropy_suite.py; here: a grid
of shapes / axes / dtypes / options compared with SciPy (value, dtype,
shape, scalar-or-array), nan policies, errors, empty and adversarial
input, layouts, determinism, accuracy against exact references, the
kernels from a user's @njit code, and kl_divergence against SciPy and
PyTorch.
"""

import math
import warnings
from fractions import Fraction

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastxent
from fastxent._kernels import entropy_columns as _entropy_columns
from fastxent._kernels import entropy_rows as _entropy_rows
from fastxent._kernels import entropy_slices as _entropy_kernels

scipy_stats = pytest.importorskip("scipy.stats")
scipy_special = pytest.importorskip("scipy.special")


def both(*args, **kwargs):
    """(fastxent result, SciPy result) -- or the exceptions they raise."""
    out = []
    for f in (fastxent.entropy, scipy_stats.entropy):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                out.append(f(*args, **kwargs))
            except Exception as exc:  # compared below
                out.append(exc)
    return out


def assert_same(ours, ref, rtol=1e-12, atol=0.0):
    if isinstance(ref, Exception):
        assert type(ours) is type(ref), (ours, ref)
        if str(ref).startswith("nan_policy must be one of {"):
            # SciPy prints a set: its order depends on the string hash seed.
            assert sorted(str(ours)[27:-2].split(", ")) == sorted(str(ref)[27:-2].split(", "))
        else:
            assert str(ours) == str(ref)
        return
    assert not isinstance(ours, Exception), ours
    assert isinstance(ours, np.ndarray) == isinstance(ref, np.ndarray), (type(ours), type(ref))
    assert np.shape(ours) == np.shape(ref)
    assert np.asarray(ours).dtype == np.asarray(ref).dtype
    if np.asarray(ref).dtype == np.float32:
        rtol = max(rtol, 2e-6)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, equal_nan=True)


def random_pk(rng, shape, dtype=np.float64):
    return rng.random(shape).astype(dtype)


# --------------------------------------------------------- against SciPy

SHAPES_AXES = [
    ((7,), 0),
    ((7,), -1),
    ((7,), None),
    ((5, 7), 0),
    ((5, 7), 1),
    ((5, 7), -1),
    ((5, 7), None),
    ((5, 7), (0, 1)),
    ((1, 9), 1),
    ((9, 1), 0),
    ((9, 1), 1),
    ((3, 4, 5), 0),
    ((3, 4, 5), 1),
    ((3, 4, 5), 2),
    ((3, 4, 5), (0, 2)),
    ((3, 4, 5), None),
]


@pytest.mark.parametrize("with_q", [False, True])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_matches_scipy_over_shapes_and_axes(shape, axis, with_q):
    rng = np.random.default_rng(abs(hash((shape, str(axis)))) % 2**32)
    pk = random_pk(rng, shape)
    qk = random_pk(rng, shape) if with_q else None
    for keepdims in (False, True):
        assert_same(*both(pk, qk, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("base", [None, 2, 10.0, np.e, 0.5])
def test_base(base):
    rng = np.random.default_rng(0)
    pk, qk = random_pk(rng, (4, 6)), random_pk(rng, (4, 6))
    assert_same(*both(pk, base=base, axis=1))
    assert_same(*both(pk[0], qk[0], base=base))


@pytest.mark.parametrize(
    "pk_dtype,qk_dtype",
    [
        (np.float32, None),
        (np.float32, np.float32),
        (np.float32, np.float64),
        (np.int64, None),
        (np.int32, np.int64),
        (bool, None),
        (np.float16, None),
        (np.uint8, np.float32),
    ],
)
def test_dtypes_follow_scipy(pk_dtype, qk_dtype):
    rng = np.random.default_rng(1)
    pk = (rng.random((3, 8)) * 10).astype(pk_dtype)
    qk = None if qk_dtype is None else (rng.random((3, 8)) * 10 + 1).astype(qk_dtype)
    ours, ref = both(pk, qk, axis=1)
    if pk_dtype == np.float16:
        # SciPy normalizes float16 in float16 (3 significant digits); we compute in float64.
        assert ours.dtype == ref.dtype == np.float32
        np.testing.assert_allclose(ours, ref, rtol=2e-3)
        np.testing.assert_allclose(ours, scipy_stats.entropy(pk.astype(np.float64), axis=1), rtol=1e-6)
        assert isinstance(fastxent.entropy(pk[0]), np.float32)
    else:
        assert_same(ours, ref)
        # 1-D input: a NumPy scalar of the same dtype.
        assert_same(*both(pk[0], None if qk is None else qk[0]))


@pytest.mark.parametrize(
    "pk_shape,qk_shape,axis",
    [
        ((5, 7), (7,), -1),
        ((5, 7), (5, 1), 1),
        ((5, 7), (1, 7), 0),
        ((3,), (2, 1), -1),
        ((4, 1, 6), (3, 6), 2),
        ((4, 1, 6), (3, 1), 0),
        ((6,), (6,), None),
        ((2, 3), (6,), None),
        ((2, 3), (3,), None),
        ((5, 7), (6,), -1),
        ((10, 1, 12), (11, 2), 0),
    ],
)
def test_broadcasting_and_its_errors(pk_shape, qk_shape, axis):
    rng = np.random.default_rng(2)
    assert_same(*both(random_pk(rng, pk_shape), random_pk(rng, qk_shape), axis=axis))


def test_python_lists_scalars_and_matrices():
    assert_same(*both([1, 2, 3]))
    assert_same(*both([1, 2, 3], [2, 2, 1]))
    assert_same(*both(5))
    assert_same(*both(1, [3, 4.0]))
    assert_same(*both([[0.1, 0.2], [0.6, 0.3]], axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix itself
        assert_same(*both(np.matrix([[1, 2.0], [3, 4]])))


# ------------------------------------------------------------ nan_policy


@pytest.mark.parametrize("nan_policy", ["propagate", "omit", "raise"])
@pytest.mark.parametrize("axis", [0, 1, None])
@pytest.mark.parametrize("where", ["pk", "qk", "none"])
def test_nan_policy(nan_policy, axis, where):
    rng = np.random.default_rng(3)
    pk, qk = random_pk(rng, (6, 5)), random_pk(rng, (6, 5))
    if where == "pk":
        pk[1, 2] = np.nan
        pk[4, :] = np.nan  # a row that is all nan
        pk[:, 3] = np.nan  # and a column
    elif where == "qk":
        qk[0, 0] = np.nan
    assert_same(*both(pk, qk, axis=axis, nan_policy=nan_policy))
    assert_same(*both(pk, axis=axis, nan_policy=nan_policy, keepdims=True))
    assert_same(*both(pk[1], qk[0], nan_policy=nan_policy))


def test_nan_policy_omit_drops_pairs_and_empty_slices_give_zero():
    assert fastxent.entropy([np.nan, np.nan], nan_policy="omit") == 0.0
    assert fastxent.entropy([1.0, 2.0], [np.nan, np.nan], nan_policy="omit") == 0.0
    res = fastxent.entropy(
        [[np.nan, 1.0, 3.0], [1.0, 1.0, 2.0]], [[1.0, 2.0, 3.0], [1.0, np.nan, 2.0]], axis=1, nan_policy="omit"
    )
    np.testing.assert_allclose(
        res, [scipy_stats.entropy([1.0, 3.0], [2.0, 3.0]), scipy_stats.entropy([1.0, 2.0], [1.0, 2.0])], rtol=1e-14
    )


@pytest.mark.parametrize("policy", ["foo", None, "Omit"])
def test_bad_nan_policy_message_is_scipys(policy):
    assert_same(*both([0.3, 1.0, 2.0], nan_policy=policy))
    assert_same(*both([[0.3, 1.0], [2.0, np.nan]], nan_policy=policy))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(base=-2),
        dict(base=0),
        dict(base=np.nan),
        dict(base=1),
        dict(base="a"),
        dict(axis=1),
        dict(axis=-2),
        dict(axis=1.0),
        dict(axis=1.5),
        dict(axis="a"),
    ],
)
def test_bad_arguments_raise_scipys_errors(kwargs):
    assert_same(*both([0.2, 0.3, 0.5], **kwargs))
    assert_same(*both([[0.2, 0.3, 0.5]] * 2, [0.1, 0.1, 0.8], **kwargs))


def test_base_check_happens_where_scipys_does():
    # A 1-D slice with nan is answered (nan) before `base` is looked at.
    assert_same(*both([np.nan, 2.0], base=-1))
    assert_same(*both([[np.nan, 2.0], [1.0, 2.0]], base=-1))


@pytest.mark.parametrize(
    "bad", [np.array([1, 2], dtype=complex), np.array([1, 2], dtype=np.longdouble), np.array([1, 2], dtype=object)]
)
def test_unsupported_dtypes_are_type_errors(bad):
    assert_same(*both(bad))
    assert_same(*both([1.0, 2.0], bad))


def test_none_pk():
    assert_same(*both(None))


# -------------------------------------------------- empty and adversarial


@pytest.mark.parametrize(
    "shape,axis", [((0,), 0), ((0, 3), 0), ((0, 3), 1), ((3, 0), 0), ((3, 0), 1), ((2, 0, 3), 1), ((2, 0, 3), None)]
)
def test_empty_input(shape, axis):
    assert_same(*both(np.zeros(shape), axis=axis))
    assert_same(*both(np.zeros(shape), np.ones(shape), axis=axis, keepdims=True))


@pytest.mark.parametrize(
    "pk,qk",
    [
        ([0.0, 0.0], None),
        ([0.0, 1.0, 2.0], None),
        ([-1.0, 2.0], None),
        ([-1.0, -2.0], None),
        ([np.inf, 1.0], None),
        ([1.0, 2.0], [0.0, 1.0]),
        ([0.0, 2.0], [0.0, 1.0]),
        ([1.0, 2.0], [-1.0, 3.0]),
        ([1.0, 2.0], [np.inf, 1.0]),
        ([1.0, 1.0], [0.0, 0.0]),
        ([1e-310, 2e-310], None),
        ([1e-310, 2e-310], [3e-310, 1e-310]),
        ([1.0, 1e-300], [1e-300, 1.0]),
        ([0.5, 0.5], [1.0, 1e-310]),
        ([1e300, 1e300], [1e-300, 1e308]),
        ([1.0, 5e-324], [5e-324, 1.0]),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
        ([1e-160, 3e-160, 2e-160], [2e-160, 1e-160, 4e-160]),  # p T and q S underflow
        ([1e160, 3e160, 2e160], [2e160, 1e160, 4e160]),  # p T and q S overflow
        ([1e-200, 2e-200], [1e200, 3e200]),  # the row scale T / S overflows
        ([1e200, 2e200], [1e-200, 3e-200]),  # and underflows
        ([1.0, 2.0, 3.0], [0.25, 0.5, 0.75]),  # proportional by a power of two: 0
        ([0.0, 7.0, 0.0], [0.0, 29.0, 0.0]),  # a one-hot pair: 0, though 7 * (29 / 7) != 29
        ([0.0938595867742349], [0.02834747652200631]),
    ],
)
def test_special_values_like_scipy(pk, qk):
    assert_same(*both(pk, qk))
    # The same slice as a row, a column and a long slice (each kernel).
    rows = np.tile(np.asarray(pk, dtype=float), (3, 1))
    qrows = None if qk is None else np.tile(np.asarray(qk, dtype=float), (3, 1))
    assert_same(*both(rows, qrows, axis=1))
    assert_same(*both(rows.T, None if qk is None else qrows.T, axis=0))


@pytest.mark.parametrize("order", ["C", "F"])
def test_rows_proportional_by_a_power_of_two_have_zero_divergence(order):
    rng = np.random.default_rng(5)
    pk = rng.random((500, 7))
    qk = np.asarray(pk * 2.0 ** rng.integers(-60, 60, size=(500, 1)), order=order)
    pk = np.asarray(pk, order=order)
    ours, theirs = both(pk, qk, axis=1)
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours, 0.0)


def test_extreme_ratios_take_scipys_separate_logarithms_in_every_kernel():
    rng = np.random.default_rng(4)
    pk = rng.random((300, 12))
    qk = rng.random((300, 12))
    qk[7, 3] = 1e-320  # p/q overflows
    pk[11, 5] = 1e-318  # p/q underflows below the normal range
    qk[11, 5] = 0.9
    for axis in (0, 1):
        assert_same(*both(pk, qk, axis=axis))
    long_p = rng.random(50_000)
    long_q = rng.random(50_000)
    long_q[123] = 1e-320
    assert_same(*both(long_p, long_q))


@pytest.mark.parametrize("order", ["C", "F"])  # rows read in place, rows loaded transposed
@pytest.mark.parametrize("n_rows", [300, 20_000])  # serial and parallel row drivers
def test_rows_needing_the_strict_formula_next_to_nan_and_infinite_rows(n_rows, order):
    # The row drivers leave the strict rows nan and count them; the strict pass
    # then fills them in, recomputing nan rows too (which stay nan).
    rng = np.random.default_rng(14)
    pk = rng.random((n_rows, 12))
    qk = rng.random((n_rows, 12))
    qk[7, 3] = 1e-320
    pk[8, 0] = np.nan
    qk[9, 2] = np.inf
    pk[10] = 0.0
    qk[n_rows - 1, 11] = 1e-320
    pk, qk = np.asarray(pk, order=order), np.asarray(qk, order=order)
    ours, theirs = both(pk, qk, axis=1)
    assert_same(ours, theirs)
    assert np.isnan(ours[8]) and np.isnan(ours[10])
    assert np.isfinite(ours[7]) and np.isfinite(ours[n_rows - 1])
    # nan_policy="omit" drops the nan position of row 8 (and row 10 stays a zero sum)
    assert_same(*both(pk, qk, axis=1, nan_policy="omit"))
    # kl_divergence (rows as they are, no normalization) takes the same drivers
    p_unit, q_unit = pk / 12.0, qk / 12.0
    p_unit[8:11] = q_unit[8:11] = 1.0 / 12.0
    ours = fastxent.kl_divergence(p_unit, q_unit, axis=1)
    assert_same(ours, scipy_special.rel_entr(p_unit, q_unit).sum(axis=1), atol=1e-16)
    assert np.isfinite(ours[7])


def test_ordinary_rows_compile_neither_the_strict_formula_nor_the_long_row_kernels(fresh_process):
    # In a fresh process with an empty cache: entropy(P, Q, axis=1) of 1e5 ordinary
    # short rows types only the serial row kernels of the relative entropy (not
    # the Shannon terms); a row needing the strict formula then compiles it, and
    # the Shannon entropy its own terms only.
    script = """
import numpy as np
import fastxent
from fastxent._kernels import entropy_rows, entropy_slices
rng = np.random.default_rng(0)
P, Q = rng.random((100_000, 10)), rng.random((100_000, 10))
fastxent.entropy(P, Q, axis=1)
assert not entropy_slices.slice_entropy_strict.signatures
assert not entropy_slices._slice_entropy.signatures
assert not entropy_rows.long_rows_driver_serial.signatures
assert not entropy_rows.strict_rows.signatures
assert not entropy_rows.rows_driver_parallel.signatures  # 1e5 rows of 10 values run serially
# C-contiguous rows are read in place: no transposed tile of either kind
assert entropy_rows._flat_relative_rows.signatures
assert not entropy_rows._tile_relative.signatures and not entropy_rows._tile_shannon.signatures
Q[3, 4] = 1e-320
fastxent.entropy(P, Q, axis=1)
assert entropy_rows.strict_rows.signatures
fastxent.entropy(P, axis=1)
assert not entropy_rows._tile_relative.signatures and entropy_rows._tile_shannon.signatures
print("ok")
"""
    assert fresh_process(script).strip() == "ok"


# ------------------------------------------------ layouts and long slices


def test_layouts_strides_readonly_and_inputs_unchanged():
    rng = np.random.default_rng(5)
    base = rng.random((40, 30))
    views = [base, np.asfortranarray(base), base[::2, ::3], base[:, ::-1], base.T]
    for pk in views:
        qk = pk[::-1]
        pk_ro = pk.copy()
        pk_ro.flags.writeable = False
        before = pk.copy(), qk.copy()
        for axis in (0, 1):
            assert_same(*both(pk, qk, axis=axis))
            assert_same(*both(pk_ro, axis=axis))
        np.testing.assert_array_equal(pk, before[0])
        np.testing.assert_array_equal(qk, before[1])


def test_memmap(tmp_path):
    rng = np.random.default_rng(6)
    data = rng.random((20, 9))
    path = tmp_path / "p.npy"
    np.save(path, data)
    mm = np.load(path, mmap_mode="r")
    assert_same(fastxent.entropy(mm, axis=1), scipy_stats.entropy(data, axis=1))


@pytest.mark.parametrize("shape,axis", [((100_000,), 0), ((5, 9000), 1), ((9000, 5), 0), ((3, 70_000), 0)])
def test_long_slices_and_parallel_paths(shape, axis):
    rng = np.random.default_rng(7)
    pk, qk = rng.random(shape), rng.random(shape)
    # Divergences of 3-element slices can be ~1e-6 with cancellation: both
    # results then carry ~1e-17 absolute rounding from the normalization.
    assert_same(*both(pk, qk, axis=axis), atol=1e-16)
    assert_same(*both(pk, axis=axis), rtol=1e-13)


def test_float32_input_accumulates_in_float64():
    rng = np.random.default_rng(8)
    pk = rng.random(200_000).astype(np.float32)
    exact = scipy_stats.entropy(pk.astype(np.float64))
    ours = fastxent.entropy(pk)
    assert ours.dtype == np.float32
    assert ours == np.float32(exact)  # the float64 value, rounded once


def test_result_is_independent_of_thread_count():
    rng = np.random.default_rng(9)
    cases = [(rng.random((20_000, 7)), 1), (rng.random((20_000, 7)), 0), (rng.random(300_000), 0)]
    before = numba.get_num_threads()
    try:
        for pk, axis in cases:
            qk = pk[::-1].copy()
            numba.set_num_threads(1)
            serial = fastxent.entropy(pk, qk, axis=axis), fastxent.entropy(pk, axis=axis)
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
            parallel = fastxent.entropy(pk, qk, axis=axis), fastxent.entropy(pk, axis=axis)
            for s, p in zip(serial, parallel):
                np.testing.assert_array_equal(s, p)
    finally:
        numba.set_num_threads(before)


# --------------------------------------------------------------- accuracy


def exact_entropy(pk, qk=None):
    """Reference with exact normalization and ratios (Fractions), each logarithm rounded once."""
    s = sum(Fraction(v) for v in pk)
    if qk is None:
        return -math.fsum(float(Fraction(v) / s) * math.log(Fraction(v) / s) for v in pk if v > 0)
    t = sum(Fraction(w) for w in qk)
    return math.fsum(
        float(Fraction(v) / s) * math.log((Fraction(v) / s) / (Fraction(w) / t)) for v, w in zip(pk, qk) if v > 0
    )


def test_accuracy_against_an_exact_reference():
    rng = np.random.default_rng(10)
    for n in (3, 10, 1000, 5000):
        pk, qk = rng.random(n), rng.random(n)
        assert fastxent.entropy(pk) == pytest.approx(exact_entropy(pk), rel=1e-14)
        assert fastxent.entropy(pk, qk) == pytest.approx(exact_entropy(pk, qk), rel=1e-13)
    # Nearly equal distributions: the divergence is tiny, the error stays at the
    # normalization's rounding (~1e-16 absolute), as for SciPy.
    pk = rng.random(50)
    qk = pk * (1 + 1e-6 * rng.standard_normal(50))
    exact = exact_entropy(pk, qk)
    assert abs(fastxent.entropy(pk, qk) - exact) <= 1e-15
    assert abs(scipy_stats.entropy(pk, qk) - exact) <= 1e-15


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    data=st.data(),
    with_q=st.booleans(),
    zeros=st.booleans(),
)
def test_property_matches_scipy(shape, data, with_q, zeros):
    ndim = len(shape)
    axis = data.draw(st.sampled_from([None, *range(-ndim, ndim)]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    pk = rng.random(shape)
    if zeros:
        pk[pk < 0.3] = 0.0
    qk = rng.random(shape) + 0.01 if with_q else None
    # A divergence is a sum of terms of both signs: near-equal distributions
    # cancel, and both libraries then sit at the normalization's rounding,
    # ~1e-16 absolute (see test_accuracy_against_an_exact_reference).
    assert_same(*both(pk, qk, axis=axis), atol=1e-15 if with_q else 0.0)


def test_masked_arrays_drop_masked_positions():
    pk = np.ma.array([[1, 2, 3.0], [4, 5, 6]], mask=[[0, 1, 0], [0, 0, 0]])
    qk = np.ma.array([[1, 1, 2.0], [1, 3, 1]], mask=[[0, 0, 0], [1, 0, 0]])
    for axis in (0, 1, None):
        assert_same(*both(pk, axis=axis))
        assert_same(*both(pk, qk, axis=axis))
    assert_same(*both(np.ma.array([1, 2, 3.0], mask=[0, 1, 0])))
    with_nan = np.ma.array([[1, np.nan, 3.0], [4, 5, np.nan]], mask=[[0, 1, 0], [0, 0, 0]])
    for policy in ("propagate", "omit", "raise"):
        assert_same(*both(with_nan, axis=1, nan_policy=policy))


# ------------------------------------------------- kernels from user code


def test_kernels_are_callable_from_user_njit_code():
    @numba.njit
    def user(p, q):
        out = np.empty(p.shape[0])
        _entropy_rows.entropy_rows_serial(p, q, True, False, out)
        h = np.empty(p.shape[1])
        _entropy_columns.entropy_columns_serial(p, p[:0], True, False, h)
        one = _entropy_kernels.entropy_slice_serial(p[0], q[0], True, False)
        return out, h, one

    @numba.njit(parallel=True)
    def user_parallel(p, q):  # a kernel inside the user's own prange loop
        out = np.empty(p.shape[0])
        for i in numba.prange(p.shape[0]):
            out[i] = _entropy_kernels.entropy_slice_serial(p[i], q[i], True, False)
        return out

    @numba.njit
    def user_calls_parallel_kernel(p, q):
        out = np.empty(p.shape[0])
        _entropy_rows.entropy_rows_parallel(p, q, True, False, out)
        return out

    rng = np.random.default_rng(11)
    p, q = rng.random((6, 4)), rng.random((6, 4))
    rows, cols, one = user(p, q)
    np.testing.assert_allclose(rows, scipy_stats.entropy(p, q, axis=1), rtol=1e-13)
    np.testing.assert_allclose(cols, scipy_stats.entropy(p, axis=0), rtol=1e-13)
    assert one == pytest.approx(scipy_stats.entropy(p[0], q[0]), rel=1e-13)
    np.testing.assert_allclose(user_parallel(p, q), rows, rtol=1e-15)
    np.testing.assert_array_equal(user_calls_parallel_kernel(p, q), rows)


# ---------------------------------------------------------- kl_divergence


def distributions(rng, shape, dtype=np.float64):
    x = rng.random(shape)
    return (x / x.sum(axis=-1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("shape,axis", [((8,), -1), ((5, 8), -1), ((5, 8), 0), ((3, 4, 5), 1)])
def test_kl_divergence_is_the_sum_of_rel_entr(shape, axis):
    rng = np.random.default_rng(12)
    p, q = rng.random(shape), rng.random(shape)
    p[p < 0.2] = 0.0
    expected = scipy_special.rel_entr(p, q).sum(axis=axis)
    np.testing.assert_allclose(fastxent.kl_divergence(p, q, axis=axis), expected, rtol=1e-13)


def test_kl_divergence_matches_scipy_entropy_and_torch_for_distributions():
    rng = np.random.default_rng(13)
    p, q = distributions(rng, (6, 10)), distributions(rng, (6, 10))
    ours = fastxent.kl_divergence(p, q)
    np.testing.assert_allclose(ours, scipy_stats.entropy(p, q, axis=1), rtol=1e-13)
    np.testing.assert_allclose(
        fastxent.kl_divergence(p, q, base=2), scipy_stats.entropy(p, q, axis=1, base=2), rtol=1e-13
    )
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.kl_div(torch.from_numpy(np.log(q)), torch.from_numpy(p), reduction="none")
    np.testing.assert_allclose(ours, expected.sum(dim=-1).numpy(), rtol=1e-12)


def test_kl_divergence_values_and_types():
    assert fastxent.kl_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert fastxent.kl_divergence([0.0, 1.0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-15)
    assert fastxent.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    res = fastxent.kl_divergence(np.float32([[0.25, 0.75]]), np.float32([[0.5, 0.5]]))
    assert res.dtype == np.float64 and res.shape == (1,)
    assert res[0] == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), rel=1e-7)
    assert isinstance(fastxent.kl_divergence([0.5, 0.5], [0.25, 0.75]), np.float64)
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    p.flags.writeable = False
    before = p.copy()
    fastxent.kl_divergence(p, p[::-1])
    np.testing.assert_array_equal(p, before)


@pytest.mark.parametrize(
    "p,q,kwargs,exc,match",
    [
        ([0.5, 0.5], [0.5, 0.25, 0.25], {}, ValueError, "same shape"),
        ([-0.1, 1.1], [0.5, 0.5], {}, ValueError, r"^p must hold probabilities in \[0, 1\]"),
        ([0.5, 0.5], [0.5, 1.5], {}, ValueError, r"^q must hold probabilities in \[0, 1\]"),
        ([0.5, 0.5], [np.nan, 1.0], {}, ValueError, "^q contains NaN"),
        ([0.5, np.inf], [0.5, 0.5], {}, ValueError, "^p contains NaN or infinity"),
        (np.zeros((2, 0)), np.zeros((2, 0)), {}, ValueError, "^p is empty"),
        (0.5, 0.5, {}, ValueError, "^p must be"),
        ([[0.5, 0.5]], [[0.5, 0.5]], {"axis": -3}, ValueError, "axis -3 is out of range"),
        ([0.5, 0.5], [0.5, 0.5], {"axis": 1}, ValueError, "axis 1 is out of range"),
        ([0.5, 0.5], [0.5, 0.5], {"axis": 0.0}, TypeError, "axis must be an integer"),
        ([0.5, 0.5], [0.5, 0.5], {"base": 1}, ValueError, "base must be"),
        ([0.5, 0.5], [0.5, 0.5], {"base": -2.0}, ValueError, "base must be"),
        ([0.5, 0.5], [0.5, 0.5], {"base": "e"}, TypeError, "base must be"),
        (["a", "b"], [0.5, 0.5], {}, TypeError, "^p must hold real numbers"),
        ([0.5, 0.5], [1 + 1j, 0.5], {}, TypeError, "^q must hold real numbers"),
    ],
)
def test_kl_divergence_errors_name_the_argument(p, q, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fastxent.kl_divergence(p, q, **kwargs)


# ------------------------------------------------------ hostile arguments


def _big_endian(a):
    a = np.asarray(a)
    return a.astype(a.dtype.newbyteorder(">"))


@pytest.mark.parametrize("dtype", ["f8", "f4", "i8"])
def test_big_endian_input_like_scipy(dtype):
    rng = np.random.default_rng(3)
    pk = (rng.random((4, 5)) * 10).astype(dtype)
    qk = (rng.random((4, 5)) * 10 + 1).astype(dtype)
    rtol = 1e-5 if dtype == "f4" else 1e-12  # SciPy sums float32 in float32
    for args in ((_big_endian(pk),), (_big_endian(pk), qk), (pk, _big_endian(qk))):
        assert_same(*both(*args, axis=1), rtol=rtol)
    masked = np.ma.array(_big_endian(pk), mask=pk < 2)
    assert_same(*both(masked, axis=0), rtol=rtol)


@pytest.mark.parametrize(
    "pk, qk",
    [
        (0.5, np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)),
        (2**70, np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)),
        (np.array([[0.2, 0.8], [0.6, 0.4]], np.float32), True),
    ],
)
def test_python_scalars_promote_like_scipy(pk, qk):
    assert_same(*both(pk, qk))


def test_python_scalar_the_other_dtype_cannot_hold_is_a_type_error():
    with pytest.raises(OverflowError):
        scipy_stats.entropy(np.array([1, 2], np.int8), 300)
    with pytest.raises(TypeError, match="qk"):
        fastxent.entropy(np.array([1, 2], np.int8), 300)


def test_none_pk_with_qk_is_scipys_type_error():
    ours, ref = both(None, [0.5, 0.5])
    assert type(ours) is type(ref) is TypeError
    assert str(ours).startswith(str(ref)) and "pk" in str(ours)


@pytest.mark.parametrize("nan_policy", [np.ma.array(["omit"]), np.array(["omit"], dtype=object), ["omit"]])
def test_unhashable_nan_policy_is_a_type_error(nan_policy):
    ours, ref = both([0.2, 0.8], nan_policy=nan_policy)
    assert type(ours) is type(ref) is TypeError
    assert "nan_policy" in str(ours)


@pytest.mark.parametrize("axis", [10**30, 2**63, -(2**63), np.uint64(1), 1.0, np.float64(0), "0", (0, 0), [0, 1]])
def test_axis_of_any_type_like_scipy(axis):
    pk = np.arange(1.0, 7.0).reshape(2, 3)
    ours, ref = both(pk, axis=axis)
    if isinstance(ref, Exception):
        assert type(ours) is type(ref), (ours, ref)
    else:
        assert_same(ours, ref)


@pytest.mark.parametrize("keepdims", [1, "no", None, np.True_])
def test_keepdims_truthiness_is_scipys(keepdims):
    assert_same(*both(np.arange(1.0, 7.0).reshape(2, 3), keepdims=keepdims))


def test_kl_divergence_hostile_arguments():
    p, q = np.array([[0.2, 0.8], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.1, 0.9]])
    expected = scipy_special.rel_entr(p, q).sum(axis=-1)
    np.testing.assert_allclose(fastxent.kl_divergence(_big_endian(p), _big_endian(q)), expected, rtol=1e-14)
    np.testing.assert_allclose(fastxent.kl_divergence(np.ma.array(p), q), expected, rtol=1e-14)
    np.testing.assert_allclose(fastxent.kl_divergence(p, q, base=10**400), expected / (400 * math.log(10)), rtol=1e-14)
    with pytest.raises(TypeError, match="p is a masked array"):
        fastxent.kl_divergence(np.ma.array(p, mask=[[1, 0], [0, 0]]), q)
    for kwargs, error, name in (
        (dict(axis=10**400), ValueError, "axis"),
        (dict(axis=1.0), TypeError, "axis"),
        (dict(base=np.True_), TypeError, "base"),
        (dict(base=1 + 0j), TypeError, "base"),
    ):
        with pytest.raises(error, match=name):
            fastxent.kl_divergence(p, q, **kwargs)


@pytest.mark.parametrize(
    "pk, qk, axis",
    [
        (np.ones(0), np.ma.array(np.ones((4, 1)), mask=[[1], [0], [0], [0]]), 0),
        (np.ma.array([0.5], mask=[1]), np.ones((0, 3)), -1),
        (np.ones(0), np.ma.array(np.ones(4), mask=[1, 0, 0, 0]), None),
        (np.ma.array(np.ones(4), mask=[1, 0, 0, 0]), np.ones((3, 4)), None),
    ],
)
def test_masked_empty_and_unbroadcastable_input_like_scipy(pk, qk, axis):
    assert_same(*both(pk, qk, axis=axis))


@pytest.mark.parametrize("keepdims", [False, True])
def test_base_one_warns_like_scipy(keepdims):
    for f in (fastxent.entropy, scipy_stats.entropy):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            f(np.ones(0), base=1, keepdims=keepdims)
        if f is fastxent.entropy:
            ours = [str(w.message) for w in caught]
        else:
            assert ours == [str(w.message) for w in caught]


def test_integer_sums_do_not_wrap_around():
    # SciPy sums integer rows in their own type: 2**63 + 2**63 + 1 wraps to 1 in
    # uint64 and its entropy comes out about -8e20. fastxent sums in float64.
    p = np.array([[2**63, 2**63, 1], [1, 2, 3]], dtype=np.uint64)
    q = np.array([[1, 2, 3], [2**63, 2**63, 1]], dtype=np.uint64)
    as_float = p.astype(np.float64), q.astype(np.float64)
    np.testing.assert_allclose(fastxent.entropy(p, axis=1), fastxent.entropy(as_float[0], axis=1), rtol=1e-15)
    np.testing.assert_allclose(fastxent.entropy(p, q, axis=1), fastxent.entropy(*as_float, axis=1), rtol=1e-15)
    np.testing.assert_allclose(fastxent.entropy(p[0]), np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(
        fastxent.jensenshannon(p, q, axis=1), fastxent.jensenshannon(*as_float, axis=1), rtol=1e-15
    )
