"""Streaming accumulators: any chunking and merge order equals one call."""

import copy
import math
import pickle
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastxent
from fastxent import (
    BinaryCrossEntropyAccumulator,
    CrossEntropyAccumulator,
    LogLossAccumulator,
)


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


def test_all_ignored_gives_zero_like_one_call():
    acc = CrossEntropyAccumulator(from_logits=True, ignore_index=-1)
    acc.update([-1, -1], np.zeros((2, 3)))
    expected = fastxent.cross_entropy([-1, -1], np.zeros((2, 3)), from_logits=True, ignore_index=-1)
    assert acc.result() == expected == 0.0 and acc.n_samples_ == 2


def _fresh(kind):
    return {
        "binary": lambda: BinaryCrossEntropyAccumulator(from_logits=True),
        "categorical": lambda: CrossEntropyAccumulator(from_logits=True, ignore_index=-1),
        "log_loss": lambda: LogLossAccumulator(labels=[0, 1, 2]),
    }[kind]()


def _stream(kind, n=40, seed=0):
    """(y, prediction, weight) of ``n`` valid samples for the accumulator ``kind``."""
    rng = np.random.default_rng(seed)
    if kind == "binary":
        return _binary_data(n, seed)
    if kind == "categorical":
        return _categorical_data(n, k=3, seed=seed)
    y = rng.integers(0, 3, n)
    return y, rng.dirichlet(np.ones(3), n), rng.uniform(0, 2, n)


def _one_call(kind, y, p, w):
    if kind == "binary":
        return fastxent.binary_cross_entropy(y, p, sample_weight=w, from_logits=True)
    if kind == "categorical":
        return fastxent.cross_entropy(y, p, sample_weight=w, from_logits=True, ignore_index=-1)
    return fastxent.log_loss(y, p, sample_weight=w, labels=[0, 1, 2])


def _state(acc):
    """Every public attribute and the pickle: equal states give equal tuples."""
    public = {k: v for k, v in vars(acc).items() if not k.startswith("_")}
    for name in ("loss_sum_", "weight_sum_"):
        if hasattr(acc, name):
            public[name] = getattr(acc, name)
    return repr(public), pickle.dumps(acc)


KINDS = ["binary", "categorical", "log_loss"]


@pytest.mark.parametrize("kind", KINDS)
def test_no_samples_raise_and_empty_chunks_are_no_ops(kind):
    acc = _fresh(kind)
    for method in ("result",) + (("d2_score",) if kind == "log_loss" else ()):
        with pytest.raises(ValueError, match="no samples were added"):
            getattr(acc, method)()
    with pytest.raises(ValueError, match="no samples were added"):
        acc.result(**({"normalize": False} if kind == "log_loss" else {"reduction": "sum"}))
    fresh = _state(acc)
    empty_pred = np.empty(0) if kind == "binary" else np.empty((0, 3))
    acc.update([], empty_pred)
    acc.update(np.empty(0, dtype=int), empty_pred, sample_weight=[])
    if kind == "binary":
        acc.update([], [])
        acc.update(np.empty((0, 4)), np.empty((0, 4)))
    assert _state(acc) == fresh
    y, p, w = _stream(kind)
    acc.update(y, p, w)
    after_one = _state(acc)
    acc.update(y[:0], p[:0], w[:0])
    assert _state(acc) == after_one
    assert acc.result() == pytest.approx(_one_call(kind, y, p, w), rel=1e-13)
    with pytest.raises(ValueError, match="y_pred|sample"):  # empty means empty everywhere
        acc.update(y[:0], p[:0], w[:2])
    assert _state(acc) == after_one


def _rejected_chunks(kind):
    """Chunks that ``update`` must reject, each as (y, prediction, weight)."""
    y, p, w = _stream(kind, n=4, seed=5)
    if kind == "binary":
        return [
            (y, np.full(4, np.nan), None),
            (y + 2.0, p, None),
            (y, p, -w),
            (y[:3], p, None),
            (y.reshape(2, 2), p.reshape(2, 2), w),
        ]
    if kind == "categorical":
        return [
            (y, np.full((4, 5), np.nan), None),  # a rejected 5-class chunk must not fix the class count
            (np.full(4, 7), p, None),
            (y, p, -w),
            (y, np.full((4, 3), np.inf), w),
            (y[:3], p, None),
        ]
    bad_p = p.copy()
    bad_p[0, 0] = np.nan
    return [(y, bad_p, None), (np.full(4, 9), p, None), (y, p, w[:3]), (y[:3], p, None), (y, p * 3, None)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_rejected_chunk_leaves_the_state_as_it_was(kind):
    good = [_stream(kind, n=10, seed=s) for s in (1, 2, 3)]
    bad = _rejected_chunks(kind)
    clean = _fresh(kind)
    for y, p, w in good:
        clean.update(y, p, w)
    acc = _fresh(kind)
    states = [_state(acc)]
    for i, (y, p, w) in enumerate(good):
        for by, bp, bw in bad if i != 1 else bad[::-1]:
            with pytest.raises(ValueError):
                acc.update(by, bp, bw)
            assert _state(acc) == states[-1]
        acc.update(y, p, w)
        states.append(_state(acc))
    assert _state(acc) == _state(clean)
    assert acc.result() == clean.result()
    y, p, w = (np.concatenate(parts) for parts in zip(*good, strict=True))
    assert acc.result() == pytest.approx(_one_call(kind, y, p, w), rel=1e-13)


def test_first_rejected_chunk_does_not_fix_the_class_count():
    acc = CrossEntropyAccumulator(from_logits=True)
    with pytest.raises(ValueError, match="y_pred"):
        acc.update([0, 1], np.full((2, 5), np.nan))
    assert acc.n_classes_ is None
    z = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    assert acc.update([0, 2], z).result() == pytest.approx(
        fastxent.cross_entropy([0, 2], z, from_logits=True), rel=1e-15
    )
    assert acc.n_classes_ == 3


def _hammer(jobs, n_threads=8):
    """Run ``jobs`` (callables) on ``n_threads`` threads with a tiny switch
    interval, so that unguarded read-modify-write sequences interleave."""
    errors = []
    barrier = threading.Barrier(n_threads)

    def work(mine):
        barrier.wait()
        try:
            for job in mine:
                job()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(jobs[i::n_threads],)) for i in range(n_threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_updates_and_merges_lose_nothing(kind):
    n, size = 4800, 6
    y, p, w = _stream(kind, n=n, seed=7)
    expected = _one_call(kind, y, p, w)
    parts = [slice(a, a + size) for a in range(0, n, size)]
    _fresh(kind).update(y[:size], p[:size], w[:size])  # compile outside the race

    acc = _fresh(kind)
    _hammer([lambda s=s: acc.update(y[s], p[s], w[s]) for s in parts])
    assert acc.n_samples_ == n
    assert acc.result() == pytest.approx(expected, rel=1e-13)

    pieces = [_fresh(kind).update(y[s], p[s], w[s]) for s in parts]
    merged = _fresh(kind)
    _hammer([lambda piece=piece: merged.merge(piece) for piece in pieces])
    assert merged.n_samples_ == n
    assert merged.result() == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_pickles_and_copies_get_their_own_working_lock(kind):
    y, p, w = _stream(kind)
    acc = _fresh(kind).update(y[:20], p[:20], w[:20])
    for clone in (pickle.loads(pickle.dumps(acc)), copy.deepcopy(acc), copy.copy(acc)):
        assert clone._lock is not acc._lock
        clone.update(y[20:], p[20:], w[20:])
        assert clone.result() == pytest.approx(_one_call(kind, y, p, w), rel=1e-13)
    assert acc.n_samples_ == 20


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
    with pytest.raises(ValueError, match="reduction"):
        a.update([1.0], [0.0]).result(np.array(["mean", "sum"]))
    with pytest.raises(ValueError, match="y_true"):
        a.update([2.0], [0.0])
