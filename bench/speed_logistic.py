"""Fit time of fastxent.LogisticRegression against every peer a user would pick.

Peers: scikit-learn's ``lbfgs`` and ``newton-cholesky``, scikit-learn-intelex
(``sklearnex.linear_model.LogisticRegression``) and glum
(``GeneralizedLinearRegressor(family="binomial")``, binary only), each
skipped when not installed or when the configuration is outside what it
can fit in memory and time (glum: more than two classes; glum and
scikit-learn's newton-cholesky: a ``k (d+1)`` square Hessian above
``NEWTON_PEER_MAX`` entries on a side, which both form every iteration:
glum took 306 s on the quick 5e4 × 1e4 CSR case, and at 1e5 features the
Hessian alone would take 80 GB).
Every fit minimises the same objective ``C Σ_i ℓ_i + ½‖W‖²`` (C = 1,
tol = 1e-8, scikit-learn's scaling of tol; glum with ``alpha = 1 / (C n)``
and ``gradient_tol = tol``, the same problem in glum's scaling) and the
final objectives are checked to agree within ``OBJECTIVE_RTOL`` relative
(float32 data: within float32's machine epsilon, the most its products allow).

glum stops after ``GLUM_MAX_ITER`` Newton steps, every other fit after
``MAX_ITER`` (scikit-learn's ``newton-cholesky`` hands an ill-conditioned
Hessian over to lbfgs, which counts against the same cap: 48 steps on the
float32 configuration).  A fit that stops at its cap has not reached ``tol``:
glum on float32 data never does (its gradient cannot get below ``tol`` in
float32; every step is then a failed line search, 0.5 s and more each at
1e5 × 100, so 1e5 steps would take most of a day).  Such a peer is timed
once, reported as not converged and left out of the fastest peer: its time
is that of the step cap, not of the problem.

The grid (``--quick``: smaller sizes, labelled quick in every output):

* dense make_classification 100k × 100, binary and 5 classes
* dense 2M × 20, binary (rows far more numerous than features)
* dense 20k × 2,000, binary and 10 classes
* CSR 500k × 100k, 50 stored values per row, binary and 20 classes
* float32 dense 100k × 100, binary
* a warm-started regularization path: 20 values of C, each fit started from
  the previous one, dense 100k × 100 binary

fastxent runs the solver :func:`fastxent._solvers.fit.choose_solver` picks
(``--all-solvers``: every registered solver).  Times are medians of
``--repeat`` fits, each after a pause (``SETTLE_SECONDS``) and after an
untimed fit that compiles the kernels; the ratio is the fastest peer's time
over fastxent's.

    python bench/speed_logistic.py [--quick] [--repeat 3] [--json results.json] [--only NAME ...]
"""

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import scipy.sparse
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SklearnLR

from fastxent import LogisticRegression
from fastxent._solvers.fit import SOLVERS, choose_solver

# OpenBLAS and oneDAL worker threads keep spinning for a moment after a
# peer's last matrix product and take a core from whatever runs next.
SETTLE_SECONDS = 0.5
OBJECTIVE_RTOL = 1e-8
NEWTON_PEER_MAX = 4096
C_VALUE = 1.0
TOL = 1e-8
MAX_ITER = 100_000
# Newton steps converge quadratically (5 or 6 of them on every configuration
# glum converges on), so glum still short of tol after 50 never gets there.
GLUM_MAX_ITER = 50
PATH_CS = np.logspace(-3, 2, 20)

# name: (kind, full shape, quick shape, classes); shapes are (n, d) or (n, d, stored values per row)
CONFIGS = {
    "dense-100k-100-binary": ("dense", (100_000, 100), (20_000, 100), 2),
    "dense-100k-100-5class": ("dense", (100_000, 100), (20_000, 100), 5),
    "dense-2M-20-binary": ("dense", (2_000_000, 20), (200_000, 20), 2),
    "dense-20k-2000-binary": ("dense", (20_000, 2_000), (4_000, 500), 2),
    "dense-20k-2000-10class": ("dense", (20_000, 2_000), (4_000, 500), 10),
    "csr-500k-100k-binary": ("csr", (500_000, 100_000, 50), (50_000, 10_000, 50), 2),
    "csr-500k-100k-20class": ("csr", (500_000, 100_000, 50), (50_000, 10_000, 50), 20),
    "float32-100k-100-binary": ("float32", (100_000, 100), (20_000, 100), 2),
    "path-100k-100-binary": ("path", (100_000, 100), (20_000, 100), 2),
}


def make_data(kind, shape, n_classes, seed=0):
    """X and y of one configuration (CSR: a random sparse linear model with label noise)."""
    if kind == "csr":
        n, d, per_row = shape
        rng = np.random.default_rng(seed)
        indices = np.sort(rng.integers(0, d, size=(n, per_row)), axis=1).ravel()
        data = rng.standard_normal(n * per_row)
        X = scipy.sparse.csr_matrix((data, indices, np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
        X.sum_duplicates()
        W = rng.standard_normal((d, n_classes)) * (3.0 / np.sqrt(per_row))
        scores = X @ W + rng.gumbel(size=(n, n_classes))
        return X, np.argmax(scores, axis=1)
    n, d = shape
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=min(50, d // 2), n_classes=n_classes, random_state=seed
    )
    return (X.astype(np.float32) if kind == "float32" else X), y


def objective(coef, intercept, X, y, C):
    """C Σ ℓ_i + ½‖W‖² in float64 for coefficients of shape (k, d) (k = 1: binary)."""
    coef = np.asarray(coef, dtype=np.float64).reshape(-1, X.shape[1])
    Z = np.asarray(X @ coef.T, dtype=np.float64) + np.asarray(intercept, dtype=np.float64)
    if coef.shape[0] == 1:
        losses = np.logaddexp(0.0, Z[:, 0]) - y * Z[:, 0]
    else:
        top = Z.max(axis=1, keepdims=True)
        losses = (np.log(np.exp(Z - top).sum(axis=1)) + top[:, 0]) - Z[np.arange(Z.shape[0]), y]
    return C * float(losses.sum()) + 0.5 * float((coef**2).sum())


# ------------------------------------------------------------------ peers


def _sklearnex():
    try:
        from sklearnex.linear_model import LogisticRegression as IntelexLR
    except ImportError:
        return None
    return IntelexLR


def _glum():
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError:
        return None
    return GeneralizedLinearRegressor


class GlumBinary:
    """glum's binomial GLM with scikit-learn's objective: glum minimises
    ``(1/n) Σ ℓ_i + alpha/2 ‖w‖²``, which is scikit-learn's ``C Σ ℓ_i + ½‖w‖²``
    divided by ``C n`` for ``alpha = 1 / (C n)``."""

    def __init__(self, C, warm_start=False):
        self.max_iter = GLUM_MAX_ITER
        self.model = _glum()(
            family="binomial", l1_ratio=0.0, gradient_tol=TOL, max_iter=self.max_iter, warm_start=warm_start
        )
        self.C = C

    def fit(self, X, y):
        self.model.set_params(alpha=1.0 / (self.C * X.shape[0]))
        self.model.fit(X, y)
        self.coef_ = np.atleast_2d(self.model.coef_)
        self.intercept_ = np.atleast_1d(self.model.intercept_)
        self.n_iter_ = np.atleast_1d(self.model.n_iter_)
        return self

    def set_params(self, C):
        self.C = C
        return self


def peers(kind, d, n_classes):
    """``{name: factory(C, warm_start) -> model}`` for the peers that can fit this configuration."""
    k = 1 if n_classes == 2 else n_classes
    found = {
        "sklearn-lbfgs": lambda C, warm: SklearnLR(C=C, tol=TOL, max_iter=MAX_ITER, warm_start=warm),
    }
    if k * (d + 1) <= NEWTON_PEER_MAX:
        found["sklearn-newton-cholesky"] = lambda C, warm: SklearnLR(
            C=C, tol=TOL, max_iter=MAX_ITER, warm_start=warm, solver="newton-cholesky"
        )
    IntelexLR = _sklearnex()
    if IntelexLR is not None:
        found["sklearnex"] = lambda C, warm: IntelexLR(C=C, tol=TOL, max_iter=MAX_ITER, warm_start=warm)
    if _glum() is not None and n_classes == 2 and d + 1 <= NEWTON_PEER_MAX:
        found["glum"] = lambda C, warm: GlumBinary(C, warm)
    return found


def fastxent_models(n, d, n_classes, is_sparse, density, all_solvers):
    chosen = choose_solver(n, d, n_classes, is_sparse, density)
    names = sorted(SOLVERS) if all_solvers else [chosen]
    return chosen, {
        f"fastxent-{solver}": (
            lambda C, warm, solver=solver: LogisticRegression(
                C=C, tol=TOL, max_iter=MAX_ITER, warm_start=warm, solver=solver
            )
        )
        for solver in names
    }


# ---------------------------------------------------------------- timing


def converged(model):
    """Whether the last fit stopped before its step cap, i.e. on ``tol``."""
    return int(np.max(model.n_iter_)) < model.max_iter


def time_fit(factory, X, y, repeat):
    """Median time of ``repeat`` fits of single models, the last model, its objective, and whether
    every fit converged (a fit that did not ends the repeats: each would run to the cap again)."""
    times = []
    for _ in range(repeat):
        model = factory(C_VALUE, False)
        time.sleep(SETTLE_SECONDS)
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
        if not converged(model):
            break
    values = [objective(model.coef_, model.intercept_, X, y, C_VALUE)]
    return statistics.median(times), model, values, converged(model)


def time_path(factory, X, y, repeat):
    """Median time of ``repeat`` warm-started paths over ``PATH_CS``, the objective at each C, and
    whether every fit converged (as in :func:`time_fit`, a path that did not is not repeated)."""
    times = []
    for _ in range(repeat):
        model = factory(PATH_CS[0], True)
        solutions = []
        time.sleep(SETTLE_SECONDS)
        elapsed = 0.0
        all_converged = True
        for C in PATH_CS:
            model.set_params(C=C)
            start = time.perf_counter()
            model.fit(X, y)
            elapsed += time.perf_counter() - start
            all_converged &= converged(model)
            # The objectives are computed after the path: a matrix product
            # between two fits would leave BLAS threads spinning into the next.
            solutions.append((model.coef_.copy(), model.intercept_.copy(), C))
        times.append(elapsed)
        if not all_converged:
            break
    values = [objective(coef, intercept, X, y, C) for coef, intercept, C in solutions]
    return statistics.median(times), model, values, all_converged


def run_config(name, quick, repeat, all_solvers):
    kind, full, small, n_classes = CONFIGS[name]
    shape = small if quick else full
    X, y = make_data(kind, shape, n_classes)
    n, d = X.shape
    density = X.nnz / (n * d) if kind == "csr" else 1.0
    chosen, ours = fastxent_models(n, d, n_classes, kind == "csr", density, all_solvers)
    timer = time_path if kind == "path" else time_fit
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factory in ours.values():  # compile on the data itself: the parallel kernels too
            factory(C_VALUE, False).set_params(max_iter=2).fit(X, y)
        for label, factory in {**ours, **peers(kind, d, n_classes)}.items():
            try:
                seconds, model, values, done = timer(factory, X, y, repeat)
            except (MemoryError, ValueError, TypeError) as exc:  # a peer that cannot take this input
                rows.append(dict(config=name, peer=label, error=f"{type(exc).__name__}: {exc}"[:200]))
                continue
            rows.append(
                dict(
                    config=name,
                    peer=label,
                    seconds=seconds,
                    n_iter=int(np.max(model.n_iter_)),
                    converged=done,
                    objectives=values,
                )
            )
    best = np.min([r["objectives"] for r in rows if "objectives" in r], axis=0)
    for r in rows:
        if "objectives" in r:
            r["objective_rel_diff"] = float(np.max(np.abs(np.array(r["objectives"]) - best) / np.abs(best)))
            r["objective"] = r["objectives"][-1]
            del r["objectives"]
    info = dict(config=name, quick=quick, shape=list(shape), n_classes=n_classes, chosen=f"fastxent-{chosen}")
    info["objective_rtol"] = max(OBJECTIVE_RTOL, float(np.finfo(X.dtype).eps))
    return info, rows


def summary_line(info, rows):
    timed = [r for r in rows if "seconds" in r]
    ours = [r for r in timed if r["peer"] == info["chosen"]]
    others = [r for r in timed if not r["peer"].startswith("fastxent-") and r["converged"]]
    fastest = min(others, key=lambda r: r["seconds"]) if others else None
    ratio = fastest["seconds"] / ours[0]["seconds"] if fastest and ours else float("nan")
    worst = max(r["objective_rel_diff"] for r in timed)
    cells = "; ".join(
        f"{r['peer']} {r['seconds']:.3f} s ({r['n_iter']} it{'' if r['converged'] else ', not converged'})"
        for r in timed
    )
    label = info["config"] + (" (quick)" if info["quick"] else "")
    peer = f"{fastest['peer']} {fastest['seconds']:.3f} s" if fastest else "-"
    return f"| {label} | {cells} | {peer} | {ratio:.2f}x | {worst:.1e} |", ratio, worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (labelled quick)")
    parser.add_argument("--repeat", type=int, default=None, help="fits per timing (default 3, quick 1)")
    parser.add_argument("--json", metavar="PATH", help="write every measurement to this JSON file")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), help="run these configurations only")
    parser.add_argument("--all-solvers", action="store_true", help="time every fastxent solver, not only the chosen")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    results = []
    print("| configuration | times (iterations) | fastest peer | ratio | max objective rel. diff |")
    print("| --- | --- | --- | --- | --- |", flush=True)
    for name in args.only or CONFIGS:
        info, rows = run_config(name, args.quick, repeat, args.all_solvers)
        line, ratio, worst = summary_line(info, rows)
        print(line, flush=True)
        for r in rows:
            if "error" in r:
                print(f"|  | {r['peer']} skipped: {r['error']} | | | |", flush=True)
        info.update(rows=rows, ratio=ratio, objectives_agree=bool(worst <= info["objective_rtol"]))
        results.append(info)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(dict(quick=args.quick, repeat=repeat, C=C_VALUE, tol=TOL, results=results), fh, indent=1)


if __name__ == "__main__":
    main()
