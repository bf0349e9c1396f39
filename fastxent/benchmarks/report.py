"""How the benchmarks write what they measured: sizes, durations and the kind of run.

Shared by the tables of :mod:`fastxent.benchmarks.run` and
:mod:`fastxent.benchmarks.scaling` and the pictures of
:mod:`fastxent.benchmarks.plot`, so that all of them state the same sizes in
the same words.
"""

from .cases import CASES

__all__ = ["count", "describe_sizes", "duration", "run_label", "sizes_of"]


def duration(seconds):
    """A time in the unit that keeps it between 1 and 1000: ``2.77e-5`` is ``27.7 µs`` (``–`` for None)."""
    if seconds is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def count(value):
    """A size as people write it: ``10_000_000`` is ``1e7``, ``200_000`` is ``2e5``, ``4096`` stays ``4,096``."""
    if value >= 100_000:
        mantissa, exponent = f"{value:.0e}".split("e")
        if int(mantissa) * 10 ** int(exponent) == value:
            return f"{mantissa}e{int(exponent)}"
    return f"{value:,}"


def describe_sizes(sizes):
    """``{"n": 10000000, "k": 10}`` as ``n = 1e7, k = 10`` (empty when unknown)."""
    return ", ".join(
        f"{key} = {count(value) if isinstance(value, int) else value}" for key, value in (sizes or {}).items()
    )


def sizes_of(row, size):
    """The input sizes a row was measured at: recorded in the row, else those of its case at ``size``."""
    if row.get("sizes"):
        return row["sizes"]
    shapes = {case.key: case.shapes for case in CASES}.get(row.get("case"), {})
    return shapes.get(size)


def run_label(results):
    """``full run`` or ``quick run (smaller inputs, few rounds: indicative)``, for titles and captions."""
    size = results.get("size", "full")
    if size == "full":
        return "full run"
    return f"{size} run (smaller inputs, few rounds: indicative)"
