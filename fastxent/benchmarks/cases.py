"""The benchmark cases, shared by ``bench/`` and ``fastxent bench``.

Each :class:`Case` builds its inputs at one of three sizes (``"full"``:
the sizes the speed targets are set at, ``"quick"``: a few times smaller, ``"smoke"``: tiny, for
the test-suite), and names three callables on those inputs: fastxent's
call, the rival's call (the rival library itself on inputs converted
beforehand, so conversion is not timed) and, where a target is set against it,
the "floor": NumPy reading the inputs once.  The rival's result is checked
against fastxent's by the smoke tests through the ``REFERENCES`` adapters.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ["Case", "CASES", "SIZES", "cases_of"]

SIZES = ("full", "quick", "smoke")


@dataclass(frozen=True)
class Case:
    key: str  # short id, also the pytest-benchmark group
    family: str  # bench file: log_loss, cross_entropy, entropy, binary, information
    title: str  # row label of the markdown table
    shapes: dict  # size name -> parameters of ``make``
    make: Callable  # (**params) -> dict of inputs
    fastxent: Callable  # (inputs) -> result
    rival_library: str
    rival: Callable  # (inputs) -> result
    target_speedup: float
    floor: Optional[Callable] = None  # (inputs) -> None, NumPy reading the inputs once
    target_floor: Optional[float] = None  # fastxent time / floor time at most
    rtol: float = 1e-10  # agreement of fastxent and rival in the smoke test


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


# ------------------------------------------------------------------ calls
# fastxent and the rivals are imported inside the calls: building the case
# table imports nothing heavy.


def _fx(name):
    import fastxent

    return getattr(fastxent, name)


def _sklearn_log_loss(d, **kwargs):
    from sklearn.metrics import log_loss

    return log_loss(d["y"], d.get("p", d.get("P")), **kwargs)


def _torch_inputs(d):
    import torch

    if "_torch" not in d:  # converted once (zero-copy views), never timed
        d["_torch"] = (torch.from_numpy(d["z"]), torch.from_numpy(np.asarray(d["y"])))
    return d["_torch"]


def _torch_cross_entropy(d):
    import torch.nn.functional as F

    z, y = _torch_inputs(d)
    return float(F.cross_entropy(z, y))


def _torch_cross_entropy_forward_backward(d):
    import torch.nn.functional as F

    z, y = _torch_inputs(d)
    z = z.detach().requires_grad_(True)
    loss = F.cross_entropy(z, y)
    loss.backward()
    return float(loss.detach()), z.grad.numpy()


def _torch_bce_with_logits(d):
    import torch.nn.functional as F

    z, y = _torch_inputs(d)
    return float(F.binary_cross_entropy_with_logits(z, y))


def _sklearn_metric(name, **kwargs):
    def call(d):
        import sklearn.metrics

        return getattr(sklearn.metrics, name)(d["x"], d["y"], **kwargs)

    return call


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
        "`log_loss`, binary, N = 1e7, integer labels {0, 1}, 1-D probabilities",
        {"full": {"n": 10_000_000}, "quick": {"n": 1_000_000}, "smoke": {"n": 5_000}},
        make_binary,
        lambda d: _fx("log_loss")(d["y"], d["p"]),
        "scikit-learn",
        _sklearn_log_loss,
        200.0,
        _read_binary,
        1.5,
        1e-12,
    ),
    Case(
        "log_loss-1e6x10",
        "log_loss",
        "`log_loss`, N = 1e6, K = 10, `labels=range(10)`",
        {"full": {"n": 1_000_000, "k": 10}, "quick": {"n": 200_000, "k": 10}, "smoke": {"n": 2_000, "k": 10}},
        make_multiclass,
        lambda d: _fx("log_loss")(d["y"], d["P"], labels=d["labels"]),
        "scikit-learn",
        lambda d: _sklearn_log_loss(d, labels=d["labels"]),
        50.0,
        lambda d: d["P"].sum(),
        1.5,
        1e-12,
    ),
    Case(
        "log_loss-1e5x1000",
        "log_loss",
        "`log_loss`, N = 1e5, K = 1000",
        {"full": {"n": 100_000, "k": 1000}, "quick": {"n": 20_000, "k": 1000}, "smoke": {"n": 500, "k": 100}},
        make_multiclass,
        lambda d: _fx("log_loss")(d["y"], d["P"]),
        "scikit-learn",
        _sklearn_log_loss,
        30.0,
        lambda d: d["P"].sum(),
        1.3,
        1e-12,
    ),
    Case(
        "log_loss-1e3",
        "log_loss",
        "`log_loss`, N = 1000 (per-call overhead)",
        {"full": {"n": 1000}, "quick": {"n": 1000}, "smoke": {"n": 1000}},
        make_binary,
        lambda d: _fx("log_loss")(d["y"], d["p"]),
        "scikit-learn",
        _sklearn_log_loss,
        10.0,
        None,
        None,
        1e-12,
    ),
    Case(
        "cross_entropy-logits-4096x32000",
        "cross_entropy",
        "`cross_entropy(..., from_logits=True)`, float32 logits 4096 × 32000",
        {"full": {"n": 4096, "k": 32000}, "quick": {"n": 512, "k": 32000}, "smoke": {"n": 64, "k": 500}},
        make_logits,
        lambda d: _fx("cross_entropy")(d["y"], d["z"], from_logits=True),
        "torch",
        _torch_cross_entropy,
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
        lambda d: _fx("cross_entropy_value_and_grad")(d["y"], d["z"], from_logits=True),
        "torch",
        _torch_cross_entropy_forward_backward,
        3.0,
        None,
        None,
        1e-5,
    ),
    Case(
        "entropy-1e6x10",
        "entropy",
        "`entropy(P, Q, axis=1)`, 1e6 × 10",
        {"full": {"n": 1_000_000, "k": 10}, "quick": {"n": 200_000, "k": 10}, "smoke": {"n": 2_000, "k": 10}},
        make_distributions,
        lambda d: _fx("entropy")(d["P"], d["Q"], axis=1),
        "scipy",
        lambda d: __import__("scipy.stats").stats.entropy(d["P"], d["Q"], axis=1),
        20.0,
        lambda d: (d["P"].sum(), d["Q"].sum()),
        None,
        1e-12,
    ),
    Case(
        "binary_cross_entropy-logits-1e7",
        "binary",
        "`binary_cross_entropy(..., from_logits=True)`, N = 1e7",
        {"full": {"n": 10_000_000}, "quick": {"n": 1_000_000}, "smoke": {"n": 5_000}},
        make_binary_logits,
        lambda d: _fx("binary_cross_entropy")(d["y"], d["z"], from_logits=True),
        "torch",
        _torch_bce_with_logits,
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
        "`mutual_info_score`, N = 1e7, 100 × 100 integer labels",
        _LABELINGS_1E7,
        make_labelings,
        lambda d: _fx("mutual_info_score")(d["x"], d["y"]),
        "scikit-learn",
        _sklearn_metric("mutual_info_score"),
        100.0,
        _read_labelings,
        2.0,
        1e-12,
    ),
    Case(
        "normalized_mutual_info-1e7-100x100",
        "information",
        "`normalized_mutual_info_score`, N = 1e7, 100 × 100 integer labels",
        _LABELINGS_1E7,
        make_labelings,
        lambda d: _fx("normalized_mutual_info_score")(d["x"], d["y"]),
        "scikit-learn",
        _sklearn_metric("normalized_mutual_info_score"),
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
        "`adjusted_mutual_info_score`, N = 1e6, 100 × 100 clusters",
        {
            "full": {"n": 1_000_000, "k_true": 100, "k_pred": 100},
            "quick": {"n": 100_000, "k_true": 100, "k_pred": 100},
            "smoke": {"n": 2_000, "k_true": 10, "k_pred": 10},
        },
        make_labelings,
        lambda d: _fx("adjusted_mutual_info_score")(d["x"], d["y"]),
        "scikit-learn",
        _sklearn_metric("adjusted_mutual_info_score"),
        50.0,
        None,
        None,
        1e-6,
    ),
    Case(
        "jensenshannon-1e6x10",
        "information",
        "`jensenshannon(P, Q, axis=1)`, 1e6 × 10",
        {"full": {"n": 1_000_000, "k": 10}, "quick": {"n": 200_000, "k": 10}, "smoke": {"n": 2_000, "k": 10}},
        make_distributions,
        lambda d: _fx("jensenshannon")(d["P"], d["Q"], axis=1),
        "scipy",
        lambda d: __import__("scipy.spatial.distance").spatial.distance.jensenshannon(d["P"], d["Q"], axis=1),
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
