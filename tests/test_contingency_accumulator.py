"""``ContingencyAccumulator`` and the ``fastxent.dask`` mutual-information
scores: any chunking, any merge order, pickling and dask blocks give the
one-call results bit for bit."""

import copy
import pickle
import threading

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.metrics.cluster import contingency_matrix as sk_contingency_matrix

import fastxent

SCORES = {
    "mutual_info": fastxent.mutual_info_score,
    "normalized_mutual_info": fastxent.normalized_mutual_info_score,
    "adjusted_mutual_info": fastxent.adjusted_mutual_info_score,
    "conditional_entropy": fastxent.conditional_entropy,
    "joint_entropy": fastxent.joint_entropy,
}


def _rng(seed=0):
    return np.random.default_rng(seed)


def _labels(kind, n=3000, seed=0):
    rng = _rng(seed)
    if kind == "ints":
        return rng.integers(0, 12, n), rng.integers(-3, 5, n)
    if kind == "strings":
        return rng.choice(["a", "b", "c", "dd"], n), rng.choice(["x", "y"], n)
    if kind == "many classes":
        return rng.integers(0, 2000, n), rng.integers(0, 1500, n)
    if kind == "uint64":
        return rng.integers(0, 3, n).astype(np.uint64) * np.uint64(2**62), rng.integers(0, 4, n)
    raise AssertionError(kind)


def _chunks(n, rng, k):
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return np.split(np.arange(n), cuts)


@pytest.mark.parametrize("kind", ["ints", "strings", "many classes", "uint64"])
@pytest.mark.parametrize("n_chunks", [1, 2, 7])
def test_any_chunking_gives_the_one_call_bits(kind, n_chunks):
    x, y = _labels(kind)
    rng = _rng(n_chunks)
    parts = []
    for idx in _chunks(x.shape[0], rng, n_chunks):
        parts.append(fastxent.ContingencyAccumulator().update(x[idx], y[idx]))
    rng.shuffle(parts)  # merge order does not matter
    acc = fastxent.ContingencyAccumulator()
    for part in parts:
        acc.merge(part)
    for method, func in SCORES.items():
        assert getattr(acc, method)() == func(x, y), method
    table, classes_true, classes_pred = acc.result()
    assert np.array_equal(table, sk_contingency_matrix(x, y))
    assert np.array_equal(classes_true, np.unique(x)) and np.array_equal(classes_pred, np.unique(y))
    assert np.array_equal(acc.result(sparse=True)[0].toarray(), table)
    assert acc.n_samples == x.shape[0]


def test_chunks_with_disjoint_classes():
    acc = fastxent.ContingencyAccumulator()
    acc.update([0, 0, 1], ["a", "b", "b"]).update([5, 6], ["z", "a"]).update([], [])
    x, y = [0, 0, 1, 5, 6], ["a", "b", "b", "z", "a"]
    assert acc.adjusted_mutual_info() == fastxent.adjusted_mutual_info_score(x, y)
    assert acc.adjusted_mutual_info() == pytest.approx(skm.adjusted_mutual_info_score(x, y), rel=1e-9)
    for method in ["min", "geometric", "max"]:
        assert acc.normalized_mutual_info(method) == fastxent.normalized_mutual_info_score(x, y, average_method=method)


def test_mixed_chunks_promote_like_the_concatenation():
    acc = fastxent.ContingencyAccumulator().update([1, 2, 2], [0, 1, 1]).update(["a", "1"], [1, 0])
    x = np.concatenate([np.array([1, 2, 2]), np.array(["a", "1"])])  # NumPy makes them all strings
    y = [0, 1, 1, 1, 0]
    assert acc.adjusted_mutual_info() == fastxent.adjusted_mutual_info_score(x, y)
    assert acc.result()[1].tolist() == ["1", "2", "a"]


def test_pickle_round_trip_and_update_after():
    x, y = _labels("ints")
    acc = fastxent.ContingencyAccumulator().update(x[:1000], y[:1000])
    clone = pickle.loads(pickle.dumps(acc))
    clone.update(x[1000:], y[1000:])
    assert clone.mutual_info() == fastxent.mutual_info_score(x, y)
    assert acc.n_samples == 1000  # the original is untouched


def test_copies_get_their_own_lock_and_threads_lose_no_sample():
    x, y = _labels("ints", n=4000)
    acc = fastxent.ContingencyAccumulator().update(x[:100], y[:100])
    for clone in (pickle.loads(pickle.dumps(acc)), copy.deepcopy(acc), copy.copy(acc)):
        assert clone._lock is not acc._lock
        clone.update(x[100:200], y[100:200])
        assert clone.mutual_info() == fastxent.mutual_info_score(x[:200], y[:200])
    assert acc.n_samples == 100
    parts = np.array_split(np.arange(100, 4000), 8)
    threads = [threading.Thread(target=acc.update, args=(x[part], y[part])) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert acc.n_samples == 4000
    assert acc.adjusted_mutual_info() == fastxent.adjusted_mutual_info_score(x, y)
    np.testing.assert_array_equal(acc.result()[0], sk_contingency_matrix(x, y))


def test_empty_accumulator():
    acc = fastxent.ContingencyAccumulator()
    table, classes_true, classes_pred = acc.result()
    assert table.shape == (0, 0) and classes_true.size == classes_pred.size == 0
    assert acc.normalized_mutual_info() == 1.0 == acc.adjusted_mutual_info()
    assert acc.conditional_entropy() == 0.0 == acc.joint_entropy()
    with pytest.raises(ValueError, match="no samples"):
        acc.mutual_info()
    assert fastxent.ContingencyAccumulator().merge(acc).n_samples == 0


def test_errors_name_the_argument():
    acc = fastxent.ContingencyAccumulator().update([1, 2], [1, 2])
    with pytest.raises(ValueError, match="Input contains NaN"):
        acc.update([1.0, np.nan], [1, 2])
    with pytest.raises(ValueError, match="labels_pred must be 1D"):
        acc.update([1, 2], [[1, 2]])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        acc.update([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="labels_true"):
        acc.update(np.array(["a", "b"], dtype=object), [1, 2])  # objects that do not compare with 1, 2
    assert acc.n_samples == 2  # a rejected chunk leaves the state unchanged
    with pytest.raises(TypeError, match="other"):
        acc.merge("not an accumulator")
    with pytest.raises(ValueError, match="average_method"):
        acc.adjusted_mutual_info("harmonic")


# ------------------------------------------------------------------- dask


@pytest.fixture
def da():
    return pytest.importorskip("dask.array")  # skips the Dask tests only, not the module


@pytest.fixture
def fxd():
    return pytest.importorskip("fastxent.dask")


@pytest.mark.parametrize("kind", ["ints", "strings", "many classes"])
def test_dask_scores_equal_the_in_memory_scores(da, fxd, kind):
    x, y = _labels(kind, n=5000, seed=3)
    dx = da.from_array(x, chunks=700)
    dy = da.from_array(y, chunks=1100)  # rechunked to dx's chunks
    assert fxd.mutual_info_score(dx, dy) == fastxent.mutual_info_score(x, y)
    assert fxd.normalized_mutual_info_score(dx, dy, average_method="max") == fastxent.normalized_mutual_info_score(
        x, y, average_method="max"
    )
    assert fxd.adjusted_mutual_info_score(dx, y) == fastxent.adjusted_mutual_info_score(x, y)
    lazy = fxd.adjusted_mutual_info_score(dx, dy, compute=False)
    assert lazy.compute() == fastxent.adjusted_mutual_info_score(x, y)


def test_dask_scores_many_blocks_merge_in_a_tree(da, fxd):
    x, y = _labels("ints", n=20_000, seed=4)
    dx, dy = da.from_array(x, chunks=200), da.from_array(y, chunks=200)  # 100 blocks
    assert fxd.adjusted_mutual_info_score(dx, dy) == fastxent.adjusted_mutual_info_score(x, y)


def test_dask_errors(da, fxd):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fxd.mutual_info_score(da.zeros(10, chunks=5), da.zeros(9, chunks=5))
    with pytest.raises(ValueError, match="labels_true must be 1D"):
        fxd.mutual_info_score(da.zeros((2, 2)), da.zeros(4))
    with pytest.raises(ValueError, match="average_method"):
        fxd.normalized_mutual_info_score([1, 2], [1, 2], average_method="median")
    with pytest.raises(ValueError, match="Input contains NaN"):
        fxd.mutual_info_score(da.from_array(np.array([1.0, np.nan])), [1, 2])
    assert fxd.adjusted_mutual_info_score(da.zeros(0, chunks=1), da.zeros(0, chunks=1)) == 1.0
