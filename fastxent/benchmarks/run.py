"""The comparison table: fastxent against its rivals, measured now.

Entry points (the ``fastxent bench`` command calls :func:`run` and
:func:`format_markdown`)::

    run(quick=False, json_path=None, plot_path=None, memory=True, cold_start=True) -> dict
        Measure every case of ``fastxent.benchmarks.cases.CASES``, the
        extra-memory case and the first calls of
        :mod:`fastxent.benchmarks.cold_start`, and return ``{"rows": [...],
        "memory": {...}, "cold_start": [...], "environment": {...}}``
        (JSON-serializable).  Each row has ``case``,
        ``title``, ``sizes`` (the parameters its inputs were built with),
        ``rival``, ``ratio`` (rival time / fastxent time, None if
        the rival is missing or a call failed), the median times
        ``fastxent_s``/``rival_s``/``floor_s``, ``floor_ratio`` (fastxent
        time / NumPy reading the inputs once), and the project's own
        ``target``, ``floor_target`` and ``met`` (kept in the JSON, never
        drawn or printed).  Writes the JSON to ``json_path`` and the picture of
        :func:`fastxent.benchmarks.plot.comparison_figure` to ``plot_path``
        (matplotlib) when given.
    format_markdown(results) -> str
    main(argv=None) -> int          ``python -m fastxent.benchmarks.run [--quick] [--json F] [--plot F]``

Method: inputs are built once per case; every callable is called once to
warm up (JIT compilation, library initialisation); then the callables of a
case are timed in turn, round after round, so that machine noise hits them
alike; the table shows medians of the same run.  ``--quick`` uses smaller
inputs and fewer rounds (the ratios are then only indicative).

Extra memory: a subprocess builds the N = 1e7 binary inputs, calls the
function once (warm-up), resets the kernel's peak-RSS counter
(``/proc/self/clear_refs``), calls again and reports peak RSS minus the RSS
before that call, as a fraction of the input's bytes.
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from .cases import CASES, make_inputs
from .plot import save
from .references import lookup
from .report import count, describe_sizes, duration, run_label, sizes_of

__all__ = ["run", "format_markdown", "main", "measure_case", "measure_extra_memory"]

_RIVAL_MODULES = {"scikit-learn": "sklearn", "scipy": "scipy", "torch": "torch"}  # versions in the environment
FULL = {"size": "full", "rounds": 9, "budget_s": 20.0}
QUICK = {"size": "quick", "rounds": 5, "budget_s": 4.0}
MEMORY_N = 10_000_000
MEMORY_TARGET = 0.02


def _timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def measure_case(case, size="full", rounds=9, budget_s=20.0):
    """Median seconds of fastxent, the rival and the floor on one case."""
    row = {
        "case": case.key,
        "title": case.title,
        "sizes": dict(case.shapes[size]),
        "rival": case.rival_library,
        "target": case.target_speedup,
        "floor_target": case.target_floor,
        "fastxent_s": None,
        "rival_s": None,
        "floor_s": None,
        "ratio": None,
        "floor_ratio": None,
        "met": None,
        "error": None,
    }
    inputs = make_inputs(case, size)
    try:
        calls = {"fastxent": case.fastxent_call(inputs)}
        if case.rival.available():
            calls["rival"] = case.rival_call(inputs)
        else:
            row["error"] = f"{case.rival_library} not installed"
        if case.floor is not None:
            calls["floor"] = case.floor_call(inputs)
        for func in calls.values():
            func()
    except Exception as exc:  # a missing or failing function: report, keep going
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    times = {name: [] for name in calls}
    start = time.perf_counter()
    for done in range(1, rounds + 1):
        for name, func in calls.items():
            times[name].append(_timed(func))
        if done >= 3 and time.perf_counter() - start > budget_s:
            break
    for name, samples in times.items():
        row[f"{name}_s"] = statistics.median(samples)
    row["rounds"] = len(times["fastxent"])
    if row["rival_s"] is not None:
        row["ratio"] = row["rival_s"] / row["fastxent_s"]
    if row["floor_s"] is not None:
        row["floor_ratio"] = row["fastxent_s"] / row["floor_s"]
    if row["ratio"] is not None:
        row["met"] = row["ratio"] >= case.target_speedup and (
            case.target_floor is None or row["floor_ratio"] <= case.target_floor
        )
    return row


_MEMORY_CHILD = """
import json, sys
import numpy as np
from fastxent.benchmarks.run import _peak_growth
from fastxent.benchmarks.cases import make_binary
from fastxent.benchmarks.references import lookup
which, n = sys.argv[1], int(sys.argv[2])
d = make_binary(n)
if which == "fastxent":
    import fastxent
    func = fastxent.log_loss
else:
    func = lookup("log_loss", which)
growth = _peak_growth(lambda: func(d["y"], d["p"]))
print(json.dumps({"growth_bytes": growth, "input_bytes": d["y"].nbytes + d["p"].nbytes}))
"""


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _peak_growth(call):
    """Peak RSS during ``call()`` minus RSS before it, in bytes (Linux)."""
    call()  # warm-up: compilation and first-touch allocations are not counted
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    call()
    return max(0, _status_kib("VmHWM") - before) * 1024


def measure_extra_memory(n=MEMORY_N):
    """Extra peak memory of log_loss (fastxent and scikit-learn) on n binary samples."""
    result = {"n": n, "target_fraction": MEMORY_TARGET}
    if not os.path.exists("/proc/self/clear_refs"):
        result["error"] = "needs Linux /proc/self/clear_refs"
        return result
    for which in ("fastxent", "scikit-learn"):
        if which != "fastxent" and not lookup("log_loss", which).available():
            continue
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, which, str(n)], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            result[which] = {"error": lines[-1] if lines else f"exit status {done.returncode}"}
            continue
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        measured["fraction"] = measured["growth_bytes"] / measured["input_bytes"]
        result[which] = measured
    fx = result.get("fastxent", {})
    if "fraction" in fx:
        result["met"] = fx["fraction"] <= MEMORY_TARGET
    return result


def environment():
    import numba
    import numpy as np

    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }
    try:
        env["threading_layer"] = numba.threading_layer()
    except ValueError:
        env["threading_layer"] = None
    for lib, module in _RIVAL_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            env[lib] = importlib.import_module(module).__version__
    if importlib.util.find_spec("threadpoolctl") is not None:  # which BLAS kernel NumPy ran
        from threadpoolctl import threadpool_info

        env["blas"] = [
            f"{i.get('internal_api')} {i.get('architecture')} x{i.get('num_threads')}" for i in threadpool_info()
        ]
    return env


def run(quick=False, json_path=None, plot_path=None, memory=True, cold_start=True, progress=None):
    """Measure every case; see the module docstring for the result's layout."""
    settings = QUICK if quick else FULL
    rows = []
    for case in CASES:
        if progress:
            progress(case.key)
        rows.append(measure_case(case, settings["size"], settings["rounds"], settings["budget_s"]))
    first_calls = None
    if cold_start:
        from . import cold_start as _cold_start

        if progress:
            progress("first calls in fresh processes")
        first_calls = _cold_start.run(quick=quick)
    results = {
        "size": settings["size"],
        "rows": rows,
        "memory": measure_extra_memory(1_000_000 if quick else MEMORY_N) if memory else None,
        "cold_start": first_calls,
        "environment": environment(),
    }
    save(results, json_path, plot_path)
    return results


def format_markdown(results):
    """The measured times of fastxent, its rival and the NumPy read, as GitHub markdown."""
    size = results.get("size", "full")
    lines = [
        f"{run_label(results).capitalize()}: medians of interleaved rounds. Speed-up = rival time / fastxent time;"
        " NumPy read = NumPy reading the inputs once (`p.sum(); y.sum()`), the memory-bandwidth floor.",
        "",
        "| case | inputs | rival | fastxent | rival time | NumPy read | speed-up | fastxent ÷ read |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        measured = "–" if r["ratio"] is None else f"{r['ratio']:.1f}×"
        if r.get("error"):
            measured += f" ({r['error']})"
        floor = "–" if r["floor_ratio"] is None else f"{r['floor_ratio']:.2f}×"
        times = " | ".join(duration(r.get(key)) for key in ("fastxent_s", "rival_s", "floor_s"))
        sizes = describe_sizes(sizes_of(r, size)) or "–"
        lines.append(f"| {r['title']} | {sizes} | {r['rival']} | {times} | {measured} | {floor} |")
    mem = results.get("memory")
    if mem:

        def pct(m):
            return f"{m['fraction'] * 100:.2f} % of the input" if "fraction" in m else m.get("error", "–")

        lines += [
            "",
            f"Extra memory of `log_loss` on N = {count(mem['n'])} binary samples (peak resident memory added by one"
            f" call): fastxent {pct(mem.get('fastxent', {}))}, scikit-learn {pct(mem.get('scikit-learn', {}))}.",
        ]
    if results.get("cold_start"):
        from .cold_start import format_table

        lines += [
            "",
            "Time to first result: seconds a fresh process spends in its first call (importing Numba and"
            " fastxent, compiling or loading the compiled code, running), with an empty Numba cache and with"
            " the cache the first process left.",
            "",
            format_table(results["cold_start"]),
        ]
    env = results.get("environment") or {}
    if env:
        names = ("python", "numpy", "numba", "scikit-learn", "scipy", "torch")
        lines += [
            "",
            "Environment: "
            + ", ".join(f"{n} {env[n]}" for n in names if n in env)
            + f"; {env.get('cpus')} CPUs, Numba threading layer {env.get('threading_layer')}"
            f" x{env.get('numba_threads')}; BLAS: {', '.join(sorted(set(env.get('blas', []))))}",
        ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastxent.benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer rounds")
    parser.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="draw the times with matplotlib")
    parser.add_argument("--no-memory", action="store_true", help="skip the extra-memory case")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the first calls in fresh processes")
    args = parser.parse_args(argv)
    results = run(
        quick=args.quick,
        json_path=args.json,
        plot_path=args.plot,
        memory=not args.no_memory,
        cold_start=not args.no_cold_start,
        progress=lambda what: print(f"measuring {what} ...", file=sys.stderr),
    )
    print(format_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
