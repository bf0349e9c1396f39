"""The bar chart of ``fastxent bench --plot``: fastxent's speed-up over each rival."""

__all__ = ["plot_ratios", "speedup_figure"]


def plot_ratios(results, path):
    """Bar chart of the speed-up of fastxent over each rival, with the targets, saved to ``path``.

    ``results`` is the dictionary of :func:`fastxent.benchmarks.run.run`: its ``rows``
    have ``title``, ``rival``, ``ratio`` (rival time / fastxent time) and
    ``target``.  Rows without a ratio (rival missing) are left out.
    """
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: works without a display
    import matplotlib.pyplot as plt

    fig = speedup_figure(results, plt)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def speedup_figure(results, plt):
    """The matplotlib figure of :func:`plot_ratios` (also shown in the tour notebook)."""
    rows = [r for r in results["rows"] if r.get("ratio")]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    positions = range(len(rows))
    ax.barh(positions, [r["ratio"] for r in rows], color="tab:blue", label="measured")
    ax.scatter([r["target"] for r in rows], positions, marker="|", s=300, color="tab:red", label="target", zorder=3)
    names = [f"{r['title'].replace('`', '')}\nvs {r['rival']}" for r in rows]
    ax.set_yticks(list(positions), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("speed-up of fastxent (rival time / fastxent time, log scale)")
    for i, r in enumerate(rows):
        ax.text(r["ratio"], i, f" {r['ratio']:.3g}×", va="center", fontsize=8)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
