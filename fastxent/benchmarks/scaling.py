"""Time against input size: fastxent, its rival and the NumPy read from N = 1e3 to 1e8.

At small N a call's time is its fixed cost (argument checks, dispatch, a
rival's conversions and temporaries); at large N it is the time to stream the
inputs from memory, which NumPy's reading them once (``p.sum(); y.sum()``)
measures.  One line per implementation on log-log axes shows both regimes and
where each library leaves the floor.

Entry points (``fastxent bench --scaling`` calls :func:`run` and
:func:`format_markdown`)::

    run(quick=False, json_path=None, plot_path=None, progress=None, grid=None) -> dict
        ``{"kind": "scaling", "size": ..., "n": [...], "cases": [...],
        "environment": {...}}``; each case has ``key``, ``title``,
        ``function``, ``rival``, ``unit`` (what N counts), ``shape`` and
        ``points``, one per N: ``n``, ``sizes``, ``rounds`` and the median
        seconds ``fastxent_s``/``rival_s``/``floor_s`` (None when not
        measured, with the reason in ``errors``).
    main(argv=None) -> int   ``python -m fastxent.benchmarks.scaling [--quick] [--json F] [--plot F]``

Method: at each N the inputs are built once and every callable is called
once to warm up (compilation of the parallel kernels included); calls too
short for the clock are repeated in a loop whose mean is one sample.  The
callables are then timed in turn, round after round (medians of interleaved
rounds); a round budget per N gives fewer rounds at large N.  A rival that
fails (out of memory, say) is not called at larger N.
"""

import argparse
import gc
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

from .cases import _package, make_binary, make_distributions, make_logits
from .plot import save
from .references import lookup
from .report import count, duration, run_label

__all__ = ["ScalingCase", "SCALING_CASES", "GRIDS", "measure_point", "run", "format_markdown", "main"]

#: N of each run: half-decades.  The quick grid stops at 1e6, the smoke grid is for the test-suite.
GRIDS = {
    "full": [int(m * 10**e) for e in range(3, 9) for m in (1, 3)][:-1],
    "quick": [int(m * 10**e) for e in range(3, 7) for m in (1, 3)][:-1],
    "smoke": [1_000, 3_000],
}
SETTINGS = {  # rounds at most, seconds per N after which three rounds are enough
    "full": {"rounds": 15, "budget_s": 3.0},
    "quick": {"rounds": 7, "budget_s": 0.5},
    "smoke": {"rounds": 3, "budget_s": 0.05},
}
MIN_SAMPLE_S = 2e-3  # shorter calls are repeated in a loop: one sample is their mean over at least this
CLASSES = 10


@dataclass(frozen=True)
class ScalingCase:
    key: str
    title: str
    function: str  # public fastxent name, also its key in REFERENCES
    rival_library: str
    unit: str  # what N counts, for the axis label
    shape: str  # how the inputs are laid out, for the panel title
    make: Callable  # (N) -> dict of inputs
    arguments: Callable  # (inputs) -> (args, kwargs) for fastxent and the rival alike
    floor: Callable  # (inputs) -> None, NumPy reading the inputs once

    def calls(self, inputs):
        """``{"fastxent": ..., "rival": ..., "floor": ...}``: callables without arguments (no rival if missing)."""
        args, kwargs = self.arguments(inputs)
        fastxent = getattr(_package(), self.function)
        calls = {"fastxent": lambda: fastxent(*args, **kwargs)}
        rival = lookup(self.function, self.rival_library)
        if rival.available():
            calls["rival"] = rival.bind(*args, **kwargs)
        calls["floor"] = lambda: self.floor(inputs)
        return calls


def _read(*keys):
    def floor(d):
        for key in keys:
            d[key].sum()

    return floor


SCALING_CASES = (
    ScalingCase(
        "log_loss-binary",
        "`log_loss`, binary",
        "log_loss",
        "scikit-learn",
        "samples",
        "integer labels {0, 1}, float64 probabilities of shape (N,)",
        make_binary,
        lambda d: ((d["y"], d["p"]), {}),
        _read("y", "p"),
    ),
    ScalingCase(
        "cross_entropy-logits",
        f"`cross_entropy(..., from_logits=True)`, {CLASSES} classes",
        "cross_entropy",
        "torch",
        "logits (samples × classes)",
        f"float64 logits of shape (N / {CLASSES}, {CLASSES}), integer labels",
        lambda n: make_logits(max(n // CLASSES, 1), CLASSES, "float64"),
        lambda d: ((d["y"], d["z"]), {"from_logits": True}),
        _read("y", "z"),
    ),
    ScalingCase(
        "entropy-rows",
        f"`entropy(P, Q, axis=1)`, rows of {CLASSES}",
        "entropy",
        "scipy",
        "values of P (rows × columns)",
        f"float64 P and Q of shape (N / {CLASSES}, {CLASSES})",
        lambda n: make_distributions(max(n // CLASSES, 1), CLASSES),
        lambda d: ((d["P"], d["Q"]), {"axis": 1}),
        _read("P", "Q"),
    ),
)


def _mean_seconds(func, calls):
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls


def measure_point(calls, rounds, budget_s):
    """Median seconds per call of each callable, timed in turn round after round.

    Returns ``(medians, errors, rounds_done)``; a callable that raises is
    dropped, its message kept in ``errors``.
    """
    loops, errors = {}, {}
    for name, func in calls.items():
        try:
            first = _mean_seconds(func, 1)  # warm-up: compilation, library start-up, first touch
        except Exception as exc:  # a missing or failing implementation: report, keep going
            errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        loops[name] = max(1, min(10_000, int(MIN_SAMPLE_S / max(first, 1e-9))))
    samples = {name: [] for name in loops}
    start = time.perf_counter()
    for done in range(1, rounds + 1):
        for name in loops:
            samples[name].append(_mean_seconds(calls[name], loops[name]))
        if done >= 3 and time.perf_counter() - start > budget_s:
            break
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return medians, errors, done


def measure_case(case, grid, rounds, budget_s, progress=None):
    """The points of one case over ``grid``."""
    points, errors, failed = [], {}, set()
    for n in grid:
        if progress:
            progress(f"{case.key}, N = {n:,}")
        inputs = case.make(n)
        calls = {name: func for name, func in case.calls(inputs).items() if name not in failed}
        if "rival" not in calls and "rival" not in failed:
            errors.setdefault("rival", f"{case.rival_library} not installed")
        medians, point_errors, done = measure_point(calls, rounds, budget_s)
        for name, message in point_errors.items():
            failed.add(name)
            errors[name] = f"N = {n:,}: {message}"
        sizes = {key: list(value.shape) for key, value in inputs.items() if hasattr(value, "shape")}
        points.append({"n": n, "sizes": sizes, "rounds": done, **{f"{k}_s": medians.get(k) for k in calls}})
        del inputs, calls
        gc.collect()  # the next N allocates ten times as much: free this one's arrays and tensors first
    return {
        "key": case.key,
        "title": case.title.replace("`", ""),
        "function": case.function,
        "rival": case.rival_library,
        "unit": case.unit,
        "shape": case.shape,
        "points": points,
        "errors": errors,
    }


def run(quick=False, json_path=None, plot_path=None, progress=None, grid=None, size=None):
    """Measure every case of :data:`SCALING_CASES` over the grid of ``size`` (``"quick"`` with ``quick``)."""
    from .run import environment

    size = size or ("quick" if quick else "full")
    grid = list(grid or GRIDS[size])
    settings = SETTINGS[size]
    results = {
        "kind": "scaling",
        "size": size,
        "n": grid,
        "cases": [
            measure_case(case, grid, settings["rounds"], settings["budget_s"], progress) for case in SCALING_CASES
        ],
        "environment": environment(),
    }
    save(results, json_path, plot_path)
    return results


def format_markdown(results):
    """One table per case: the median times at each N, the speed-up and fastxent's time over the read."""
    lines = [f"Time against input size, {run_label(results)}: medians of interleaved rounds."]
    for case in results["cases"]:
        lines += [
            "",
            f"{case['title']} against {case['rival']}; N = {case['unit']} ({case['shape']}).",
            "",
            f"| N | fastxent | {case['rival']} | NumPy read | speed-up | fastxent ÷ read |",
            "|---|---|---|---|---|---|",
        ]
        for p in case["points"]:
            fx, rival, floor = p.get("fastxent_s"), p.get("rival_s"), p.get("floor_s")
            speedup = f"{rival / fx:.3g}×" if fx and rival else "–"
            over_read = f"{fx / floor:.2f}×" if fx and floor else "–"
            times = " | ".join(duration(seconds) for seconds in (fx, rival, floor))
            lines.append(f"| {count(p['n'])} | {times} | {speedup} | {over_read} |")
        lines += [f"\n{name}: {message}" for name, message in case.get("errors", {}).items()]
    return "\n".join(lines)


def main(argv=None):
    prog = "python -m fastxent.benchmarks.scaling"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N up to 1e6, fewer rounds")
    parser.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="draw time against N with matplotlib")
    args = parser.parse_args(argv)
    results = run(
        quick=args.quick,
        json_path=args.json,
        plot_path=args.plot,
        progress=lambda what: print(f"measuring {what} ...", file=sys.stderr),
    )
    print(format_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
