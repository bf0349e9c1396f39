"""The compensated-add primitive every compensated sum uses, and the float
constants and bit casts of ``fastxent._infra.floats``, against ``math.fsum``
and NumPy."""

import math

import numba
import numpy as np
import pytest

from fastxent._infra import floats
from fastxent._infra.floats import FLOAT64_EPS, FLOAT64_MAX, SMALLEST_NORMAL, float_bits, float_from_bits
from fastxent._infra.summation import (
    compensated_add,
    compensated_add_arrays,
    compensated_sum,
    compensated_sum_columns,
)


def _pair_sum(values):
    total = comp = 0.0
    for v in values:
        total, comp = compensated_add(total, comp, float(v))
    return total + comp


def test_constants_are_numpys():
    info = np.finfo(np.float64)
    assert SMALLEST_NORMAL == info.smallest_normal
    assert FLOAT64_EPS == info.eps
    assert FLOAT64_MAX == info.max


@pytest.mark.parametrize("seed", range(5))
def test_compensated_add_gives_fsum_of_ill_conditioned_terms(seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 16, 2000)
    values = np.concatenate([values, -values[:1000]])  # heavy cancellation
    rng.shuffle(values)
    assert _pair_sum(values) == pytest.approx(math.fsum(values), rel=1e-15, abs=1e-300)
    assert compensated_sum(values) == _pair_sum(values)
    assert _pair_sum([1e16, 1.0, -1e16]) == 1.0  # naive summation gives 0.0


def test_an_overflowed_sum_stays_inf_and_drops_the_compensation():
    total, comp = compensated_add(1e308, 0.0, 1e308)
    assert total == math.inf and comp == 0.0
    total, comp = compensated_add(total, comp, 1.0)
    assert total == math.inf and comp == 0.0
    total, comp = compensated_add(math.inf, 0.0, -math.inf)
    assert math.isnan(total) and comp == 0.0
    assert compensated_sum(np.array([1.0, math.inf, 2.0])) == math.inf
    assert math.isnan(compensated_sum(np.array([math.inf, 1.0, -math.inf])))


def test_the_array_and_column_forms_are_the_scalar_form_element_by_element():
    rng = np.random.default_rng(3)
    values = rng.standard_normal((300, 4)) * 10.0 ** rng.integers(-5, 12, (300, 4))
    values[7, 3] = math.inf
    columns = compensated_sum_columns(values)
    for j in range(4):
        assert columns[j] == compensated_sum(np.ascontiguousarray(values[:, j]))
    total, comp = np.zeros(4), np.zeros(4)
    for row in values:
        new_total, new_comp = compensated_add_arrays(total, comp, row)
        for j in range(4):
            assert (new_total[j], new_comp[j]) == compensated_add(total[j], comp[j], row[j])
        total, comp = new_total, new_comp
    np.testing.assert_array_equal(total + comp, columns)


@numba.njit
def _round_trip64(x):
    bits = float_bits(x)
    return bits, float_from_bits(bits)


@numba.njit
def _round_trip32(x):
    bits = float_bits(x)
    return bits, float_from_bits(bits)


F64 = np.array([0.0, -0.0, 1.0, -2.5, SMALLEST_NORMAL, 5e-324, FLOAT64_MAX, np.inf, -np.inf])
F32 = np.array([0.0, -0.0, 1.0, -2.5, 1e-45, 3.4e38, np.inf], dtype=np.float32)


@pytest.mark.parametrize("x", F64)
def test_float64_bits_are_numpys_view(x):
    bits, back = _round_trip64(x)
    assert bits == np.float64(x).view(np.int64)
    assert np.float64(back).view(np.int64) == bits
    assert floats._float_bits_python(x) == bits  # the stand-in used with the JIT disabled
    assert floats._float_from_bits_python(bits).view(np.int64) == bits


@pytest.mark.parametrize("x", F32)
def test_float32_bits_are_numpys_view(x):
    bits, back = _round_trip32(x)
    assert np.int32(bits) == x.view(np.int32)
    assert np.float32(back).view(np.int32) == bits
    assert floats._float_bits_python(x) == bits
    assert floats._float_from_bits_python(np.int32(bits)).view(np.int32) == bits


def test_the_stand_ins_wrap_integers_like_llvm():
    assert floats._float_from_bits_python(2**64 + 1).view(np.int64) == 1
    assert floats._float_from_bits_python(np.int32(-1)).dtype == np.float32
    assert np.isnan(floats._float_from_bits_python(np.int32(-1)))
