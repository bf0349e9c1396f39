"""Shared validation helpers: no needless copies, messages name the argument."""

import numpy as np
import pytest

import fastxent
from fastxent._api.validation import (
    as_2d_view,
    as_float_array,
    as_index_array,
    as_weights,
    check_accumulator_reduction,
    check_bool,
    check_finite,
    check_in_range,
    check_nonempty,
    check_nonnegative_scalar,
    check_reduction,
    check_unit_interval_scalar,
    check_weights,
    clip_bounds,
    first_outside,
    mean_weight_exponent,
    scaled_for_mean,
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


def test_both_reductions_checks_name_their_choices():
    assert check_accumulator_reduction("mean") == "mean"
    for bad in ("none", "avg", None):
        with pytest.raises(ValueError, match='reduction must be "mean" or "sum" for an accumulator'):
            check_accumulator_reduction(bad)
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\); got 'avg'"):
        check_reduction("avg")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_outside_finds_the_first_bad_value_in_c_order(dtype):
    x = np.zeros((3, 4), dtype=dtype)
    assert first_outside(x, 0.0, 1.0) is None and first_outside(x[:0], 0.0, 1.0) is None
    x[2, 1], x[1, 3] = np.nan, 2.0
    assert first_outside(x, 0.0, 1.0) == (1, 3)
    assert first_outside(x, -np.inf, np.inf) == (2, 1)  # only NaN and infinities are bad then
    x[0, 2] = -np.inf
    assert first_outside(x, -np.inf, np.inf) == (0, 2)
    assert first_outside(np.asfortranarray(x), 0.0, 1.0) == (0, 2)


def test_weights_are_checked_once_with_the_callers_shape_message():
    w, largest = as_weights([1, 3, 2], "wts", (3,), "{name} has shape {got}, not {expected}")
    assert w.dtype == np.float64 and largest == 3.0
    given = np.arange(4.0)
    assert as_weights(given, "wts", (4,), "")[0] is given
    with pytest.raises(ValueError, match=r"^wts has shape \(2,\), not \(3,\)$"):
        as_weights([1.0, 2.0], "wts", (3,), "{name} has shape {got}, not {expected}")
    for bad in ([1.0, -1.0, 0.0], [1.0, np.nan, 1.0], [1.0, np.inf, 1.0]):
        with pytest.raises(ValueError, match="^wts "):
            as_weights(bad, "wts", (3,), "")
    assert check_weights(np.array([0.0, 5e-324]), "w") == 5e-324


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: fastxent.binary_cross_entropy([0, 1], [0.5, 0.5], sample_weight=[1.0]),
            r"^sample_weight has shape \(1,\) but y_pred has shape \(2,\)$",
        ),
        (
            lambda: fastxent.cross_entropy([0, 1], np.full((2, 3), 1 / 3), sample_weight=[1.0]),
            r"^sample_weight must have shape \(2,\) \(one weight per sample\); got \(1,\)$",
        ),
        (
            lambda: fastxent.cross_entropy([0, 1], np.full((2, 3), 1 / 3), class_weight=[1.0, 2.0]),
            r"^class_weight must have shape \(3,\) \(one weight per class\); got \(2,\)$",
        ),
        (
            lambda: fastxent.binary_cross_entropy([0, 1], [0.5, 0.5], sample_weight=[1.0, -2.0]),
            r"^sample_weight must hold non-negative weights in \[0.0, inf\]; got values in \[-2.0, 1.0\]$",
        ),
        (
            lambda: fastxent.binary_cross_entropy([0, 1], [0.5, 0.5], pos_weight=[np.nan, 1.0]),
            r"^pos_weight contains NaN or infinity$",
        ),
        (
            lambda: fastxent.kl_divergence([0.5, 1.5], [0.5, 0.5]),
            r"^p must hold probabilities in \[0, 1\]; got values in \[0.5, 1.5\]$",
        ),
    ],
)
def test_weight_and_range_messages_of_the_public_functions(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_scaled_for_mean_rescales_only_extreme_weights():
    w = np.array([1.0, 2.0])
    assert scaled_for_mean(w, 2.0) is w
    huge = np.array([1e308, 1e-320, 0.0])
    scaled = scaled_for_mean(huge, 1e308)
    assert 0.5 <= scaled[0] < 1.0 and scaled[1] == 5e-324 and scaled[2] == 0.0
