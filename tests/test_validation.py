"""Shared validation helpers: no needless copies, messages name the argument."""

import numpy as np
import pytest

from fastxent._api.validation import (
    as_2d_view,
    as_float_array,
    as_index_array,
    check_bool,
    check_finite,
    check_in_range,
    check_nonempty,
    check_nonnegative_scalar,
    check_reduction,
    check_unit_interval_scalar,
    clip_bounds,
    mean_weight_exponent,
    scan,
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "readonly"])
def test_float_arrays_are_not_copied(dtype, layout):
    base = np.arange(24, dtype=dtype).reshape(4, 6)
    x = {"C": base, "F": np.asfortranarray(base), "strided": base[:, ::2], "readonly": base.copy()}[layout]
    if layout == "readonly":
        x.flags.writeable = False
    assert as_float_array(x, "x") is x


def test_memmap_is_not_copied(tmp_path):
    mm = np.memmap(tmp_path / "a.dat", dtype=np.float64, mode="w+", shape=(10,))
    assert np.shares_memory(as_float_array(mm, "x"), mm)


def test_other_numbers_are_converted_and_others_rejected():
    assert as_float_array([1, 2], "x").dtype == np.float64
    assert as_float_array(np.array([True]), "x").dtype == np.float64
    assert as_float_array(np.ones(2, np.float16), "x").dtype == np.float32
    for bad in (["a"], np.array([1 + 2j]), np.array([object()], dtype=object)):
        with pytest.raises(TypeError, match="my_arg"):
            as_float_array(bad, "my_arg")


def test_index_arrays():
    y = np.array([0, 2], dtype=np.int32)
    assert as_index_array(y, "y") is y
    assert as_index_array(np.array([1.0, 2.0]), "y").dtype == np.int64
    assert as_index_array(np.array([1, 2], dtype=np.uint8), "y").dtype == np.int64
    with pytest.raises(ValueError, match="labels_arg"):
        as_index_array([0.5], "labels_arg")
    with pytest.raises(ValueError, match="labels_arg"):
        as_index_array([np.nan], "labels_arg")
    with pytest.raises(TypeError, match="labels_arg"):
        as_index_array(["a"], "labels_arg")


def test_scan_any_layout():
    x = np.arange(60, dtype=np.float64).reshape(3, 4, 5)
    x[1, 2, 3] = np.nan
    x[0, 0, 0] = -np.inf
    for arr in (x, np.asfortranarray(x), x[:, ::2, ::-1], x.transpose(2, 0, 1), x[0, 0]):
        n_nan, lo, hi = scan(arr)
        finite = arr[~np.isnan(arr)]
        assert n_nan == np.isnan(arr).sum() and lo == finite.min() and hi == finite.max()
    assert np.shares_memory(as_2d_view(x), x) and as_2d_view(x.transpose(1, 0, 2)) is None


def test_value_checks_name_the_argument():
    with pytest.raises(ValueError, match="arg_a"):
        check_finite(np.array([1.0, np.inf]), "arg_a")
    check_finite(np.array([1, 2]), "arg_a")
    with pytest.raises(ValueError, match="arg_b.*probabilities"):
        check_in_range(np.array([0.5, 1.5], dtype=np.float32), "arg_b", 0.0, 1.0, "probabilities")
    with pytest.raises(ValueError, match="arg_b"):
        check_in_range(np.array([np.nan]), "arg_b", 0.0, 1.0, "probabilities")
    check_in_range(np.array([0.0, 1.0]), "arg_b", 0.0, 1.0, "probabilities")
    with pytest.raises(ValueError, match="arg_d"):
        check_nonempty(np.zeros((0, 3)), "arg_d")


def test_scalars_reduction_and_clip():
    assert check_reduction("sum") == "sum"
    for bad in ("avg", None, 1):
        with pytest.raises(ValueError, match="reduction"):
            check_reduction(bad)
    assert clip_bounds("auto", np.float32) == (np.finfo(np.float32).eps, 1 - np.finfo(np.float32).eps)
    assert clip_bounds(None, np.float64) == (0.0, 1.0)
    assert clip_bounds(0.01, np.float64) == (0.01, 0.99)
    for bad, error in (("x", ValueError), (0.5, ValueError), (-0.1, ValueError), (True, TypeError), ([0.1], TypeError)):
        with pytest.raises(error, match="clip"):
            clip_bounds(bad, np.float64)
    assert check_unit_interval_scalar(0.5, "s") == 0.5
    assert check_nonnegative_scalar(0, "pw") == 0.0
    for bad, error in ((1.5, ValueError), (np.nan, ValueError), ("0.1", TypeError), (False, TypeError)):
        with pytest.raises(error, match="smooth"):
            check_unit_interval_scalar(bad, "smooth")
    with pytest.raises(ValueError, match="pw"):
        check_nonnegative_scalar(-1.0, "pw")


def test_big_endian_is_converted_to_native_once():
    x = np.arange(4.0).astype(">f8")
    out = as_float_array(x, "x")
    assert out.dtype == np.float64 and out.dtype.isnative and not np.shares_memory(out, x)
    np.testing.assert_array_equal(out, x)
    y = as_index_array(np.array([0, 2], ">i4"), "y")
    assert y.dtype == np.int32 and y.dtype.isnative


def test_masked_arrays_are_their_data_unless_something_is_masked():
    masked = np.ma.array([0.5, 1.5])
    out = as_float_array(masked, "x")
    assert type(out) is np.ndarray and np.shares_memory(out, masked)
    with pytest.raises(TypeError, match="my_arg is a masked array"):
        as_float_array(np.ma.array([0.5, 1.5], mask=[0, 1]), "my_arg")
    with pytest.raises(TypeError, match="my_arg is a masked array"):
        as_index_array(np.ma.array([0, 1], mask=[0, 1]), "my_arg")


@pytest.mark.parametrize("values", [np.array([0, 2**63], np.uint64), np.array([1e300]), np.array([-(2.0**64)])])
def test_index_values_beyond_int64_are_errors_not_wrapped(values):
    with pytest.raises(ValueError, match="idx holds class index .* outside the range of int64"):
        as_index_array(values, "idx")
    assert as_index_array(np.array([0, 2**63 - 1], np.uint64), "idx")[1] == 2**63 - 1


def test_scan_of_a_zero_d_array():
    assert scan(np.array(2.5)) == (0, 2.5, 2.5)
    with pytest.raises(ValueError, match="zero_d"):
        check_in_range(np.array(-1.0), "zero_d", 0.0, np.inf, "weights")


def test_weights_must_be_finite_even_without_an_upper_bound():
    with pytest.raises(ValueError, match="w contains NaN or infinity"):
        check_in_range(np.array([1.0, np.inf]), "w", 0.0, np.inf, "weights")
    assert check_in_range(np.array([1.0, 3.0]), "w", 0.0, np.inf, "weights") == (1.0, 3.0)


def test_huge_python_ints_as_scalars_are_value_errors():
    for func in (check_unit_interval_scalar, check_nonnegative_scalar):
        with pytest.raises(ValueError, match="scalar_arg"):
            func(10**400, "scalar_arg")
    with pytest.raises(ValueError, match="clip"):
        clip_bounds(-(10**400), np.float64)


def test_booleans_must_be_booleans():
    assert check_bool(True, "flag") is True and check_bool(np.False_, "flag") is False
    for bad in ("no", 1, 0.0, None, np.array(True)):
        with pytest.raises(TypeError, match="flag"):
            check_bool(bad, "flag")


def test_mean_weight_exponent_is_a_power_of_two_rescaling():
    assert mean_weight_exponent(1.0) == 0 and mean_weight_exponent(0.0) == 0
    for largest in (1e308, 5e-324, 1e-200):
        scaled = np.ldexp(largest, -mean_weight_exponent(largest))
        assert 0.5 <= scaled < 1.0
