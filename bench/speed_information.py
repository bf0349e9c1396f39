"""Speed of the mutual-information family and ``jensenshannon`` against their rivals.

Medians of ``--rounds`` interleaved calls (fastxent, the rival, NumPy reading
the inputs once) after a warm-up call that compiles the kernels:

* ``mutual_info_score`` / ``normalized_mutual_info_score``, N = 1e7, 100 x 100
  integer labels, against scikit-learn (and the NumPy read for MI);
* ``adjusted_mutual_info_score``, N = 1e6, 100 x 100 clusters;
* ``adjusted_mutual_info_score``, N = 1e6, 1000 x 1000 clusters: scikit-learn
  takes about a minute, so it runs once, and only with ``--with-1000``;
* ``adjusted_mutual_info_score``, N = 1e6, ``arange(N) % 8000`` vs ``% 7000``:
  scikit-learn would take minutes; its time is *estimated* as 100 times its
  expected-MI loop on 800 x 700 clusters of the same sizes (125 / ~143
  samples, N = 1e6), the loop that dominates and scales with the number of
  cluster pairs;
* ``jensenshannon(P, Q, axis=1)`` and ``entropy(P, Q, axis=1)``, 1e6 x 10,
  against SciPy and the NumPy read (the two share their row kernels' tile loop).

    python bench/speed_information.py [--rounds 5] [--with-1000]
"""

import argparse
import os
import time

import numpy as np
from sklearn.metrics.cluster import expected_mutual_information

import fastxent
from fastxent.benchmarks.references import lookup

scipy_jensenshannon = lookup("jensenshannon", "scipy")
scipy_entropy = lookup("entropy", "scipy")
contingency_matrix = lookup("contingency_matrix", "scikit-learn")


def _time(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def _medians(calls, rounds):
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, f in calls.items():
            times[name].append(_time(f))
    return {name: float(np.median(t)) for name, t in times.items()}


def _report(title, m, target):
    parts = [f"{name} {seconds * 1e3:.1f} ms" for name, seconds in m.items()]
    if "rival" in m:
        parts.append(f"speed-up {m['rival'] / m['fastxent']:.0f}x (target {target})")
    if "NumPy read" in m:
        parts.append(f"fastxent / NumPy read {m['fastxent'] / m['NumPy read']:.2f}")
    print(f"{title}: " + ", ".join(parts) + f"; load average {os.getloadavg()[0]:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--with-1000", action="store_true", help="run scikit-learn once on 1000 x 1000 clusters")
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    x, y = rng.integers(0, 100, 10**7), rng.integers(0, 100, 10**7)
    for name, target, floor in [
        ("mutual_info_score", ">= 100x, <= 2x the read", True),
        ("normalized_mutual_info_score", ">= 100x", False),
    ]:
        ours, theirs = getattr(fastxent, name), lookup(name, "scikit-learn")
        ours(x, y)
        calls = {"fastxent": lambda f=ours: f(x, y), "rival": lambda f=theirs: f(x, y)}
        if floor:
            calls["NumPy read"] = lambda: (x.sum(), y.sum())
        _report(f"{name}, N = 1e7, 100 x 100", _medians(calls, min(args.rounds, 3)), target)
    _report(
        "mutual_info_score, N = 1e7 (fastxent and the read only)",
        _medians(
            {"fastxent": lambda: fastxent.mutual_info_score(x, y), "NumPy read": lambda: (x.sum(), y.sum())},
            3 * args.rounds,
        ),
        "",
    )

    x, y = rng.integers(0, 100, 10**6), rng.integers(0, 100, 10**6)
    fastxent.adjusted_mutual_info_score(x, y)
    _report(
        "adjusted_mutual_info_score, N = 1e6, 100 x 100",
        _medians(
            {
                "fastxent": lambda: fastxent.adjusted_mutual_info_score(x, y),
                "rival": lambda: lookup("adjusted_mutual_info_score", "scikit-learn")(x, y),
            },
            min(args.rounds, 3),
        ),
        ">= 50x",
    )

    x, y = rng.integers(0, 1000, 10**6), rng.integers(0, 1000, 10**6)
    fastxent.adjusted_mutual_info_score(x, y)
    m = _medians({"fastxent": lambda: fastxent.adjusted_mutual_info_score(x, y)}, args.rounds)
    if args.with_1000:
        m["rival"] = _time(lambda: lookup("adjusted_mutual_info_score", "scikit-learn")(x, y))
    _report("adjusted_mutual_info_score, N = 1e6, 1000 x 1000", m, ">= 20x")

    x, y = np.arange(10**6) % 8000, np.arange(10**6) % 7000
    fastxent.adjusted_mutual_info_score(x, y)
    m = _medians({"fastxent": lambda: fastxent.adjusted_mutual_info_score(x, y)}, args.rounds)
    small = contingency_matrix(np.arange(10**5) % 800, np.arange(10**5) % 700, sparse=True)
    loop = _time(lambda: expected_mutual_information(small, 10**6))
    print(
        f"adjusted_mutual_info_score, N = 1e6, % 8000 vs % 7000: fastxent {m['fastxent'] * 1e3:.0f} ms "
        f"(target <= 2 s); scikit-learn estimated {100 * loop:.0f} s (its expected-MI loop on 800 x 700 "
        f"clusters of the same sizes took {loop:.2f} s; 100 times the pairs)",
        flush=True,
    )

    P, Q = rng.random((10**6, 10)), rng.random((10**6, 10))
    for name, rival, target in [
        ("jensenshannon", scipy_jensenshannon, ">= 20x, <= 1.5x the read"),
        ("entropy", scipy_entropy, "<= 1.3x the read"),
    ]:
        ours = getattr(fastxent, name)
        ours(P, Q, axis=1)
        calls = {
            "fastxent": lambda f=ours: f(P, Q, axis=1),
            "rival": lambda f=rival: f(P, Q, axis=1),
            "NumPy read": lambda: (P.sum(), Q.sum()),
        }
        _report(f"{name}(P, Q, axis=1), 1e6 x 10", _medians(calls, args.rounds), target)


if __name__ == "__main__":
    main()
