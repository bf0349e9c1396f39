"""The reference table covers the public API and agrees with itself, so it can serve as the oracle."""

import numpy as np
import pytest
from conftest import REFERENCES, reference, reference_params

import fastxent
from fastxent import kernels, ufuncs


@pytest.fixture(scope="module")
def logits():
    return np.random.default_rng(0).normal(scale=3.0, size=(64, 7))


@pytest.fixture(scope="module")
def labels():
    return np.random.default_rng(1).integers(0, 7, 64)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_every_public_name_has_a_reference():
    names = set(fastxent.__all__) - {"ufuncs", "kernels", "dask", "cli"}
    accumulators = {n for n in names if n.endswith("Accumulator")}
    assert names - accumulators <= set(REFERENCES)
    assert {f"ufuncs.{name}" for name in ufuncs.__all__} <= set(REFERENCES)
    assert {name.partition(".")[2] for name in REFERENCES if name.startswith("kernels.")} <= set(kernels.__all__)
    assert set(REFERENCES) - {f"kernels.{name}" for name in kernels.__all__} <= set(fastxent.__all__) | {
        f"ufuncs.{name}" for name in ufuncs.__all__
    }
    for refs in REFERENCES.values():
        assert refs and all(r.library in {"scikit-learn", "scipy", "numpy", "torch"} for r in refs)


_SCALARS = [-3.5, -0.25, 0.0, 5e-324, 0.3, 1.0, 2.5, 700.0]
_KERNEL_ARGUMENTS = {
    "xlogy": [(x, y) for x in (0.0, 0.5, 2.0) for y in (0.0, 0.1, 3.0)],
    "xlog1py": [(x, y) for x in (0.0, 0.5, 2.0) for y in (-0.5, 0.0, 3.0)],
    "rel_entr": [(x, y) for x in (0.0, 0.5, 2.0) for y in (0.0, 0.1, 3.0)],
    "kl_div": [(x, y) for x in (0.0, 0.5, 2.0) for y in (0.0, 0.1, 3.0)],
    "log": [(x,) for x in (1e-300, 0.3, 1.0, 7.0, 1e300)],
    "log1p": [(x,) for x in (-0.5, 0.0, 1e-20, 0.3, 1e300)],
    "exp": [(x,) for x in (-700.0, -1.0, 0.0, 1e-20, 3.0, 700.0)],
    "row_max": [(np.array([0.5, -2.0, 3.0, 1.0]),)],
    "row_logsumexp": [(np.array([0.5, -2.0, 3.0, 1.0]),), (np.array([1e4, -1e4, 1e4]),)],
}


@pytest.mark.parametrize("name", sorted(n.partition(".")[2] for n in REFERENCES if n.startswith("kernels.")))
def test_kernel_references_compute_the_kernel(name):
    ref = REFERENCES[f"kernels.{name}"][0]
    if not ref.available():
        pytest.skip(f"{ref.library} is not installed")
    kernel = getattr(kernels, name)
    for args in _KERNEL_ARGUMENTS.get(name, [(x,) for x in _SCALARS]):
        assert kernel(*args) == pytest.approx(float(ref(*args)), rel=1e-14, abs=1e-300), args


@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_value_and_grad", "log_loss", "entropy"])
def test_bind_computes_what_a_call_computes(name):
    rng = np.random.default_rng(6)
    if name == "entropy":
        args, kwargs = (rng.random((5, 4)), rng.random((5, 4))), {"axis": 1}
    elif name == "log_loss":
        args, kwargs = (rng.integers(0, 4, 40), rng.dirichlet(np.ones(4), 40)), {}
    else:
        args, kwargs = (rng.integers(0, 4, 40), rng.normal(size=(40, 4))), {"from_logits": True}
    for ref in REFERENCES[name]:
        if ref.available():
            np.testing.assert_equal(ref.bind(*args, **kwargs)(), ref(*args, **kwargs))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_torch_and_numpy_agree(logits, labels, reduction):
    torch_value = reference("cross_entropy", "torch")(labels, logits, from_logits=True, reduction=reduction)
    numpy_value = reference("cross_entropy", "numpy")(labels, logits, from_logits=True, reduction=reduction)
    np.testing.assert_allclose(torch_value, numpy_value, rtol=1e-12)
    # probabilities, soft targets and the axis argument
    p = softmax(logits)
    onehot = np.eye(7)[labels]
    for kwargs in ({}, {"axis": 0}):
        transpose = (lambda a: a.T) if kwargs else (lambda a: a)
        got = reference("cross_entropy", "torch")(transpose(onehot), transpose(p), reduction=reduction, **kwargs)
        np.testing.assert_allclose(got, numpy_value, rtol=1e-10)


def test_cross_entropy_sample_weight_times_class_weight_normalizes_the_mean(logits, labels):
    ref = reference("cross_entropy", "torch")
    s = np.random.default_rng(2).random(64)
    cw = np.random.default_rng(3).random(7) + 0.5
    per_sample = reference("cross_entropy", "numpy")(labels, logits, from_logits=True, reduction="none")
    w = s * cw[labels]
    got = ref(labels, logits, from_logits=True, sample_weight=s, class_weight=cw)
    assert got == pytest.approx((per_sample * w).sum() / w.sum(), rel=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot(logits, labels):
    value, grad = reference("cross_entropy_value_and_grad", "torch")(labels, logits, from_logits=True, reduction="sum")
    np.testing.assert_allclose(grad, softmax(logits) - np.eye(7)[labels], atol=1e-12)
    assert value == pytest.approx(
        reference("cross_entropy", "numpy")(labels, logits, from_logits=True, reduction="sum")
    )


@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_cross_entropy_torch_and_numpy_agree(from_logits):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 100).astype(np.float64)
    z = rng.normal(scale=4.0, size=100)
    pred = z if from_logits else 1 / (1 + np.exp(-z))
    for ref_kwargs in ({}, {"pos_weight": 2.5}, {"reduction": "none"}):
        a = reference("binary_cross_entropy", "torch")(y, pred, from_logits=from_logits, **ref_kwargs)
        b = reference("binary_cross_entropy", "numpy")(y, pred, from_logits=from_logits, **ref_kwargs)
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("ref", reference_params("entropy", "numpy"))
def test_entropy_numpy_formula_agrees_with_scipy(ref):
    rng = np.random.default_rng(5)
    p, q = rng.random((10, 6)), rng.random((10, 6))
    scipy_ref = reference("entropy", "scipy")
    for kwargs in ({}, {"base": 2.0}, {"axis": 1}):
        np.testing.assert_allclose(ref(p, **kwargs), scipy_ref(p, **kwargs), rtol=1e-13)
        np.testing.assert_allclose(ref(p, q, **kwargs), scipy_ref(p, q, **kwargs), rtol=1e-13)


def test_cross_entropy_over_a_middle_class_axis_of_nd_logits():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((4, 6, 3, 5))
    y = rng.integers(0, 6, (4, 3, 5))
    torch_ref = reference("cross_entropy", "torch")
    per_sample = torch_ref(y, z, from_logits=True, axis=1, reduction="none")
    assert per_sample.shape == y.shape
    log_softmax = z - z.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, y[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(per_sample, expected, rtol=1e-12)
    soft = np.moveaxis(np.eye(6)[y], -1, 1)
    np.testing.assert_allclose(torch_ref(soft, z, from_logits=True, axis=1, reduction="none"), expected, rtol=1e-12)


def test_log_loss_reference_is_scikit_learn():
    ref = reference("log_loss", "scikit-learn")
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.8, 0.7, 0.4])
    expected = -np.mean(np.log([0.9, 0.8, 0.7, 0.6]))
    assert ref(y, p) == pytest.approx(expected, rel=1e-14)
