"""The pictures of ``fastxent bench``: measured times, first calls, and time against input size.

Every picture states what was measured: the sizes of each case's inputs, and
in its title whether the run was a quick one (smaller inputs, few rounds).
It shows the seconds a user weighs -- fastxent's, the rival's and NumPy's to
read the inputs once (the memory-bandwidth floor: no function of the whole
input can be much faster) -- and, for the first call in a fresh process, the
seconds with an empty and with a warm Numba cache.

``python -m fastxent.benchmarks.plot RESULTS.json FIGURE.png`` redraws a saved
run (of :mod:`fastxent.benchmarks.run` or :mod:`fastxent.benchmarks.scaling`)
without measuring again.
"""

import argparse
import json
import sys
import textwrap

from .report import count, describe_sizes, duration, run_label, sizes_of

__all__ = ["save", "save_figure", "comparison_figure", "scaling_figure", "main"]

COLORS = {"fastxent": "tab:blue", "rival": "tab:orange", "floor": "tab:gray", "cold": "tab:red", "warm": "tab:green"}


def save(results, json_path=None, plot_path=None):
    """Write ``results`` as JSON to ``json_path`` and their picture to ``plot_path``, each when given."""
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
    if plot_path:
        save_figure(results, plot_path)


def save_figure(results, path):
    """Draw ``results`` (a comparison run, or a scaling run: ``results["kind"] == "scaling"``) into ``path``."""
    import matplotlib  # imported only when a picture is asked for

    matplotlib.use("Agg")  # a file, never a window: works without a display
    import matplotlib.pyplot as plt

    draw = scaling_figure if results.get("kind") == "scaling" else comparison_figure
    fig = draw(results, plt)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _times_panel(ax, results):
    """Three bars per case: fastxent, its rival, NumPy reading the inputs once (log scale)."""
    rows = [r for r in results["rows"] if r.get("fastxent_s")]
    series = (("fastxent", "fastxent_s"), ("rival", "rival_s"), ("floor", "floor_s"))
    height = 0.27
    for i, r in enumerate(rows):
        for j, (name, key) in enumerate(series):
            seconds = r.get(key)
            if not seconds:
                continue
            y = i + (j - 1) * height
            label = {
                "fastxent": "fastxent",
                "rival": "rival (named on the left)",
                "floor": "NumPy reads the inputs once",
            }[name]
            ax.barh(y, seconds, height, color=COLORS[name], label=label)
            ax.text(seconds, y, f" {duration(seconds)}", va="center", fontsize=7)
    names = []
    for r in rows:
        sizes = describe_sizes(sizes_of(r, results.get("size", "full")))
        verdict = f"{r['ratio']:.3g}× faster than {r['rival']}" if r.get("ratio") else (r.get("error") or "")
        names.append(f"{textwrap.fill(r['title'].replace('`', ''), 48)}\n{sizes}\n{verdict}")
    ax.set_yticks(range(len(rows)), names, fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    ax.set_xlim(low, high * 5)  # room for the last label
    ax.set_xlabel("seconds per call (median, log scale)")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))  # one entry per series, not per bar
    ax.legend(unique.values(), unique.keys(), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8)


def _first_calls_panel(ax, rows):
    """Two bars per entry point: its first call in a fresh process, empty and warm Numba cache."""
    height = 0.38
    for i, r in enumerate(rows):
        for j, (name, key, label) in enumerate(
            (("cold", "cold_s", "empty cache (compiles)"), ("warm", "warm_s", "warm cache (loads)"))
        ):
            y = i + (j - 0.5) * height
            ax.barh(y, r[key], height, color=COLORS[name], label=label if i == 0 else None)
            ax.text(r[key], y, f" {r[key]:.2f} s", va="center", fontsize=7)
    ax.set_yticks(range(len(rows)), [f"{r['case']}\nafter `{r['baseline']}`" for r in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, ax.get_xlim()[1] * 1.15)
    ax.set_xlabel("seconds of the first call in a fresh process (importing fastxent included)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8)


def comparison_figure(results, plt):
    """The figure of a comparison run: measured times per case, then the first calls if measured."""
    rows = [r for r in results["rows"] if r.get("fastxent_s")]
    first_calls = results.get("cold_start") or []
    heights = [1.5 + 0.75 * max(len(rows), 1)] + ([1.5 + 0.45 * len(first_calls)] if first_calls else [])
    fig, axes = plt.subplots(
        len(heights), 1, figsize=(10, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    _times_panel(axes[0, 0], results)
    cpus = (results.get("environment") or {}).get("cpus")
    axes[0, 0].set_title(
        f"fastxent bench, {run_label(results)}{f', {cpus} CPUs' if cpus else ''}: each case with its input sizes",
        fontsize=9,
        pad=24,  # the legend sits between the title and the bars
    )
    if first_calls:
        _first_calls_panel(axes[1, 0], first_calls)
        axes[1, 0].set_title(
            "Time to first result: each entry point's first call in a fresh process", fontsize=9, pad=24
        )
    fig.tight_layout()
    return fig


def scaling_figure(results, plt):
    """The figure of a scaling run: per case, seconds and nanoseconds per input value against N (log-log)."""
    cases = results["cases"]
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 7.5), squeeze=False, sharex="col")
    series = (("fastxent", "fastxent_s", "fastxent"), ("floor", "floor_s", "NumPy reads the inputs once"))
    for column, case in enumerate(cases):
        top, bottom = axes[0, column], axes[1, column]
        for name, key, label in (*series[:1], ("rival", "rival_s", case["rival"]), *series[1:]):
            points = [p for p in case["points"] if p.get(key)]
            n = [p["n"] for p in points]
            style = {"color": COLORS[name], "marker": "o", "markersize": 3, "label": label}
            if name == "floor":
                style["linestyle"] = "--"
            top.plot(n, [p[key] for p in points], **style)
            bottom.plot(n, [p[key] / p["n"] * 1e9 for p in points], **style)
        top.set_title(f"{case['title']}\n{case['shape']}", fontsize=8)
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(True, which="major", linewidth=0.4, alpha=0.5)
        top.set_ylabel("seconds per call (median)")
        bottom.set_ylabel("nanoseconds per input value")
        bottom.set_xlabel(f"N = {case['unit']}")
        top.legend(fontsize=7)
    grid = results["n"]
    fig.suptitle(
        f"Time against input size, {run_label(results)}, N = {count(grid[0])} … {count(grid[-1])}: per-call"
        " overhead on the left, memory bandwidth on the right",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastxent.benchmarks.plot", description=__doc__.split("\n")[0])
    parser.add_argument("results", help="JSON written by `fastxent bench --json` (or --scaling --json)")
    parser.add_argument("figure", help="the PNG (or any matplotlib format) to write")
    args = parser.parse_args(argv)
    with open(args.results, encoding="utf-8") as f:
        save_figure(json.load(f), args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
