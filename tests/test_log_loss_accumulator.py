"""LogLossAccumulator: any chunking and any merge tree give the one-call result."""

import math
import pickle
import threading

import numpy as np
import pytest
from conftest import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import fastxent
from fastxent import LogLossAccumulator


def data(seed, n, k, weighted):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, max(k, 2), n)
    y[: max(k, 2)] = np.arange(max(k, 2))  # every class in the first rows
    P = rng.random((n, max(k, 2))) + 1e-3
    P /= P.sum(axis=1, keepdims=True)
    w = rng.random(n) * 3 if weighted else None
    return y, (P[:, 1].copy() if k == 1 else P), w


def chunks(n, cuts):
    bounds = sorted({0, n, *[c % (n + 1) for c in cuts]})
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(10, 20000),
    k=st.sampled_from([1, 2, 4]),
    weighted=st.booleans(),
    cuts=st.lists(st.integers(0, 20000), max_size=8),
    given_labels=st.booleans(),
)
def test_any_chunking_gives_the_one_call_result(seed, n, k, weighted, cuts, given_labels):
    y, P, w = data(seed, n, k, weighted)
    acc = LogLossAccumulator(labels=list(range(max(k, 2))) if given_labels else None)
    if not given_labels:  # inferred classes: the first chunk must hold every class
        cuts = [c for c in cuts if c % (n + 1) >= max(k, 2)]
    for part in chunks(n, cuts):
        acc.update(y[part], P[part], sample_weight=None if w is None else w[part])
    assert acc.n_samples_ == n
    expected = fastxent.log_loss(y, P, sample_weight=w)
    assert acc.result() == pytest.approx(expected, rel=1e-13, abs=0)
    assert acc.result(normalize=False) == pytest.approx(
        fastxent.log_loss(y, P, sample_weight=w, normalize=False), rel=1e-13, abs=0
    )
    assert acc.d2_score() == pytest.approx(fastxent.d2_log_loss_score(y, P, sample_weight=w), rel=1e-13, abs=1e-15)
    assert expected == pytest.approx(reference("log_loss", "scikit-learn")(y, P, sample_weight=w), rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_parts=st.integers(1, 9), weighted=st.booleans())
def test_merge_tree_and_pickle_give_the_one_call_result(seed, n_parts, weighted):
    y, P, w = data(seed, 30000, 3, weighted)
    parts = np.array_split(np.arange(30000), n_parts)
    accs = []
    for idx in parts:
        acc = LogLossAccumulator(labels=[0, 1, 2])
        acc.update(y[idx], P[idx], sample_weight=None if w is None else w[idx])
        accs.append(pickle.loads(pickle.dumps(acc)))
    while len(accs) > 1:  # pairwise merge tree
        accs = [accs[i].merge(accs[i + 1]) if i + 1 < len(accs) else accs[i] for i in range(0, len(accs), 2)]
    total = accs[0]
    assert total.n_samples_ == 30000
    assert total.result() == pytest.approx(
        reference("log_loss", "scikit-learn")(y, P, sample_weight=w), rel=1e-12, abs=0
    )
    assert total.d2_score() == pytest.approx(
        reference("d2_log_loss_score", "scikit-learn")(y, P, sample_weight=w), rel=1e-11, abs=1e-15
    )


def test_state_is_small():
    y, P, w = data(0, 100_000, 3, True)
    acc = LogLossAccumulator().update(y, P, sample_weight=w)
    assert len(pickle.dumps(acc)) < 2000


def test_string_labels_and_label_order():
    y = np.array(["spam", "ham", "eggs", "ham", "spam", "eggs"])
    P = np.array([[0.1, 0.2, 0.7], [0.2, 0.6, 0.2], [0.5, 0.3, 0.2]] * 2)
    acc = LogLossAccumulator()
    acc.update(y[:3], P[:3]).update(y[3:], P[3:])
    assert acc.result() == pytest.approx(reference("log_loss", "scikit-learn")(y, P), rel=1e-12)
    np.testing.assert_array_equal(acc.classes_, ["eggs", "ham", "spam"])
    with pytest.warns(UserWarning, match="assumes labels are ordered lexicographically"):
        LogLossAccumulator(labels=["spam", "ham", "eggs"])


def test_labels_up_front_allow_chunks_missing_a_class():
    y = np.array([0, 0, 2, 2, 1])
    P = np.full((5, 3), 1 / 3)
    acc = LogLossAccumulator(labels=[0, 1, 2])
    for i in range(5):
        acc.update(y[i : i + 1], P[i : i + 1])
    assert acc.result() == pytest.approx(reference("log_loss", "scikit-learn")(y, P), rel=1e-12)


def test_inferred_classes_must_all_be_in_the_first_chunk():
    P = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match="contain different number of classes"):
        LogLossAccumulator().update([0, 1, 1], P)
    acc = LogLossAccumulator().update([0, 1, 2], P)
    with pytest.raises(ValueError, match="pass labels= to LogLossAccumulator"):
        acc.update([0, 5], P[:2])
    assert acc.n_samples_ == 3  # a rejected chunk changes nothing


def test_merge_rejects_different_classes():
    a = LogLossAccumulator().update([0, 1], [0.3, 0.6])
    b = LogLossAccumulator().update([1, 2], [0.3, 0.6])
    with pytest.raises(ValueError, match="different classes"):
        a.merge(b)
    with pytest.raises(TypeError, match="LogLossAccumulator"):
        a.merge(0.5)
    assert a.merge(LogLossAccumulator()).n_samples_ == 2
    assert LogLossAccumulator().merge(a).result() == a.result()


def test_validation_errors_are_log_loss_errors():
    acc = LogLossAccumulator(labels=[0, 1])
    with pytest.raises(ValueError, match="y_prob contains values greater than 1: 1.5"):
        acc.update([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        acc.update([0, 1, 1], [0.5, 0.5])
    with pytest.raises(ValueError, match="labels array needs to contain at least two"):
        LogLossAccumulator(labels=[1])
    assert acc.update([], []).n_samples_ == 0
    acc.update([0, 1], [0.5, 0.5])
    for normalize in ("yes", 1, None):  # the type log_loss checks, with its message
        with pytest.raises(ValueError, match="'normalize' parameter of LogLossAccumulator.result"):
            acc.result(normalize=normalize)
    acc = LogLossAccumulator(labels=[0, 1])
    with pytest.raises(ValueError, match="no samples were added"):
        acc.result()


def test_zero_weight_chunks_and_small_samples():
    acc = LogLossAccumulator(labels=[0, 1])
    acc.update([0, 1], [0.2, 0.7], sample_weight=[0.0, 0.0])
    with pytest.raises(ValueError, match="at least one non-zero number"):
        acc.result()
    acc.update([1], [0.9], sample_weight=[2.0])
    assert acc.result() == pytest.approx(-math.log(0.9), rel=1e-15)
    single = LogLossAccumulator(labels=[0, 1]).update([1], [0.9])
    with pytest.warns(UserWarning, match="not well-defined with less than two samples"):
        assert math.isnan(single.d2_score())


def test_racing_first_chunks_with_different_classes():
    # Whichever thread commits first fixes the classes; the other chunk is
    # rejected whole, as it would be if the two came one after the other.
    P = np.full((3, 3), 1 / 3)
    chunks = {"a": [0, 1, 2], "b": [0, 1, 3]}
    for _ in range(20):
        acc = LogLossAccumulator()
        barrier = threading.Barrier(2)
        outcome = {}

        def run(name, acc=acc, barrier=barrier, outcome=outcome):
            barrier.wait()
            try:
                acc.update(chunks[name], P)
                outcome[name] = "ok"
            except ValueError as error:
                outcome[name] = str(error)

        threads = [threading.Thread(target=run, args=(name,)) for name in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [name for name, result in outcome.items() if result == "ok"]
        assert len(winners) == 1, outcome
        loser = "b" if winners == ["a"] else "a"
        assert "labels=" in outcome[loser]
        np.testing.assert_array_equal(acc.classes_, chunks[winners[0]])
        assert acc.n_samples_ == 3
        assert acc.result() == pytest.approx(math.log(3), rel=1e-15)
