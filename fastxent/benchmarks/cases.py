"""The benchmark cases, shared by ``bench/`` and ``fastxent bench``.

Each :class:`Case` builds its inputs at one of three sizes (``"full"``: the
sizes the speed targets are set at, ``"quick"``: a few times smaller,
``"smoke"``: tiny, for the test-suite) and names one public fastxent function
with the arguments to give it.  The rival is that function's reference of the
case's library in :data:`fastxent.benchmarks.references.REFERENCES`, given the
same arguments and bound to them beforehand (:meth:`Reference.bind`: inputs
converted to the library's types once, so conversion is not timed).  Where a
target is set against it, the "floor" is NumPy reading the inputs once.
"""

import functools
import importlib
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .references import lookup


def _package():
    """The ``fastxent`` package, whose public names the cases refer to (imported on first use)."""
    return importlib.import_module("..", __package__)


__all__ = ["Case", "CASES", "SIZES", "cases_of", "make_inputs"]

SIZES = ("full", "quick", "smoke")


@dataclass(frozen=True)
class Case:
    key: str  # short id, also the pytest-benchmark group
    family: str  # bench file: log_loss, cross_entropy, entropy, binary, information
    title: str  # row label of the markdown table, without the sizes (they depend on the run)
    shapes: dict  # size name -> parameters of ``make``
    make: Callable  # (**params) -> dict of inputs
    function: str  # public fastxent name, also its key in REFERENCES
    arguments: Callable  # (inputs) -> (args, kwargs) for fastxent and the rival alike
    rival_library: str  # library of the reference: "scikit-learn", "scipy", "torch", "numpy"
    target_speedup: float
    floor: Optional[Callable] = None  # (inputs) -> None, NumPy reading the inputs once
    target_floor: Optional[float] = None  # fastxent time / floor time at most
    rtol: float = 1e-10  # agreement of fastxent and rival in the smoke test

    @property
    def rival(self):
        """The :class:`~fastxent.benchmarks.references.Reference` fastxent is compared with."""
        return lookup(self.function, self.rival_library)

    def fastxent_call(self, inputs):
        """fastxent's function bound to the case's arguments (a callable without arguments)."""
        args, kwargs = self.arguments(inputs)
        return functools.partial(getattr(_package(), self.function), *args, **kwargs)

    def rival_call(self, inputs):
        """The rival bound to the same arguments, its inputs converted beforehand."""
        args, kwargs = self.arguments(inputs)
        return self.rival.bind(*args, **kwargs)

    def floor_call(self, inputs):
        return None if self.floor is None else functools.partial(self.floor, inputs)


def _rng(seed=12345):
    return np.random.default_rng(seed)


def _probability_rows(rng, n, k):
    p = rng.random((n, k)) + 1e-3
    p /= p.sum(axis=1, keepdims=True)
    return p


# ----------------------------------------------------------------- inputs


def make_binary(n):
    rng = _rng()
    return {"y": rng.integers(0, 2, n), "p": rng.random(n) * 0.998 + 0.001}


def make_multiclass(n, k):
    rng = _rng()
    y = rng.permutation(np.arange(n) % k)  # every class present
    return {"y": y, "P": _probability_rows(rng, n, k), "labels": list(range(k))}


def make_logits(n, k, dtype="float32"):
    rng = _rng()
    z = rng.standard_normal((n, k), dtype=np.float32 if dtype == "float32" else np.float64) * 3
    y = rng.integers(0, k, n)
    return {"y": y, "z": z}


def make_distributions(n, k):
    rng = _rng()
    return {"P": _probability_rows(rng, n, k), "Q": _probability_rows(rng, n, k)}


def make_binary_logits(n):
    rng = _rng()
    return {"y": rng.integers(0, 2, n).astype(np.float64), "z": rng.standard_normal(n) * 4}


def make_labelings(n, k_true, k_pred):
    rng = _rng()
    return {"x": rng.integers(0, k_true, n), "y": rng.integers(0, k_pred, n)}


# -------------------------------------------------------------- arguments


def _given(*keys, **kwargs):
    """(inputs) -> (the inputs named ``keys``, ``kwargs``)."""
    return lambda d: (tuple(d[key] for key in keys), kwargs)


def _with_labels(d):
    return (d["y"], d["P"]), {"labels": d["labels"]}


def _read_labelings(d):
    d["x"].sum()
    d["y"].sum()


def _read_distributions(d):
    d["P"].sum()
    d["Q"].sum()


def _read_binary(d):
    d["p"].sum()
    d["y"].sum()


CASES = (
    Case(
        "log_loss-binary-1e7",
        "log_loss",
        "`log_loss`, binary, integer labels {0, 1}, 1-D probabilities",
        {"full": {"n": 10_000_000}, "quick": {"n": 1_000_000}, "smoke": {"n": 5_000}},
        make_binary,
        "log_loss",
        _given("y", "p"),
        "scikit-learn",
        200.0,
        _read_binary,
        1.5,
        1e-12,
    ),
    Case(
        "log_loss-1e6x10",
        "log_loss",
        "`log_loss`, 10 classes, `labels=range(10)`",
        {"full": {"n": 1_000_000, "k": 10}, "quick": {"n": 200_000, "k": 10}, "smoke": {"n": 2_000, "k": 10}},
        make_multiclass,
        "log_loss",
        _with_labels,
        "scikit-learn",
        50.0,
        lambda d: d["P"].sum(),
        1.5,
        1e-12,
    ),
    Case(
        "log_loss-1e5x1000",
        "log_loss",
        "`log_loss`, many classes",
        {"full": {"n": 100_000, "k": 1000}, "quick": {"n": 20_000, "k": 1000}, "smoke": {"n": 500, "k": 100}},
        make_multiclass,
        "log_loss",
        _given("y", "P"),
        "scikit-learn",
        30.0,
        lambda d: d["P"].sum(),
        1.3,
        1e-12,
    ),
    Case(
        "log_loss-1e3",
        "log_loss",
        "`log_loss`, binary, small input (per-call overhead)",
        {"full": {"n": 1000}, "quick": {"n": 1000}, "smoke": {"n": 1000}},
        make_binary,
        "log_loss",
        _given("y", "p"),
        "scikit-learn",
        10.0,
        None,
        None,
        1e-12,
    ),
    Case(
        "cross_entropy-logits-4096x32000",
        "cross_entropy",
        "`cross_entropy(..., from_logits=True)`, float32 logits",
        {"full": {"n": 4096, "k": 32000}, "quick": {"n": 512, "k": 32000}, "smoke": {"n": 64, "k": 500}},
        make_logits,
        "cross_entropy",
        _given("y", "z", from_logits=True),
        "torch",
        4.0,
        lambda d: d["z"].sum(),
        None,
        1e-5,
    ),
    Case(
        "cross_entropy_value_and_grad-4096x32000",
        "cross_entropy",
        "`cross_entropy_value_and_grad` (same input) vs torch forward + backward",
        {"full": {"n": 4096, "k": 32000}, "quick": {"n": 512, "k": 32000}, "smoke": {"n": 64, "k": 500}},
        make_logits,
        "cross_entropy_value_and_grad",
        _given("y", "z", from_logits=True),
        "torch",
        3.0,
        None,
        None,
        1e-5,
    ),
    Case(
        "entropy-1e6x10",
        "entropy",
        "`entropy(P, Q, axis=1)`, rows of 10",
        {"full": {"n": 1_000_000, "k": 10}, "quick": {"n": 200_000, "k": 10}, "smoke": {"n": 2_000, "k": 10}},
        make_distributions,
        "entropy",
        _given("P", "Q", axis=1),
        "scipy",
        20.0,
        lambda d: (d["P"].sum(), d["Q"].sum()),
        None,
        1e-12,
    ),
    Case(
        "binary_cross_entropy-logits-1e7",
        "binary",
        "`binary_cross_entropy(..., from_logits=True)`",
        {"full": {"n": 10_000_000}, "quick": {"n": 1_000_000}, "smoke": {"n": 5_000}},
        make_binary_logits,
        "binary_cross_entropy",
        _given("y", "z", from_logits=True),
        "torch",
        3.0,
        lambda d: (d["z"].sum(), d["y"].sum()),
        None,
        1e-12,
    ),
)


_LABELINGS_1E7 = {
    "full": {"n": 10_000_000, "k_true": 100, "k_pred": 100},
    "quick": {"n": 1_000_000, "k_true": 100, "k_pred": 100},
    "smoke": {"n": 5_000, "k_true": 10, "k_pred": 10},
}

CASES += (
    Case(
        "mutual_info-1e7-100x100",
        "information",
        "`mutual_info_score`, 100 × 100 integer labels",
        _LABELINGS_1E7,
        make_labelings,
        "mutual_info_score",
        _given("x", "y"),
        "scikit-learn",
        100.0,
        _read_labelings,
        2.0,
        1e-12,
    ),
    Case(
        "normalized_mutual_info-1e7-100x100",
        "information",
        "`normalized_mutual_info_score`, 100 × 100 integer labels",
        _LABELINGS_1E7,
        make_labelings,
        "normalized_mutual_info_score",
        _given("x", "y"),
        "scikit-learn",
        100.0,
        None,
        None,
        1e-12,
    ),
    Case(
        # scikit-learn's expected MI is ~1e-9 relative from exact (log-gamma
        # cancellation), which the chance-adjusted score amplifies.
        "adjusted_mutual_info-1e6-100x100",
        "information",
        "`adjusted_mutual_info_score`, 100 × 100 clusters",
        {
            "full": {"n": 1_000_000, "k_true": 100, "k_pred": 100},
            "quick": {"n": 100_000, "k_true": 100, "k_pred": 100},
            "smoke": {"n": 2_000, "k_true": 10, "k_pred": 10},
        },
        make_labelings,
        "adjusted_mutual_info_score",
        _given("x", "y"),
        "scikit-learn",
        50.0,
        None,
        None,
        1e-6,
    ),
    Case(
        "jensenshannon-1e6x10",
        "information",
        "`jensenshannon(P, Q, axis=1)`, rows of 10",
        {"full": {"n": 1_000_000, "k": 10}, "quick": {"n": 200_000, "k": 10}, "smoke": {"n": 2_000, "k": 10}},
        make_distributions,
        "jensenshannon",
        _given("P", "Q", axis=1),
        "scipy",
        20.0,
        _read_distributions,
        1.5,
        1e-12,
    ),
)


def cases_of(family):
    return [c for c in CASES if c.family == family]


def make_inputs(case, size):
    return case.make(**case.shapes[size])
