"""Reference implementations of fastxent's public functions in other libraries.

One table, :data:`REFERENCES`, maps each public name (the functions of
``fastxent.__all__``, ``"ufuncs.<name>"`` for the ufuncs) to the functions of
scikit-learn, SciPy, NumPy and PyTorch that compute the same thing, each
wrapped in an adapter that takes *fastxent's* arguments and returns NumPy
values.  It is the only place where those libraries are called for a
comparison: the test-suite (``tests/conftest.py``) uses it as the oracle, the
pytest-benchmark suite (``bench/``) and ``fastxent bench``
(:mod:`fastxent.benchmarks.cases`) as the rivals.

Rival libraries are imported only when an adapter is called;
:meth:`Reference.available` tells whether that library is installed.
``import fastxent`` never imports this module.
"""

import functools
import importlib
import importlib.util
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ["Reference", "REFERENCES", "references_for", "lookup"]


@dataclass(frozen=True)
class Reference:
    """A rival implementation of one fastxent function.

    ``call(*args, **kwargs)`` takes fastxent's arguments and returns what
    fastxent returns (a float, an array, or ``(value, grad)``), computed by
    ``library``.  ``prepare(*args, **kwargs)``, when given, converts the
    arguments to the library's own types once and returns a callable without
    arguments that runs only the library's computation, so that a benchmark
    does not time the conversion.
    """

    library: str  # distribution name: "scikit-learn", "scipy", "numpy", "torch"
    module: str  # top-level import name, for the availability check
    call: Callable
    note: str = ""
    prepare: Optional[Callable] = None

    def available(self):
        return importlib.util.find_spec(self.module) is not None

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def bind(self, *args, **kwargs):
        """A callable without arguments computing ``self(*args, **kwargs)``, inputs converted beforehand."""
        if self.prepare is not None:
            return self.prepare(*args, **kwargs)
        return functools.partial(self.call, *args, **kwargs)


def _attr(path):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _same_call(library, path, note=""):
    """The reference of a rival with fastxent's exact signature (``path``: module.function)."""
    return Reference(
        library,
        path.partition(".")[0],
        lambda *args, **kwargs: _attr(path)(*args, **kwargs),
        note,
        prepare=lambda *args, **kwargs: functools.partial(_attr(path), *args, **kwargs),
    )


def _clip_probabilities(p, clip):
    if clip is None:
        return p
    eps = np.finfo(p.dtype).eps if clip == "auto" else clip
    return np.clip(p, eps, 1 - eps)


# ----------------------------------------------------------------- PyTorch


def _tensor(a, requires_grad=False):
    import torch

    t = torch.from_numpy(np.array(a, copy=True))
    return t.requires_grad_(requires_grad)


def _torch_reduce(losses, weights, reduction, denominator):
    if reduction == "none":
        return losses * weights
    total = (losses * weights).sum()
    return total if reduction == "sum" else total / denominator


def _torch_cross_entropy_tensor(
    y_true,
    x,
    *,
    from_logits=False,
    sample_weight=None,
    class_weight=None,
    label_smoothing=0.0,
    ignore_index=None,
    reduction="mean",
    clip="auto",
):
    """torch.nn.functional.cross_entropy with fastxent's per-sample weights (x: tensor, classes last)."""
    import torch
    import torch.nn.functional as F

    if not from_logits:
        return _torch_probability_cross_entropy(
            y_true, x, sample_weight, class_weight, label_smoothing, ignore_index, reduction, clip
        )
    y = np.asarray(y_true)
    soft = y.ndim == x.ndim
    target = torch.from_numpy(y.astype(x.detach().numpy().dtype) if soft else y.astype(np.int64))
    log_input = x.movedim(-1, 1) if x.ndim > 2 else x  # PyTorch's class axis is 1
    if soft and x.ndim > 2:
        target = target.movedim(-1, 1)
    weight = None if class_weight is None else torch.as_tensor(np.asarray(class_weight), dtype=x.dtype)
    ignore = -100 if ignore_index is None else ignore_index
    if sample_weight is None:
        return F.cross_entropy(
            log_input, target, weight=weight, ignore_index=ignore, label_smoothing=label_smoothing, reduction=reduction
        )
    losses = F.cross_entropy(
        log_input, target, weight=weight, ignore_index=ignore, label_smoothing=label_smoothing, reduction="none"
    )
    s = torch.as_tensor(np.asarray(sample_weight), dtype=x.dtype)
    if not soft:
        kept = torch.from_numpy(y != ignore)
        per_class = weight[torch.from_numpy(np.where(y == ignore, 0, y))] if weight is not None else 1.0
        denominator = (s * per_class * kept).sum()
    else:
        denominator = s.sum()
    return _torch_reduce(losses, s, reduction, denominator)


def _log_where_used(coefficient, p):
    """log(p) where ``coefficient`` is non-zero, 0 elsewhere, so that ``coefficient * log``
    and its gradient follow 0 log 0 = 0 (``0 * log(0)`` is nan, and so is its gradient)."""
    import torch

    return torch.log(torch.where(coefficient == 0, torch.ones_like(p), p))


def _log1m_where_used(coefficient, p):
    """log1p(-p) where ``coefficient`` is non-zero, 0 elsewhere (see :func:`_log_where_used`)."""
    import torch

    return torch.log1p(-torch.where(coefficient == 0, torch.zeros_like(p), p))


def _torch_probability_cross_entropy(
    y_true, x, sample_weight, class_weight, label_smoothing, ignore_index, reduction, clip
):
    """``-sum_c w_c t_c log q_c`` of the clipped probabilities, rows used as given.

    F.cross_entropy would apply its log-softmax to ``log q``, which renormalizes
    each row and adds ``1 / sum(q)`` to the gradient; fastxent's loss of
    probabilities is the plain sum, with 0 log 0 = 0.
    """
    import torch
    import torch.nn.functional as F

    q = x.clamp(*_clip_bounds(clip, x.dtype)) if clip is not None else x
    k = x.shape[-1]
    y = np.asarray(y_true)
    w = (
        torch.ones(k, dtype=x.dtype)
        if class_weight is None
        else torch.as_tensor(np.asarray(class_weight), dtype=x.dtype)
    )
    s = (
        torch.ones(x.shape[:-1], dtype=x.dtype)
        if sample_weight is None
        else torch.as_tensor(np.asarray(sample_weight), dtype=x.dtype)
    )
    if y.ndim == x.ndim:
        t = torch.from_numpy(y.astype(x.detach().numpy().dtype))
        keep = torch.ones(x.shape[:-1], dtype=x.dtype)
        denominator = s.sum()
    else:
        ignore = -100 if ignore_index is None else ignore_index
        index = torch.from_numpy(np.where(y == ignore, 0, y).astype(np.int64))
        keep = torch.from_numpy(y != ignore).to(x.dtype)
        t = F.one_hot(index, k).to(x.dtype)
        denominator = (s * w[index] * keep).sum()
    a = ((1 - label_smoothing) * t + label_smoothing / k) * w * keep[..., None]
    losses = -(a * _log_where_used(a, q)).sum(-1)
    return _torch_reduce(losses, s, reduction, denominator)


def _clip_bounds(clip, dtype):
    import torch

    eps = torch.finfo(dtype).eps if clip == "auto" else clip
    return eps, 1 - eps


def _torch_binary_cross_entropy_tensor(
    y_true, x, *, from_logits=False, sample_weight=None, pos_weight=None, reduction="mean", clip="auto"
):
    import torch
    import torch.nn.functional as F

    y = torch.from_numpy(np.asarray(y_true, dtype=x.detach().numpy().dtype))
    w = None if sample_weight is None else torch.as_tensor(np.asarray(sample_weight), dtype=x.dtype)
    pw = None if pos_weight is None else torch.as_tensor(np.asarray(pos_weight), dtype=x.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=reduction)
    p = x.clamp(*_clip_bounds(clip, x.dtype)) if clip is not None else x
    positive, negative = (1.0 if pw is None else pw) * y, 1 - y
    losses = -(positive * _log_where_used(positive, p) + negative * _log1m_where_used(negative, p))
    return _torch_reduce(losses, 1.0 if w is None else w, reduction, losses.numel())


def _to_numpy(t):
    t = t.detach().numpy()
    return float(t) if t.ndim == 0 else t


def _class_axis_last(y_true, y_pred, axis):
    """Move the class axis of the predictions (and of soft targets) last."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim:
        y_true = np.moveaxis(y_true, axis, -1)
    return y_true, np.moveaxis(y_pred, axis, -1)


def _torch_prepare(tensor_loss, output, class_axis):
    """``prepare`` of a PyTorch reference: the predictions become a tensor once; the
    returned callable runs the loss (and, for a gradient, its backward pass) on it.

    ``output`` is ``"value"``, ``"grad"`` or ``"value_and_grad"``; ``class_axis``
    says whether the function takes fastxent's ``axis`` argument.
    """

    def prepare(y_true, y_pred, **kwargs):
        axis = kwargs.pop("axis", -1)
        if class_axis:
            y_true, y_pred = _class_axis_last(y_true, y_pred, axis)
        base = _tensor(y_pred)

        def run():
            if output == "value":
                return _to_numpy(tensor_loss(y_true, base, **kwargs))
            x = base.detach().requires_grad_(True)
            loss = tensor_loss(y_true, x, **kwargs)
            loss.sum().backward()
            grad = np.moveaxis(x.grad.numpy(), -1, axis) if class_axis else x.grad.numpy()
            return grad if output == "grad" else (_to_numpy(loss), grad)

        return run

    return prepare


def _torch(tensor_loss, output, note, class_axis=False):
    prepare = _torch_prepare(tensor_loss, output, class_axis)
    return Reference("torch", "torch", lambda *args, **kwargs: prepare(*args, **kwargs)(), note, prepare=prepare)


# ------------------------------------------------------------------- NumPy


def _numpy_entropy(pk, qk=None, base=None, axis=0, *, nan_policy="propagate", keepdims=False):
    from scipy.special import entr, rel_entr  # NumPy formula, SciPy's 0 log 0 = 0

    pk = np.asarray(pk, dtype=np.float64)
    pk = pk / pk.sum(axis=axis, keepdims=True)
    if qk is None:
        s = entr(pk).sum(axis=axis, keepdims=keepdims)
    else:
        qk = np.asarray(qk, dtype=np.float64)
        qk = qk / qk.sum(axis=axis, keepdims=True)
        s = rel_entr(pk, qk).sum(axis=axis, keepdims=keepdims)
    return s / np.log(base) if base is not None else s


def _numpy_cross_entropy_logits(
    y_true, y_pred, *, from_logits=False, axis=-1, reduction="mean", clip="auto", **unsupported
):
    """Plain NumPy: log-softmax (or log of clipped probabilities), then a gather."""
    if any(v is not None and v != 0.0 for v in unsupported.values()):
        raise NotImplementedError("weights/label smoothing: use the torch reference")
    y, x = _class_axis_last(y_true, np.asarray(y_pred, dtype=np.float64), axis)
    if from_logits:
        shifted = x - x.max(axis=-1, keepdims=True)
        log_q = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        log_q = np.log(_clip_probabilities(x, clip))
    if y.ndim == 1:
        losses = -np.take_along_axis(log_q, y[:, None].astype(np.intp), axis=-1)[:, 0]
    else:
        losses = -(y * log_q).sum(axis=-1)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def _numpy_binary_cross_entropy(
    y_true, y_pred, *, from_logits=False, sample_weight=None, pos_weight=None, reduction="mean", clip="auto"
):
    z = np.asarray(y_pred, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.float64)
    pw = 1.0 if pos_weight is None else pos_weight
    if from_logits:  # -log sigmoid(z) = logaddexp(0, -z)
        losses = pw * y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)
    else:
        p = _clip_probabilities(z, clip)
        losses = -(pw * y * np.log(p) + (1 - y) * np.log1p(-p))
    losses = losses * (1.0 if sample_weight is None else np.asarray(sample_weight))
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def _scipy_kl_divergence(p, q, *, base=None, axis=-1):
    return _attr("scipy.stats.entropy")(p, q, base=base, axis=axis)


def _numpy_softplus(x):
    return np.logaddexp(0.0, x)


_SPECIAL = ("xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "expit", "log_expit")


def _torch_loss_references(name, tensor_loss, note, class_axis=False):
    """The value, gradient and value-and-gradient references of one PyTorch loss."""
    return {
        name: _torch(tensor_loss, "value", note, class_axis),
        f"{name}_grad": _torch(tensor_loss, "grad", "torch.autograd", class_axis),
        f"{name}_value_and_grad": _torch(tensor_loss, "value_and_grad", "forward + backward", class_axis),
    }


_CROSS_ENTROPY = _torch_loss_references(
    "cross_entropy",
    _torch_cross_entropy_tensor,
    "F.cross_entropy for logits; -sum w t log q of the clipped probabilities",
    class_axis=True,
)
_BINARY_CROSS_ENTROPY = _torch_loss_references(
    "binary_cross_entropy",
    _torch_binary_cross_entropy_tensor,
    "F.binary_cross_entropy_with_logits for logits; its weight= semantics",
)

#: public name -> references, best oracle first.  Names: the functions of
#: ``fastxent.__all__``, ``"ufuncs.<name>"`` and ``"kernels.<name>"``.
REFERENCES = {
    "log_loss": (_same_call("scikit-learn", "sklearn.metrics.log_loss"),),
    "d2_log_loss_score": (_same_call("scikit-learn", "sklearn.metrics.d2_log_loss_score"),),
    "entropy": (
        _same_call("scipy", "scipy.stats.entropy"),
        Reference("numpy", "scipy", _numpy_entropy, "NumPy formula (scipy.special.entr for 0 log 0)"),
    ),
    "kl_divergence": (
        Reference("scipy", "scipy", _scipy_kl_divergence, "scipy.stats.entropy(p, q) normalizes p and q"),
    ),
    "cross_entropy": (
        _CROSS_ENTROPY["cross_entropy"],
        Reference("numpy", "numpy", _numpy_cross_entropy_logits, "unweighted only"),
    ),
    "cross_entropy_grad": (_CROSS_ENTROPY["cross_entropy_grad"],),
    "cross_entropy_value_and_grad": (_CROSS_ENTROPY["cross_entropy_value_and_grad"],),
    "binary_cross_entropy": (
        _BINARY_CROSS_ENTROPY["binary_cross_entropy"],
        Reference("numpy", "numpy", _numpy_binary_cross_entropy),
    ),
    "binary_cross_entropy_grad": (_BINARY_CROSS_ENTROPY["binary_cross_entropy_grad"],),
    "binary_cross_entropy_value_and_grad": (_BINARY_CROSS_ENTROPY["binary_cross_entropy_value_and_grad"],),
    "LogisticRegression": (_same_call("scikit-learn", "sklearn.linear_model.LogisticRegression"),),
    **{f"ufuncs.{name}": (_same_call("scipy", f"scipy.special.{name}"),) for name in _SPECIAL},
    # Kernels computing an elementwise function or a row reduction of a library's own.
    **{f"kernels.{name}": (_same_call("scipy", f"scipy.special.{name}"),) for name in _SPECIAL},
    **{f"kernels.{name}": (_same_call("numpy", f"numpy.{name}"),) for name in ("log", "log1p", "exp")},
    "kernels.sigmoid": (_same_call("scipy", "scipy.special.expit"),),
    "kernels.softplus": (Reference("numpy", "numpy", _numpy_softplus, "log(1 + exp(x)) = logaddexp(0, x)"),),
    "kernels.row_max": (_same_call("numpy", "numpy.max"),),
    "kernels.row_logsumexp": (_same_call("scipy", "scipy.special.logsumexp"),),
}


# ------------------------------------------------ the information family


def _numpy_table(labels_x, labels_y):
    _, x = np.unique(np.asarray(labels_x), return_inverse=True)
    _, y = np.unique(np.asarray(labels_y), return_inverse=True)
    table = np.zeros((x.max(initial=-1) + 1, y.max(initial=-1) + 1))
    np.add.at(table, (x.ravel(), y.ravel()), 1)
    return table


def _numpy_joint_entropy(labels_x, labels_y):
    p = _numpy_table(labels_x, labels_y).ravel()
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def _numpy_conditional_entropy(labels_x, labels_y):
    """H(X | Y) = -sum_ij p_ij log(p_ij / p_.j)."""
    table = _numpy_table(labels_x, labels_y)
    column = np.broadcast_to(table.sum(axis=0), table.shape)
    nz = table > 0
    return float(-(table[nz] / table.sum() * np.log(table[nz] / column[nz])).sum())


REFERENCES.update(
    {
        **{
            name: (_same_call("scikit-learn", f"sklearn.metrics.{name}"),)
            for name in ("mutual_info_score", "normalized_mutual_info_score", "adjusted_mutual_info_score")
        },
        "contingency_matrix": (_same_call("scikit-learn", "sklearn.metrics.cluster.contingency_matrix"),),
        "entropy_of_labels": (
            _same_call(
                "scikit-learn",
                "sklearn.metrics.cluster._supervised._entropy",
                "the non-deprecated twin of metrics.cluster.entropy",
            ),
        ),
        "jensenshannon": (_same_call("scipy", "scipy.spatial.distance.jensenshannon"),),
        "conditional_entropy": (Reference("numpy", "numpy", _numpy_conditional_entropy),),
        "joint_entropy": (Reference("numpy", "numpy", _numpy_joint_entropy),),
    }
)


def references_for(name, library=None):
    """The installed references of ``name`` (optionally only ``library``'s)."""
    return [r for r in REFERENCES[name] if (library is None or r.library == library) and r.available()]


def lookup(name, library):
    """The ``library`` reference of ``name``, installed or not (:meth:`Reference.available`)."""
    for ref in REFERENCES[name]:
        if ref.library == library:
            return ref
    raise KeyError(f"no {library} reference for {name!r}; have {[r.library for r in REFERENCES[name]]}")
