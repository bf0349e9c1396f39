"""Parity and speed, at full size, of fastxent.LogisticRegression.

For make_classification binary and 5-class (n = 1e5, d = 100), C in
{0.01, 1, 100}, with and without intercept, unweighted / sample_weight /
class_weight="balanced", fits scikit-learn's LogisticRegression(C=C,
tol=1e-8) (lbfgs) and fastxent.LogisticRegression with every solver at the
same tol, then checks

* objective ``C Σ s_i ℓ_i + ½‖W‖²`` within 1e-6 relative of scikit-learn's,
* ``predict_proba`` within 1e-4 (max absolute difference),

and reports the fit-time ratio scikit-learn / fastxent measured in the same
run (one fit each, after a warm-up fit that compiles the kernels, each timed
fit after a short pause: ``SETTLE_SECONDS``).

Run by hand (slow: scikit-learn takes minutes for the whole grid)::

    python bench/parity_logistic.py [--n 100000] [--d 100] [--out results.jsonl]

The test suite runs the same grid at n = 3000 (tests/test_logistic.py).
"""

import argparse
import itertools
import json
import sys
import time

import numpy as np
from scipy.special import logsumexp
from sklearn.datasets import make_classification
from sklearn.utils.class_weight import compute_class_weight

from fastxent import LogisticRegression
from fastxent._solvers.fit import SOLVERS
from fastxent.benchmarks.references import lookup

SklearnLR = lookup("LogisticRegression", "scikit-learn")

CLASS_PROPORTIONS = {2: [0.7, 0.3], 5: [0.35, 0.25, 0.2, 0.12, 0.08]}


def dataset(n_classes, n, d, seed=0):
    return make_classification(
        n_samples=n,
        n_features=d,
        n_informative=min(20, d // 2),
        n_redundant=2,
        n_classes=n_classes,
        weights=CLASS_PROPORTIONS[n_classes],
        random_state=seed,
    )


def objective(model, X, y, s, C):
    """C Σ s_i ℓ_i + ½‖W‖² of a fitted model (either library)."""
    y_index = np.searchsorted(model.classes_, y)
    Z = X @ model.coef_.T + model.intercept_
    if model.coef_.shape[0] == 1:
        losses = np.logaddexp(0.0, Z[:, 0]) - y_index * Z[:, 0]
    else:
        losses = logsumexp(Z, axis=1) - Z[np.arange(Z.shape[0]), y_index]
    return C * np.sum(s * losses) + 0.5 * np.sum(model.coef_**2)


# Pause before each timed fit, for the reason given in speed_logistic.py
# (OpenBLAS threads still spinning after scikit-learn's fit).
SETTLE_SECONDS = 0.5


def timed_fit(model, X, y, sample_weight):
    time.sleep(SETTLE_SECONDS)
    start = time.perf_counter()
    model.fit(X, y, sample_weight=sample_weight)
    return time.perf_counter() - start


def run(n, d, out, classes=(2, 5)):
    failures = 0
    for n_classes in classes:
        X, y = dataset(n_classes, n, d)
        for solver in SOLVERS:  # compile outside the timings
            LogisticRegression(solver=solver, max_iter=3).fit(X[:200], y[:200])
        for C, fit_intercept, weighting in itertools.product(
            (0.01, 1.0, 100.0), (True, False), ("none", "sample_weight", "balanced")
        ):
            sample_weight = np.random.default_rng(1).uniform(0.2, 3.0, size=n) if weighting == "sample_weight" else None
            class_weight = "balanced" if weighting == "balanced" else None
            params = dict(C=C, fit_intercept=fit_intercept, class_weight=class_weight, tol=1e-8)
            s = np.ones(n) if sample_weight is None else sample_weight
            if class_weight is not None:
                s = s * compute_class_weight("balanced", classes=np.unique(y), y=y)[y]
            reference = SklearnLR(max_iter=10_000, **params)
            t_ref = timed_fit(reference, X, y, sample_weight)
            f_ref = objective(reference, X, y, s, C)
            proba_ref = reference.predict_proba(X)
            row = dict(
                n_classes=n_classes,
                C=C,
                fit_intercept=fit_intercept,
                weighting=weighting,
                sklearn_s=t_ref,
                sklearn_iter=int(reference.n_iter_[0]),
            )
            for solver in SOLVERS:
                ours = LogisticRegression(solver=solver, max_iter=50_000, **params)
                t = timed_fit(ours, X, y, sample_weight)
                rel = (objective(ours, X, y, s, C) - f_ref) / f_ref
                dproba = float(np.abs(ours.predict_proba(X) - proba_ref).max())
                ok = abs(rel) <= 1e-6 and dproba <= 1e-4
                failures += not ok
                row.update(
                    {
                        f"{solver}_s": t,
                        f"{solver}_iter": int(ours.n_iter_[0]),
                        f"{solver}_rel_objective": rel,
                        f"{solver}_max_dproba": dproba,
                        f"{solver}_ok": ok,
                        f"{solver}_speedup": t_ref / t,
                    }
                )
            print(
                f"k={n_classes} C={C:<6} intercept={fit_intercept!s:5} {weighting:13} "
                f"sklearn {t_ref:7.3f}s ({row['sklearn_iter']:3d} it) | "
                + " | ".join(
                    f"{sv} {row[sv + '_s']:6.3f}s x{row[sv + '_speedup']:5.2f} "
                    f"({row[sv + '_iter']:4d} it) "
                    f"dobj {row[sv + '_rel_objective']:+.1e} "
                    f"dP {row[sv + '_max_dproba']:.1e} "
                    f"{'ok' if row[sv + '_ok'] else 'FAIL'}"
                    for sv in SOLVERS
                ),
                flush=True,
            )
            if out:
                with open(out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--classes", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--out", default=None, help="append one JSON line per configuration")
    args = parser.parse_args(argv)
    failures = run(args.n, args.d, args.out, tuple(args.classes))
    print("all configurations within tolerance" if not failures else f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
