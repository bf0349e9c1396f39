"""fastxent.dask against the in-memory functions, on the threaded scheduler and a
two-process LocalCluster on loopback."""

import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
from dask.delayed import Delayed  # noqa: E402

import fastxent  # noqa: E402
import fastxent.dask as fxd  # noqa: E402

RTOL = 1e-12
N = 3000
ROW_CHUNKS = (700, 1, 1299, 1000)  # uneven on purpose, one chunk of a single row


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None, scheduler_port=0,
    ) as cluster:
        yield cluster


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield "threads"
    else:
        cluster = request.getfixturevalue("cluster")
        with distributed.Client(cluster, set_as_default=False) as client:
            with dask.config.set(scheduler=client):
                yield client


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def _chunked(x):
    chunks = (ROW_CHUNKS,) + tuple((s,) for s in np.shape(x)[1:])
    return da.from_array(x, chunks=chunks)


def test_log_loss_and_d2_match_in_memory(scheduler, rng):
    if scheduler != "threads":  # the blocks really are scored in both worker processes
        with distributed.get_task_stream(scheduler) as tasks:
            fxd.log_loss(_chunked(rng.integers(0, 2, N)), _chunked(rng.random(N)))
        assert len({task["worker"] for task in tasks.data}) == 2
    y = rng.integers(0, 4, N)
    p = rng.dirichlet(np.ones(4), size=N)
    w = rng.random(N)
    yd, pd_, wd = _chunked(y), _chunked(p), _chunked(w)
    for kwargs in ({}, {"sample_weight": w}):
        dkwargs = {"sample_weight": wd} if kwargs else {}
        assert fxd.log_loss(yd, pd_, **dkwargs) == pytest.approx(
            fastxent.log_loss(y, p, **kwargs), rel=RTOL
        )
        assert fxd.log_loss(yd, pd_, normalize=False, **dkwargs) == pytest.approx(
            fastxent.log_loss(y, p, normalize=False, **kwargs), rel=RTOL
        )
        assert fxd.d2_log_loss_score(yd, pd_, **dkwargs) == pytest.approx(
            fastxent.d2_log_loss_score(y, p, **kwargs), rel=RTOL
        )


def test_log_loss_binary_string_labels_and_numpy_inputs(scheduler, rng):
    y = rng.choice(np.array(["no", "yes"]), N)
    p = rng.random(N)
    expected = fastxent.log_loss(y, p)
    assert fxd.log_loss(da.from_array(y, chunks=500), _chunked(p)) == pytest.approx(expected, rel=RTOL)
    assert fxd.log_loss(y, _chunked(p)) == pytest.approx(expected, rel=RTOL)  # y re-chunked


def test_log_loss_labels_with_a_class_absent_from_some_blocks(scheduler, rng):
    y = np.sort(rng.integers(0, 3, N))  # each class sits in few blocks
    p = rng.dirichlet(np.ones(4), size=N)
    expected = fastxent.log_loss(y, p, labels=[0, 1, 2, 3])
    assert fxd.log_loss(_chunked(y), _chunked(p), labels=[0, 1, 2, 3]) == pytest.approx(
        expected, rel=RTOL
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_logits(scheduler, rng, reduction):
    k = 5
    y = rng.integers(0, k, N)
    z = rng.normal(0, 4, (N, k))
    w = rng.random(N)
    cw = rng.random(k) + 0.5
    kwargs = dict(from_logits=True, class_weight=cw, ignore_index=2, reduction=reduction)
    expected = fastxent.cross_entropy(y, z, sample_weight=w, **kwargs)
    got = fxd.cross_entropy(_chunked(y), _chunked(z), sample_weight=_chunked(w), **kwargs)
    assert got == pytest.approx(expected, rel=RTOL)


def test_cross_entropy_soft_targets_and_per_sample(scheduler, rng):
    k = 3
    t = rng.dirichlet(np.ones(k), size=N)
    q = rng.dirichlet(np.ones(k), size=N)
    expected = fastxent.cross_entropy(t, q)
    assert fxd.cross_entropy(_chunked(t), _chunked(q)) == pytest.approx(expected, rel=RTOL)
    assert fxd.cross_entropy(t, _chunked(q)) == pytest.approx(expected, rel=RTOL)  # NumPy targets
    per_sample = fxd.cross_entropy(_chunked(t), _chunked(q), reduction="none")
    assert isinstance(per_sample, da.Array)
    np.testing.assert_allclose(
        per_sample.compute(), fastxent.cross_entropy(t, q, reduction="none"), rtol=RTOL
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(scheduler, rng, reduction):
    y = rng.integers(0, 2, N).astype(np.float64)
    z = rng.normal(0, 5, N)
    w = rng.random(N)
    kwargs = dict(from_logits=True, pos_weight=2.5, reduction=reduction)
    expected = fastxent.binary_cross_entropy(y, z, sample_weight=w, **kwargs)
    got = fxd.binary_cross_entropy(_chunked(y), _chunked(z), sample_weight=_chunked(w), **kwargs)
    got = got.compute() if reduction == "none" else got
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_entropy_along_each_axis(scheduler, rng):
    p = rng.random((400, 6))
    q = rng.random((400, 6))
    pd_ = da.from_array(p, chunks=(150, 4))  # the distribution axis is split too
    qd = da.from_array(q, chunks=(100, 3))
    np.testing.assert_allclose(
        fxd.entropy(pd_, qd, axis=1, base=2).compute(),
        fastxent.entropy(p, q, axis=1, base=2), rtol=RTOL,
    )
    np.testing.assert_allclose(
        fxd.entropy(pd_, axis=0, keepdims=True).compute(),
        fastxent.entropy(p, axis=0, keepdims=True), rtol=RTOL,
    )
    np.testing.assert_allclose(
        fxd.entropy(pd_[:, 0]).compute(), fastxent.entropy(p[:, 0]), rtol=RTOL
    )


def test_compute_false_returns_a_delayed(rng):
    y = rng.integers(0, 2, 100)
    p = rng.random(100)
    lazy = fxd.log_loss(_chunked_small(y), _chunked_small(p), compute=False)
    assert isinstance(lazy, Delayed)
    d2 = fxd.d2_log_loss_score(_chunked_small(y), _chunked_small(p), compute=False)
    with dask.config.set(scheduler="sync"):
        assert lazy.compute() == pytest.approx(fastxent.log_loss(y, p), rel=RTOL)
        both = dask.compute(lazy, d2)  # one graph, shared per-block states
    assert both[0] == pytest.approx(fastxent.log_loss(y, p), rel=RTOL)
    assert both[1] == pytest.approx(fastxent.d2_log_loss_score(y, p), rel=RTOL)


def _chunked_small(x):
    return da.from_array(x, chunks=30)


def test_bad_inputs_name_the_argument(rng):
    with pytest.raises(ValueError, match="y_true has 5 samples"):
        fxd.log_loss(np.zeros(5), _chunked(rng.random(N)))
    with pytest.raises(ValueError, match="reduction"):
        fxd.cross_entropy(_chunked(np.zeros(N, int)), _chunked(rng.random((N, 2))), reduction="max")


def test_import_without_dask_is_a_clear_import_error():
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['dask.array'] = None\n"
        "try:\n    import fastxent.dask\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "fastxent.dask needs dask: pip install 'fastxent[dask]'" in out.stdout
