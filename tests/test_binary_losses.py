"""binary_cross_entropy (+ _grad, _value_and_grad): PyTorch, finite differences,
extreme logits, layouts, user @njit code, errors, 1e7-sample accuracy."""

import math

import numba
import numpy as np
import pytest
from conftest import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

import fastxent
from fastxent._kernels.binary import binary_cross_entropy_parallel, binary_cross_entropy_serial
from fastxent._math.binary import (
    binary_logit_grad,
    binary_logit_loss,
    binary_logit_loss_grad,
    binary_proba_grad,
    binary_proba_loss,
    binary_proba_loss_grad,
    sigmoid,
    softplus,
)

bce = fastxent.binary_cross_entropy
bce_grad = fastxent.binary_cross_entropy_grad
bce_vg = fastxent.binary_cross_entropy_value_and_grad


def _data(n=300, seed=0, soft=False, dtype=np.float64):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(n) * 4).astype(dtype)
    y = rng.random(n) if soft else (rng.random(n) < 0.4).astype(np.float64)
    return y, z


def torch_bce_vg(y_true, y_pred, **kwargs):
    """PyTorch's (value, gradient) on fastxent's arguments, from the reference table."""
    return reference("binary_cross_entropy_value_and_grad", "torch")(y_true, y_pred, **kwargs)


def _reference_losses(y, x, from_logits, pos_weight=1.0):
    """Stable float64 NumPy formula (np.logaddexp is exact to ~1 ulp)."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if from_logits:
        return pos_weight * y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(pos_weight * np.where(y > 0, y * np.log(x), 0.0) + np.where(y < 1, (1 - y) * np.log1p(-x), 0.0))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, 2.5])
@pytest.mark.parametrize("soft", [False, True])
def test_logits_match_torch(reduction, pos_weight, soft):
    y, z = _data(soft=soft)
    expected, expected_grad = torch_bce_vg(y, z, from_logits=True, pos_weight=pos_weight, reduction=reduction)
    value, grad = bce_vg(y, z, from_logits=True, pos_weight=pos_weight, reduction=reduction)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        bce(y, z, from_logits=True, pos_weight=pos_weight, reduction=reduction), value, rtol=1e-15
    )
    np.testing.assert_array_equal(bce_grad(y, z, from_logits=True, pos_weight=pos_weight, reduction=reduction), grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probabilities_match_torch(reduction):
    y, z = _data(soft=True)
    p = 1 / (1 + np.exp(-z))
    expected, expected_grad = torch_bce_vg(y, p, reduction=reduction)
    value, grad = bce_vg(y, p, reduction=reduction)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_per_class_pos_weight_matches_torch(reduction, order):
    rng = np.random.default_rng(11)
    z = np.asarray(rng.standard_normal((50, 4)) * 3, order=order)
    y = (rng.random((50, 4)) < 0.3).astype(np.float64)
    pw = np.array([0.5, 1.0, 3.0, 0.0])
    expected, expected_grad = torch_bce_vg(y, z, from_logits=True, pos_weight=pw, reduction=reduction)
    value, grad = bce_vg(y, z, from_logits=True, pos_weight=pw, reduction=reduction)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-14)
    p = 1 / (1 + np.exp(-z))
    expected = _reference_losses(y, p, False, pw)
    np.testing.assert_allclose(bce(y, p, pos_weight=pw, reduction="none"), expected, rtol=1e-12)


def test_pos_weight_with_probabilities_matches_formula():
    y, z = _data(soft=True)
    p = 1 / (1 + np.exp(-z))
    got = bce(y, p, pos_weight=3.0, reduction="none")
    np.testing.assert_allclose(got, _reference_losses(y, p, False, 3.0), rtol=1e-13)


@pytest.mark.parametrize("from_logits", [True, False])
def test_sample_weight_is_a_weighted_mean(from_logits):
    y, z = _data(soft=True)
    x = z if from_logits else 1 / (1 + np.exp(-z))
    w = np.random.default_rng(1).uniform(0, 3, y.shape[0])
    ref = _reference_losses(y, x, from_logits)
    np.testing.assert_allclose(
        bce(y, x, from_logits=from_logits, sample_weight=w), np.sum(w * ref) / np.sum(w), rtol=1e-12
    )
    np.testing.assert_allclose(
        bce(y, x, from_logits=from_logits, sample_weight=w, reduction="none"), w * ref, rtol=1e-12, atol=1e-300
    )
    assert bce(y, x, from_logits=from_logits, sample_weight=np.zeros_like(w)) == 0.0


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("pos_weight", [None, 1.7])
def test_gradient_matches_central_differences(from_logits, pos_weight):
    y, z = _data(n=40, soft=True, seed=3)
    x = z if from_logits else 1 / (1 + np.exp(-z / 4))
    w = np.random.default_rng(2).uniform(0.5, 2, y.shape[0])
    kwargs = dict(from_logits=from_logits, pos_weight=pos_weight, sample_weight=w)
    grad = bce_grad(y, x, **kwargs)
    h = 1e-6
    for i in range(0, 40, 7):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        fd = (bce(y, up, **kwargs) - bce(y, down, **kwargs)) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("z", [-1e4, -1e30, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1e30, -1e300, 1e300])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.25])
def test_extreme_logits_are_finite_and_exact(z, y):
    value, grad = bce_vg([y], [z], from_logits=True, pos_weight=2.0)
    expected = 2.0 * y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)
    assert np.isfinite(value) and np.isfinite(grad[0])
    assert value == pytest.approx(expected, rel=1e-15, abs=0)
    expected_grad = (1 - y) * expit(z) - 2.0 * y * expit(-z)
    assert grad[0] == pytest.approx(expected_grad, rel=1e-13, abs=1e-300)


def test_clipping_and_xlogy_semantics():
    assert bce([1, 0], [1.0, 0.0], clip=None) == 0.0
    assert bce([1, 0], [0.0, 1.0], clip=None) == np.inf
    eps = np.finfo(np.float64).eps
    assert bce([1], [0.0]) == pytest.approx(-np.log(eps))
    assert bce([1], np.array([0.0], dtype=np.float32)) == pytest.approx(-np.log(np.finfo(np.float32).eps))
    assert bce([1], [0.0], clip=1e-3) == pytest.approx(-np.log(1e-3))
    g = bce_grad([1, 0, 1], [1.0, 0.0, 0.0], clip=None, reduction="sum")
    assert g[0] == -1.0 and g[1] == 1.0 and g[2] == -np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_of_gradient_and_value_accuracy(dtype):
    y, z = _data(dtype=dtype)
    value, grad = bce_vg(y, z, from_logits=True)
    assert grad.dtype == dtype and isinstance(value, float)
    ref = _reference_losses(y, z.astype(np.float64), True)
    assert value == pytest.approx(ref.mean(), rel=1e-14)


def test_targets_of_any_numeric_dtype():
    y, z = _data()
    expected = bce(y, z, from_logits=True)
    for yy in (y.astype(bool), y.astype(np.int64), y.astype(np.float32), y.astype(np.int8), y.tolist()):
        assert bce(yy, z, from_logits=True) == pytest.approx(expected, rel=1e-15)


arrays_2d = st.tuples(
    st.integers(1, 9),
    st.integers(1, 7),
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from(["C", "F", "strided"]),
    st.booleans(),
    st.integers(0, 2**31),
)


@settings(max_examples=25, deadline=None)
@given(arrays_2d, st.booleans())
def test_layouts_dtypes_readonly(params, from_logits):
    rows, cols, dtype, layout, readonly, seed = params
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((rows, 2 * cols)) * rng.choice([1.0, 30.0, 1e4])
    if not from_logits:
        base = 1 / (1 + np.exp(-np.clip(base, -30, 30)))
        base[0, 0] = rng.choice([0.0, 1.0, base[0, 0]])
    base = base.astype(dtype)
    x = base[:, ::2] if layout == "strided" else np.asarray(base[:, :cols], order=layout)
    y = (rng.random(x.shape) < 0.5).astype(np.float64)
    y_orig, x_orig = y.copy(), x.copy()
    if readonly:
        x.flags.writeable = False
        y.flags.writeable = False
    value, grad = bce_vg(y, x, from_logits=from_logits, reduction="sum")
    x64 = x.astype(np.float64)
    if not from_logits:
        eps = np.finfo(dtype).eps
        x64 = np.clip(x64, eps, 1 - eps)
    ref = _reference_losses(y, x64, from_logits)
    assert value == pytest.approx(ref.sum(), rel=1e-12)
    assert grad.shape == x.shape and grad.dtype == dtype
    assert np.array_equal(x, x_orig) and np.array_equal(y, y_orig)
    losses = bce(y, x, from_logits=from_logits, reduction="none")
    np.testing.assert_allclose(losses, ref, rtol=1e-12, atol=1e-300)


def test_memmap_input(tmp_path):
    y, z = _data()
    path = tmp_path / "z.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=z.shape)
    mm[:] = z
    mm.flush()
    ro = np.memmap(path, dtype=np.float64, mode="r", shape=z.shape)
    assert bce(y, ro, from_logits=True) == bce(y, z, from_logits=True)


@numba.njit
def _user_loop(y, z):
    total = 0.0
    grads = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        loss, grads[i] = binary_logit_loss_grad(y[i], z[i], 1.0)
        total += loss
        total += 0.0 * (binary_logit_loss(y[i], z[i], 1.0) - loss) + 0.0 * binary_logit_grad(y[i], z[i], 1.0)
    p = sigmoid(z[0])
    total += 0.0 * (softplus(z[0]) + binary_proba_loss(y[0], p, 1.0, 0.0, 1.0))
    total += 0.0 * (binary_proba_grad(y[0], p, 1.0, 0.0, 1.0) + binary_proba_loss_grad(y[0], p, 1.0, 0.0, 1.0)[0])
    return total, grads


@numba.njit
def _user_serial(y, z):
    return binary_cross_entropy_serial(y, z, np.empty(0), 1.0, True, 0.0, 1.0, 1.0, np.empty(0), np.empty(0))


@numba.njit(parallel=True)
def _user_parallel(y, z):
    out = np.empty(2)
    for r in numba.prange(2):
        out[r] = binary_cross_entropy_parallel(y, z, np.empty(0), 1.0, True, 0.0, 1.0, 1.0, np.empty(0), np.empty(0))[0]
    return out


def test_kernels_from_user_njit_code():
    y, z = _data(n=5000)
    expected = bce(y, z, from_logits=True, reduction="sum")
    total, grads = _user_loop(y, z)
    assert total == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(grads, bce_grad(y, z, from_logits=True, reduction="sum"), rtol=1e-14)
    assert _user_serial(y, z)[0] == expected
    np.testing.assert_array_equal(_user_parallel(y, z), [expected, expected])


def test_thread_count_does_not_change_the_result():
    y, z = _data(n=200_000)
    empty = np.empty(0)
    args = (y, z, empty, 1.0, True, 0.0, 1.0, 1.0, empty, empty)
    serial = binary_cross_entropy_serial(*args)
    before = numba.get_num_threads()
    try:
        for threads in {1, before}:
            numba.set_num_threads(threads)
            assert binary_cross_entropy_parallel(*args) == serial
    finally:
        numba.set_num_threads(before)


def test_ten_million_samples_within_1e13_of_fsum():
    rng = np.random.default_rng(7)
    z = rng.standard_normal(10_000_000) * 3
    y = (rng.random(10_000_000) < 0.5).astype(np.float64)
    losses = bce(y, z, from_logits=True, reduction="none")
    total = bce(y, z, from_logits=True, reduction="sum")
    exact = math.fsum(losses)
    assert abs(total - exact) <= 1e-13 * exact
    assert abs(bce(y, z, from_logits=True) - exact / 1e7) <= 1e-13 * exact / 1e7


BAD = [
    (dict(y_true=[2, 0], y_pred=[0.5, 0.5]), ValueError, "y_true"),
    (dict(y_true=[np.nan, 0], y_pred=[0.5, 0.5]), ValueError, "y_true"),
    (dict(y_true=[1, 0], y_pred=[1.5, 0.5]), ValueError, "y_pred"),
    (dict(y_true=[1, 0], y_pred=[-0.1, 0.5]), ValueError, "y_pred"),
    (dict(y_true=[1, 0], y_pred=[np.nan, 0.5]), ValueError, "y_pred"),
    (dict(y_true=[1, 0], y_pred=[np.inf, 0.5], from_logits=True), ValueError, "y_pred"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], reduction="avg"), ValueError, "reduction"),
    (dict(y_true=[1], y_pred=[0.5, 0.5]), ValueError, "y_true"),
    (dict(y_true=[], y_pred=[]), ValueError, "y_pred"),
    (dict(y_true=[1, 0], y_pred=["a", "b"]), TypeError, "y_pred"),
    (dict(y_true=["a", "b"], y_pred=[0.5, 0.5]), TypeError, "y_true"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], pos_weight=-1), ValueError, "pos_weight"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], pos_weight="2"), TypeError, "pos_weight"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], pos_weight=[1.0, 2.0, 3.0]), ValueError, "pos_weight"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], pos_weight=[1.0, -2.0]), ValueError, "pos_weight"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], clip="x"), ValueError, "clip"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], clip=0.7), ValueError, "clip"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], sample_weight=[1.0]), ValueError, "sample_weight"),
    (dict(y_true=[1, 0], y_pred=[0.5, 0.5], sample_weight=[1.0, -1.0]), ValueError, "sample_weight"),
]


@pytest.mark.parametrize("func", [bce, bce_grad, bce_vg], ids=lambda f: f.__name__)
@pytest.mark.parametrize("kwargs, error, name", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_argument(func, kwargs, error, name):
    with pytest.raises(error, match=name):
        func(**kwargs)


# -------------------------------------------------- hostile inputs

Y6 = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
Z6 = np.array([[0.3, -1.0, 2.0], [-0.2, 0.7, 4.0]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "pos_weight",
    [
        np.array(2.0),
        np.array([2.0]),
        np.array([[2.0]]),
        np.array([1.5, 2.0, 0.5]),
        np.array([[1.5, 2.0, 0.5]]),
        np.array([[2.0], [3.0]]),
        np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 0.5]]),
    ],
    ids=lambda a: str(a.shape),
)
def test_pos_weight_broadcasts_like_torch(pos_weight, reduction):
    expected, expected_grad = torch_bce_vg(Y6, Z6, from_logits=True, pos_weight=pos_weight, reduction=reduction)
    value, grad = bce_vg(
        Y6, Z6, from_logits=True, pos_weight=pos_weight, reduction="sum" if reduction == "none" else reduction
    )
    np.testing.assert_allclose(grad, expected_grad if reduction != "mean" else expected_grad, rtol=1e-13)
    if reduction == "mean":
        assert value == pytest.approx(float(expected), rel=1e-13)
    np.testing.assert_allclose(
        bce(Y6, Z6, from_logits=True, pos_weight=pos_weight, reduction=reduction), expected, rtol=1e-13
    )


@pytest.mark.requires("torch")
def test_zero_d_pos_weight_tensor_and_scalar_input():
    import torch

    expected = reference("binary_cross_entropy", "torch")(1.0, 0.3, from_logits=True, pos_weight=2.0)
    pw = torch.tensor(2.0, dtype=torch.float64)
    assert bce(1.0, 0.3, from_logits=True, pos_weight=pw) == pytest.approx(expected, rel=1e-15)
    assert bce(1.0, 0.3, from_logits=True, pos_weight=np.array(2.0)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "pos_weight", [np.array([1.0]), np.array([1.0, 2.0]), np.ones((3, 1, 3))], ids=lambda a: str(a.shape)
)
def test_pos_weight_that_would_enlarge_y_pred_is_refused_like_torch(pos_weight):
    y, z = (1.0, 0.3) if pos_weight.shape == (1,) else (Y6, Z6)
    torch_bce = reference("binary_cross_entropy", "torch")
    with pytest.raises(RuntimeError):
        torch_bce(y, z, from_logits=True, pos_weight=pos_weight)
    for func in (bce, bce_grad, bce_vg):
        with pytest.raises(ValueError, match="pos_weight"):
            func(y, z, from_logits=True, pos_weight=pos_weight)


def test_big_endian_arguments_give_the_native_result():
    be = lambda a: np.asarray(a).astype(np.asarray(a).dtype.newbyteorder(">"))  # noqa: E731
    sw, pw = np.full(Y6.shape, 2.0) + Y6, np.array([1.0, 2.0, 3.0])
    expected = bce_vg(Y6, Z6, from_logits=True, sample_weight=sw, pos_weight=pw)
    actual = bce_vg(be(Y6), be(Z6), from_logits=True, sample_weight=be(sw), pos_weight=be(pw))
    assert actual[0] == pytest.approx(expected[0], rel=1e-15)
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-15)
    assert bce(be(np.array([0, 1])), be(np.array([0.3, 0.6]))) == bce([0, 1], [0.3, 0.6])


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "sample_weight", "pos_weight"])
def test_masked_arrays_use_their_data_or_name_the_masked_argument(argument):
    args = dict(y_true=Y6, y_pred=Z6, sample_weight=np.full(Y6.shape, 2.0), pos_weight=np.array([1.0, 2.0, 3.0]))
    expected = bce(**args, from_logits=True)
    for _ in range(2):  # the same outcome before and after plain calls
        assert bce(**dict(args, **{argument: np.ma.array(args[argument])}), from_logits=True) == expected
        mask = np.zeros(args[argument].shape, dtype=bool)
        mask.flat[0] = True
        with pytest.raises(TypeError, match=f"{argument} is a masked array"):
            bce(**dict(args, **{argument: np.ma.array(args[argument], mask=mask)}), from_logits=True)


@pytest.mark.parametrize("value", ["no", 1, 0.0, None, np.array(False)])
def test_from_logits_must_be_a_bool(value):
    for func in (bce, bce_grad, bce_vg):
        with pytest.raises(TypeError, match="from_logits"):
            func(1.0, 0.3, from_logits=value)
    assert bce(1.0, 0.3, from_logits=np.True_) == bce(1.0, 0.3, from_logits=True)


@pytest.mark.parametrize("scale", [1e308, 5e-324])
def test_extreme_sample_weights_give_the_exact_weighted_mean(scale):
    expected_value, expected_grad = bce_vg(Y6, Z6, from_logits=True)
    value, grad = bce_vg(Y6, Z6, from_logits=True, sample_weight=np.full(Y6.shape, scale))
    assert value == pytest.approx(expected_value, rel=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-14)
    assert bce(Y6, Z6, from_logits=True, sample_weight=np.full(Y6.shape, scale)) == pytest.approx(
        expected_value, rel=1e-14
    )


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(sample_weight=np.array([1.0, np.inf])), "sample_weight"),
        (dict(pos_weight=np.array([1.0, np.inf])), "pos_weight"),
        (dict(pos_weight=10**400), "pos_weight"),
        (dict(pos_weight=np.True_), "pos_weight"),
        (dict(pos_weight=1 + 2j), "pos_weight"),
        (dict(clip=10**400), "clip"),
        (dict(y_pred=np.array([0.3, 0.5], dtype=object)), "y_pred"),
        (dict(y_true=np.array([1, 2**64 - 1], dtype=np.uint64)), "y_true"),
    ],
)
def test_huge_or_wrongly_typed_parameters_name_the_argument(kwargs, name):
    args = {**dict(y_true=np.array([1.0, 0.0]), y_pred=np.array([0.3, 0.5])), **kwargs}
    with pytest.raises((ValueError, TypeError), match=name):
        bce(**args)


def test_zero_weight_zeroes_an_overflowing_gradient():
    # pos_weight / clipped probability overflows to inf; a zero weight still gives 0, not 0 * inf.
    _, grad = fastxent.binary_cross_entropy_value_and_grad(
        [1.0, 0.0], [0.0, 0.5], pos_weight=1e300, sample_weight=[0.0, 1.0]
    )
    assert np.all(np.isfinite(grad)) and grad[0] == 0.0


def test_mean_keeps_the_infinite_loss_of_a_tiny_weight_beside_a_huge_one():
    value = fastxent.binary_cross_entropy([0.0, 1.0], [0.5, 0.0], clip=None, sample_weight=[1e300, 5e-324])
    assert value == np.inf


def test_a_first_call_compiles_only_the_block_loops_it_runs(fresh_process):
    # A call with a gradient compiles no loss-only loop, one without no
    # gradient loop; the public kernels, whose gradient is wanted or not at
    # run time, compile both.
    script = """
import numpy as np
import fastxent
from fastxent import kernels
from fastxent._kernels import binary
rng = np.random.default_rng(0)
y = rng.integers(0, 2, 1000).astype(np.float64)
z = rng.normal(size=1000).astype(np.float32)
fastxent.binary_cross_entropy_value_and_grad(y, z, from_logits=True)
assert binary._block_loss_grad.signatures and not binary._block_loss.signatures
fastxent.binary_cross_entropy(y, z.astype(np.float64), from_logits=True)
assert len(binary._block_loss.signatures) == 1 and len(binary._block_loss_grad.signatures) == 1
none = np.empty(0)
expected = fastxent.binary_cross_entropy(y, z, from_logits=True, reduction="sum")
total, _, _ = kernels.binary_cross_entropy_serial(y, z, none, 1.0, True, 0.0, 1.0, 1.0, none, np.empty(0, np.float32))
np.testing.assert_allclose(total, expected, rtol=1e-12)
grad = np.empty_like(z)
total, _, _ = kernels.binary_cross_entropy_serial(y, z, none, 1.0, True, 0.0, 1.0, 1.0, none, grad)
np.testing.assert_allclose(total, expected, rtol=1e-12)
np.testing.assert_allclose(grad, fastxent.binary_cross_entropy_grad(y, z, from_logits=True, reduction="sum"), rtol=1e-6)
print("ok")
"""
    assert fresh_process(script).strip() == "ok"
