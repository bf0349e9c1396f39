"""Accuracy, special values and vectorization of fastxent._math.elementary."""

import re

import numba
import numpy as np
import pytest

from fastxent._infra.jit import FASTMATH, kernel, scalar
from fastxent._infra.summation import block_bounds, compensated_sum, n_blocks
from fastxent._math import elementary as fm

HAS_LONG_DOUBLE = np.finfo(np.longdouble).nmant >= 63


# The loops are fast-math kernels on purpose: the elementary functions must
# keep their strict operation order when inlined into one.
@kernel
def map_log(x, out):
    for i in range(x.shape[0]):
        out[i] = fm.log(x[i])


@kernel
def map_log1p(x, out):
    for i in range(x.shape[0]):
        out[i] = fm.log1p(x[i])


@kernel
def map_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = fm.exp(x[i])


@kernel
def map_log_positive(x, out):
    for i in range(x.shape[0]):
        out[i] = fm.log_positive(x[i])


MAPS = {
    "log": (map_log, np.log),
    "log1p": (map_log1p, np.log1p),
    "exp": (map_exp, np.exp),
    "log_positive": (map_log_positive, np.log),
}


def apply(name, x):
    out = np.empty(x.shape[0], dtype=np.float64)
    MAPS[name][0](x, out)
    return out


def ulp_distance(a, b):
    """Number of representable doubles between a and b (0 for equal or both nan)."""
    ia = a.view(np.int64)
    ib = b.view(np.int64)
    # Map the sign-magnitude bit patterns onto a monotonic integer line.
    ia = np.where(ia < 0, np.int64(np.iinfo(np.int64).min) - ia, ia)
    ib = np.where(ib < 0, np.int64(np.iinfo(np.int64).min) - ib, ib)
    with np.errstate(over="ignore"):
        d = np.abs(ia - ib)  # wraps negative only when the true distance exceeds 2**63
    d = np.where(d < 0, np.iinfo(np.int64).max, d)
    both_nan = np.isnan(a) & np.isnan(b)
    return np.where(both_nan, 0, d)


def error_vs_long_double(name, x, got):
    """|got - exact| in units of the last place of the exact result (finite results)."""
    ref = MAPS[name][1](x.astype(np.longdouble))
    ref64 = ref.astype(np.float64)
    finite = np.isfinite(ref64) & (ref64 != 0)
    ulp = np.spacing(np.abs(ref64[finite])).astype(np.longdouble)
    return np.abs((got[finite].astype(np.longdouble) - ref[finite]) / ulp).astype(np.float64)


def random_doubles(rng, n, negative=False):
    """Uniform over bit patterns: every exponent (subnormals included) equally likely."""
    bits = rng.integers(0, 0x7FF0000000000000, n, dtype=np.int64)
    x = bits.view(np.float64)
    return -x if negative else x


def neighbours(values, k=3):
    """Each value and its k nearest doubles on each side."""
    values = np.asarray(values, dtype=np.float64)
    out = [values]
    up = down = values
    for _ in range(k):
        up = np.nextafter(up, np.inf)
        down = np.nextafter(down, -np.inf)
        out += [up, down]
    return np.concatenate(out)


def positive_normal(x):
    """The arguments of ``log_positive``: positive, normal and finite."""
    return x[(x >= np.finfo(np.float64).tiny) & (x < np.inf)]


def adversarial(name):
    if name == "log_positive":
        return positive_normal(adversarial("log"))
    two_powers = np.ldexp(1.0, np.arange(-1074, 1024))
    if name == "log":
        return np.concatenate(
            [
                neighbours(two_powers, 2),
                neighbours([1.0, np.sqrt(0.5), np.sqrt(2.0), np.e, 2.2250738585072014e-308], 64),
                1.0 + np.linspace(-0.3, 0.42, 200_001),
                np.arange(1.0, 100_001.0),
            ]
        )
    if name == "log1p":
        return np.concatenate(
            [
                neighbours(two_powers, 2),
                -neighbours(two_powers[:1023], 1),
                neighbours([-1.0, -0.5, np.sqrt(0.5) - 1, np.sqrt(2.0) - 1, 1e-16, -1e-16], 64),
                np.linspace(-0.999999, 1.0, 200_001),
                np.logspace(-20, 0, 100_001),
                -np.logspace(-20, -1e-9, 100_001),
            ]
        )
    ln2 = np.log(2.0)
    return np.concatenate(
        [
            neighbours([709.782712893384, -745.1332191019411, -708.3964185322641, 0.0], 64),
            neighbours((np.arange(-1100, 1100) + 0.5) * ln2, 2),  # rounding ties of k
            np.linspace(-746.0, 710.0, 400_001),
            np.linspace(-1.0, 1.0, 100_001),
            np.logspace(-320, 0, 10_001),
            -np.logspace(-320, 0, 10_001),
        ]
    )


def domain(name, rng, n):
    if name == "log_positive":
        return positive_normal(random_doubles(rng, n))
    if name == "log":
        return random_doubles(rng, n)
    if name == "log1p":
        return np.concatenate([random_doubles(rng, n // 2), -rng.random(n // 4), rng.standard_normal(n // 4) * 1e-6])
    return np.concatenate(
        [rng.uniform(-750.0, 712.0, n // 2), rng.standard_normal(n // 4), rng.standard_normal(n // 4) * 1e-9]
    )


@pytest.mark.parametrize("name", ["log", "log1p", "exp", "log_positive"])
def test_within_one_ulp_of_numpy_on_millions_of_points(name):
    rng = np.random.default_rng(20261125)
    x = np.concatenate([domain(name, rng, 2_000_000), adversarial(name)])
    with np.errstate(all="ignore"):
        expected = MAPS[name][1](x)
    got = apply(name, x)
    distance = ulp_distance(got, expected)
    worst = int(np.argmax(distance))
    assert distance.max() <= 1, (x[worst], got[worst], expected[worst])
    # and almost always the very same double
    assert np.mean(distance == 0) > 0.85


@pytest.mark.skipif(not HAS_LONG_DOUBLE, reason="needs an 80-bit long double reference")
@pytest.mark.parametrize("name,bound", [("log", 0.85), ("log1p", 0.9), ("exp", 0.95), ("log_positive", 0.85)])
def test_error_against_long_double_reference_is_below_one_ulp(name, bound):
    rng = np.random.default_rng(7)
    x = np.concatenate([domain(name, rng, 1_000_000), adversarial(name)])
    with np.errstate(all="ignore"):
        got = apply(name, x)
        err = error_vs_long_double(name, x, got)
    assert err.max() < bound


SPECIAL = {
    "log": [
        (0.0, -np.inf),
        (-0.0, -np.inf),
        (1.0, 0.0),
        (np.inf, np.inf),
        (-np.inf, np.nan),
        (np.nan, np.nan),
        (-1.0, np.nan),
        (-5e-324, np.nan),
        (5e-324, -744.4400719213812),
        (2.0, np.log(2.0)),
    ],
    "log1p": [
        (0.0, 0.0),
        (-0.0, -0.0),
        (-1.0, -np.inf),
        (-1.0000000000000002, np.nan),
        (-np.inf, np.nan),
        (np.inf, np.inf),
        (np.nan, np.nan),
        (5e-324, 5e-324),
        (-5e-324, -5e-324),
        (1e-300, 1e-300),
        (1.0, np.log(2.0)),
    ],
    "exp": [
        (0.0, 1.0),
        (-0.0, 1.0),
        (np.inf, np.inf),
        (-np.inf, 0.0),
        (np.nan, np.nan),
        (710.0, np.inf),
        (1e308, np.inf),
        (-1e308, 0.0),
        (-746.0, 0.0),
        (-745.1332191019411, 5e-324),
        (709.782712893384, 1.7976931348622732e308),
        (-740.0, 4.2e-322),
        (1.0, 2.7182818284590455),
    ],  # e + 1 ulp, as fdlibm
}


@pytest.mark.parametrize("name", ["log", "log1p", "exp"])
def test_special_values(name):
    x = np.array([a for a, _ in SPECIAL[name]])
    expected = np.array([b for _, b in SPECIAL[name]])
    for got in (apply(name, x), np.array([getattr(fm, name)(v) for v in x])):
        np.testing.assert_array_equal(got, expected)
        # signs of zeros too
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("name", ["log", "log1p", "exp"])
def test_subnormal_inputs_and_results(name):
    rng = np.random.default_rng(3)
    if name == "exp":
        x = rng.uniform(-745.2, -708.3, 200_000)  # results are subnormal
    else:
        x = rng.integers(1, 1 << 52, 200_000).view(np.float64)  # inputs are subnormal
    expected = MAPS[name][1](x)
    got = apply(name, x)
    assert ulp_distance(got, expected).max() <= 1


@pytest.mark.parametrize("name", ["log", "log1p", "exp", "log_positive"])
def test_float32_arguments_are_widened_exactly(name):
    rng = np.random.default_rng(5)
    x32 = (rng.random(10_000) * 4).astype(np.float32)
    np.testing.assert_array_equal(apply(name, x32), apply(name, x32.astype(np.float64)))


# Not cached (cache=True disables inspection of code loaded from disk) and
# compiled like a user's own fast-math loop.
def _user_sum(func):
    """``sum(func(p_i))`` as a user's fast-math loop."""

    @numba.njit(fastmath=FASTMATH)
    def total(p):
        acc = 0.0
        for i in range(p.shape[0]):
            acc += func(p[i])
        return acc

    return total


_user_sum_log = _user_sum(fm.log)
_user_sum_log_positive = _user_sum(fm.log_positive)


@numba.njit(fastmath=FASTMATH)
def _user_sum_exp_log1p(p):
    acc = 0.0
    for i in range(p.shape[0]):
        acc += fm.exp(p[i]) + fm.log1p(p[i])
    return acc


@numba.njit(parallel=True, fastmath=FASTMATH)
def _user_parallel_sum_log(p):
    n = p.shape[0]
    partial = np.empty(n_blocks(n))
    for b in numba.prange(n_blocks(n)):
        start, stop = block_bounds(b, n)
        block = p[start:stop]
        acc = 0.0
        for i in range(block.shape[0]):
            acc += fm.log(block[i])
        partial[b] = acc
    return compensated_sum(partial)


LIBM_CALL = re.compile(r"\b(log|log1p|exp|__log_finite|__exp_finite)(@PLT)?\b")
PACKED_DOUBLE = re.compile(r"\bv\w+pd\s+[^\n]*%[yz]mm")


@pytest.mark.parametrize("func", [_user_sum_log, _user_sum_exp_log1p, _user_parallel_sum_log])
def test_loops_calling_them_vectorize_without_libm_calls(func):
    p = np.random.default_rng(0).random(10_000)
    func(p)
    asm = "\n".join(func.inspect_asm().values())
    called = {m.group(1) for m in re.finditer(r"(?:call\w*|movabsq)\s+\$?([\w.@]+)", asm)}
    assert not {c for c in called if LIBM_CALL.fullmatch(c)}, called
    # packed double-precision arithmetic on 256/512-bit registers (the
    # division of the log/exp polynomial included)
    assert len(PACKED_DOUBLE.findall(asm)) > 20
    assert re.search(r"vdivpd\s+[^\n]*%[yz]mm", asm)


def test_log_positive_vectorizes_with_fused_multiply_adds_and_no_tests():
    p = np.random.default_rng(0).random(10_000) + 0.5
    assert _user_sum_log_positive(p) == pytest.approx(np.log(p).sum(), rel=1e-13)
    asm = "\n".join(_user_sum_log_positive.inspect_asm().values())
    assert re.search(r"vfmadd\w*pd\s+[^\n]*%[yz]mm", asm)
    assert re.search(r"vdivpd\s+[^\n]*%[yz]mm", asm)
    # log's special values are packed compares and blends; log_positive has
    # only the loop's own compare-free body
    assert not re.search(r"vcmp\w*pd\s+[^\n]*%[yz]mm", _vector_body(asm))


def _vector_body(asm):
    """The instructions of the innermost loop with packed divisions."""
    blocks = re.split(r"\n(?=\.LBB)", asm)
    return next(b for b in blocks if re.search(r"vdivpd\s+[^\n]*%[yz]mm", b))


def test_vectorized_sums_match_numpy():
    p = np.random.default_rng(1).random(100_003)
    assert _user_sum_log(p) == pytest.approx(np.log(p).sum(), rel=1e-13)
    assert _user_parallel_sum_log(p) == pytest.approx(np.log(p).sum(), rel=1e-13)
    assert _user_sum_exp_log1p(p) == pytest.approx((np.exp(p) + np.log1p(p)).sum(), rel=1e-13)


@scalar
def round_half_even(x):
    # Rounds only when evaluated exactly as written; reassociation folds it to x.
    return (x + 6755399441055744.0) - 6755399441055744.0


@numba.njit(fastmath=FASTMATH)
def _fast_math_caller(x):
    return round_half_even(x)


def test_scalar_functions_do_not_inherit_a_fast_math_callers_flags():
    # The fast-math caller compiles the scalar first: Numba would let an
    # unset fastmath flag be inherited from it.
    assert _fast_math_caller(2.3) == 2.0
    assert _fast_math_caller(2.5) == 2.0
    assert round_half_even(3.5) == 4.0
