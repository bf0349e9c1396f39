"""The warm-up tasks: public-API calls on the inputs users pass, each checking its results.

Each task belongs to a family of tasks that compile mostly the same kernels;
a family runs in one process.
"""


class Task:
    """One warm-up step: ``func()`` calls the public API and checks the results.

    ``family`` groups tasks that share kernels (they run in one process, one
    after the other); ``covers`` lists the public names it warms.
    """

    def __init__(self, name, family, covers, func):
        self.name, self.family, self.covers, self.func = name, family, tuple(covers), func

    def __repr__(self):
        return f"Task({self.name!r}, family={self.family!r})"


TASKS = []


def _task(name, family, covers):
    def register(func):
        TASKS.append(Task(name, family, covers, func))
        return func

    return register


# ---------------------------------------------------------------- checking


def _finite(value):
    """``value`` (a number or an array of them) after checking it is finite."""
    import numpy as np

    if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
        raise AssertionError(f"non-finite result: {value!r}")
    return value


def _agree(a, b, rtol):
    """Check that two results of one computation (e.g. float32 and float64) agree."""
    import numpy as np

    a, b = np.asarray(_finite(a), np.float64), np.asarray(_finite(b), np.float64)
    if not np.allclose(a, b, rtol=rtol, atol=rtol):
        raise AssertionError(f"results disagree beyond {rtol}: {a!r} vs {b!r}")


def _variants(x):
    """``x`` as the layouts users pass: C-contiguous writable and read-only
    (pandas' copy-on-write arrays, memory maps).

    The API hands its kernels read-only views of every input, so the
    read-only call compiles nothing after the writable one; it stays here to
    check that it gives the same results and, should a kernel call ever miss
    that view, to keep its specialization in the cache all the same.
    """
    frozen = x.copy()
    frozen.flags.writeable = False
    return [x, frozen]


# Sizes: below SERIAL_CUTOFF elements of work the serial kernels run, above it their parallel twins.
_SMALL, _LARGE = 256, 140_000


def _data(n, k=None, seed=0):
    """Labels, probabilities and logits of ``n`` samples (binary when ``k`` is None)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    logits = rng.normal(size=n if k is None else (n, k))
    if k is None:
        y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(np.int64)
        y[:2] = [0, 1]
        proba = 1 / (1 + np.exp(-logits))
    else:
        y = rng.integers(0, k, size=n)
        y[:k] = np.arange(k)
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    weight = rng.uniform(0.5, 2.0, size=n)
    return y, proba, logits, weight


def _floats():
    import numpy as np

    return (np.float64, np.float32)


# ----------------------------------------------------------------- tasks


@_task("log_loss", "log_loss", ["log_loss", "d2_log_loss_score"])
def _log_loss():
    from .._api.log_loss import d2_log_loss_score, log_loss

    for n in (_SMALL, _LARGE):
        for k in (None, 3):
            y, proba, _, w = _data(n, k)
            labels = {"int": y, "float": y.astype(float), "str": y.astype(str).tolist()}
            if k is None:
                labels["bool"] = y.astype(bool)
            reference = log_loss(y, proba)
            for dtype in _floats():
                for p in _variants(proba.astype(dtype)):
                    for y_true in labels.values():
                        _agree(log_loss(y_true, p), reference, 1e-5)
                    _finite(log_loss(y, p, sample_weight=w))
                    _finite(d2_log_loss_score(y, p))
                    _finite(d2_log_loss_score(y, p, sample_weight=w))


@_task("log_loss_accumulator", "log_loss", ["LogLossAccumulator"])
def _log_loss_accumulator():
    from .._api.log_loss import log_loss
    from .._streaming.log_loss import LogLossAccumulator

    for k in (None, 3):
        y, proba, _, w = _data(_LARGE, k)
        for dtype in _floats():
            for p in _variants(proba.astype(dtype)):
                acc = LogLossAccumulator(labels=[0, 1] if k is None else [0, 1, 2])
                acc.update(y[:_SMALL], p[:_SMALL]).update(y[_SMALL:], p[_SMALL:])
                _agree(acc.result(), log_loss(y, p), 1e-9)
                weighted = LogLossAccumulator().update(y, p, sample_weight=w)
                _finite([weighted.result(), weighted.d2_score()])


def _binary_calls(y, pred, logits, w):
    from .._api.binary import binary_cross_entropy, binary_cross_entropy_grad, binary_cross_entropy_value_and_grad

    values = []
    for reduction in ("mean", "sum", "none"):
        values.append(binary_cross_entropy(y, pred, from_logits=logits, reduction=reduction))
        values.append(binary_cross_entropy(y, pred, from_logits=logits, sample_weight=w, reduction=reduction))
        values.append(binary_cross_entropy_grad(y, pred, from_logits=logits, reduction=reduction))
        values.append(binary_cross_entropy_grad(y, pred, from_logits=logits, sample_weight=w, reduction=reduction))
        values.extend(binary_cross_entropy_value_and_grad(y, pred, from_logits=logits, reduction=reduction))
    values.extend(binary_cross_entropy_value_and_grad(y, pred, from_logits=logits, pos_weight=2.0))
    return [_finite(v) for v in values]


@_task("binary_cross_entropy", "binary", ["binary_cross_entropy", "binary_cross_entropy_grad",
                                          "binary_cross_entropy_value_and_grad"])  # fmt: skip
def _binary_cross_entropy():
    from .._api.binary import binary_cross_entropy

    for n in (_SMALL, _LARGE):
        y, proba, logits, w = _data(n)
        soft = (y + 0.5) / 2.0
        for from_logits, pred in ((False, proba), (True, logits)):
            for target in (y.astype(float), y.astype(bool), soft):
                for dtype in _floats():
                    for p in _variants(pred.astype(dtype)):
                        _binary_calls(target, p, from_logits, w)
                first = binary_cross_entropy(target, pred.astype(_floats()[1]), from_logits=from_logits)
                _agree(first, binary_cross_entropy(target, pred, from_logits=from_logits), 1e-4)


@_task("binary_accumulator", "binary", ["BinaryCrossEntropyAccumulator"])
def _binary_accumulator():
    from .._streaming.losses import BinaryCrossEntropyAccumulator

    y, proba, logits, w = _data(_LARGE)
    for from_logits, pred in ((False, proba), (True, logits)):
        for dtype in _floats():
            for p in _variants(pred.astype(dtype)):
                acc = BinaryCrossEntropyAccumulator(from_logits=from_logits)
                acc.update(y[:_SMALL], p[:_SMALL]).update(y[_SMALL:], p[_SMALL:], sample_weight=w[_SMALL:])
                _finite([acc.result(), acc.result("sum")])


@_task("cross_entropy", "categorical", ["cross_entropy", "cross_entropy_grad", "cross_entropy_value_and_grad"])
def _cross_entropy():
    import numpy as np

    from .._api.categorical import cross_entropy, cross_entropy_grad, cross_entropy_value_and_grad

    k = 4
    for n in (_SMALL, _LARGE // k):
        y, proba, logits, w = _data(n, k)
        soft = np.full((n, k), 0.1 / (k - 1))
        soft[np.arange(n), y] = 0.9
        class_weight = np.linspace(0.5, 2.0, k)
        for from_logits, pred in ((False, proba), (True, logits)):
            reference = cross_entropy(y, pred, from_logits=from_logits)
            for dtype in _floats():
                for p in _variants(pred.astype(dtype)):
                    _agree(cross_entropy(y, p, from_logits=from_logits), reference, 1e-4)
                    for target in (y, soft):
                        for reduction in ("mean", "sum", "none"):
                            options = dict(from_logits=from_logits, reduction=reduction)
                            _finite(cross_entropy(target, p, **options))
                            _finite(cross_entropy(target, p, sample_weight=w, **options))
                            _finite(cross_entropy_grad(target, p, **options))
                            _finite(cross_entropy_value_and_grad(target, p, sample_weight=w, **options)[1])
                        _finite(cross_entropy_value_and_grad(target, p, from_logits=from_logits)[0])
                    _finite(cross_entropy(y, p, from_logits=from_logits, class_weight=class_weight))
                    _finite(cross_entropy(y, p, from_logits=from_logits, label_smoothing=0.1))


@_task("cross_entropy_accumulator", "categorical", ["CrossEntropyAccumulator"])
def _cross_entropy_accumulator():
    from .._streaming.losses import CrossEntropyAccumulator

    y, proba, logits, w = _data(_LARGE // 4, 4)
    for from_logits, pred in ((False, proba), (True, logits)):
        for dtype in _floats():
            for p in _variants(pred.astype(dtype)):
                acc = CrossEntropyAccumulator(from_logits=from_logits)
                acc.update(y[:_SMALL], p[:_SMALL]).update(y[_SMALL:], p[_SMALL:], sample_weight=w[_SMALL:])
                _finite([acc.result(), acc.result("sum")])


def _distributions():
    """(P, Q, p, q): rows of distributions, serial and parallel sizes, and ``p``, ``q`` their layouts and dtypes."""
    # Rows weigh max(rows, values / 8) (dispatch.row_work): _LARGE rows take the parallel row drivers.
    for n, k in ((_SMALL, 8), (_LARGE, 8)):
        _, P, _, _ = _data(n, k, seed=1)
        _, Q, _, _ = _data(n, k, seed=2)
        for dtype in _floats():
            for p, q in zip(_variants(P.astype(dtype)), _variants(Q.astype(dtype))):
                yield P, Q, p, q


@_task("entropy", "entropy", ["entropy", "kl_divergence"])
def _entropy():
    from .._api.entropy import entropy, kl_divergence

    for P, _, p, q in _distributions():
        for axis in (0, 1):
            _agree(entropy(p, axis=axis), entropy(P, axis=axis), 1e-4)
            _finite(entropy(p, q, axis=axis))
            _finite(entropy(p, q, base=2, axis=axis))
            _finite(kl_divergence(p, q, axis=axis))
        flat_p, flat_q = p.reshape(-1), q.reshape(-1)
        _finite([entropy(flat_p), entropy(flat_p, flat_q), entropy(p, axis=None)])
        _finite(kl_divergence(flat_p, flat_q))


@_task("jensenshannon", "jensenshannon", ["jensenshannon"])
def _jensenshannon():
    from .._api.jensenshannon import jensenshannon

    for P, Q, p, q in _distributions():
        for axis in (0, 1):
            _agree(jensenshannon(p, q, axis=axis), jensenshannon(P, Q, axis=axis), 1e-3)
            _finite(jensenshannon(p, q, base=2, axis=axis))
        _finite(jensenshannon(p[0], q[0]))


_MUTUAL_INFO = ["mutual_info_score", "normalized_mutual_info_score", "adjusted_mutual_info_score",
                "contingency_matrix", "entropy_of_labels", "conditional_entropy", "joint_entropy"]  # fmt: skip


@_task("mutual_info", "mutual_info", _MUTUAL_INFO)
def _mutual_info():
    import numpy as np

    from .._api.mutual_info import (
        adjusted_mutual_info_score,
        conditional_entropy,
        contingency_matrix,
        entropy_of_labels,
        joint_entropy,
        mutual_info_score,
        normalized_mutual_info_score,
    )

    rng = np.random.default_rng(3)
    for n in (_SMALL, _LARGE):
        a = rng.integers(0, 5, size=n)
        b = (a + rng.integers(0, 2, size=n)) % 6
        labelings = [(a, b), (a.astype(np.int32), b.astype(np.int32)), (a.astype(str), b.astype(str))]
        for x, y in labelings + [tuple(_variants(a)[1:]) + tuple(_variants(b)[1:])]:
            _agree(mutual_info_score(x, y), mutual_info_score(a, b), 1e-12)
            _finite([normalized_mutual_info_score(x, y), adjusted_mutual_info_score(x, y)])
            _finite([entropy_of_labels(x), conditional_entropy(x, y), joint_entropy(x, y)])
            _finite(contingency_matrix(x, y))
        _finite(contingency_matrix(a, b, sparse=True).sum())
        _finite(mutual_info_score(None, None, contingency=contingency_matrix(a, b)))


@_task("contingency_accumulator", "mutual_info", ["ContingencyAccumulator"])
def _contingency_accumulator():
    import numpy as np

    from .._api.mutual_info import adjusted_mutual_info_score
    from .._streaming.contingency import ContingencyAccumulator

    rng = np.random.default_rng(4)
    a = rng.integers(0, 5, size=_LARGE)
    b = (a + rng.integers(0, 2, size=_LARGE)) % 6
    acc = ContingencyAccumulator().update(a[:_SMALL], b[:_SMALL]).update(a[_SMALL:], b[_SMALL:])
    _agree(acc.adjusted_mutual_info(), adjusted_mutual_info_score(a, b), 1e-12)
    _finite([acc.mutual_info(), acc.normalized_mutual_info(), acc.conditional_entropy(), acc.joint_entropy()])


@_task("ufuncs", "ufuncs", ["ufuncs"])
def _ufuncs():
    import numpy as np

    from .. import ufuncs

    x = np.linspace(0.1, 0.9, 9)
    for dtype in _floats():
        xs = x.astype(dtype)
        for name in ufuncs.__all__:
            func = getattr(ufuncs, name)
            _finite(func(*([xs] * func.nin)))


def _logistic(classes):
    import numpy as np

    from .._estimators.logistic import LogisticRegression
    from .._solvers.fit import SOLVERS

    try:
        import scipy.sparse
    except ImportError:  # dense input only without SciPy (CSR input needs it)
        scipy = None
    rng = np.random.default_rng(5)
    # A fit below every thread-pool threshold compiles its solver without the
    # pool (parallel=None), one above them with it: the small fits give the
    # first, the large ones (over PARALLEL_MIN_WORK stored values, the CSR
    # copy too) the second.
    for n, d in ((_SMALL, 4), (_LARGE // 4, 128)):
        X = rng.normal(size=(n, d))
        y = np.argmax(X[:, :classes] + rng.normal(size=(n, classes)), axis=1)
        w = rng.uniform(0.5, 2.0, size=n)
        for dtype in _floats():
            inputs = [X.astype(dtype)]
            if scipy is not None:
                inputs.append(scipy.sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0).astype(dtype)))
            for data in inputs:
                for solver in sorted(SOLVERS):
                    model = LogisticRegression(solver=solver, max_iter=20, tol=1e-4)
                    proba = model.fit(data, y, sample_weight=w).predict_proba(data)
                    _finite(proba)
                    _agree(proba.sum(axis=1), np.ones(n), 1e-5)
                    _finite(LogisticRegression(solver=solver, max_iter=5).fit(data, y).predict(data))


# Two families, each in its own process: a binary fit passes its solver the
# literal 1 and compiles a solver stack of its own, without the softmax
# kernels; a multinomial fit compiles the stack for a run-time number of
# classes.
@_task("logistic_binary", "logistic_binary", ["LogisticRegression"])
def _logistic_binary():
    _logistic(2)


@_task("logistic_multinomial", "logistic_multinomial", ["LogisticRegression"])
def _logistic_multinomial():
    _logistic(3)


# The slowest families first, so that the others fill the remaining processes.
FAMILY_ORDER = ["logistic_multinomial", "logistic_binary", "binary", "entropy", "categorical", "log_loss"]


def select(only=None):
    """The tasks named (or whose family is named) in ``only`` (comma-separated or a list); all when None."""
    if only is None:
        return list(TASKS)
    names = [n.strip() for n in (only.split(",") if isinstance(only, str) else only) if n.strip()]
    known = {t.name for t in TASKS} | {t.family for t in TASKS}
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise KeyError(
            f"unknown warm-up task {', '.join(unknown) or '(none given)'}; known: {', '.join(sorted(known))}"
        )
    return [t for t in TASKS if t.name in names or t.family in names]
