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
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_port=0,
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
        assert fxd.log_loss(yd, pd_, **dkwargs) == pytest.approx(fastxent.log_loss(y, p, **kwargs), rel=RTOL)
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
    assert fxd.log_loss(_chunked(y), _chunked(p), labels=[0, 1, 2, 3]) == pytest.approx(expected, rel=RTOL)


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
    np.testing.assert_allclose(per_sample.compute(), fastxent.cross_entropy(t, q, reduction="none"), rtol=RTOL)


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
        fastxent.entropy(p, q, axis=1, base=2),
        rtol=RTOL,
    )
    np.testing.assert_allclose(
        fxd.entropy(pd_, axis=0, keepdims=True).compute(),
        fastxent.entropy(p, axis=0, keepdims=True),
        rtol=RTOL,
    )
    np.testing.assert_allclose(fxd.entropy(pd_[:, 0]).compute(), fastxent.entropy(p[:, 0]), rtol=RTOL)


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


def _error(func, *args, **kwargs):
    """(type, message) of the exception ``func`` raises (computing a lazy result)."""
    with pytest.raises((ValueError, TypeError)) as info:
        out = func(*args, **kwargs)
        if hasattr(out, "compute"):
            out.compute()
    return type(info.value), str(info.value)


@pytest.fixture
def threads():
    with dask.config.set(scheduler="threads"):
        yield


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_cross_entropy_2d_with_weights_and_split_class_axis(threads, rng, reduction):
    y = (rng.random((N, 3)) < 0.4).astype(np.float64)
    z = rng.normal(0, 3, (N, 3))
    w = rng.random((N, 3))
    kwargs = dict(from_logits=True, pos_weight=[1.0, 2.0, 0.5], reduction=reduction)
    expected = fastxent.binary_cross_entropy(y, z, sample_weight=w, **kwargs)
    got = fxd.binary_cross_entropy(
        da.from_array(y, chunks=(500, 2)),
        _chunked(z),
        sample_weight=da.from_array(w, chunks=(300, 1)),
        **kwargs,
    )
    if reduction == "none":
        assert got.shape == expected.shape and got.dtype == expected.dtype
        got = got.compute()
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def _masked(rng, k=4):
    """In-memory data, the same as dask arrays, and a boolean mask (as a dask
    array) that leaves some blocks empty."""
    y = rng.integers(0, k, N)
    y[:k] = np.arange(k)
    z = rng.normal(0, 3, (N, k))
    z[700:701, 0] = -1.0  # the one-row block selects nothing
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    w = rng.random(N)
    keep = z[:, 0] > -0.5
    keep[:k] = True
    dask_arrays = [_chunked(a) for a in (y, z, p, w)]
    return (y, z, p, w), dask_arrays, _chunked(keep)


def test_unknown_chunk_sizes_from_a_boolean_mask(scheduler, rng):
    (y, z, p, w), (yd, zd, pd_, wd), keep = _masked(rng)
    m = keep.compute()
    yd, zd, pd_, wd = yd[keep], zd[keep], pd_[keep], wd[keep]
    assert np.isnan(zd.shape[0])
    y, z, p, w = y[m], z[m], p[m], w[m]
    assert fxd.log_loss(yd, pd_, sample_weight=wd) == pytest.approx(fastxent.log_loss(y, p, sample_weight=w), rel=RTOL)
    assert fxd.d2_log_loss_score(yd, pd_) == pytest.approx(fastxent.d2_log_loss_score(y, p), rel=RTOL)
    for reduction in ("mean", "sum"):
        assert fxd.cross_entropy(yd, zd, from_logits=True, sample_weight=wd, reduction=reduction) == (
            pytest.approx(
                fastxent.cross_entropy(y, z, from_logits=True, sample_weight=w, reduction=reduction), rel=RTOL
            )
        )
    np.testing.assert_allclose(
        fxd.cross_entropy(yd, zd, from_logits=True, reduction="none").compute(),
        fastxent.cross_entropy(y, z, from_logits=True, reduction="none"),
        rtol=RTOL,
    )
    yb = (y == 0).astype(np.float64)
    ybd = (yd == 0).astype(np.float64)
    np.testing.assert_allclose(
        fxd.binary_cross_entropy(ybd, zd[:, 0], from_logits=True, reduction="none").compute(),
        fastxent.binary_cross_entropy(yb, z[:, 0], from_logits=True, reduction="none"),
        rtol=RTOL,
    )
    assert fxd.binary_cross_entropy(ybd, zd[:, 0], from_logits=True, sample_weight=wd) == (
        pytest.approx(fastxent.binary_cross_entropy(yb, z[:, 0], from_logits=True, sample_weight=w), rel=RTOL)
    )


def test_unknown_chunks_that_cannot_be_paired_say_how_to_fix(threads, rng):
    (y, z, p, w), (yd, zd, pd_, wd), keep = _masked(rng)
    m = keep.compute()
    other = _chunked(z[:, 1]) > 0
    rechunked = da.from_array(y, chunks=500)[da.from_array(m, chunks=500)]
    cases = [
        (fxd.log_loss, (rechunked, pd_[keep]), {}),  # 6 blocks against 4
        (fxd.cross_entropy, (y[m], zd[keep]), {}),  # NumPy y_true: its rows cannot be split alike
        (fxd.cross_entropy, (yd[keep], zd[keep]), {"sample_weight": w[m]}),
        (fxd.binary_cross_entropy, (yd[other].astype(float), zd[keep][:, 0]), {"from_logits": True}),
    ]
    for func, args, kwargs in cases:
        kind, message = _error(func, *args, **kwargs)
        assert kind is ValueError and "compute_chunk_sizes()" in message, message
        assert "y_true" in message or "sample_weight" in message


def test_entropy_axis_none_tuples_and_dtypes(threads, rng):
    p = rng.random((40, 6, 5))
    q = rng.random((40, 6, 5))
    pd_, qd = (da.from_array(a, chunks=(15, 4, 2)) for a in (p, q))
    cases = [
        ((pd_,), (p,), dict(axis=None)),
        ((pd_, qd), (p, q), dict(axis=None, base=2)),
        ((pd_,), (p,), dict(axis=None, keepdims=True)),
        ((pd_, qd[0, 0, :1]), (p, q[0, 0, :1]), dict(axis=None)),  # raveled, then broadcast
        ((pd_,), (p,), dict(axis=(0, 2))),
        ((pd_, qd), (p, q), dict(axis=(2, -3), keepdims=True)),
        ((pd_.astype(np.float32),), (p.astype(np.float32),), dict(axis=1)),
        ((pd_.astype(np.float16),), (p.astype(np.float16),), dict(axis=None)),
        ((pd_.astype(np.float32), qd), (p.astype(np.float32), q), dict(axis=2)),
        (((pd_ * 100).astype(np.int64),), ((p * 100).astype(np.int64),), dict(axis=1)),
        ((pd_[:, :, :0],), (p[:, :, :0],), dict(axis=0)),  # no slices: NaN dtype of the input
        ((pd_[:, :, :0].astype(np.float16),), (p[:, :, :0].astype(np.float16),), dict(axis=0)),
    ]
    for dask_args, args, kwargs in cases:
        lazy = fxd.entropy(*dask_args, **kwargs)
        expected = fastxent.entropy(*args, **kwargs)
        got = lazy.compute()
        assert lazy.shape == np.shape(expected) == np.shape(got), kwargs
        assert lazy.dtype == np.asarray(got).dtype == np.asarray(expected).dtype, (kwargs, lazy.dtype)
        np.testing.assert_allclose(got, expected, rtol=RTOL)
    for axis in (3, (0, 0)):
        assert _error(fxd.entropy, pd_, axis=axis) == _error(fastxent.entropy, p, axis=axis)


def test_entropy_unknown_chunks(threads, rng):
    x = rng.random((N, 3))
    keep = x[:, 0] > 0.3
    xd = _chunked(x)
    xd = xd[xd[:, 0] > 0.3]
    np.testing.assert_allclose(fxd.entropy(xd, axis=1).compute(), fastxent.entropy(x[keep], axis=1), rtol=RTOL)
    q = rng.random((N, 3))
    qd = _chunked(q)[_chunked(x)[:, 0] > 0.3]
    np.testing.assert_allclose(
        fxd.entropy(xd, qd, axis=1, base=2).compute(), fastxent.entropy(x[keep], q[keep], axis=1, base=2), rtol=RTOL
    )
    kind, message = _error(fxd.entropy, xd, axis=0)
    assert kind is ValueError and "pk" in message and "compute_chunk_sizes()" in message


def test_empty_inputs_behave_like_in_memory(threads, rng):
    z = rng.normal(size=(N, 3))
    zd = _chunked(z)
    nothing = zd[:, 0] > 100  # unknown sizes, every block empty
    y = np.zeros(0, dtype=np.int64)
    for y_dask, z_dask in (
        (da.from_array(y), da.from_array(z[:0])),
        (_chunked(np.zeros(N, int))[nothing], zd[nothing]),
    ):
        assert _error(fxd.cross_entropy, y_dask, z_dask) == _error(fastxent.cross_entropy, y, z[:0])
        yb, zb = y_dask.astype(np.float64), z_dask[:, 0]
        assert _error(fxd.binary_cross_entropy, yb, zb, reduction="sum") == _error(
            fastxent.binary_cross_entropy, y.astype(float), z[:0, 0], reduction="sum"
        )
        p_dask = da.exp(z_dask) / da.exp(z_dask).sum(axis=1, keepdims=True)
        assert _error(fxd.log_loss, y_dask, p_dask) == _error(fastxent.log_loss, y, z[:0])
        assert _error(fxd.log_loss, y_dask, p_dask, labels=[0, 1, 2]) == _error(
            fastxent.log_loss, y, z[:0], labels=[0, 1, 2]
        )
        with pytest.warns(UserWarning, match="not well-defined"):
            assert np.isnan(fxd.d2_log_loss_score(y_dask, p_dask))
    empty = _error(fastxent.cross_entropy, y, z[:0], reduction="none")
    assert _error(fxd.cross_entropy, da.from_array(y), da.from_array(z[:0]), reduction="none") == empty
    per_sample = fxd.cross_entropy(_chunked(np.zeros(N, int))[nothing], zd[nothing], reduction="none")
    assert per_sample.compute().shape == (0,)  # lazily, the emptiness is not known in advance


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_shape_and_class_errors_quote_the_whole_arrays(threads, rng):
    y = rng.integers(0, 3, N)
    z = rng.normal(size=(N, 3))
    p = rng.dirichlet(np.ones(3), N)
    w = rng.random(N)
    cases = [
        ("cross_entropy", (y, z[:, 0]), {}),
        ("cross_entropy", (p[:, :2], z), {"from_logits": True}),
        ("cross_entropy", (y, z), {"sample_weight": p}),
        ("binary_cross_entropy", (p, z[:, 0]), {"from_logits": True}),
        ("binary_cross_entropy", (p[:, 0], z), {"from_logits": True, "reduction": "none"}),
        ("binary_cross_entropy", (p, z), {"from_logits": True, "sample_weight": w}),
        ("log_loss", (y, p), {"sample_weight": p}),
        ("log_loss", (np.ones(N, int), p), {}),  # one class
        ("d2_log_loss_score", (np.ones(N, int), p), {}),
        ("log_loss", (y, p[:, :2]), {}),  # more classes than columns
        ("log_loss", (y, p), {"labels": [1]}),  # y_true outside the labels comes first
        ("log_loss", (y, p), {"labels": [0, 1]}),
        ("log_loss", (y, np.where(p > 0.9, np.nan, p)), {}),
        ("log_loss", (y, p), {"normalize": "no"}),
    ]
    for name, args, kwargs in cases:
        dask_args = [_chunked(a) for a in args]
        dask_kwargs = {k: _chunked(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        expected = _error(getattr(fastxent, name), *args, **kwargs)
        assert _error(getattr(fxd, name), *dask_args, **dask_kwargs) == expected, (name, kwargs)
    one = da.from_array(np.ones(1, int))
    with pytest.warns(UserWarning, match="not well-defined"):  # one sample: NaN, not an error
        assert np.isnan(fxd.d2_log_loss_score(one, da.from_array(p[:1, 0])))
