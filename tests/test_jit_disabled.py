"""The whole API with ``NUMBA_DISABLE_JIT=1`` (pure Python) gives the compiled results.

A subprocess with the JIT disabled runs :func:`compute` (this file run as a
script) on tiny inputs; the test process runs it compiled and compares.
The bit-manipulation ``log``/``log1p``/``exp`` must give the very same
doubles in both modes; losses agree to 1e-10 relative (fast-math kernels
reassociate sums, Python adds in order), fitted models to 1e-6.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

N_SAMPLES, N_FEATURES, N_CLASSES = 30, 3, 3
UNARY = ["entr", "expit", "log_expit"]
BINARY = ["xlogy", "xlog1py", "rel_entr", "kl_div"]
UFUNC_GRID = [
    0.0,
    5e-324,
    1e-310,
    2.2250738585072014e-308,
    1e-300,
    1e-20,
    0.3,
    1.0,
    2.5,
    40.5,
    700.0,
    800.0,
    1e300,
    1.7976931348623157e308,
    np.inf,
    np.nan,
]


def _data():
    rng = np.random.default_rng(20260601)
    y = rng.integers(0, 2, N_SAMPLES).astype(np.float64)
    z = rng.normal(0.0, 3.0, N_SAMPLES)
    labels = rng.integers(0, N_CLASSES, N_SAMPLES)
    logits = rng.normal(0.0, 2.0, (N_SAMPLES, N_CLASSES))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    soft = rng.random((N_SAMPLES, N_CLASSES))
    soft /= soft.sum(axis=1, keepdims=True)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)) + labels[:, None] * 0.5
    return y, z, labels, logits, proba, soft, X


def _elementary_grid():
    """Inputs for the bit-level comparison of fastxent._math.elementary and _softmax_exp."""
    rng = np.random.default_rng(7)
    two_powers = np.ldexp(1.0, np.arange(-1074, 1024, 3))
    x = np.concatenate(
        [
            two_powers,
            np.nextafter(two_powers, 0.0),
            -two_powers[::8],
            rng.integers(0, 0x7FF0000000000000, 1000, dtype=np.int64).view(np.float64),
            rng.uniform(-750.0, 712.0, 1000),
            rng.standard_normal(500),
            1.0 + np.linspace(-0.3, 0.42, 301),
            [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 709.782712893384, -745.1332191019411, 710.0, -746.0],
        ]
    )
    x32 = np.concatenate(
        [
            -np.abs(rng.standard_normal(500)) * 30.0,
            rng.uniform(-100.0, 0.0, 500),
            [0.0, -0.0, -87.33, -87.34, -np.inf, np.nan],
        ]
    ).astype(np.float32)
    return x, x32


def compute():
    """Every checked result, by name (run once compiled and once as pure Python)."""
    import fastxent as fx
    import fastxent.ufuncs as uf
    from fastxent._math import elementary as _fastmath
    from fastxent._math import softmax_exp as _softmax_exp

    y, z, labels, logits, proba, soft, X = _data()
    p = 1.0 / (1.0 + np.exp(-z))
    out = {
        "log_loss": fx.log_loss(labels, proba),
        "log_loss_binary": fx.log_loss(y, p),
        "d2_log_loss_score": fx.d2_log_loss_score(labels, proba),
        "entropy": fx.entropy(proba, soft, axis=1),
        "entropy_base2": fx.entropy(proba[:, 0], base=2),
        "kl_divergence": fx.kl_divergence(proba, soft),
        "bce_logits": fx.binary_cross_entropy(y, z, from_logits=True),
        "bce_proba": fx.binary_cross_entropy(y, p, sample_weight=np.arange(1.0, N_SAMPLES + 1), pos_weight=2.0),
        "bce_grad_logits": fx.binary_cross_entropy_grad(y, z, from_logits=True),
        "bce_grad_proba": fx.binary_cross_entropy_grad(y, p, reduction="sum"),
        "bce_rows": fx.binary_cross_entropy(
            np.stack([y, 1 - y], 1),
            np.stack([z, -z], 1),
            from_logits=True,
            pos_weight=np.array([1.0, 2.0]),
            reduction="none",
        ),
        "ce_logits": fx.cross_entropy(labels, logits, from_logits=True),
        "ce_proba": fx.cross_entropy(labels, proba, reduction="none"),
        "ce_grad_proba": fx.cross_entropy_grad(labels, proba),
        "ce_soft_logits": fx.cross_entropy(soft, logits, from_logits=True, label_smoothing=0.1),
    }
    for name, args, kwargs in [
        ("bce_vg_logits", (y, z), dict(from_logits=True)),
        ("bce_vg_proba", (y, p), dict(reduction="sum")),
        ("ce_vg_logits", (labels, logits), dict(from_logits=True, class_weight=np.array([1.0, 2.0, 3.0]))),
        ("ce_vg_proba", (labels, proba), dict(label_smoothing=0.05)),
        ("ce_vg_soft", (soft, logits), dict(from_logits=True)),
    ]:
        fn = fx.binary_cross_entropy_value_and_grad if name.startswith("bce") else fx.cross_entropy_value_and_grad
        out[name + "_value"], out[name + "_grad"] = fn(*args, **kwargs)

    acc = fx.BinaryCrossEntropyAccumulator(from_logits=True)
    acc.update(y[:20], z[:20])
    acc.update(y[20:], z[20:])
    out["accumulator"] = acc.result()

    for solver, target in [("lbfgs", labels), ("gd", y)]:
        model = fx.LogisticRegression(solver=solver).fit(X, target)
        out[f"model_{solver}_proba"] = model.predict_proba(X)
        out[f"model_{solver}_coef"] = model.coef_

    grid = np.array(UFUNC_GRID)
    with np.errstate(all="ignore"):
        for dtype in (np.float64, np.float32):
            g = grid.astype(dtype)
            gx, gy = (a.ravel() for a in np.meshgrid(g, np.concatenate([g, -g[1:4]])))
            for name in UNARY:
                out[f"ufunc_{name}_{dtype.__name__}"] = getattr(uf, name)(np.concatenate([g, -g]))
            for name in BINARY:
                out[f"ufunc_{name}_{dtype.__name__}"] = getattr(uf, name)(gx, gy)
        out["ufunc_xlogy_broadcast"] = uf.xlogy(np.array([1.0, 2.0]), 3.0)
        target = np.empty_like(proba)
        out["ufunc_rel_entr_out"] = uf.rel_entr(proba, soft[0], out=target)
        out["out_is_returned"] = out["ufunc_rel_entr_out"] is target
        out["ufunc_python_ints"] = uf.xlogy(2, 3)
        out["ufunc_int16"] = uf.entr(np.arange(3, dtype=np.int16))

        x, x32 = _elementary_grid()
        for name in ("log", "log1p", "exp"):
            fn = getattr(_fastmath, name)
            out["fastmath_" + name] = np.array([fn(v) for v in x])
        out["exp_nonpositive_f32"] = np.array([_softmax_exp.exp_nonpositive_f32(v) for v in x32], dtype=np.float32)
    return {name: np.asarray(value) for name, value in out.items()}


@pytest.fixture(scope="module")
def pure_python(tmp_path_factory):
    path = tmp_path_factory.mktemp("jit_disabled") / "results.npz"
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    done = subprocess.run([sys.executable, __file__, str(path)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(path) as saved:
        return dict(saved)


@pytest.fixture(scope="module")
def compiled():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute()


def test_the_subprocess_really_ran_without_the_jit(pure_python, compiled):
    assert pure_python["jit_disabled"]
    assert pure_python["out_is_returned"] and compiled["out_is_returned"]


def test_elementary_functions_give_the_same_doubles(pure_python, compiled):
    for name in ("fastmath_log", "fastmath_log1p", "fastmath_exp", "exp_nonpositive_f32"):
        assert pure_python[name].dtype == compiled[name].dtype
        np.testing.assert_array_equal(pure_python[name], compiled[name], err_msg=name)
        np.testing.assert_array_equal(np.signbit(pure_python[name]), np.signbit(compiled[name]), err_msg=name)


def test_ufuncs_same_values_dtypes_and_special_values(pure_python, compiled):
    names = [k for k in compiled if k.startswith("ufunc_")]
    assert len(names) == 2 * (len(UNARY) + len(BINARY)) + 4
    for name in names:
        ours, ref = pure_python[name], compiled[name]
        assert ours.dtype == ref.dtype and ours.shape == ref.shape, name
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=0, equal_nan=True, err_msg=name)
        zeros = ref == 0
        np.testing.assert_array_equal(np.signbit(ours[zeros]), np.signbit(ref[zeros]), err_msg=name)


def test_losses_entropy_and_accumulator_match(pure_python, compiled):
    names = [k for k in compiled if not k.startswith(("ufunc_", "fastmath_", "exp_", "model_", "out_"))]
    assert len(names) == 26
    for name in names:
        assert pure_python[name].shape == compiled[name].shape, name
        np.testing.assert_allclose(pure_python[name], compiled[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_fitted_models_match(pure_python, compiled):
    for name in ("model_lbfgs_proba", "model_lbfgs_coef", "model_gd_proba", "model_gd_coef"):
        np.testing.assert_allclose(pure_python[name], compiled[name], rtol=1e-6, atol=1e-8, err_msg=name)


if __name__ == "__main__":
    import numba

    import fastxent._infra.dispatch

    # Take the prange drivers too, which the serial cutoff skips on tiny inputs.
    fastxent._infra.dispatch.SERIAL_CUTOFF = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence of the tiny fits is not what is compared
        results = compute()
    results["jit_disabled"] = np.asarray(bool(numba.config.DISABLE_JIT))
    np.savez(sys.argv[1], **results)
