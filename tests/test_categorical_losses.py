"""cross_entropy (+ _grad, _value_and_grad): PyTorch (weights, ignore_index,
label smoothing, soft targets, N-D), finite differences, extreme logits,
layouts, user @njit code, errors, 1e7-value accuracy."""

import math

import numba
import numpy as np
import pytest
from conftest import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import fastxent
from fastxent._kernels.categorical import (
    cross_entropy_index_parallel,
    cross_entropy_index_serial,
    cross_entropy_soft_parallel,
    cross_entropy_soft_serial,
    rows_per_block,
)
from fastxent._math.softmax import (
    proba_row_loss,
    proba_row_loss_grad,
    proba_row_soft_loss,
    proba_row_soft_loss_grad,
    row_logsumexp,
    softmax_row_loss,
    softmax_row_loss_grad,
    softmax_row_smoothed_loss,
    softmax_row_smoothed_loss_grad,
    softmax_row_soft_loss,
    softmax_row_soft_loss_grad,
)
from fastxent._math.softmax_exp import exp_nonpositive_f32

ce = fastxent.cross_entropy
ce_grad = fastxent.cross_entropy_grad
ce_vg = fastxent.cross_entropy_value_and_grad
NO_IGNORE = np.iinfo(np.int64).min


def _data(n=60, k=7, seed=0, scale=4.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((n, k)) * scale).astype(dtype)
    y = rng.integers(0, k, n)
    return y, z


def torch_ce_vg(y_true, y_pred, **kwargs):
    """PyTorch's (value, gradient) on fastxent's arguments, from the reference table."""
    return reference("cross_entropy_value_and_grad", "torch")(y_true, y_pred, **kwargs)


def _log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_class_indices_match_torch(reduction, smoothing, weighted, ignore):
    y, z = _data()
    cw = np.random.default_rng(5).uniform(0.2, 2.0, z.shape[1]) if weighted else None
    if ignore:
        y[[3, 10, 11]] = -100
    kwargs = dict(
        from_logits=True,
        class_weight=cw,
        label_smoothing=smoothing,
        ignore_index=-100 if ignore else None,
        reduction=reduction,
    )
    expected, expected_grad = torch_ce_vg(y, z, **kwargs)
    value, grad = ce_vg(y, z, **kwargs)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(ce(y, z, **kwargs), value, rtol=1e-14)
    np.testing.assert_array_equal(ce_grad(y, z, **kwargs), grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_distributions_match_torch(reduction, smoothing, weighted):
    rng = np.random.default_rng(2)
    _, z = _data()
    t = rng.dirichlet(np.ones(z.shape[1]) * 0.5, z.shape[0])
    t[0] = np.eye(z.shape[1])[2]
    cw = rng.uniform(0.2, 2.0, z.shape[1]) if weighted else None
    kwargs = dict(from_logits=True, class_weight=cw, label_smoothing=smoothing, reduction=reduction)
    expected, expected_grad = torch_ce_vg(t, z, **kwargs)
    value, grad = ce_vg(t, z, **kwargs)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-15)


def test_mean_divides_by_the_weights_of_the_kept_samples():
    rng = np.random.default_rng(3)
    y, z = _data()
    y[:4] = -1
    cw = rng.uniform(0.5, 2, z.shape[1])
    sw = rng.uniform(0, 3, z.shape[0])
    per_sample = -_log_softmax(z)[np.arange(len(y)), np.where(y < 0, 0, y)]
    keep = y >= 0
    w = sw * cw[np.where(y < 0, 0, y)] * keep
    got = ce(y, z, from_logits=True, sample_weight=sw, class_weight=cw, ignore_index=-1)
    assert got == pytest.approx(np.sum(w * per_sample) / np.sum(w), rel=1e-13)
    none = ce(y, z, from_logits=True, sample_weight=sw, class_weight=cw, ignore_index=-1, reduction="none")
    np.testing.assert_allclose(none, w * per_sample, rtol=1e-13)
    # distributions: mean divides by sum(sample_weight)
    t = np.eye(z.shape[1])[np.abs(y)]
    got = ce(t, z, from_logits=True, sample_weight=sw)
    per_sample = -(t * _log_softmax(z)).sum(1)
    assert got == pytest.approx(np.sum(sw * per_sample) / np.sum(sw), rel=1e-13)


def test_all_ignored_gives_zero_not_nan():
    y, z = _data()
    y[:] = -100
    value, grad = ce_vg(y, z, from_logits=True, ignore_index=-100, label_smoothing=0.1, class_weight=np.ones(7))
    assert value == 0.0 and not grad.any()
    assert ce(y, z, from_logits=True, ignore_index=-100, reduction="sum") == 0.0


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_probabilities_match_torch_nll(smoothing):
    rng = np.random.default_rng(4)
    y, z = _data()
    y[5] = -100
    cw = rng.uniform(0.5, 2, z.shape[1])
    p = np.exp(_log_softmax(z))
    kwargs = dict(class_weight=cw, label_smoothing=smoothing, ignore_index=-100, clip=None)
    expected, expected_grad = torch_ce_vg(y, p, **kwargs)
    value, grad = ce_vg(y, p, **kwargs)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-300)


CASES = [
    dict(from_logits=True),
    dict(from_logits=True, label_smoothing=0.3, class_weight=[1.0, 2.0, 0.5, 1.5, 1.0]),
    dict(from_logits=False),
    dict(from_logits=False, label_smoothing=0.3, class_weight=[1.0, 2.0, 0.5, 1.5, 1.0]),
]


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("kwargs", CASES)
def test_gradient_matches_central_differences(soft, kwargs):
    rng = np.random.default_rng(6)
    y, z = _data(n=6, k=5, scale=2.0)
    x = z if kwargs["from_logits"] else np.exp(_log_softmax(z)) * 0.9 + 0.02
    target = rng.dirichlet(np.ones(5), 6) if soft else y
    sw = rng.uniform(0.5, 2, 6)
    kwargs = dict(kwargs, sample_weight=sw)
    grad = ce_grad(target, x, **kwargs)
    h = 1e-6
    for i, j in [(0, 0), (1, 3), (2, y[2]), (5, 4), (4, y[4])]:
        up, down = x.copy(), x.copy()
        up[i, j] += h
        down[i, j] -= h
        fd = (ce(target, up, **kwargs) - ce(target, down, **kwargs)) / (2 * h)
        assert grad[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("scale", [1e4, 1e8, 1e300])
def test_huge_logits_are_finite_and_correct(scale):
    y, z = _data(scale=1.0)
    big = z * scale
    value, grad = ce_vg(y, big, from_logits=True, label_smoothing=0.1)
    assert np.isfinite(value) and np.isfinite(grad).all()
    if scale <= 1e8:
        expected, expected_grad = torch_ce_vg(y, big, from_logits=True, label_smoothing=0.1)
        assert value == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-15)
    assert row_logsumexp(np.array([1e4, -1e4, 1e4], dtype=np.float32)) == pytest.approx(1e4 + math.log(2))


def test_class_axis_and_nd_inputs():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((4, 6, 3, 5))
    y = rng.integers(0, 6, (4, 3, 5))
    kwargs = dict(from_logits=True, axis=1, reduction="none", label_smoothing=0.1)
    expected, expected_grad = torch_ce_vg(y, z, **kwargs)
    value, grad = ce_vg(y, z, **kwargs)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-15)
    y2, z2 = _data()
    v0, g0 = ce_vg(y2, z2.T, from_logits=True, axis=0)
    v1, g1 = ce_vg(y2, z2, from_logits=True)
    assert v0 == v1 and np.array_equal(g0.T, g1)


def test_clipping_rules():
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert ce([0, 0], p, clip=None) == np.inf
    assert ce([1, 0], p, clip=None) == 0.0
    eps = np.finfo(np.float64).eps
    assert ce([0, 0], p, reduction="sum") == pytest.approx(-math.log(eps) - math.log1p(-eps) * 0 - math.log(1 - eps))
    assert ce([0, 0], p.astype(np.float32), reduction="sum") == pytest.approx(
        -math.log(np.finfo(np.float32).eps) - math.log(1 - np.finfo(np.float32).eps), rel=1e-6
    )
    assert ce([0], [[0.0, 1.0]], clip=1e-3) == pytest.approx(-math.log(1e-3))
    # a -inf logit is an impossible class: inf loss only when it is the target
    z = np.array([[0.0, -np.inf, 1.0]])
    assert np.isfinite(ce([0], z, from_logits=True)) and ce([1], z, from_logits=True) == np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_in_float32_gradient_out(dtype):
    y, z = _data(dtype=dtype)
    value, grad = ce_vg(y, z, from_logits=True)
    assert grad.dtype == dtype and isinstance(value, float)
    expected = -_log_softmax(z.astype(np.float64))[np.arange(len(y)), y].mean()
    # float32 logits: exp terms in float32 (~1.4 ulp), their sum in float64
    assert value == pytest.approx(expected, rel=1e-6 if dtype == np.float32 else 1e-14)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 9),
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from(["C", "F", "strided"]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_layouts_dtypes_readonly(rows, k, dtype, layout, readonly, from_logits, seed):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((rows, 2 * k)) * rng.choice([1.0, 50.0, 1e4])
    base = base.astype(dtype)
    z = base[:, ::2] if layout == "strided" else np.asarray(base[:, :k], order=layout)
    x = z if from_logits else np.exp(_log_softmax(z)).astype(dtype)
    if not from_logits and layout != "C":
        x = np.asarray(x, order="F")
    y = rng.integers(0, k, rows)
    x_orig = x.copy()
    if readonly:
        x.flags.writeable = False
        y.flags.writeable = False
    value, grad = ce_vg(y, x, from_logits=from_logits, reduction="sum")
    x64 = x.astype(np.float64)
    if from_logits:
        ref = -_log_softmax(x64)[np.arange(rows), y]
    else:
        eps = np.finfo(dtype).eps
        ref = -np.log(np.clip(x64[np.arange(rows), y], eps, 1 - eps))
    # float32 logits: exp terms and runs of 256 of them in float32, runs
    # summed in float64: float32-level accuracy (like PyTorch's float32)
    rel, tol = (1e-6, 1e-6) if (dtype == np.float32 and from_logits) else (1e-12, 1e-12)
    assert value == pytest.approx(ref.sum(), rel=rel, abs=tol)
    assert grad.shape == x.shape and grad.dtype == dtype
    assert np.array_equal(x, x_orig)
    np.testing.assert_allclose(ce(y, x, from_logits=from_logits, reduction="none"), ref, rtol=rel, atol=tol)


@numba.njit
def _user_rows(z, y):
    grad = np.empty_like(z)
    total = 0.0
    cw = np.empty(0)
    for i in range(z.shape[0]):
        loss = softmax_row_loss_grad(y[i], z[i], 1.0, grad[i])
        total += loss
        check = softmax_row_loss(y[i], z[i]) + softmax_row_smoothed_loss(y[i], z[i], cw, 0.0)
        check += softmax_row_smoothed_loss_grad(y[i], z[i], cw, 0.0, 1.0, np.empty_like(z[i]))
        onehot = np.zeros(z.shape[1])
        onehot[y[i]] = 1.0
        check += softmax_row_soft_loss(onehot, z[i], cw, 0.0)
        check += softmax_row_soft_loss_grad(onehot, z[i], cw, 0.0, 1.0, np.empty_like(z[i]))
        p = np.exp(z[i] - row_logsumexp(z[i]))
        check += proba_row_loss(y[i], p, cw, 0.0, 0.0, 1.0) + proba_row_soft_loss(onehot, p, cw, 0.0, 0.0, 1.0)
        check += proba_row_loss_grad(y[i], p, cw, 0.0, 0.0, 1.0, 1.0, np.empty_like(p))
        check += proba_row_soft_loss_grad(onehot, p, cw, 0.0, 0.0, 1.0, 1.0, np.empty_like(p))
        total += 0.0 * (check - 8 * loss)
    return total, grad


@numba.njit
def _user_serial(z, y, t):
    e = np.empty(0)
    a = cross_entropy_index_serial(y, z, e, e, 0.0, NO_IGNORE, True, 0.0, 1.0, 1.0, e, np.empty((0, z.shape[1])))
    b = cross_entropy_soft_serial(t, z, e, e, 0.0, True, 0.0, 1.0, 1.0, e, np.empty((0, z.shape[1])))
    return a[0], b[0]


@numba.njit(parallel=True)
def _user_parallel(z, y):
    out = np.empty(2)
    e = np.empty(0)
    for r in numba.prange(2):
        out[r] = cross_entropy_index_parallel(
            y, z, e, e, 0.0, NO_IGNORE, True, 0.0, 1.0, 1.0, e, np.empty((0, z.shape[1]))
        )[0]
    return out


def test_kernels_from_user_njit_code():
    y, z = _data(n=500)
    expected = ce(y, z, from_logits=True, reduction="sum")
    total, grad = _user_rows(z, y)
    assert total == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(grad, ce_grad(y, z, from_logits=True, reduction="sum"), rtol=1e-13, atol=1e-16)
    a, b = _user_serial(z, y, np.eye(z.shape[1])[y])
    assert a == expected and b == pytest.approx(expected, rel=1e-13)
    np.testing.assert_array_equal(_user_parallel(z, y), [expected, expected])


def test_thread_count_does_not_change_the_result():
    y, z = _data(n=20_000, k=10)
    e = np.empty(0)
    args = (y, z, e, e, 0.0, NO_IGNORE, True, 0.0, 1.0, 1.0, e, np.empty((0, 10)))
    serial = cross_entropy_index_serial(*args)
    before = numba.get_num_threads()
    try:
        for threads in {1, before}:
            numba.set_num_threads(threads)
            assert cross_entropy_index_parallel(*args) == serial
    finally:
        numba.set_num_threads(before)


def test_serial_and_parallel_sums_agree_where_compensation_matters():
    # Blocks of rows weighted 1e15 alternate with blocks weighted 0.7: a
    # plain sum of the block sums then differs from the compensated one (the
    # weight sum by 8 units of its last place), so the serial driver (block
    # sums added as they come) and the parallel one (an array of them, summed
    # after) agree bit for bit only if both take Neumaier's steps in order.
    y, z = _data(n=30_000, k=10, seed=3)
    block = rows_per_block(10)
    weights = np.where((np.arange(y.shape[0]) // block) % 2 == 0, 1e15, 0.7)
    soft = np.random.default_rng(4).dirichlet(np.ones(10), y.shape[0])
    e = np.empty(0)
    index_args = (y, z, weights, e, 0.0, NO_IGNORE, True, 0.0, 1.0, 1.0, e, np.empty((0, 10)))
    soft_args = (soft, z, weights, e, 0.1, True, 0.0, 1.0, 1.0, e, np.empty((0, 10)))
    for serial, parallel, args in [
        (cross_entropy_index_serial, cross_entropy_index_parallel, index_args),
        (cross_entropy_soft_serial, cross_entropy_soft_parallel, soft_args),
    ]:
        loss_sum, weight_sum = serial(*args)
        assert parallel(*args) == (loss_sum, weight_sum)
        assert weight_sum == math.fsum(weights)


def test_ten_million_values_within_1e13_of_fsum():
    y, z = _data(n=1_000_000, k=10, seed=9)
    losses = ce(y, z, from_logits=True, reduction="none")
    exact = math.fsum(losses)
    assert abs(ce(y, z, from_logits=True, reduction="sum") - exact) <= 1e-13 * exact


Y = [0, 1]
P = [[0.5, 0.5], [0.2, 0.8]]
BAD = [
    (dict(y_true=[0, 2], y_pred=P), ValueError, "y_true"),
    (dict(y_true=[0, -1], y_pred=P), ValueError, "y_true"),
    (dict(y_true=[0.5, 1], y_pred=P), ValueError, "y_true"),
    (dict(y_true=[0], y_pred=P), ValueError, "y_true"),
    (dict(y_true=[[1.5, 0.0], [0, 1]], y_pred=P), ValueError, "y_true"),
    (dict(y_true=[[np.nan, 0.0], [0, 1]], y_pred=P), ValueError, "y_true"),
    (dict(y_true=Y, y_pred=[0.5, 0.5]), ValueError, "y_pred"),
    (dict(y_true=Y, y_pred=[[0.5, 1.5], [0.2, 0.8]]), ValueError, "y_pred"),
    (dict(y_true=Y, y_pred=[[0.5, -0.5], [0.2, 0.8]]), ValueError, "y_pred"),
    (dict(y_true=Y, y_pred=[[np.nan, 0.5], [0.2, 0.8]]), ValueError, "y_pred"),
    (dict(y_true=Y, y_pred=[[np.nan, 0.5], [0.2, 0.8]], from_logits=True), ValueError, "y_pred"),
    (dict(y_true=Y, y_pred=[[np.inf, 0.5], [0.2, 0.8]], from_logits=True), ValueError, "y_pred"),
    (dict(y_true=[], y_pred=np.empty((0, 3))), ValueError, "y_pred"),
    (dict(y_true=Y, y_pred=[["a", "b"], ["c", "d"]]), TypeError, "y_pred"),
    (dict(y_true=Y, y_pred=P, reduction="avg"), ValueError, "reduction"),
    (dict(y_true=Y, y_pred=P, clip=-1.0), ValueError, "clip"),
    (dict(y_true=Y, y_pred=P, clip=[0.1]), TypeError, "clip"),
    (dict(y_true=Y, y_pred=P, label_smoothing=1.5), ValueError, "label_smoothing"),
    (dict(y_true=Y, y_pred=P, label_smoothing="a"), TypeError, "label_smoothing"),
    (dict(y_true=Y, y_pred=P, class_weight=[1.0]), ValueError, "class_weight"),
    (dict(y_true=Y, y_pred=P, class_weight=[1.0, -1.0]), ValueError, "class_weight"),
    (dict(y_true=Y, y_pred=P, sample_weight=[1.0]), ValueError, "sample_weight"),
    (dict(y_true=Y, y_pred=P, sample_weight=[1.0, np.nan]), ValueError, "sample_weight"),
    (dict(y_true=Y, y_pred=P, ignore_index=0.5), TypeError, "ignore_index"),
    (dict(y_true=P, y_pred=P, ignore_index=0), ValueError, "ignore_index"),
    (dict(y_true=Y, y_pred=P, axis=2), ValueError, "axis"),
]


@pytest.mark.parametrize("func", [ce, ce_grad, ce_vg], ids=lambda f: f.__name__)
@pytest.mark.parametrize("kwargs, error, name", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_argument(func, kwargs, error, name):
    with pytest.raises(error, match=name):
        func(**kwargs)


@numba.njit
def _map_exp32(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive_f32(x[i])


def test_float32_row_exponential_within_2_ulp():
    rng = np.random.default_rng(10)
    x = -np.abs(rng.standard_normal(1_000_000).astype(np.float32)) * 30
    x = np.concatenate([x, np.float32([0.0, -0.0, -1e-30, -87.3, -87.4, -1e4, -np.inf, np.nan])])
    out = np.empty_like(x)
    _map_exp32(x, out)
    ref = np.exp(x.astype(np.float64))
    normal = x > -87.3  # below: flushed to 0 (documented)
    assert (np.abs(out[normal] - ref[normal]) / ref[normal]).max() < 2 * 2.0**-24
    np.testing.assert_array_equal(out[-8:-5], [1.0, 1.0, 1.0])
    assert 0 < out[-5] < 1.3e-38 and not out[-4:-1].any()
    assert np.isnan(out[-1])


# -------------------------------------------------- hostile inputs

P3 = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
Z3 = np.array([[0.3, -1.0], [2.0, 0.5], [-0.2, 0.1]])


def _torch_value(y, z, **kwargs):
    return reference("cross_entropy", "torch")(np.asarray(y, dtype=np.int64), z, from_logits=True, **kwargs)


def test_uint64_targets_beyond_int64_are_out_of_range_not_ignored():
    y = np.array([0, 2**64 - 1, 1], dtype=np.uint64)
    for func in (ce, ce_grad, ce_vg):
        with pytest.raises(ValueError, match="y_true holds class index 18446744073709551615 outside"):
            func(y, Z3, from_logits=True, ignore_index=-1)
    small = np.array([0, 1, 1], dtype=np.uint64)
    assert ce(small, Z3, from_logits=True) == pytest.approx(_torch_value(small, Z3), rel=1e-13)


def test_uint64_target_equal_to_a_huge_ignore_index_is_ignored():
    y = np.array([0, 2**64 - 1, 1], dtype=np.uint64)
    value, grad = ce_vg(y, Z3, from_logits=True, ignore_index=2**64 - 1)
    assert value == pytest.approx(_torch_value([0, 1], Z3[[0, 2]]), rel=1e-13)
    np.testing.assert_array_equal(grad[1], 0.0)
    with pytest.raises(ValueError, match="y_true holds class index 18446744073709551615"):
        ce(y, Z3, from_logits=True, ignore_index=2**64 - 2)


@pytest.mark.parametrize("y", [[0, 1.0, 1e300], [0, 1.0, 2.0**63], [0, 1.0, -(2.0**64)]])
def test_float_targets_beyond_int64_are_out_of_range(y):
    with pytest.raises(ValueError, match="y_true holds class index"):
        ce(np.array(y), Z3, from_logits=True)


@pytest.mark.parametrize("ignore_index", [2**70, -(2**70), 2**63, np.uint64(2**64 - 1)])
def test_ignore_index_beyond_int64_ignores_nothing(ignore_index):
    y = np.array([0, 1, 1])
    expected = _torch_value(y, Z3)
    assert ce(y, Z3, from_logits=True, ignore_index=ignore_index) == pytest.approx(expected, rel=1e-13)
    with pytest.raises(ValueError, match="y_true holds class index -1"):
        ce(np.array([0, -1, 1]), Z3, from_logits=True, ignore_index=ignore_index)


def test_ignore_index_int64_min_does_not_collide_with_no_ignore():
    y = np.array([-(2**63), 0, 1])
    expected = _torch_value(y, Z3, ignore_index=-(2**63))
    assert ce(y, Z3, from_logits=True, ignore_index=-(2**63)) == pytest.approx(expected, rel=1e-13)
    with pytest.raises(ValueError, match="y_true"):
        ce(y, Z3, from_logits=True)


def test_big_endian_arguments_give_the_native_result():
    be = lambda a: np.asarray(a).astype(np.asarray(a).dtype.newbyteorder(">"))  # noqa: E731
    y, sw, cw = np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.0])
    expected = ce_vg(y, Z3, from_logits=True, sample_weight=sw, class_weight=cw)
    actual = ce_vg(be(y), be(Z3), from_logits=True, sample_weight=be(sw), class_weight=be(cw))
    assert actual[0] == pytest.approx(expected[0], rel=1e-15)
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-15)
    assert ce(be(P3), be(P3[::-1])) == pytest.approx(ce(P3, P3[::-1].copy()), rel=1e-15)
    assert ce(y, be(P3.astype(np.float32))) == pytest.approx(ce(y, P3.astype(np.float32)), rel=1e-7)


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "sample_weight", "class_weight"])
def test_masked_arrays_use_their_data_or_name_the_masked_argument(argument):
    args = dict(
        y_true=np.array([0, 1, 1]),
        y_pred=Z3,
        sample_weight=np.array([1.0, 2.0, 3.0]),
        class_weight=np.array([0.5, 2.0]),
    )
    expected = ce(**args, from_logits=True)
    unmasked = dict(args, **{argument: np.ma.array(args[argument])})
    for _ in range(2):  # the same outcome before and after plain calls
        assert ce(**unmasked, from_logits=True) == expected
        mask = np.zeros(np.shape(args[argument]), dtype=bool)
        mask.flat[0] = True
        masked = dict(args, **{argument: np.ma.array(args[argument], mask=mask)})
        with pytest.raises(TypeError, match=f"{argument} is a masked array"):
            ce(**masked, from_logits=True)


@pytest.mark.parametrize("value", ["no", 1, 0.0, None, np.array(True)])
def test_from_logits_must_be_a_bool(value):
    for func in (ce, ce_grad, ce_vg):
        with pytest.raises(TypeError, match="from_logits"):
            func([0, 1, 1], Z3, from_logits=value)
    assert ce([0, 1, 1], Z3, from_logits=np.True_) == ce([0, 1, 1], Z3, from_logits=True)


@pytest.mark.parametrize("scale", [1e308, 5e-324, 1e-300, 1e300])
def test_extreme_weights_give_the_exact_weighted_mean(scale):
    """A weighted mean does not depend on the weights' scale; the sums are
    kept in range by an exact power-of-two rescaling (PyTorch's own mean
    overflows to 0 or rounds to 1 at these scales)."""
    y = np.array([0, 1, 1])
    expected_value, expected_grad = ce_vg(y, Z3, from_logits=True)
    for weights in (
        dict(sample_weight=np.full(3, scale)),
        dict(class_weight=np.full(2, scale)),
        dict(sample_weight=np.full(3, scale), class_weight=np.full(2, scale)),
    ):
        value, grad = ce_vg(y, Z3, from_logits=True, **weights)
        assert value == pytest.approx(expected_value, rel=1e-14)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-14)
    value, grad = ce_vg(P3, Z3, from_logits=True, sample_weight=np.full(3, scale))
    assert value == pytest.approx(ce(P3, Z3, from_logits=True), rel=1e-14)
    assert np.all(np.isfinite(grad))


def test_infinite_weights_are_rejected():
    for name in ("sample_weight", "class_weight"):
        w = np.array([1.0, np.inf, 1.0])[: 3 if name == "sample_weight" else 2]
        with pytest.raises(ValueError, match=name):
            ce([0, 1, 1], Z3, from_logits=True, **{name: w})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(label_smoothing=10**400), "label_smoothing"),
        (dict(clip=10**400), "clip"),
        (dict(axis=10**400), "axis"),
        (dict(axis=np.float64(1.0)), "axis"),
        (dict(ignore_index=np.True_), "ignore_index"),
        (dict(y_true=np.array([0, 1, 1j])), "y_true"),
        (dict(y_pred=Z3.astype(complex)), "y_pred"),
        (dict(y_pred=Z3.astype(object)), "y_pred"),
    ],
)
def test_huge_or_wrongly_typed_parameters_name_the_argument(kwargs, name):
    args = {**dict(y_true=[0, 1, 1], y_pred=Z3, from_logits=True), **kwargs}
    with pytest.raises((ValueError, TypeError), match=name):
        ce(**args)


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e300), (np.float32, 1e38)])
def test_value_and_grad_keeps_log_sum_under_huge_logits(dtype, big):
    # Two tied huge logits: the loss is log 2 however large they are, on the
    # value-only path and on the one computing the gradient too.
    z = np.array([[0.0, 0.0, big, big], [0.0, 0.0, 0.0, 0.0]], dtype=dtype)
    y = np.array([2, 0])
    expected = np.array([np.log(2.0), np.log(4.0)])
    np.testing.assert_allclose(fastxent.cross_entropy(y, z, from_logits=True, reduction="none"), expected, rtol=1e-6)
    value, grad = fastxent.cross_entropy_value_and_grad(y, z, from_logits=True, reduction="none")
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    np.testing.assert_allclose(grad[0], [0.0, 0.0, -0.5, 0.5], atol=1e-7)


def test_a_first_call_compiles_only_the_row_formulas_it_runs(fresh_process):
    # A call without a gradient types no gradient formula, one with a gradient
    # no value-only formula; the public kernels, whose gradient is wanted or
    # not at run time, type both.
    script = """
import numpy as np
import fastxent
from fastxent import kernels
from fastxent._kernels import categorical
rng = np.random.default_rng(0)
y = rng.integers(0, 5, 1000)
z = rng.normal(size=(1000, 5)).astype(np.float32)
value, grad = fastxent.cross_entropy_value_and_grad(y, z, from_logits=True)
assert categorical._index_row_grad.signatures and not categorical._index_row_value.signatures
t = np.full((1000, 5), 0.2)
fastxent.cross_entropy(t, z.astype(np.float64), from_logits=True)
assert categorical._soft_row_value.signatures and not categorical._soft_row_grad.signatures
none = np.empty(0)
common = (none, none, 0.0, -100, True, 0.0, 1.0, 1.0, none)
expected = fastxent.cross_entropy(y, z, from_logits=True, reduction="sum")
total, _ = kernels.cross_entropy_index_serial(y, z, *common, np.empty((0, 5), np.float32))
assert categorical._index_row_value.signatures
np.testing.assert_allclose(total, expected, rtol=1e-12)
total, _ = kernels.cross_entropy_index_serial(y, z, *common, np.empty_like(z))
np.testing.assert_allclose(total, expected, rtol=1e-12)
print("ok")
"""
    assert fresh_process(script).strip() == "ok"
