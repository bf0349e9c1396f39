"""Streaming accumulators: any chunking and merge order equals one call."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastxent
from fastxent import BinaryCrossEntropyAccumulator, CrossEntropyAccumulator


def _binary_data(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < 0.3).astype(np.float64), rng.standard_normal(n) * 3, rng.uniform(0, 2, n)


def _categorical_data(n, k=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[rng.random(n) < 0.1] = -1
    return y, rng.standard_normal((n, k)) * 3, rng.uniform(0, 2, n)


def _cuts(n, seed):
    rng = np.random.default_rng(seed)
    inner = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, rng.integers(0, 8)), replace=False))
    return [0, *inner.tolist(), n]


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2**31), st.booleans())
def test_binary_any_chunking_equals_one_call(n, seed, weighted):
    y, z, w = _binary_data(n, seed)
    w = w if weighted else None
    kwargs = dict(from_logits=True, pos_weight=1.5)
    expected = fastxent.binary_cross_entropy(y, z, sample_weight=w, **kwargs)
    cuts = _cuts(n, seed)
    parts = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        acc = BinaryCrossEntropyAccumulator(**kwargs)
        parts.append(acc.update(y[a:b], z[a:b], None if w is None else w[a:b]))
    merged = parts[-1]
    for other in reversed(parts[:-1]):
        merged = merged.merge(other)
    assert merged.result() == pytest.approx(expected, rel=1e-13, abs=1e-300)
    assert merged.result("sum") == pytest.approx(
        fastxent.binary_cross_entropy(y, z, sample_weight=w, reduction="sum", **kwargs), rel=1e-13
    )
    assert merged.n_samples_ == n


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 2000), st.integers(0, 2**31))
def test_categorical_any_chunking_equals_one_call(n, seed):
    y, z, w = _categorical_data(n, seed=seed)
    cw = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    kwargs = dict(from_logits=True, class_weight=cw, ignore_index=-1, label_smoothing=0.1)
    expected = fastxent.cross_entropy(y, z, sample_weight=w, **kwargs)
    acc = CrossEntropyAccumulator(**kwargs)
    cuts = _cuts(n, seed)
    for a, b in zip(cuts[:-1], cuts[1:]):
        acc.update(y[a:b], z[a:b], sample_weight=w[a:b])
    assert acc.result() == pytest.approx(expected, rel=1e-13, abs=1e-300)
    assert acc.n_classes_ == 5


def test_distributions_and_probabilities():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(4), 300)
    t = rng.dirichlet(np.ones(4), 300)
    acc = CrossEntropyAccumulator()
    for chunk in np.array_split(np.arange(300), 7):
        acc.update(t[chunk], p[chunk])
    assert acc.result() == pytest.approx(fastxent.cross_entropy(t, p), rel=1e-13)


def test_binary_per_class_pos_weight():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((300, 3))
    y = (rng.random((300, 3)) < 0.5).astype(np.float64)
    pw = [1.0, 2.0, 0.5]
    acc = BinaryCrossEntropyAccumulator(from_logits=True, pos_weight=pw)
    for chunk in np.array_split(np.arange(300), 4):
        acc.update(y[chunk], z[chunk])
    acc.merge(BinaryCrossEntropyAccumulator(from_logits=True, pos_weight=np.array(pw)))
    expected = fastxent.binary_cross_entropy(y, z, from_logits=True, pos_weight=pw)
    assert acc.result() == pytest.approx(expected, rel=1e-13)


def test_all_ignored_and_empty_accumulators_give_zero():
    acc = CrossEntropyAccumulator(from_logits=True, ignore_index=-1)
    assert acc.result() == 0.0
    acc.update([-1, -1], np.zeros((2, 3)))
    assert acc.result() == 0.0 and acc.n_samples_ == 2
    assert BinaryCrossEntropyAccumulator().result() == 0.0


def test_pickle_round_trip_keeps_state_and_config():
    y, z, w = _binary_data(1000)
    acc = BinaryCrossEntropyAccumulator(from_logits=True).update(y[:500], z[:500])
    clone = pickle.loads(pickle.dumps(acc))
    clone.update(y[500:], z[500:])
    assert clone.result() == pytest.approx(fastxent.binary_cross_entropy(y, z, from_logits=True), rel=1e-14)
    yc, zc, _ = _categorical_data(200)
    cacc = pickle.loads(pickle.dumps(CrossEntropyAccumulator(from_logits=True, ignore_index=-1).update(yc, zc)))
    assert cacc.result() == pytest.approx(fastxent.cross_entropy(yc, zc, from_logits=True, ignore_index=-1), rel=1e-14)


def test_ten_million_samples_in_chunks_within_1e13_of_fsum():
    rng = np.random.default_rng(3)
    n = 10_000_000
    z = rng.standard_normal(n) * 3
    y = (rng.random(n) < 0.5).astype(np.float64)
    acc = BinaryCrossEntropyAccumulator(from_logits=True)
    for a in range(0, n, 1_234_567):
        acc.update(y[a : a + 1_234_567], z[a : a + 1_234_567])
    exact = math.fsum(fastxent.binary_cross_entropy(y, z, from_logits=True, reduction="none"))
    assert abs(acc.result("sum") - exact) <= 1e-13 * exact


def test_mismatches_are_errors():
    a = BinaryCrossEntropyAccumulator(from_logits=True)
    with pytest.raises(ValueError, match="other"):
        a.merge(BinaryCrossEntropyAccumulator(from_logits=False))
    with pytest.raises(ValueError, match="other"):
        a.merge(CrossEntropyAccumulator())
    c = CrossEntropyAccumulator(from_logits=True).update([0, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="classes"):
        c.update([0], np.zeros((1, 4)))
    with pytest.raises(ValueError, match="other"):
        c.merge(CrossEntropyAccumulator(from_logits=True).update([0], np.zeros((1, 4))))
    with pytest.raises(ValueError, match="reduction"):
        a.result("none")
    with pytest.raises(ValueError, match="y_true"):
        a.update([2.0], [0.0])
