"""``fastxent.kernels`` as a public surface.

Every name in ``kernels.__all__`` is a nopython Numba CPU dispatcher whose
docstring gives its exact signature and numpydoc Parameters/Returns, and
every signature follows the conventions stated in the module docstring
(argument order, absent arrays of length 0, shared names, serial/parallel
twins, outputs last), checked here from the signatures themselves so that a
new kernel that breaks them fails.  A representative kernel of each family
works from the user's own ``numba.njit`` code (serial and ``prange``), in
float32 and float64, and agrees with the public NumPy API and NumPy/SciPy
references.  Each family is tested in depth in its own test file; this one
covers the stable surface as a whole.
"""

import inspect
import math
import re

import numba
import numpy as np
import pytest
import scipy.special
import scipy.stats
import sklearn.linear_model
import sklearn.metrics
from numba.core.registry import CPUDispatcher

import fastxent
from fastxent import kernels, ufuncs
from fastxent._infra.jit import CompiledOnlyDispatcher, StableApiDispatcher
from fastxent._solvers import gram

DTYPES = [np.float32, np.float64]
NONE = np.empty(0)  # the "none" convention of the array kernels (length-0 arrays)

# ``name(arg, arg) -> result`` where result is a name or a tuple of names; a
# long signature continues on the next lines (docstring lines stay <= 120 chars)
SIGNATURE_LINE = re.compile(r"^``(\w+)\(([\w,\s]*)\)\s*->\s*(\w+|\((?:\w+,\s*)+\w+\))``", re.M)
SECTION_HEADER = re.compile(r"^(\w[\w ]*)\n(-+)\n", re.M)


def _doc(name):
    return inspect.cleandoc(getattr(kernels, name).__doc__ or "")


def _params(name):
    return list(inspect.signature(getattr(kernels, name).py_func).parameters)


def _sections(doc):
    """{title: body} of the numpydoc sections of a cleaned docstring."""
    headers = [m for m in SECTION_HEADER.finditer(doc) if len(m.group(2)) == len(m.group(1))]
    bounds = [m.start() for m in headers[1:]] + [len(doc)]
    return {m.group(1): doc[m.end() : stop] for m, stop in zip(headers, bounds)}


def _entry_names(section):
    """Names documented in a Parameters/Returns section (``a, b : type`` lines)."""
    names = []
    for line in section.splitlines():
        if line and not line[0].isspace():
            names += [n.strip() for n in line.split(" : ")[0].split(",")]
    return names


# ---------------------------------------------------------------------------
# The surface: every kernel is a documented nopython dispatcher


def test_all_is_unique_and_complete():
    assert len(set(kernels.__all__)) == len(kernels.__all__)
    for name in kernels.__all__:
        assert hasattr(kernels, name), name


@pytest.mark.parametrize("name", kernels.__all__)
def test_kernel_is_a_nopython_cpu_dispatcher(name):
    f = getattr(kernels, name)
    assert isinstance(f, CPUDispatcher)
    assert not isinstance(f, CompiledOnlyDispatcher)  # callable from Python too
    # constants of compiled callers typed by their types (functions inlined at IR level are typed in the caller)
    assert isinstance(f, StableApiDispatcher) or f.targetoptions.get("inline") == "always"
    assert f.targetoptions.get("nopython") is True
    assert f.__doc__ == f.py_func.__doc__  # what help(kernels.NAME) shows


@numba.njit
def _calls_a_private_helper(values):
    return gram._largest_magnitude(values)


def test_private_helpers_run_from_compiled_code_and_refuse_python_calls():
    helper = gram._largest_magnitude
    assert isinstance(helper, CompiledOnlyDispatcher)
    values = np.array([1.0, -3.5])
    with pytest.raises(TypeError, match="_largest_magnitude is a helper of compiled code"):
        helper(values)
    assert _calls_a_private_helper(values) == 3.5
    # compiled now, for these very types, and still not entered from Python
    assert helper.signatures
    with pytest.raises(TypeError, match="helper of compiled code"):
        helper(values)


@pytest.mark.parametrize("name", kernels.__all__)
def test_docstring_gives_the_exact_signature(name):
    lines = [m for m in SIGNATURE_LINE.finditer(_doc(name)) if m.group(1) == name]
    assert len(lines) == 1, f"{name}: no ``{name}(...) -> result`` line"
    args = [a.strip() for a in lines[0].group(2).split(",") if a.strip()]
    assert args == _params(name)
    # the signature comes first or right after the one-paragraph summary
    assert _doc(name).split("\n\n")[1 if lines[0].start() else 0].startswith(f"``{name}(")


@pytest.mark.parametrize("name", kernels.__all__)
def test_docstring_documents_every_parameter_and_the_result(name):
    sections = _sections(_doc(name))
    assert "Parameters" in sections and "Returns" in sections, name
    assert sorted(_entry_names(sections["Parameters"])) == sorted(_params(name))
    assert _entry_names(sections["Returns"]), f"{name}: empty Returns section"


# ---------------------------------------------------------------------------
# The conventions of the module docstring, enforced on every signature

# Arguments that are arrays over the samples: a kernel taking one is an
# array kernel and comes as _serial / _parallel twins (whole fits excepted).
SAMPLE_ARRAYS = {"y_true", "y_pred", "pk", "qk", "labels_true", "labels_pred", "a", "b"}
SAMPLE_ARRAYS |= {"X", "data", "indices", "indptr", "sample_weight", "losses", "grad", "out"}
# Written by the kernel: always the last arguments.
OUTPUTS = ("losses", "grad", "grad_row", "out")
# Optional arrays: documented as absent when of length 0 (never None).
OPTIONAL_ARRAYS = {"sample_weight", "class_weight", "qk", "losses", "coef0"}
# Names used elsewhere for a shared concept, with the shared name.
ALIASES = {
    "pred": "y_pred",
    "preds": "y_pred",
    "input": "y_pred",
    "target_row": "t_row",
    "smoothing": "label_smoothing",
    "scale": "grad_scale",
    "weight": "sample_weight or grad_scale",
    "weights": "sample_weight",
    "w": "sample_weight",
    "sw": "sample_weight",
    "eps": "lo, hi",
    "clip": "lo, hi",
    "logits": "y_pred with from_logits",
    "table_out": "out",
}
# (target, prediction) pairs: the target comes first.
TARGET_FIRST = [("y_true", "y_pred"), ("y", "z"), ("y", "p"), ("target", "z_row"), ("target", "q_row")]
TARGET_FIRST += [("t_row", "z_row"), ("t_row", "q_row"), ("pk", "qk"), ("p", "q"), ("labels_true", "labels_pred")]
FIT_RESULT = "(coef, n_iter, converged, objective_history)"


def _signature_line(name):
    (line,) = [m for m in SIGNATURE_LINE.finditer(_doc(name)) if m.group(1) == name]
    return " ".join(line.group(3).split())


def _is_parallel(name):
    return bool(getattr(kernels, name).targetoptions.get("parallel"))


def _reaches_thread_pool(func, seen=()):
    """Whether a compiled function is, or calls (through the compiled functions
    its code names), a ``parallel=True`` function: where its prange loops are."""
    if func.targetoptions.get("parallel"):
        return True
    code = func.py_func
    for name in code.__code__.co_names:
        callee = code.__globals__.get(name)
        if isinstance(callee, CPUDispatcher) and callee not in seen:
            if _reaches_thread_pool(callee, (*seen, func)):
                return True
    return False


@pytest.mark.parametrize("name", kernels.__all__)
def test_no_default_arguments_and_no_none(name):
    """Every argument is passed explicitly; an absent array is documented as length 0."""
    signature = inspect.signature(getattr(kernels, name).py_func)
    assert all(p.default is inspect.Parameter.empty for p in signature.parameters.values()), name
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in signature.parameters.values()), name
    parameters = _sections(_doc(name))["Parameters"]
    assert "None" not in parameters, f"{name}: an absent argument is a length-0 array, never None"
    for block in re.split(r"\n(?=\S)", parameters):
        documented = [n.strip() for n in block.split(" : ")[0].split(",")]
        for arg in set(documented) & OPTIONAL_ARRAYS:
            if " : " in block.splitlines()[0]:  # its own entry, not "As in :func:..."
                assert "length 0" in block or "no rows" in block, f"{name}: {arg} must document length 0"


@pytest.mark.parametrize("name", kernels.__all__)
def test_shared_argument_names(name):
    params = _params(name)
    for arg in params:
        assert arg not in ALIASES, f"{name}: call {arg!r} {ALIASES[arg]!r}, the shared name"
    if "y_true" in params or "y_pred" in params:
        assert params[:2] == ["y_true", "y_pred"], f"{name}: arrays come as (y_true, y_pred, ...)"


@pytest.mark.parametrize("name", kernels.__all__)
def test_argument_order(name):
    params = _params(name)
    index = {arg: i for i, arg in enumerate(params)}
    for target, prediction in TARGET_FIRST:
        if target in index and prediction in index:
            assert index[target] < index[prediction], f"{name}: {target} comes before {prediction}"
    if "X" in index:
        assert params[:3] == ["X", "y", "sample_weight"], name
    if "data" in index:
        assert params[:5] == ["data", "indices", "indptr", "y", "sample_weight"], name
    if "sample_weight" in index:  # right after the data
        data = {"y_pred", "y", "X", "data", "indices", "indptr", "y_true"}
        assert params[index["sample_weight"] - 1] in data, f"{name}: sample_weight follows the data"
    if "lo" in index or "hi" in index:
        assert index["hi"] == index["lo"] + 1, f"{name}: clip bounds are (lo, hi)"
    if "grad_scale" in index:
        later = [i for arg, i in index.items() if arg not in OUTPUTS and i > index["grad_scale"]]
        assert not later, f"{name}: grad_scale is the last argument before the outputs"
        if "lo" in index:
            assert index["grad_scale"] > index["hi"], f"{name}: grad_scale follows the clip bounds"
    outputs = [arg for arg in params if arg in OUTPUTS]
    assert params[len(params) - len(outputs) :] == outputs, f"{name}: outputs come last"


@pytest.mark.parametrize("name", kernels.__all__)
def test_serial_and_parallel_twins(name):
    params = _params(name)
    if name.endswith("_serial") or name.endswith("_parallel"):
        stem, _, kind = name.rpartition("_")
        twin = f"{stem}_{'parallel' if kind == 'serial' else 'serial'}"
        assert twin in kernels.__all__, f"{name} has no twin {twin}"
        assert _params(twin) == params, f"{name} and {twin} take different arguments"
        assert _signature_line(twin) == _signature_line(name), f"{name} and {twin} return different results"
        if kind == "parallel":
            assert _reaches_thread_pool(getattr(kernels, name)), f"{name} never uses the thread pool"
        else:
            assert not _is_parallel(name), f"{name} is compiled with parallel=True"
    else:
        assert not _is_parallel(name), f"{name}: a parallel kernel needs the _parallel suffix and a serial twin"
        if not name.startswith("fit_"):
            taken = sorted(SAMPLE_ARRAYS & set(params))
            assert not taken, f"{name} takes arrays over the samples {taken}: it needs _serial/_parallel twins"


@pytest.mark.parametrize("name", kernels.__all__)
def test_results(name):
    params = _params(name)
    result = _signature_line(name)
    if name.startswith("fit_"):
        assert result == FIT_RESULT, name
    elif params and params[-1] in OUTPUTS and not result.startswith("("):
        # one result written into the output, or a float64 value beside it
        assert result in ("None", "loss", "value"), f"{name}: returns {result}"
    if result == "None":
        assert params[-1] in OUTPUTS, f"{name} returns None but writes no output"


def test_fits_share_one_signature_but_the_data():
    data = ("X", "data", "indices", "indptr")
    fits = [name for name in kernels.__all__ if name.startswith("fit_")]
    tails = {tuple(p for p in _params(name) if p not in data) for name in fits}
    assert len(fits) == 4 and tails == {
        ("y", "sample_weight", "coef0", "C", "fit_intercept", "max_iter", "tol", "solver")
    }


def test_fit_compiles_only_the_named_solver(monkeypatch):
    """The solver name is a compile-time constant: each fit is specialized for
    it, compiles nothing of the other solver, and an unknown name fails to compile."""
    from fastxent._solvers.fit import SOLVERS

    # Code loaded from the disk cache comes whole, without asking the solvers'
    # dispatchers for their specializations: compile afresh, as a cold cache would.
    monkeypatch.setattr(numba.core.caching.Cache, "load_overload", lambda self, sig, target_context: None)

    rng = np.random.default_rng(12)
    X = np.asfortranarray(rng.normal(size=(50, 2)).astype(np.float32))  # a layout no other test fits
    y = (X[:, 0] > 0).astype(np.float64)
    none = np.empty(0)
    coef, _, converged, _ = kernels.fit_binary_logistic(X, y, none, none, 1.0, True, 500, 1e-8, "gd")
    ref = sklearn.linear_model.LogisticRegression(tol=1e-10).fit(X.astype(np.float64), y)
    np.testing.assert_allclose(coef, [*ref.coef_[0], ref.intercept_[0]], atol=1e-5)
    assert converged
    # the solvers' entry points (each solver is compiled into its entry point)
    assert any(sig[0] == numba.typeof(X) for sig in SOLVERS["gd"].signatures)
    assert not any(sig[0] == numba.typeof(X) for sig in SOLVERS["lbfgs"].signatures)
    assert "Literal[str](gd)" in {str(sig[-1]) for sig in kernels.fit_binary_logistic.signatures}
    with pytest.raises(numba.core.errors.TypingError, match="newton"):
        kernels.fit_binary_logistic(X, y, none, none, 1.0, True, 5, 1e-8, "newton")


# ---------------------------------------------------------------------------
# Elementary and special functions from the user's own code


@numba.njit
def _user_elementary(x, out):
    for i in range(x.shape[0]):
        out[0, i] = kernels.log(x[i])
        out[1, i] = kernels.log1p(x[i])
        out[2, i] = kernels.exp(x[i])


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementary_functions_from_user_njit(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-1.0, 3.0, 300),
            10.0 ** rng.uniform(-30, 30, 300),
            -(10.0 ** rng.uniform(-30, 3, 100)),
            rng.uniform(-745.0, 709.0, 300),
            [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 5e-324],
        ]
    ).astype(dtype)
    out = np.empty((3, x.shape[0]))
    _user_elementary(x, out)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        expected = np.stack([np.log(x64), np.log1p(x64), np.exp(x64)])
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)
    zero = expected[1] == 0.0  # log1p(-0.0) = -0.0
    assert np.array_equal(np.signbit(out[1][zero]), np.signbit(expected[1][zero]))


@numba.njit(parallel=True)
def _user_special(x, y, z, out):
    for i in numba.prange(x.shape[0]):
        out[0, i] = kernels.xlogy(x[i], y[i])
        out[1, i] = kernels.xlog1py(x[i], y[i])
        out[2, i] = kernels.entr(x[i])
        out[3, i] = kernels.rel_entr(x[i], y[i])
        out[4, i] = kernels.kl_div(x[i], y[i])
        out[5, i] = kernels.expit(z[i])
        out[6, i] = kernels.log_expit(z[i])


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_functions_from_user_prange(dtype):
    rng = np.random.default_rng(1)
    n = 1000
    x = rng.uniform(0.0, 5.0, n)
    y = rng.uniform(0.0, 5.0, n)
    x[:50] = 0.0
    y[50:100] = 0.0
    x[100], y[101], x[102] = np.nan, np.nan, -1.0
    z = rng.uniform(-60.0, 60.0, n)
    x, y, z = x.astype(dtype), y.astype(dtype), z.astype(dtype)
    out = np.empty((7, n))
    _user_special(x, y, z, out)
    args = [(x, y), (x, y), (x,), (x, y), (x, y), (z,), (z,)]
    names = ["xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "expit", "log_expit"]
    with np.errstate(divide="ignore", invalid="ignore"):
        reference = [getattr(ufuncs, name)(*a) for name, a in zip(names, args)]
    for row, name, a, ours_as_ufunc in zip(out, names, args, reference):
        a64 = [v.astype(np.float64) for v in a]
        np.testing.assert_allclose(row, getattr(scipy.special, name)(*a64), rtol=1e-13, atol=0, err_msg=name)
        # the ufuncs are the same definitions, with a loop in the input dtype
        np.testing.assert_allclose(row, ours_as_ufunc, rtol=np.finfo(dtype).eps, atol=0, err_msg=name)


# ---------------------------------------------------------------------------
# Per-sample and per-row losses from the user's prange loops


@numba.njit(parallel=True)
def _user_binary(y, z, p, out):
    for i in numba.prange(y.shape[0]):
        loss, grad = kernels.binary_logit_loss_grad(y[i], z[i], 1.0)
        out[0, i] = loss
        out[1, i] = grad
        out[2, i] = kernels.binary_logit_loss(y[i], z[i], 1.0) - loss
        out[3, i] = kernels.binary_logit_grad(y[i], z[i], 1.0) - grad
        loss, grad = kernels.binary_proba_loss_grad(y[i], p[i], 2.0, 0.0, 1.0)
        out[4, i] = loss
        out[5, i] = grad
        out[6, i] = kernels.sigmoid(z[i])
        out[7, i] = kernels.softplus(z[i])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_per_sample_from_user_prange(dtype):
    rng = np.random.default_rng(2)
    n = 500
    y = rng.uniform(0.0, 1.0, n).astype(dtype)
    y[:100] = np.round(y[:100])
    z = rng.normal(0.0, 8.0, n).astype(dtype)
    z[:4] = [1e4, -1e4, 0.0, 50.0]
    p = rng.uniform(0.001, 0.999, n).astype(dtype)
    out = np.empty((8, n))
    _user_binary(y, z, p, out)
    logits = dict(from_logits=True, reduction="none")
    np.testing.assert_allclose(out[0], fastxent.binary_cross_entropy(y, z, **logits), rtol=1e-6)
    grad = fastxent.binary_cross_entropy_grad(y, z, from_logits=True, reduction="sum")
    np.testing.assert_allclose(out[1], grad, rtol=1e-6, atol=1e-30)
    np.testing.assert_array_equal(out[2:4], 0.0)
    probas = dict(pos_weight=2.0, clip=None)
    np.testing.assert_allclose(out[4], fastxent.binary_cross_entropy(y, p, reduction="none", **probas), rtol=1e-6)
    np.testing.assert_allclose(out[5], fastxent.binary_cross_entropy_grad(y, p, reduction="sum", **probas), rtol=1e-6)
    z64 = z.astype(np.float64)
    np.testing.assert_allclose(out[6], scipy.special.expit(z64), rtol=1e-14)
    np.testing.assert_allclose(out[7], np.logaddexp(0.0, z64), rtol=1e-14)


@numba.njit(parallel=True)
def _user_softmax_rows(Z, Q, y, class_weight, out, G):
    for i in numba.prange(Z.shape[0]):
        out[0, i] = kernels.softmax_row_loss_grad(y[i], Z[i], 1.0, G[i])
        out[1, i] = kernels.softmax_row_loss(y[i], Z[i])
        out[2, i] = kernels.row_logsumexp(Z[i])
        m, s = kernels.row_max_sum_exp(Z[i])
        out[3, i] = m + np.log(s)
        out[4, i] = kernels.softmax_row_smoothed_loss(y[i], Z[i], class_weight, 0.1)
        out[5, i] = kernels.proba_row_loss(y[i], Q[i], class_weight[:0], 0.0, 0.0, 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_from_user_prange(dtype):
    rng = np.random.default_rng(3)
    n, k = 300, 7
    Z = rng.normal(0.0, 5.0, (n, k)).astype(dtype)
    Z[0] = 1e4
    Z[1, 0] = -1e4
    Q = scipy.special.softmax(rng.normal(size=(n, k)), axis=1).astype(dtype)
    y = rng.integers(0, k, n)
    class_weight = rng.uniform(0.5, 2.0, k)
    out = np.empty((6, n))
    G = np.empty_like(Z)
    _user_softmax_rows(Z, Q, y, class_weight, out, G)
    ce = dict(from_logits=True, reduction="none")
    np.testing.assert_allclose(out[0], fastxent.cross_entropy(y, Z, **ce), rtol=1e-6, atol=1e-12)
    rtol = 1e-12 if dtype == np.float64 else 1e-6  # float32 rows sum exp terms in float32 runs
    np.testing.assert_allclose(out[1], out[0], rtol=rtol, atol=1e-12)
    grad = fastxent.cross_entropy_grad(y, Z, from_logits=True, reduction="sum")
    np.testing.assert_allclose(G, grad, rtol=1e-5, atol=1e-6)
    lse = scipy.special.logsumexp(Z.astype(np.float64), axis=1)
    rtol = 1e-13 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out[2], lse, rtol=rtol)
    np.testing.assert_allclose(out[3], lse, rtol=rtol)
    smoothed = fastxent.cross_entropy(y, Z, class_weight=class_weight, label_smoothing=0.1, **ce)
    np.testing.assert_allclose(out[4], smoothed, rtol=1e-6)
    np.testing.assert_allclose(out[5], fastxent.cross_entropy(y, Q, reduction="none", clip=None), rtol=1e-6)


# ---------------------------------------------------------------------------
# Array reductions from the user's own code


@numba.njit
def _user_log_loss_sums(y, p, P, yk, w):
    eps = np.finfo(p.dtype).eps
    binary = kernels.binary_log_loss_sum_serial(y, p, w, eps, 1.0 - eps)
    per_class = np.empty(P.shape[1])
    loss, weight = kernels.multiclass_log_loss_sum_parallel(yk, P, w, eps, 1.0 - eps, per_class)
    return binary, (loss, weight, per_class)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_loss_sums_from_user_njit(dtype):
    rng = np.random.default_rng(4)
    n, k = 5000, 4  # more than one block of 2048 samples
    p = rng.uniform(0.0, 1.0, n).astype(dtype)
    p[:3] = [0.0, 1.0, 0.5]
    y = (rng.uniform(size=n) < p).astype(np.int64)
    P = rng.dirichlet(np.ones(k), n).astype(dtype)
    yk = rng.integers(0, k, n)
    w = rng.uniform(0.0, 2.0, n)
    (loss, wsum, pos), (mloss, mwsum, per_class) = _user_log_loss_sums(y, p, P, yk, w)
    assert loss / wsum == pytest.approx(fastxent.log_loss(y, p, sample_weight=w), rel=1e-12)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert loss / wsum == pytest.approx(sklearn.metrics.log_loss(y, p, sample_weight=w), rel=rtol)
    assert pos == pytest.approx(w[y == 1].sum(), rel=1e-13)
    labels = np.arange(k)
    assert mloss / mwsum == pytest.approx(fastxent.log_loss(yk, P, sample_weight=w, labels=labels), rel=1e-12)
    assert mloss / mwsum == pytest.approx(sklearn.metrics.log_loss(yk, P, sample_weight=w, labels=labels), rel=rtol)
    np.testing.assert_allclose(per_class, np.bincount(yk, w, minlength=k), rtol=1e-13)


@numba.njit
def _user_cross_entropy_sums(bce_kernel, index_kernel, soft_kernel, y, z, yk, Z, T, w, losses, grad, losses_k, grad_k):
    """The three array kernels (logits, weights, outputs wanted); the kernels
    are arguments, so one function serves the serial and the parallel twins."""
    empty = np.empty(0)
    out = np.zeros((3, 3))
    out[0, 0], out[0, 1], out[0, 2] = bce_kernel(y, z, w, 1.0, True, 0.0, 1.0, 1.0, losses, grad)
    out[1, 0], out[1, 1] = index_kernel(yk, Z, w, empty, 0.0, -100, True, 0.0, 1.0, 1.0, losses_k, grad_k)
    out[2, 0], out[2, 1] = soft_kernel(T, Z, empty, empty, 0.0, True, 0.0, 1.0, 1.0, empty, grad_k[:0])
    return out


SERIAL_TWINS = (
    kernels.binary_cross_entropy_serial,
    kernels.cross_entropy_index_serial,
    kernels.cross_entropy_soft_serial,
)
PARALLEL_TWINS = (
    kernels.binary_cross_entropy_parallel,
    kernels.cross_entropy_index_parallel,
    kernels.cross_entropy_soft_parallel,
)


def _cross_entropy_inputs(dtype):
    rng = np.random.default_rng(5)
    n, k = 5000, 5  # more than one block of 2048 samples
    y = rng.integers(0, 2, n).astype(dtype)
    z = rng.normal(0.0, 4.0, n).astype(dtype)
    Z = rng.normal(0.0, 4.0, (n, k)).astype(dtype)
    yk = rng.integers(0, k, n)
    yk[:10] = -100  # ignore_index
    T = rng.dirichlet(np.ones(k), n).astype(dtype)
    w = rng.uniform(0.0, 2.0, n)
    for a in (y, z, Z, yk, T, w):
        a.flags.writeable = False  # read-only inputs are accepted
    return y, z, yk, Z, T, w


@pytest.mark.parametrize(
    ("dtype", "twins"),
    [(np.float32, SERIAL_TWINS), (np.float64, PARALLEL_TWINS)],
    ids=["float32-serial", "float64-parallel"],
)
def test_cross_entropy_array_kernels_from_user_njit(dtype, twins):
    """One dtype per twin keeps the compile time down; that the twins agree
    bit for bit is tested in test_binary_losses.py / test_categorical_losses.py."""
    y, z, yk, Z, T, w = inputs = _cross_entropy_inputs(dtype)
    n, k = Z.shape
    losses, losses_k = np.empty(n), np.empty(n)
    grad, grad_k = np.empty(n, dtype), np.empty((n, k), dtype)
    out = _user_cross_entropy_sums(*twins, *inputs, losses, grad, losses_k, grad_k)

    # NumPy references (the public API on these kernels is tested in test_*_losses.py)
    z64 = z.astype(np.float64)
    softplus_of_margin = np.logaddexp(0.0, np.where(y == 1, -z64, z64))  # y is 0 or 1 here
    np.testing.assert_allclose(losses, w * softplus_of_margin, rtol=1e-12)
    np.testing.assert_allclose(out[0], [math.fsum(w * softplus_of_margin), 0, 0], rtol=1e-13)
    np.testing.assert_allclose(grad, w * (scipy.special.expit(z64) - y), rtol=1e-5, atol=1e-30)

    assert out[1, 1] == pytest.approx(w[10:].sum(), rel=1e-13)
    log_softmax = scipy.special.log_softmax(Z.astype(np.float64), axis=1)
    kept = yk != -100
    expected = np.where(kept, -w * log_softmax[np.arange(Z.shape[0]), np.where(kept, yk, 0)], 0.0)
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(losses_k, expected, **tol)  # float32: exp terms in float32
    assert out[1, 0] == pytest.approx(math.fsum(expected), rel=tol["rtol"])
    onehot = np.eye(Z.shape[1])[np.where(kept, yk, 0)]
    expected = (kept * w)[:, None] * (np.exp(log_softmax) - onehot)
    np.testing.assert_allclose(grad_k, expected, rtol=1e-5, atol=1e-6)

    assert out[2, 1] == Z.shape[0]
    ref = -(T.astype(np.float64) * log_softmax).sum()  # H(t, softmax(z))
    assert out[2, 0] == pytest.approx(ref, rel=1e-6 if dtype == np.float32 else 1e-12)


@numba.njit(parallel=True)
def _user_entropy_columns(P, Q, out):
    for j in numba.prange(P.shape[1]):
        out[0, j] = kernels.entropy_slice_serial(P[:, j], P[:0, j], True, False)
        out[1, j] = kernels.entropy_slice_serial(P[:, j], Q[:, j], True, False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_entropy_slice_serial_from_user_prange(dtype):
    rng = np.random.default_rng(6)
    P = rng.uniform(0.0, 1.0, (3000, 6)).astype(dtype)
    P[:100, 0] = 0.0
    Q = rng.uniform(0.01, 1.0, (3000, 6)).astype(dtype)
    out = np.empty((2, 6))
    _user_entropy_columns(P, Q, out)  # strided column slices
    P64, Q64 = P.astype(np.float64), Q.astype(np.float64)
    np.testing.assert_allclose(out[0], scipy.stats.entropy(P64, axis=0), rtol=1e-12)
    np.testing.assert_allclose(out[1], scipy.stats.entropy(P64, Q64, axis=0), rtol=1e-10)


# ---------------------------------------------------------------------------
# A whole fit from the user's loop: a warm-started regularization path


@numba.njit
def _user_regularization_path(X, y, w, Cs):
    d = X.shape[1]
    coef = np.zeros(d + 1)
    path = np.empty((Cs.shape[0], d + 1))
    n_iters = np.empty(Cs.shape[0], np.int64)
    all_converged = True
    for j in range(Cs.shape[0]):
        coef, n_iter, converged, history = kernels.fit_binary_logistic(X, y, w, coef, Cs[j], True, 500, 1e-10, "lbfgs")
        for t in range(1, history.shape[0]):
            all_converged &= history[t] <= history[t - 1] + 1e-12
        path[j] = coef
        n_iters[j] = n_iter
        all_converged &= converged
    return path, n_iters, all_converged


def test_fit_binary_logistic_refit_in_user_loop():
    """float32 ``X`` (the float64 solver path is the estimator's everyday one,
    tested in test_logistic.py); scikit-learn fits the same values in float64."""
    rng = np.random.default_rng(7)
    n, d = 400, 5
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=n) > 0).astype(np.float64)
    w = np.ones(n)
    Cs = np.array([0.01, 0.1, 1.0, 10.0])
    path, n_iters, ok = _user_regularization_path(X, y, w, Cs)
    assert ok  # every fit converged and its objective never went up
    assert n_iters[-1] < 100  # warm starts help
    for C, coef in zip(Cs, path):
        ref = sklearn.linear_model.LogisticRegression(C=C, tol=1e-12, max_iter=10_000)
        ref.fit(X.astype(np.float64), y)
        np.testing.assert_allclose(coef[:-1], ref.coef_[0], atol=1e-5)
        assert coef[-1] == pytest.approx(ref.intercept_[0], abs=1e-5)

    # The user's constants (True, 500) were typed bool and int64: a call from
    # Python with the same types runs that specialization, compiling nothing.
    compiled = list(kernels.fit_binary_logistic.signatures)
    coef = kernels.fit_binary_logistic(X, y, w, path[0], 0.01, True, 500, 1e-10, "lbfgs")[0]
    assert kernels.fit_binary_logistic.signatures == compiled
    np.testing.assert_allclose(coef, path[0], atol=1e-7)


# ---------------------------------------------------------------------------
# Constants passed by compiled callers


@numba.njit
def _user_constants(pk, z):
    out = np.empty(pk.shape[0])
    kernels.entropy_rows_serial(pk, np.empty((0, pk.shape[1])), True, False, out)
    return out, kernels.softmax_row_loss(0, z) + kernels.softmax_row_loss(2, z)


def test_constants_from_compiled_code_run_the_specializations_of_python_calls():
    """Numba types a constant of a compiled caller as a literal of its value;
    the stable API types it as ``bool`` / ``int64``, as a call from Python
    does, so a user's function shares the kernels' compiled (and cached)
    specializations instead of compiling each kernel and its callees again
    per constant."""
    rng = np.random.default_rng(3)
    pk = rng.uniform(0.1, 1.0, size=(50, 6))
    z = rng.normal(size=5)
    out = np.empty(50)
    kernels.entropy_rows_serial(pk, np.empty((0, 6)), False, True, out)
    kernels.softmax_row_loss(1, z)
    entropy_signatures = list(kernels.entropy_rows_serial.signatures)
    loss_signatures = list(kernels.softmax_row_loss.signatures)

    rows, losses = _user_constants(pk, z)

    assert kernels.entropy_rows_serial.signatures == entropy_signatures
    assert kernels.softmax_row_loss.signatures == loss_signatures
    np.testing.assert_allclose(rows, scipy.stats.entropy(pk, axis=1), rtol=1e-12)
    log_softmax = z - scipy.special.logsumexp(z)
    assert losses == pytest.approx(-log_softmax[0] - log_softmax[2], rel=1e-12)


def test_module_docstring_lists_exactly_the_public_kernels():
    import re

    groups = kernels.__doc__.split("Groups\n------\n")[1].split("Example")[0]
    entries = [line for line in groups.splitlines() if line.startswith("    ")]
    listed = set(re.findall(r"``(\w+)``", "\n".join(entries)))
    assert listed == set(kernels.__all__)
