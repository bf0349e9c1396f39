"""Build ``notebooks/tour.ipynb`` from the cells below (and run it with ``--execute``).

The notebook is generated so that its source stays reviewable as Python;
``python notebooks/build_tour.py --execute`` rewrites it with fresh outputs
(the saved notebook carries its outputs so that it reads on the web).
``tests/test_notebook.py`` executes it with nbclient so it cannot rot.

Environment variable read by the notebook: ``FASTXENT_TOUR_BENCH`` =
``quick`` (default, what the saved outputs show) or ``smoke`` (tiny inputs,
used by the test suite to keep it fast).
"""

import argparse
import os
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "tour.ipynb")

CELLS = [
    (
        "md",
        """# A tour of fastxent

fastxent computes entropy, cross-entropy and their gradients with Numba kernels behind a
thin NumPy API, fits logistic regression with a Numba solver, and exposes the kernels to
your own `@njit` code. This notebook walks through it next to the references
(SciPy, scikit-learn), and ends with the benchmark.""",
    ),
    (
        "code",
        """import os
import time

import numpy as np
import scipy.special
import scipy.stats
import sklearn.metrics

import fastxent

rng = np.random.default_rng(0)
np.set_printoptions(precision=6, suppress=True)""",
    ),
    (
        "md",
        """## 1. Entropy and cross-entropy of two distributions

For distributions $p$ and $q$ over the same outcomes:
$H(p) = -\\sum_i p_i \\log p_i$, the relative entropy (KL divergence)
$D(p\\,\\|\\,q) = \\sum_i p_i \\log(p_i / q_i)$, and the cross-entropy
$H(p, q) = -\\sum_i p_i \\log q_i = H(p) + D(p\\,\\|\\,q)$.
`fastxent.entropy` is a drop-in for `scipy.stats.entropy`; `fastxent.cross_entropy`
takes soft targets (rows of distributions).""",
    ),
    (
        "code",
        """p = np.array([0.1, 0.4, 0.5])
q = np.array([0.8, 0.15, 0.05])

h_p = fastxent.entropy(p)
kl = fastxent.entropy(p, q)
h_pq = fastxent.cross_entropy(p[None, :], q[None, :])  # one row, soft target p

print(f"H(p)      fastxent {h_p:.12f}   scipy {scipy.stats.entropy(p):.12f}")
print(f"D(p||q)   fastxent {kl:.12f}   scipy {scipy.stats.entropy(p, q):.12f}")
print(f"H(p, q)   fastxent {h_pq:.12f}   H(p) + D(p||q) = {h_p + kl:.12f}")
print(f"H(p) in bits: {fastxent.entropy(p, base=2):.6f}")""",
    ),
    (
        "md",
        """## 2. A binary example

Five samples, the predicted probability of the positive class: the binary
cross-entropy is scikit-learn's `log_loss`. From logits, the loss is computed with a
stable log-sigmoid, so no probability is ever rounded to 0 or 1.""",
    ),
    (
        "code",
        """y = np.array([1, 0, 1, 1, 0])
proba = np.array([0.9, 0.2, 0.7, 0.6, 0.1])
logits = scipy.special.logit(proba)

print("fastxent.binary_cross_entropy   ", fastxent.binary_cross_entropy(y, proba))
print("fastxent.binary_cross_entropy(z)", fastxent.binary_cross_entropy(y, logits, from_logits=True))
print("fastxent.log_loss               ", fastxent.log_loss(y, proba))
print("sklearn.metrics.log_loss        ", sklearn.metrics.log_loss(y, proba))
print("huge logits stay finite         ",
      fastxent.binary_cross_entropy([1, 0], [-1e4, 1e4], from_logits=True, clip=None))""",
    ),
    (
        "md",
        """## 3. `make_classification` + `LogisticRegression` + `log_loss`, side by side with scikit-learn

The same data, the same objective ($C \\sum_i \\text{loss}_i + \\tfrac12\\|w\\|^2$), fitted by
scikit-learn's L-BFGS and by fastxent's Numba solver, and scored by both `log_loss`
implementations.""",
    ),
    (
        "code",
        """import pandas as pd
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

X, y = make_classification(n_samples=1000, n_features=10, n_informative=5, n_redundant=0,
                           n_clusters_per_class=1, random_state=42)

models = {"scikit-learn": SkLogisticRegression(), "fastxent": fastxent.LogisticRegression()}
rows = {}
for name, model in models.items():
    model.fit(X, y)  # warm-up (compilation), then time a second fit
    start = time.perf_counter()
    model.fit(X, y)
    fit_ms = (time.perf_counter() - start) * 1e3
    proba = model.predict_proba(X)
    rows[name] = {
        "fit (ms)": fit_ms,
        "accuracy": model.score(X, y),
        "sklearn log_loss": sklearn.metrics.log_loss(y, proba),
        "fastxent log_loss": fastxent.log_loss(y, proba),
    }
coef_gap = np.abs(models["fastxent"].coef_ - models["scikit-learn"].coef_).max()
print(f"largest coefficient difference: {coef_gap:.2e}")
pd.DataFrame(rows).T""",
    ),
    (
        "md",
        """## 4. Gradients

`cross_entropy_grad` returns the gradient with respect to `y_pred` as given — here the
logits, for which it is $(\\mathrm{softmax}(z) - \\mathrm{onehot}(y)) / n$ with the mean
reduction. `cross_entropy_value_and_grad` computes both in one pass. A central finite
difference agrees.""",
    ),
    (
        "code",
        """z = rng.normal(size=(4, 3))
labels = np.array([0, 2, 1, 2])

value, grad = fastxent.cross_entropy_value_and_grad(labels, z, from_logits=True)
analytic = (scipy.special.softmax(z, axis=1) - np.eye(3)[labels]) / len(labels)

h = 1e-6
numeric = np.zeros_like(z)
for i in range(z.shape[0]):
    for j in range(z.shape[1]):
        up, down = z.copy(), z.copy()
        up[i, j] += h
        down[i, j] -= h
        numeric[i, j] = (fastxent.cross_entropy(labels, up, from_logits=True)
                         - fastxent.cross_entropy(labels, down, from_logits=True)) / (2 * h)

print("loss", value)
print("gradient\\n", grad)
print("max |grad - analytic|          ", np.abs(grad - analytic).max())
print("max |grad - finite difference| ", np.abs(grad - numeric).max())""",
    ),
    (
        "md",
        """## 5. Calling the kernels from your own `@njit` code

Everything above is also available as Numba functions in `fastxent.kernels`, callable in
nopython mode. Here `kernels.softmax_row_loss_grad(target, z_row, grad_scale, grad_row)` (the loss
of one row of logits, with `grad_scale * d loss / d z` written into `grad_row`) drives a small SGD
loop written by the user, and `kernels.softmax_row_loss(target, z_row)` runs inside a
`prange` loop.""",
    ),
    (
        "code",
        """import numba

from fastxent import kernels


@numba.njit
def sgd(X, y, n_classes, learning_rate, epochs):
    \"\"\"Plain SGD on the softmax cross-entropy: fastxent's kernel gives each sample's
    loss and its gradient with respect to the logits; the loop is the user's own.\"\"\"
    n, d = X.shape
    W = np.zeros((n_classes, d))
    b = np.zeros(n_classes)
    z = np.empty(n_classes)
    grad = np.empty(n_classes)
    mean_loss = 0.0
    for epoch in range(epochs):
        total = 0.0
        for i in range(n):
            for c in range(n_classes):
                z[c] = b[c] + np.dot(W[c], X[i])
            total += kernels.softmax_row_loss_grad(y[i], z, 1.0, grad)
            for c in range(n_classes):
                W[c] -= learning_rate * grad[c] * X[i]
                b[c] -= learning_rate * grad[c]
        mean_loss = total / n
    return W, b, mean_loss


@numba.njit(parallel=True)
def mean_loss(Z, y):
    \"\"\"The same per-row kernel inside a parallel loop.\"\"\"
    total = 0.0
    for i in numba.prange(Z.shape[0]):
        total += kernels.softmax_row_loss(y[i], Z[i])
    return total / Z.shape[0]


W, b, last_epoch = sgd(X, y, 2, 0.05, 20)
Z = X @ W.T + b
print(f"mean loss during the last epoch   {last_epoch:.6f}")
print(f"parallel @njit loop, final model   {mean_loss(Z, y):.12f}")
print(f"fastxent.cross_entropy, same model {fastxent.cross_entropy(y, Z, from_logits=True):.12f}")""",
    ),
    (
        "md",
        """## 6. Scoring files from the command line

`fastxent score LABELS PREDICTIONS` streams `.npy` (memory-mapped), `.npz`, `.csv` and
`.parquet` files in blocks, so files larger than memory are fine. Here it is called in
process on two small files (the shell command is `fastxent score y.npy proba.npy`).""",
    ),
    (
        "code",
        """import tempfile

from fastxent.cli import main as fastxent_cli

with tempfile.TemporaryDirectory() as tmp:
    np.save(f"{tmp}/y.npy", y)
    np.save(f"{tmp}/proba.npy", models["fastxent"].predict_proba(X))
    fastxent_cli(["score", f"{tmp}/y.npy", f"{tmp}/proba.npy"])""",
    ),
    (
        "md",
        """## 7. Where probabilities saturate: the binary loss against the logit

A model's probability is $p = \\sigma(z)$ for a logit $z$. In float64, $\\sigma(z)$ rounds to
exactly 1 for $z \\gtrsim 37$, and probabilities far below machine epsilon are clipped to it
(`clip="auto"`). The loss of the *probabilities* therefore flattens at both ends, and its
gradient with respect to $z$ (chain rule through $p(1-p)$) is wrong there: 0 where the exact
one is $-e^{-z}$, a small number where it is $-1$. From the logits (`from_logits=True`) the loss
$\\log(1 + e^{-z})$ and its gradient $\\sigma(z) - 1$ stay exact everywhere. Here the
true label is 1.""",
    ),
    (
        "code",
        """%matplotlib inline
import matplotlib.pyplot as plt

z = np.linspace(-40, 40, 801)
ones = np.ones_like(z)
p = scipy.special.expit(z)
curves = {
    "from probabilities (clipped)": (
        fastxent.binary_cross_entropy(ones, p, reduction="none"),
        fastxent.binary_cross_entropy_grad(ones, p, reduction="none") * p * (1 - p),  # chain rule to z
    ),
    "from_logits=True": (
        fastxent.binary_cross_entropy(ones, z, from_logits=True, reduction="none"),
        fastxent.binary_cross_entropy_grad(ones, z, from_logits=True, reduction="none"),
    ),
}
fig, (loss_ax, grad_ax) = plt.subplots(1, 2, figsize=(11, 4))
for (label, (loss, grad)), style in zip(curves.items(), ("-", "--")):
    loss_ax.plot(z, loss, style, label=label)
    grad_ax.plot(z, np.abs(grad), style, label=label)
loss_ax.set(yscale="log", xlabel="logit z (true label 1)", ylabel="loss", title="binary cross-entropy")
grad_ax.set(yscale="log", xlabel="logit z (true label 1)", ylabel="|d loss / d z|", title="its gradient")
for ax in (loss_ax, grad_ax):
    ax.axvline(37, color="gray", linewidth=0.6)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
for at in (-40.0, 40.0):
    i = np.argmin(np.abs(z - at))
    print(f"z = {at:+.0f}: loss {curves['from probabilities (clipped)'][0][i]:.6g} from p, "
          f"{curves['from_logits=True'][0][i]:.6g} from z (exact: {np.logaddexp(0, -at):.6g})")""",
    ),
    (
        "md",
        """## 8. Logistic regression: the objective at each iteration, per solver

`LogisticRegression(verbose=1)` prints the objective $F / (C \\sum_i s_i)$ at the start and after
every iteration (`fastxent.kernels.fit_binary_logistic` returns the same history as an array, for
`@njit` code). Each registered solver is run to a tight tolerance on the same problem; the curves
show the gap to the lowest objective reached, with scikit-learn's L-BFGS iteration count for
comparison.""",
    ),
    (
        "code",
        """import contextlib
import io

from fastxent._solvers.fit import SOLVERS  # the registry LogisticRegression(solver=...) accepts

Xs, ys = make_classification(n_samples=5000, n_features=30, n_informative=10, random_state=1)
Xs[:, :5] *= 20.0  # features on different scales make the problem harder


def objective_history(solver):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # one line per iteration: "iteration  k  objective F"
        model = fastxent.LogisticRegression(solver=solver, tol=1e-10, max_iter=1000, verbose=1).fit(Xs, ys)
    return model, np.array([float(line.split()[-1]) for line in printed.getvalue().splitlines()])


histories = {}
for solver in sorted(SOLVERS):
    model, histories[solver] = objective_history(solver)
    print(f"{solver:>18}: {model.n_iter_[0]:4d} iterations, objective {histories[solver][-1]:.12g}")
sk = SkLogisticRegression(tol=1e-10, max_iter=10_000).fit(Xs, ys)
print(f"{'scikit-learn lbfgs':>18}: {sk.n_iter_[0]:4d} iterations")

best = min(h[-1] for h in histories.values())
fig, ax = plt.subplots(figsize=(7, 4))
for solver, history in histories.items():
    ax.semilogy(np.arange(len(history)), np.maximum(history - best, 1e-12), marker=".", label=solver)
ax.set(xlabel="iteration", ylabel="objective - lowest reached (printed to 12 digits)",
       title=f"make_classification 5000 × 30, C = 1, tol = 1e-10\\n(scikit-learn lbfgs: {sk.n_iter_[0]} iterations)")
ax.legend()
plt.show()""",
    ),
    (
        "md",
        """## 9. Comparing a clustering with the truth

k-means on blobs, compared with the labels that generated them: the mutual information of the two
labelings, its normalized and chance-adjusted versions, and the contingency matrix they are
computed from (rows: true classes, columns: clusters) -- fastxent next to scikit-learn.""",
    ),
    (
        "code",
        """import sklearn.metrics.cluster
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

points, truth = make_blobs(n_samples=3000, centers=5, cluster_std=2.5, random_state=3)
clusters = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(points)

scores = {}
for name in ("mutual_info_score", "normalized_mutual_info_score", "adjusted_mutual_info_score"):
    ours, theirs = getattr(fastxent, name)(truth, clusters), getattr(sklearn.metrics, name)(truth, clusters)
    scores[name] = {"fastxent": ours, "scikit-learn": theirs, "difference": ours - theirs}
table = fastxent.contingency_matrix(truth, clusters)
assert (table == sklearn.metrics.cluster.contingency_matrix(truth, clusters)).all()

fig, (scatter_ax, table_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
scatter_ax.scatter(*points.T, c=clusters, s=4, cmap="tab10")
scatter_ax.set_title("k-means clusters")
table_ax.imshow(table, cmap="Blues")
for (i, j), count in np.ndenumerate(table):
    table_ax.text(j, i, count, ha="center", va="center", fontsize=8)
table_ax.set(xlabel="k-means cluster", ylabel="true class", title="contingency_matrix(truth, clusters)")
plt.tight_layout()
plt.show()
pd.DataFrame(scores).T""",
    ),
    (
        "md",
        """## 10. The benchmark

`fastxent bench --quick --plot times.png` measures fastxent against the rivals that are
installed (scikit-learn, SciPy, PyTorch) and draws the times; the bars below come from the same
code: fastxent's time, the rival's, and NumPy's time to read the inputs once (no function of the
whole input can be much faster), for one case of each family. This is a *quick* run -- smaller
inputs, few rounds, on whatever else the machine is doing -- so the numbers are indicative:
`fastxent bench` (full sizes, every case) produces the table of the documentation's benchmark page.""",
    ),
    (
        "code",
        """from fastxent.benchmarks import run as _bench
from fastxent.benchmarks import scaling
from fastxent.benchmarks.cases import CASES
from fastxent.benchmarks.plot import comparison_figure, scaling_figure

size = os.environ.get("FASTXENT_TOUR_BENCH", "quick")
rounds, budget = (3, 1.0) if size == "quick" else (1, 0.1)
shown = ("log_loss-binary-1e7", "log_loss-1e6x10", "cross_entropy-logits-4096x32000", "entropy-1e6x10",
         "binary_cross_entropy-logits-1e7", "mutual_info-1e7-100x100", "jensenshannon-1e6x10")
rows = [_bench.measure_case(case, size, rounds, budget) for case in CASES if case.key in shown]
results = {"size": size, "rows": rows}
print(_bench.format_markdown(results))
comparison_figure(results, plt)
plt.show()""",
    ),
    (
        "md",
        """Time against input size (`fastxent bench --scaling --quick --plot scaling.png`): at small N a
call costs its fixed overhead, at large N the time to stream the inputs from memory. Quick sizes
here (N up to 1e6); the full run goes to N = 1e8.""",
    ),
    (
        "code",
        """scaled = scaling.run(size=size)
scaling_figure(scaled, plt)
plt.show()""",
    ),
]


def build():
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in CELLS:
        nb.cells.append(new_markdown_cell(source) if kind == "md" else new_code_cell(source))
    return nb


def execute(nb, timeout=600):
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}).execute()
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--execute", action="store_true", help="run it and save the outputs")
    args = parser.parse_args(argv)
    nb = build()
    if args.execute:
        execute(nb)
    nbformat.write(nb, PATH)
    print(f"wrote {PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
