"""fastxent.ufuncs against scipy.special: ulp distance, special values, ufunc behaviour."""

import numba
import numpy as np
import pytest

import fastxent._math.special as special
import fastxent.ufuncs as ufuncs

scipy_special = pytest.importorskip("scipy.special")

UNARY = ["entr", "expit", "log_expit"]
BINARY = ["xlogy", "xlog1py", "rel_entr", "kl_div"]
ALL = UNARY + BINARY
SMALLEST_NORMAL = np.finfo(np.float64).tiny
SPECIALS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    -2.0,
    1e-300,
    -1e-300,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    np.inf,
    -np.inf,
    np.nan,
    1 - 2**-53,
    1 + 2**-52,
    700.0,
    -700.0,
    745.2,
    -745.2,
    36.0,
    -36.0,
    40.0,
    -40.0,
    1e-10,
    -1e-10,
    0.25,
    4.0,
]


def ulp_distance(a, b):
    """Distance in units in the last place of the dtype; 0 for equal infinities/nans."""
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    assert a.dtype == b.dtype
    itype = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}[a.dtype]
    magnitude = np.iinfo(itype).max

    def key(v):  # sign-magnitude bit pattern -> monotone integer line (±0 -> 0)
        i = v.view(itype)
        return np.where(i < 0, -(i & magnitude), i).astype(np.int64)

    ka, kb = key(a), key(b)
    same_side = (ka >= 0) == (kb >= 0)
    with np.errstate(over="ignore"):
        near = np.abs(np.where(same_side, ka - kb, 0)).astype(np.float64)
    far = np.abs(ka.astype(np.float64)) + np.abs(kb.astype(np.float64))
    dist = np.where(same_side, near, far)
    both_nan = np.isnan(a) & np.isnan(b)
    return np.where(both_nan, 0.0, np.where(np.isnan(a) | np.isnan(b), np.inf, dist))


def wide_sample(rng, n, dtype):
    """Signed values log-uniform over the whole finite range of dtype, plus small integers."""
    info = np.finfo(dtype)
    lo, hi = np.log10(info.smallest_subnormal), np.log10(info.max)
    mag = 10.0 ** rng.uniform(lo, hi, n)
    x = np.where(rng.random(n) < 0.5, -mag, mag).clip(-info.max, info.max)
    x[: n // 10] = rng.uniform(-50, 50, n // 10)  # the interesting middle, densely
    return x.astype(dtype)


def close_sample(rng, x):
    """Second arguments close to the first (ratios near 1 stress rel_entr / kl_div / xlog1py)."""
    factor = 1 + rng.choice([1e-15, 1e-8, 1e-3, 0.3], x.size) * rng.standard_normal(x.size)
    with np.errstate(over="ignore"):
        return (x * factor).astype(x.dtype)


def assert_within_2_ulp_of_scipy(ours, ref, name, *args):
    """float64: <= 2 ulp from SciPy (xlog1py: see below).  float32: <= 2 ulp from SciPy's float32 loop
    wherever that loop is itself within 2 ulp of SciPy's float64 value rounded;
    elsewhere (SciPy's float32 ``expit`` flushes results below ~1e-38 to 0, as
    ``expf`` overflows first) <= 1 ulp from the float64 value rounded."""
    dist = ulp_distance(ours, ref)
    if ours.dtype == np.float32:
        _, ref64 = call_both(name, *(a.astype(np.float64) for a in args))
        with np.errstate(over="ignore"):
            ref64 = ref64.astype(np.float32)
        scipy32_ok = ulp_distance(ref, ref64) <= 2
        dist = np.where(scipy32_ok, dist, ulp_distance(ours, ref64) * 2)
    if name == "xlog1py" and ours.dtype == np.float64:
        # SciPy evaluates log(1 + y) for 1 + y outside [sqrt(1/2), sqrt(2)]
        # (Cephes' log1p), up to 3 ulp from the exact value; ours (libm
        # log1p) stays within 1 ulp.  Where they differ by more than 2 ulp,
        # ours must be the accurate one (long double reference).
        far = dist > 2
        x, y = (a[far].astype(np.longdouble) for a in args)
        exact = (x * np.log1p(y)).astype(np.float64)
        assert np.all(ulp_distance(ours[far], exact) <= 1)
        assert np.all(ulp_distance(ours[far], exact) < ulp_distance(ref[far], exact))
        dist = np.where(far, 0.0, dist)
    worst = np.argmax(dist)
    assert dist[worst] <= 2, [a[worst] for a in args]


def call_both(name, *args):
    with np.errstate(all="ignore"):
        ours, ref = getattr(ufuncs, name)(*args), getattr(scipy_special, name)(*args)
    if name == "kl_div":
        ref = kl_div_reference(*args, ref)
    return ours, ref


def kl_div_reference(x, y, scipy_value):
    """SciPy's kl_div, except where x / y is not a normal number in float64.

    SciPy forms x / y there and returns x log(inf) = +inf or x log(0) = -inf
    (kl_div is never negative); fastxent takes the logarithms apart and must
    give the exact value, computed here in long double (where there is one:
    |log x - log y| > 708 here, so the difference loses nothing).
    """
    x, y, scipy_value = np.broadcast_arrays(x, y, scipy_value)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    with np.errstate(all="ignore"):
        ratio = x64 / y64
        apart = (
            (x64 > 0)
            & (y64 > 0)
            & np.isfinite(x64)
            & np.isfinite(y64)
            & ~((ratio > SMALLEST_NORMAL) & (ratio < np.inf))
        )
        xl, yl = x64[apart].astype(np.longdouble), y64[apart].astype(np.longdouble)
        exact = scipy_value.copy()
        exact[apart] = (xl * (np.log(xl) - np.log(yl)) - xl + yl).astype(scipy_value.dtype)
    return exact


@pytest.mark.parametrize("name", ALL)
def test_is_a_numpy_ufunc_with_float32_and_float64_loops(name):
    f = getattr(ufuncs, name)
    assert isinstance(f, np.ufunc)
    assert f.__name__ == name
    arity = 1 if name in UNARY else 2
    assert f.nin == arity and f.nout == 1
    assert "f" * arity + "->f" in f.types
    assert "d" * arity + "->d" in f.types


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_each_loop_runs_and_keeps_the_dtype(name, dtype):
    args = [np.array([0.25, 0.5, 2.0], dtype=dtype)] * (1 if name in UNARY else 2)
    ours, ref = call_both(name, *args)
    assert ours.dtype == dtype
    assert np.all(ulp_distance(ours, ref.astype(dtype)) <= 2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", UNARY)
def test_unary_within_2_ulp_over_the_real_line(name, dtype):
    rng = np.random.default_rng(1)
    with np.errstate(over="ignore"):  # float32: the largest doubles become inf
        specials = np.array(SPECIALS).astype(dtype)
    x = np.concatenate([wide_sample(rng, 200_000, dtype), specials])
    ours, ref = call_both(name, x)
    assert_within_2_ulp_of_scipy(ours, ref, name, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", BINARY)
def test_binary_within_2_ulp_over_the_real_line(name, dtype):
    rng = np.random.default_rng(2)
    x = wide_sample(rng, 200_000, dtype)
    y = np.where(rng.random(x.size) < 0.5, wide_sample(rng, x.size, dtype), close_sample(rng, x))
    x[:1000] = 0.0  # 0 * log(y) = 0
    ours, ref = call_both(name, x, y)
    assert_within_2_ulp_of_scipy(ours, ref, name, x, y)


def assert_same_special_values(ours, ref):
    """nan, ±inf and zeros exactly as SciPy's (signed zeros too); other values <= 2 ulp."""
    exceptional = ~np.isfinite(ref) | (ref == 0) | ~np.isfinite(ours) | (ours == 0)
    np.testing.assert_array_equal(ours[exceptional], ref[exceptional])
    signed = exceptional & ~np.isnan(ref)  # the sign of a nan means nothing
    np.testing.assert_array_equal(np.signbit(ours[signed]), np.signbit(ref[signed]))
    assert ulp_distance(ours[~exceptional], ref[~exceptional]).max(initial=0) <= 2


@pytest.mark.parametrize("name", BINARY)
def test_binary_special_values_are_scipys(name):
    s = np.array(SPECIALS)
    x, y = np.meshgrid(s, s)
    assert_same_special_values(*call_both(name, x, y))


@pytest.mark.parametrize("name", UNARY)
def test_unary_special_values_are_scipys(name):
    assert_same_special_values(*call_both(name, np.array(SPECIALS)))


def test_documented_special_values():
    with np.errstate(all="ignore"):
        assert ufuncs.xlogy(0.0, 0.0) == 0.0
        assert ufuncs.xlogy(0.0, -1.0) == 0.0
        assert ufuncs.xlogy(0.0, np.inf) == 0.0
        assert np.isnan(ufuncs.xlogy(0.0, np.nan))
        assert ufuncs.xlogy(2.0, 0.0) == -np.inf
        assert ufuncs.xlog1py(0.0, -1.0) == 0.0
        assert ufuncs.xlog1py(1.0, -1.0) == -np.inf
        assert ufuncs.entr(0.0) == 0.0
        assert ufuncs.entr(-1.0) == -np.inf
        assert ufuncs.rel_entr(0.0, 0.0) == 0.0
        assert ufuncs.rel_entr(1.0, 0.0) == np.inf
        assert ufuncs.rel_entr(-1.0, 1.0) == np.inf
        assert ufuncs.kl_div(0.0, 3.0) == 3.0
        assert ufuncs.kl_div(1.0, 0.0) == np.inf
        assert ufuncs.expit(-np.inf) == 0.0 and ufuncs.expit(np.inf) == 1.0
        assert ufuncs.log_expit(-1e4) == -1e4
        assert ufuncs.log_expit(np.inf) == 0.0
        assert ufuncs.log_expit(-np.inf) == -np.inf
        for name in ALL:
            args = [np.nan] * (1 if name in UNARY else 2)
            assert np.isnan(getattr(ufuncs, name)(*args))


def test_tails_are_accurate():
    # expit far left: exp(x) itself; log_expit far right: -exp(-x); both nonzero, full precision.
    x = np.array([-700.0, -100.0, -40.0])
    np.testing.assert_allclose(ufuncs.expit(x), np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(ufuncs.log_expit(-x), -np.exp(x), rtol=1e-15)
    # xlog1py for tiny y: x * y to full precision (log(1 + y) would lose it all).
    assert ufuncs.xlog1py(3.0, 1e-20) == 3.0 * 1e-20
    # rel_entr of close arguments keeps its leading digits.
    x, y = 1.0 + 1e-12, 1.0
    assert ufuncs.rel_entr(x, y) == pytest.approx(x * np.log1p(1e-12), rel=1e-15)


def test_float32_loop_is_the_float64_value_rounded():
    rng = np.random.default_rng(3)
    x = wide_sample(rng, 50_000, np.float32)
    y = close_sample(rng, x)
    with np.errstate(all="ignore"):
        for name in BINARY:
            f = getattr(ufuncs, name)
            np.testing.assert_array_equal(f(x, y), f(x.astype(np.float64), y.astype(np.float64)).astype(np.float32))
        for name in UNARY:
            f = getattr(ufuncs, name)
            np.testing.assert_array_equal(f(x), f(x.astype(np.float64)).astype(np.float32))


def test_broadcasting_out_and_casting():
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    y = np.array([0.2, 0.5, 0.9])
    expected = scipy_special.rel_entr(x, y)
    np.testing.assert_array_equal(ufuncs.rel_entr(x, y), expected)
    out = np.empty((2, 3))
    result = ufuncs.rel_entr(x, y, out=out)
    assert result is out
    np.testing.assert_array_equal(out, expected)
    out32 = np.empty(3, dtype=np.float32)
    ufuncs.entr(y.astype(np.float32), out=out32)
    np.testing.assert_array_equal(out32, scipy_special.entr(y.astype(np.float32)))
    # Python scalars and integers go to the float64 loop, int16 to float32, like SciPy.
    assert ufuncs.xlogy(2, 3) == scipy_special.xlogy(2, 3)
    assert ufuncs.entr(np.arange(3)).dtype == np.float64
    assert ufuncs.entr(np.arange(3, dtype=np.int16)).dtype == scipy_special.entr(np.arange(3, dtype=np.int16)).dtype
    assert ufuncs.expit(np.float32(1)).dtype == np.float32
    assert ufuncs.xlogy(np.float32(2), np.float64(3)).dtype == np.float64
    np.testing.assert_array_equal(ufuncs.xlogy.outer(y, y), scipy_special.xlogy.outer(y, y))


def test_strided_readonly_and_inputs_not_modified():
    base = np.linspace(-3, 3, 40).reshape(8, 5)
    x = base[::2, 1::2]
    x.flags.writeable = False
    before = x.copy()
    np.testing.assert_array_equal(ufuncs.expit(x), scipy_special.expit(x))
    np.testing.assert_array_equal(ufuncs.log_expit(np.asfortranarray(x)), scipy_special.log_expit(x))
    np.testing.assert_array_equal(x, before)


def test_empty_and_zero_dim():
    assert ufuncs.entr(np.empty(0)).shape == (0,)
    assert ufuncs.kl_div(np.empty((0, 3)), np.ones(3)).shape == (0, 3)
    assert ufuncs.expit(0.0) == 0.5


def test_long_double_has_no_loop():
    with pytest.raises(TypeError):
        ufuncs.expit(np.ones(2, dtype=np.longdouble))


def test_scalar_functions_are_callable_from_user_njit_code():
    @numba.njit
    def user(x, y):
        total = 0.0
        for i in range(x.size):
            total += special.rel_entr(x[i], y[i]) + special.entr(x[i]) + special.xlogy(x[i], y[i])
            total += special.xlog1py(x[i], y[i]) + special.kl_div(x[i], y[i])
            total += special.expit(x[i]) + special.log_expit(x[i])
        return total

    x = np.array([0.1, 0.0, 0.7], dtype=np.float32)
    y = np.array([0.3, 0.5, 0.2], dtype=np.float32)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    expected = sum(
        (
            scipy_special.rel_entr(x64, y64)
            + scipy_special.entr(x64)
            + scipy_special.xlogy(x64, y64)
            + scipy_special.xlog1py(x64, y64)
            + scipy_special.kl_div(x64, y64)
            + scipy_special.expit(x64)
            + scipy_special.log_expit(x64)
        ).tolist()
    )
    assert user(x, y) == pytest.approx(expected, rel=1e-15)
    assert user(x64, y64) == pytest.approx(expected, rel=1e-15)


# Adversarial finite inputs for the floating-point flags: zero, subnormals,
# the normal threshold, huge values, the tails of expit/log_expit.
FLAG_GRID = {
    np.float64: [
        0.0,
        5e-324,
        1e-310,
        2.2250738585072014e-308,
        2.22e-308,
        1e-300,
        1e-20,
        0.5,
        1.0,
        2.0,
        4.0,
        36.0,
        40.5,
        700.0,
        745.5,
        800.0,
        1e10,
        1e300,
        1.7976931348623157e308,
    ],
    np.float32: [
        0.0,
        1e-45,
        1e-40,
        1.1754944e-38,
        1e-30,
        0.5,
        1.0,
        2.0,
        4.0,
        36.0,
        40.5,
        88.0,
        90.0,
        104.0,
        1e10,
        1e30,
        3.4028235e38,
    ],
}
EXACT_ZERO = {  # where the exact value is 0 (a zero result elsewhere is an underflow)
    "xlogy": lambda x, y: x == 0 or y == 1,
    "xlog1py": lambda x, y: x == 0 or y == 0,
    "entr": lambda x: x == 0 or x == 1,
    "rel_entr": lambda x, y: x == 0 or x == y,
    "kl_div": lambda x, y: x == y,
    "expit": lambda x: False,
    "log_expit": lambda x: False,
}


def flag_cases(name, dtype):
    grid = np.array(FLAG_GRID[dtype], dtype=dtype)
    grid = np.concatenate([grid, -grid[1:]])
    if name in UNARY:
        return [(v,) for v in grid]
    return [(a, b) for a in grid for b in grid]


def in_range_reference(name, args, dtype):
    """SciPy's value when it is finite, normal or an exact 0, and SciPy raises
    nothing under ``np.errstate(all="raise")``; else None (not a spurious case)."""
    try:
        with np.errstate(all="raise"):
            ref = getattr(scipy_special, name)(*args)
    except FloatingPointError:
        return None
    if name == "kl_div":
        ref = kl_div_reference(*args, ref)[()]
    if not np.isfinite(ref) or (ref == 0 and not EXACT_ZERO[name](*args)):
        return None
    if ref != 0 and abs(ref) < np.finfo(dtype).tiny:
        return None  # the result itself underflows
    return ref


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ALL)
def test_no_spurious_floating_point_flags(name, dtype):
    f = getattr(ufuncs, name)
    checked = 0
    for args in flag_cases(name, dtype):
        ref = in_range_reference(name, args, dtype)
        if ref is None:
            continue
        with np.errstate(all="raise"):
            ours = f(*args)  # raises FloatingPointError on a spurious flag
        assert ours.dtype == dtype
        assert ulp_distance(ours, ref.astype(dtype)) <= 2, (args, ours, ref)
        checked += 1
    assert checked > 10


def test_extreme_ratios_and_tails_are_exact_without_warnings():
    with np.errstate(all="raise"):
        assert ufuncs.rel_entr(4.0, 2.22e-308) == scipy_special.rel_entr(4.0, 2.22e-308)
        assert ufuncs.rel_entr(1e300, 1e-300) == scipy_special.rel_entr(1e300, 1e-300)
        assert ufuncs.rel_entr(1e-300, 1e300) == scipy_special.rel_entr(1e-300, 1e300)
        # SciPy: inf and -inf here (x / y overflows, underflows); the exact values:
        assert ufuncs.kl_div(4.0, 2.22e-308) == pytest.approx(4.0 * (np.log(4.0) - np.log(2.22e-308)) - 4.0, rel=1e-15)
        assert ufuncs.kl_div(1e-300, 1e300) == 1e300
        assert ufuncs.log_expit(-800.0) == -800.0
        assert ufuncs.log_expit(np.float32(-1e30)) == np.float32(-1e30)
        assert ufuncs.expit(800.0) == 1.0
        assert ufuncs.expit(np.float32(3e38)) == np.float32(1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_public_losses_raise_no_floating_point_error_on_extreme_finite_inputs(dtype):
    import fastxent

    info = np.finfo(dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    big = 1e300 if dtype == np.float64 else 1e30
    logits = np.array([1e4, -1e4, big, -big, 0.0, -800.0], dtype=dtype)
    # near 0 and 1; the true class (y = 1, or the label) never gets exactly 0
    proba = np.array([info.smallest_subnormal, 1 - info.epsneg, info.tiny, info.epsneg, 1.0, 0.0], dtype=dtype)
    labels = np.array([0, 1, 2, 0, 1, 2])
    z = np.stack([logits, logits[::-1], np.roll(logits, 2)], axis=1)
    p = np.zeros((6, 3), dtype=dtype)
    p[np.arange(6), labels] = 1 - info.epsneg
    p[np.arange(6), (labels + 1) % 3] = info.epsneg
    p[np.arange(3), (labels[:3] + 2) % 3] = info.smallest_subnormal
    q = p[::-1] + info.smallest_subnormal
    with np.errstate(all="raise"):
        results = [
            fastxent.binary_cross_entropy(y, logits, from_logits=True),
            *fastxent.binary_cross_entropy_value_and_grad(y, logits, from_logits=True, reduction="none"),
            fastxent.binary_cross_entropy(y, proba, clip=None, reduction="sum"),
            fastxent.binary_cross_entropy_grad(y, proba),
            *fastxent.cross_entropy_value_and_grad(labels, z, from_logits=True),
            fastxent.cross_entropy(labels, p, label_smoothing=0.1),
            fastxent.cross_entropy(p, p, clip=None, reduction="none"),
            fastxent.cross_entropy_grad(labels, p, clip=None),
            fastxent.log_loss(labels, p),
            fastxent.log_loss(y, proba),
            fastxent.d2_log_loss_score(labels, p),
            fastxent.entropy(p, axis=1),
            fastxent.entropy(p, q, axis=1, base=2),
            fastxent.kl_divergence(p, q),
        ]
    assert all(np.all(np.isfinite(r)) for r in results)
