"""Per-sample binary cross-entropy: value, gradient and both, written once.

Every binary loss in fastxent (the array kernels, the accumulators, the
logistic-regression objective) is built from the scalar functions below, so
the formulas, their numerical care and their special values live here only.

From logits ``z`` (target ``y`` in [0, 1], positive-class weight ``pw``):

.. math::

    \\ell(y, z) = pw\\, y\\, \\mathrm{softplus}(-z) + (1 - y)\\, \\mathrm{softplus}(z),
    \\qquad
    \\frac{\\partial \\ell}{\\partial z} = (1 - y)\\,\\sigma(z) - pw\\, y\\, \\sigma(-z),

with ``softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{-|z|})``.  Only
``e = exp(-|z|)`` (in (0, 1]) is ever evaluated, so no finite ``z`` can
overflow: ``softplus(±z)`` and ``σ(±z)`` all follow from ``e`` and ``|z|``.
This is PyTorch's ``binary_cross_entropy_with_logits`` with ``pos_weight``.

From probabilities ``p`` (clipped to ``[lo, hi]``; ``lo=0, hi=1`` is no clipping):

.. math::

    \\ell(y, p) = -\\bigl(pw\\, y \\log p + (1 - y) \\log(1 - p)\\bigr),
    \\qquad
    \\frac{\\partial \\ell}{\\partial p} = -\\frac{pw\\, y}{p} + \\frac{1 - y}{1 - p},

with ``xlogy`` semantics: a term whose coefficient is 0 contributes exactly 0
(also when its log is ``-inf``), so ``y = 1, p = 1`` costs 0 and ``y = 1,
p = 0`` costs ``inf`` without clipping.  The gradient is evaluated at the
clipped probability (like PyTorch's, which bounds its denominator instead of
returning the zero slope of a clamp).

All functions take float32 or float64 scalars and return float64.
"""

import numpy as np

from .._infra.floats import max2, min2
from .._infra.jit import inline_scalar
from .elementary import exp, log, log1p

__all__ = [
    "softplus",
    "sigmoid",
    "binary_logit_loss",
    "binary_logit_grad",
    "binary_logit_loss_grad",
    "binary_proba_loss",
    "binary_proba_grad",
    "binary_proba_loss_grad",
]


@inline_scalar
def softplus(z):
    """``log(1 + exp(z))`` for any real ``z``, without overflow.

    ``softplus(z) -> value``

    Parameters
    ----------
    z : float32 or float64 scalar

    Returns
    -------
    value : float64
        ``max(z, 0) + log1p(exp(-|z|))``.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.softplus(2.0)
    2.126928...
    >>> kernels.softplus(1000.0)
    1000.0
    """
    return max2(z, 0.0) + log1p(exp(-abs(z)))


@inline_scalar
def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))``, without overflow.

    ``sigmoid(z) -> value``

    Parameters
    ----------
    z : float32 or float64 scalar

    Returns
    -------
    value : float64
        In [0, 1].

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.sigmoid(-2.0)
    0.119202...
    >>> kernels.sigmoid(-1000.0)
    0.0
    """
    e = exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)


@inline_scalar
def _logit_parts(z):
    """(softplus(z), softplus(-z), sigmoid(z), sigmoid(-z)) from one exp."""
    z = np.float64(z)
    e = exp(-abs(z))
    tail = log1p(e)
    big = 1.0 / (1.0 + e)  # sigmoid(|z|)
    small = e * big  # sigmoid(-|z|)
    nonneg = z >= 0.0
    sp_pos = max2(z, 0.0) + tail
    sp_neg = max2(-z, 0.0) + tail
    return sp_pos, sp_neg, (big if nonneg else small), (small if nonneg else big)


@inline_scalar
def binary_logit_loss(y, z, pos_weight):
    """Binary cross-entropy of one sample given its logit.

    ``binary_logit_loss(y, z, pos_weight) -> loss``

    ``pos_weight * y * softplus(-z) + (1 - y) * softplus(z)``.

    Parameters
    ----------
    y : float32 or float64 scalar
        Target in [0, 1] (0/1 labels or soft targets).
    z : float32 or float64 scalar
        Logit (any finite value; ±inf gives inf or nan).
    pos_weight : float32 or float64 scalar
        Weight of the positive term (1.0 for the plain loss).

    Returns
    -------
    loss : float64
        The loss (not multiplied by any sample weight).

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.binary_logit_loss(1.0, 2.0, 1.0)
    0.126928...
    >>> kernels.binary_logit_loss(1.0, 2.0, 3.0)
    0.380784...
    """
    sp_pos, sp_neg, _, _ = _logit_parts(z)
    return pos_weight * y * sp_neg + (1.0 - y) * sp_pos


@inline_scalar
def binary_logit_grad(y, z, pos_weight):
    """Derivative of :func:`binary_logit_loss` with respect to the logit.

    ``binary_logit_grad(y, z, pos_weight) -> grad``

    ``(1 - y) * sigmoid(z) - pos_weight * y * sigmoid(-z)``.

    Parameters
    ----------
    y, z, pos_weight : float32 or float64 scalars
        As in :func:`binary_logit_loss`.

    Returns
    -------
    grad : float64
        ``dloss/dz``.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.binary_logit_grad(1.0, 2.0, 1.0)
    -0.119202...
    """
    _, _, s_pos, s_neg = _logit_parts(z)
    return (1.0 - y) * s_pos - pos_weight * y * s_neg


@inline_scalar
def binary_logit_loss_grad(y, z, pos_weight):
    """:func:`binary_logit_loss` and :func:`binary_logit_grad` from one ``exp``.

    ``binary_logit_loss_grad(y, z, pos_weight) -> (loss, grad)``

    Parameters
    ----------
    y, z, pos_weight : float32 or float64 scalars
        As in :func:`binary_logit_loss`.

    Returns
    -------
    loss : float64
        As :func:`binary_logit_loss`.
    grad : float64
        ``dloss/dz``, as :func:`binary_logit_grad`.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.binary_logit_loss_grad(1.0, 2.0, 1.0)
    (0.126928..., -0.119202...)
    """
    sp_pos, sp_neg, s_pos, s_neg = _logit_parts(z)
    pwy = pos_weight * y
    return pwy * sp_neg + (1.0 - y) * sp_pos, (1.0 - y) * s_pos - pwy * s_neg


@inline_scalar
def _xlog(coef, logval):
    """``coef * logval`` with ``0 * (-inf) = 0`` (scipy's xlogy convention)."""
    return 0.0 if coef == 0.0 else coef * logval


@inline_scalar
def binary_proba_loss(y, p, pos_weight, lo, hi):
    """Binary cross-entropy of one sample given its positive-class probability.

    ``binary_proba_loss(y, p, pos_weight, lo, hi) -> loss``

    ``-(pos_weight * y * log(q) + (1 - y) * log(1 - q))`` with
    ``q = min(max(p, lo), hi)`` and ``0 * log(0) = 0``.

    Parameters
    ----------
    y : float32 or float64 scalar
        Target in [0, 1].
    p : float32 or float64 scalar
        Predicted probability of the positive class.
    pos_weight : float32 or float64 scalar
        Weight of the positive term (1.0 for the plain loss).
    lo, hi : float32 or float64 scalars
        Clipping bounds; ``lo=0.0, hi=1.0`` disables clipping.

    Returns
    -------
    loss : float64

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.binary_proba_loss(1.0, 0.8, 1.0, 0.0, 1.0)
    0.223143...
    >>> kernels.binary_proba_loss(1.0, 0.0, 1.0, 0.0, 1.0)
    inf
    >>> kernels.binary_proba_loss(1.0, 0.0, 1.0, 1e-7, 1.0 - 1e-7)
    16.118095...
    """
    q = min2(max2(np.float64(p), lo), hi)
    return 0.0 - (_xlog(pos_weight * y, log(q)) + _xlog(1.0 - y, log1p(-q)))


@inline_scalar
def _xdiv(coef, denom):
    """``coef / denom`` with ``0 / 0 = 0`` (the slope of a term that is 0)."""
    return 0.0 if coef == 0.0 else coef / denom


@inline_scalar
def binary_proba_grad(y, p, pos_weight, lo, hi):
    """Derivative of :func:`binary_proba_loss` with respect to ``p``.

    ``binary_proba_grad(y, p, pos_weight, lo, hi) -> grad``

    ``-pos_weight * y / q + (1 - y) / (1 - q)`` at the clipped ``q``.

    Parameters
    ----------
    y, p, pos_weight, lo, hi : float32 or float64 scalars
        As in :func:`binary_proba_loss`.

    Returns
    -------
    grad : float64
        ``dloss/dp`` at the clipped ``q``.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.binary_proba_grad(1.0, 0.8, 1.0, 0.0, 1.0)
    -1.25
    """
    q = min2(max2(np.float64(p), lo), hi)
    return _xdiv(1.0 - y, 1.0 - q) - _xdiv(pos_weight * y, q)


@inline_scalar
def binary_proba_loss_grad(y, p, pos_weight, lo, hi):
    """:func:`binary_proba_loss` and :func:`binary_proba_grad` together.

    ``binary_proba_loss_grad(y, p, pos_weight, lo, hi) -> (loss, grad)``

    Parameters
    ----------
    y, p, pos_weight, lo, hi : float32 or float64 scalars
        As in :func:`binary_proba_loss`.

    Returns
    -------
    loss : float64
        As :func:`binary_proba_loss`.
    grad : float64
        ``dloss/dp``, as :func:`binary_proba_grad`.

    Examples
    --------
    >>> from fastxent import kernels
    >>> kernels.binary_proba_loss_grad(0.0, 0.75, 1.0, 0.0, 1.0)
    (1.386294..., 4.0)
    """
    q = min2(max2(np.float64(p), lo), hi)
    pwy = pos_weight * y
    neg = 1.0 - y
    loss = 0.0 - (_xlog(pwy, log(q)) + _xlog(neg, log1p(-q)))
    return loss, _xdiv(neg, 1.0 - q) - _xdiv(pwy, q)
