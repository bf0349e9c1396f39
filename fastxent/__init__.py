"""fastxent: fast, correct entropy and cross-entropy on a CPU.

Numba kernels behind a thin NumPy API.  Public functions are imported on
first use, so ``import fastxent`` compiles nothing and imports neither
scikit-learn, SciPy nor pandas.
"""

import importlib
import os

__version__ = "0.1.0"

_PUBLIC = {
    "log_loss": "._api.log_loss",
    "d2_log_loss_score": "._api.log_loss",
    "entropy": "._api.entropy",
    "kl_divergence": "._api.entropy",
    "binary_cross_entropy": "._api.binary",
    "binary_cross_entropy_grad": "._api.binary",
    "binary_cross_entropy_value_and_grad": "._api.binary",
    "cross_entropy": "._api.categorical",
    "cross_entropy_grad": "._api.categorical",
    "cross_entropy_value_and_grad": "._api.categorical",
    "LogLossAccumulator": "._streaming.log_loss",
    "BinaryCrossEntropyAccumulator": "._streaming.losses",
    "CrossEntropyAccumulator": "._streaming.losses",
    "LogisticRegression": "._estimators.logistic",
    "mutual_info_score": "._api.mutual_info",
    "normalized_mutual_info_score": "._api.mutual_info",
    "adjusted_mutual_info_score": "._api.mutual_info",
    "contingency_matrix": "._api.mutual_info",
    "entropy_of_labels": "._api.mutual_info",
    "conditional_entropy": "._api.mutual_info",
    "joint_entropy": "._api.mutual_info",
    "jensenshannon": "._api.jensenshannon",
    "ContingencyAccumulator": "._streaming.contingency",
}
_SUBMODULES = ("ufuncs", "kernels", "dask", "cli")

__all__ = sorted(_PUBLIC) + list(_SUBMODULES)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module("." + name, __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


# FASTXENT_WARMUP=background: compile the common signatures into Numba's cache
# in a detached process (see fastxent.warmup); this process compiles nothing.
if os.environ.get("FASTXENT_WARMUP", "").strip().lower() == "background":
    from .warmup import start_background

    start_background()
