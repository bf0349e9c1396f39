"""Time to first result: each public entry point called first in a fresh process.

A user's first call of a Numba-compiled function pays for its compilation;
later processes load the compiled code from the on-disk cache.  Each case
here runs in two fresh interpreters sharing one new, empty
``NUMBA_CACHE_DIR``: the first compiles (*cold*), the second loads what the
first cached (*warm*).  The clock starts after the interpreter, NumPy (and,
for the estimator, scikit-learn) are imported and the input is made, so a
case's seconds are what fastxent adds to a bare ``import numpy`` process:
importing Numba and fastxent, compiling or loading, and the call itself.
Each process also counts the specializations Numba compiled during the call
(``numba:compile`` events, nested compilations included); a warm call
compiles none.

The first row, :data:`NUMBA_FLOOR`, calls no fastxent kernel: it imports
Numba and builds the target context that every compiled or cached function
needs first.  That is the part of a warm first call no library built on
Numba avoids (with SciPy installed Numba imports ``scipy.linalg`` then, to
find a BLAS); the other rows' warm seconds minus it are fastxent's share.

``python -m fastxent.benchmarks.cold_start [--quick] [--repeat N] [--json FILE]``
prints the table; ``fastxent bench`` includes it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass

__all__ = ["COLD_START_CASES", "NUMBA_FLOOR", "ColdStartCase", "measure", "run", "format_table", "main"]


@dataclass(frozen=True)
class ColdStartCase:
    """One first call: ``setup`` makes the input (untimed), ``call`` is timed."""

    name: str
    setup: str
    call: str
    baseline: str = "numpy"  # what the untimed part imports: "numpy" or "numpy, sklearn"
    quick: bool = False  # part of the quick run


_RNG = "rng = np.random.default_rng(0)\n"

COLD_START_CASES = (
    ColdStartCase(
        "log_loss, binary",
        _RNG + "y = rng.integers(0, 2, 100_000)\np = rng.uniform(0.01, 0.99, 100_000)",
        "fastxent.log_loss(y, p)",
        quick=True,
    ),
    ColdStartCase(
        "log_loss, 5 classes",
        _RNG + "y = rng.integers(0, 5, 100_000)\nP = rng.dirichlet(np.ones(5), 100_000)",
        "fastxent.log_loss(y, P)",
    ),
    ColdStartCase(
        "binary_cross_entropy(from_logits=True)",
        _RNG + "y = rng.integers(0, 2, 100_000).astype(float)\nz = rng.normal(size=100_000)",
        "fastxent.binary_cross_entropy(y, z, from_logits=True)",
    ),
    ColdStartCase(
        "cross_entropy, probabilities",
        _RNG + "y = rng.integers(0, 10, 100_000)\nP = rng.dirichlet(np.ones(10), 100_000)",
        "fastxent.cross_entropy(y, P)",
    ),
    ColdStartCase(
        "cross_entropy, logits",
        _RNG + "y = rng.integers(0, 10, 100_000)\nZ = rng.normal(size=(100_000, 10))",
        "fastxent.cross_entropy(y, Z, from_logits=True)",
    ),
    ColdStartCase(
        "cross_entropy_value_and_grad, float32 logits",
        _RNG + "y = rng.integers(0, 10, 100_000)\nZ = rng.normal(size=(100_000, 10)).astype(np.float32)",
        "fastxent.cross_entropy_value_and_grad(y, Z, from_logits=True)",
        quick=True,
    ),
    ColdStartCase(
        "entropy(pk)",
        _RNG + "p = rng.uniform(size=100_000)",
        "fastxent.entropy(p)",
    ),
    ColdStartCase(
        "entropy(P, Q, axis=1)",
        _RNG + "P = rng.uniform(size=(100_000, 10))\nQ = rng.uniform(size=(100_000, 10))",
        "fastxent.entropy(P, Q, axis=1)",
        quick=True,
    ),
    ColdStartCase(
        "mutual_info_score",
        _RNG + "a = rng.integers(0, 100, 100_000)\nb = rng.integers(0, 100, 100_000)",
        "fastxent.mutual_info_score(a, b)",
    ),
    ColdStartCase(
        "jensenshannon(P, Q, axis=1)",
        _RNG + "P = rng.uniform(size=(100_000, 10))\nQ = rng.uniform(size=(100_000, 10))",
        "fastxent.jensenshannon(P, Q, axis=1)",
    ),
    ColdStartCase(
        "ufuncs.xlogy",
        _RNG + "x = rng.uniform(size=100_000)\ny = rng.uniform(size=100_000)",
        "fastxent.ufuncs.xlogy(x, y)",
    ),
    ColdStartCase(
        "LogisticRegression fit + predict_proba, binary",
        _RNG + "X = rng.normal(size=(10_000, 20))\ny = (X[:, 0] + rng.normal(size=10_000) > 0).astype(int)",
        "fastxent.LogisticRegression().fit(X, y).predict_proba(X)",
        baseline="numpy, sklearn",
        quick=True,
    ),
    ColdStartCase(
        "LogisticRegression fit + predict_proba, 3 classes",
        _RNG + "X = rng.normal(size=(10_000, 20))\ny = np.digitize(X[:, 0] + rng.normal(size=10_000), [-0.5, 0.5])",
        "fastxent.LogisticRegression().fit(X, y).predict_proba(X)",
        baseline="numpy, sklearn",
    ),
)

NUMBA_FLOOR = ColdStartCase(
    "Numba alone: import, target context (no fastxent kernel)",
    "",
    "from numba.core.registry import cpu_target\ncpu_target.target_context.refresh()",
    quick=True,
)

# The child process: prints one JSON line with the seconds of the timed part
# and the number of specializations Numba compiled during it.
_CHILD = """\
import json, time
import {baseline}
import numpy as np
{setup}
t0 = time.perf_counter()
from numba.core import event

class _Count(event.Listener):
    n = 0

    def on_start(self, event):
        _Count.n += 1

    def on_end(self, event):
        pass

event.register("numba:compile", _Count())
import fastxent
{call}
seconds = time.perf_counter() - t0
print(json.dumps({{"seconds": seconds, "compiled": _Count.n}}))
"""


def _child_source(case):
    return _CHILD.format(baseline=case.baseline, setup=case.setup, call=case.call)


def _run_child(case, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    done = subprocess.run(
        [sys.executable, "-c", _child_source(case)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold-start case {case.name!r} failed:\n{textwrap.indent(done.stderr, '    ')}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(case, repeat=1):
    """Cold and warm seconds (medians over ``repeat`` fresh cache directories) and compile counts."""
    cold, warm, compiled, compiled_warm = [], [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="fastxent-cold-") as cache_dir:
            first = _run_child(case, cache_dir)
            second = _run_child(case, cache_dir)
        cold.append(first["seconds"])
        warm.append(second["seconds"])
        compiled.append(first["compiled"])
        compiled_warm.append(second["compiled"])
    return {
        "case": case.name,
        "baseline": f"import {case.baseline}",
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
        "compiled": max(compiled),
        "compiled_warm": max(compiled_warm),
        "repeat": repeat,
    }


def run(quick=False, repeat=None, progress=None):
    """Measure every case (the quick subset with ``quick``); a list of row dictionaries."""
    repeat = repeat or (1 if quick else 3)
    rows = []
    for case in (NUMBA_FLOOR, *COLD_START_CASES):
        if quick and not case.quick:
            continue
        rows.append(measure(case, repeat))
        if progress is not None:
            progress(rows[-1])
    return rows


def format_table(rows):
    """The rows as a Markdown table."""
    lines = [
        "| first call (fresh process) | cold: empty cache | warm: cached | specializations compiled | measured over |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['cold_s']:.2f} s | {r['warm_s']:.2f} s | {r['compiled']}"
            f" (warm: {r['compiled_warm']}) | `{r['baseline']}` |"
        )
    return "\n".join(lines)


def main(argv=None):
    prog = "python -m fastxent.benchmarks.cold_start"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick subset, one repetition")
    parser.add_argument("--repeat", type=int, default=None, help="fresh cache directories per case (median)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick, repeat=args.repeat)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cold_start": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
