"""fastxent: fast, correct entropy and cross-entropy on a CPU.

Numba kernels behind a thin NumPy API.  Public functions are imported on
first use, so ``import fastxent`` compiles nothing and imports neither
scikit-learn, SciPy nor pandas.
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "log_loss": "._classification",
    "d2_log_loss_score": "._classification",
    "entropy": "._entropy",
    "kl_divergence": "._entropy",
    "binary_cross_entropy": "._binary_losses",
    "binary_cross_entropy_grad": "._binary_losses",
    "binary_cross_entropy_value_and_grad": "._binary_losses",
    "cross_entropy": "._categorical_losses",
    "cross_entropy_grad": "._categorical_losses",
    "cross_entropy_value_and_grad": "._categorical_losses",
    "LogLossAccumulator": "._log_loss_accumulator",
    "BinaryCrossEntropyAccumulator": "._loss_accumulators",
    "CrossEntropyAccumulator": "._loss_accumulators",
    "LogisticRegression": "._logistic",
    "mutual_info_score": "._mutual_info",
    "normalized_mutual_info_score": "._mutual_info",
    "adjusted_mutual_info_score": "._mutual_info",
    "contingency_matrix": "._mutual_info",
    "entropy_of_labels": "._mutual_info",
    "conditional_entropy": "._mutual_info",
    "joint_entropy": "._mutual_info",
    "jensenshannon": "._jensenshannon",
    "ContingencyAccumulator": "._contingency_accumulator",
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
