"""Fit time of fastxent.LogisticRegression against scikit-learn's lbfgs.

make_classification, n = 1e5, d = 100 (20 informative), binary and 5-class,
C = 1, tol = 1e-8 on both sides; medians of ``--repeat`` fits each, measured
in the same run after a warm-up fit that compiles the kernels.  Prints the
ratio scikit-learn time / fastxent time per solver and the final objectives'
relative difference (parity of every configuration: ``parity_logistic.py``).

    python bench/speed_logistic.py [--n 100000] [--d 100] [--repeat 3]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification

from fastxent import LogisticRegression
from fastxent.benchmarks.references import lookup

SklearnLogisticRegression = lookup("LogisticRegression", "scikit-learn")

# OpenBLAS worker threads keep spinning for a moment after scikit-learn's
# last matrix product and take a core from whatever runs next (measured: a
# fastxent gd fit right after a scikit-learn fit 0.238 s, after a pause
# 0.167 s); every timed fit therefore starts after a pause.
SETTLE_SECONDS = 0.5


def _objective(model, X, y, C):
    proba = np.clip(model.predict_proba(X), 1e-300, 1.0)
    loss = -np.log(proba[np.arange(len(y)), np.searchsorted(model.classes_, y)]).sum()
    return C * loss + 0.5 * float((model.coef_**2).sum())


def _median_fit(make, X, y, repeat):
    times = []
    for _ in range(repeat):
        model = make()
        time.sleep(SETTLE_SECONDS)
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times), model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    C = 1.0
    for n_classes in (2, 5):
        X, y = make_classification(
            n_samples=args.n, n_features=args.d, n_informative=20, n_classes=n_classes, random_state=0
        )
        with warnings.catch_warnings():  # the warm-up fit only compiles the kernels
            warnings.simplefilter("ignore")
            for solver in ("lbfgs", "gd"):
                LogisticRegression(solver=solver, max_iter=3).fit(X[:500], y[:500])
        t_ref, ref = _median_fit(lambda: SklearnLogisticRegression(C=C, tol=1e-8, max_iter=10_000), X, y, args.repeat)
        f_ref = _objective(ref, X, y, C)
        line = [f"{n_classes} classes: scikit-learn lbfgs {t_ref:.2f} s"]
        for solver in ("lbfgs", "gd"):
            t, model = _median_fit(
                lambda solver=solver: LogisticRegression(C=C, tol=1e-8, max_iter=50_000, solver=solver),
                X,
                y,
                args.repeat,
            )
            rel = abs(_objective(model, X, y, C) - f_ref) / f_ref
            line.append(f"fastxent {solver} {t:.2f} s = {t_ref / t:.1f}x (objective rel. diff {rel:.1e})")
        print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main()
