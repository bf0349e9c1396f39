"""The reference table agrees with itself, so it can serve as the oracle."""

import numpy as np
import pytest
from conftest import REFERENCES, reference, skip_unless_available


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
    import fastxent

    names = set(fastxent.__all__) - {"ufuncs", "kernels", "dask", "cli"}
    accumulators = {n for n in names if n.endswith("Accumulator")}
    assert names - accumulators <= set(REFERENCES)
    for refs in REFERENCES.values():
        assert refs and all(r.library in {"scikit-learn", "scipy", "numpy", "torch"} for r in refs)


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


def test_entropy_scipy_and_numpy_agree():
    rng = np.random.default_rng(5)
    p, q = rng.random((10, 6)), rng.random((10, 6))
    for ref in REFERENCES["entropy"]:
        skip_unless_available(ref)
    scipy_ref, numpy_ref = REFERENCES["entropy"]
    for kwargs in ({}, {"base": 2.0}, {"axis": 1}):
        np.testing.assert_allclose(scipy_ref(p, **kwargs), numpy_ref(p, **kwargs), rtol=1e-13)
        np.testing.assert_allclose(scipy_ref(p, q, **kwargs), numpy_ref(p, q, **kwargs), rtol=1e-13)


def test_log_loss_reference_is_scikit_learn():
    ref = reference("log_loss", "scikit-learn")
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.8, 0.7, 0.4])
    expected = -np.mean(np.log([0.9, 0.8, 0.7, 0.6]))
    assert ref(y, p) == pytest.approx(expected, rel=1e-14)
