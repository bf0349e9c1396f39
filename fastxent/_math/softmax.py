"""Per-row categorical cross-entropy: value, gradient and both, written once.

A row is one sample's class scores, a 1-D array view (any stride).  Every
categorical loss in fastxent (array kernels, accumulators, multinomial
logistic regression) is built from these functions.

From logits ``z`` (``K`` classes), with ``m = max(z)`` and
``s = sum(exp(z - m))`` so that ``logsumexp(z) = m + log(s)`` never
overflows, the loss against a target distribution ``t`` with class weights
``w`` (all 1 when none are given) is

.. math::

    \\ell = \\sum_c w_c t_c (\\mathrm{lse}(z) - z_c)
          = \\sum_c w_c t_c (m - z_c) + A \\log s,
    \\qquad A = \\sum_c w_c t_c,

    \\frac{\\partial \\ell}{\\partial z_j} = A\\,\\mathrm{softmax}(z)_j - w_j t_j .

Every ``m - z_c`` is >= 0, so the value has no cancellation even for logits
of 1e4 and beyond.  Integer targets ``y`` are ``t = onehot(y)``; label
smoothing ``eps`` replaces ``t`` by ``(1 - eps) t + eps / K`` (PyTorch's
definition, class weights included the way PyTorch applies them).

From probabilities ``q`` (clipped to ``[lo, hi]``; ``lo=0, hi=1`` is no
clipping) the loss is ``-sum_c w_c t_c log q_c`` with ``0 * log 0 = 0``, and
its gradient ``-w_c t_c / q_c`` is evaluated at the clipped ``q``.

Conventions shared by every function here:

* The target comes first: ``(target, z_row)`` for a class index,
  ``(t_row, z_row)`` for a distribution (``q_row`` for probabilities).
* ``class_weight`` is a 1-D float64 array of length ``K``, or of length 0
  meaning "no class weights" (one compiled specialization for both cases).
* The returned loss is the per-sample loss *before* any sample weight.
* ``*_grad`` functions write ``grad_scale * dloss/dinput`` into ``grad_row``
  (a row of the caller's gradient array, float32 or float64; passed last)
  and return the loss, so a caller folds sample weight and the ``mean``
  normalization into ``grad_scale``.

Each function makes two passes over a logits row (max, then exp-sum) and,
for gradients, one more over ``grad_row``; rows of even 32000 float32 stay
in cache between passes.
"""

import math

import numpy as np

from .._infra.floats import max2, min2
from .._infra.jit import inline_scalar, inlined_kernel, inlined_twin, kernel, scalar, stable_api
from .elementary import exp, log
from .softmax_exp import shifted_exp, zero_like

SUM_RUN = 256  # terms summed in the row dtype before joining the float64 sum
ROW_CHUNK = 1024  # values per chunk of the one-pass log-sum-exp (4-8 KB: L1)

__all__ = [
    "row_max",
    "row_sum_exp",
    "row_max_sum_exp",
    "row_logsumexp",
    "softmax_row_loss",
    "softmax_row_loss_grad",
    "softmax_row_smoothed_loss",
    "softmax_row_smoothed_loss_grad",
    "softmax_row_soft_loss",
    "softmax_row_soft_loss_grad",
    "proba_row_loss",
    "proba_row_loss_grad",
    "proba_row_soft_loss",
    "proba_row_soft_loss_grad",
]


@stable_api
@kernel
def row_max(z_row):
    """Largest entry of a row (with a NaN in the row the result is unspecified,
    but every loss built on it is NaN anyway: the exp-sum pass propagates it).

    ``row_max(z_row) -> m``

    Parameters
    ----------
    z_row : 1-D array of float32 or float64, non-empty

    Returns
    -------
    m : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> kernels.row_max(np.array([1.0, 3.0, 2.0]))
    3.0
    """
    # Eight independent running maxima: a single one is a loop-carried
    # select that LLVM only vectorizes under ``nnan``, which we never allow;
    # eight are packed into one AVX register by the SLP vectorizer (3x faster).
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = z_row[0]
    k = z_row.shape[0]
    k8 = k - k % 8
    for j in range(0, k8, 8):
        blk = z_row[j : j + 8]  # a view: indices below are provably in range
        v = blk[0]
        m0 = v if v > m0 else m0
        v = blk[1]
        m1 = v if v > m1 else m1
        v = blk[2]
        m2 = v if v > m2 else m2
        v = blk[3]
        m3 = v if v > m3 else m3
        v = blk[4]
        m4 = v if v > m4 else m4
        v = blk[5]
        m5 = v if v > m5 else m5
        v = blk[6]
        m6 = v if v > m6 else m6
        v = blk[7]
        m7 = v if v > m7 else m7
    for j in range(k8, k):
        v = z_row[j]
        m0 = v if v > m0 else m0
    # The pairwise maxima as selects (max2's rule: b if b > a else a), not
    # seven max2 calls: each inlined call is typed on its own, 0.03 s more
    # for this kernel's first compilation (0.01-0.02 s of a first
    # cross_entropy from logits).
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    m4 = m5 if m5 > m4 else m4
    m6 = m7 if m7 > m6 else m6
    m0 = m2 if m2 > m0 else m0
    m4 = m6 if m6 > m4 else m4
    return np.float64(m4 if m4 > m0 else m0)


# row_max compiled into each caller, for the per-row loss-and-gradient formulas
# (1e6 rows of 10 float32 logits: value and gradient 16-17 % faster; first call
# about 0.05 s faster).  Where the first call matters more than the run time (the
# exp-sum pass of the value-only losses), the compiled row_max is cheaper:
# inlining a body costs a first call about 0.1 s more than compiling it.
_row_max_inlined = inlined_twin(row_max)


@stable_api
@kernel
def row_sum_exp(z_row, shift):
    """``sum(exp(z_row - shift))`` accumulated in float64 (terms at the
    row's precision, see :mod:`fastxent._math.softmax_exp`).

    ``row_sum_exp(z_row, shift) -> s``

    Parameters
    ----------
    z_row : 1-D array of float32 or float64
    shift : float
        Usually :func:`row_max` of the row, so no term overflows.

    Returns
    -------
    s : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> kernels.row_sum_exp(z, 3.0)
    1.503214...
    """
    # Terms are added in the row's dtype within runs of SUM_RUN values, each
    # run total then in float64: a float64 accumulator would make LLVM
    # vectorize the whole loop at 4 lanes (float64 width) instead of 8 for
    # float32 rows (2x slower); a run of 256 float32 terms
    # (32 interleaved partial sums of 8) errs < 1e-6.
    k = z_row.shape[0]
    s = 0.0
    for start in range(0, k, SUM_RUN):
        stop = start + SUM_RUN
        run = z_row[start : (k if k < stop else stop)]
        part = zero_like(run[0])
        for j in range(run.shape[0]):
            part += shifted_exp(run[j], shift)
        s += np.float64(part)
    return s


@stable_api
@kernel
def row_max_sum_exp(z_row):
    """``(m, s)`` with ``logsumexp(z_row) = m + log(s)``, in one pass.

    ``row_max_sum_exp(z_row) -> (m, s)``

    The row is read in L1-sized chunks: each chunk's max, then its exp-sum
    while it is still in L1, rescaling the running sum when the max grows
    (``s *= exp(m_old - m_new)``).  Reading the row once lets the memory
    stream overlap the exp arithmetic, instead of a memory-bound max pass
    followed by a compute-bound exp pass.

    Parameters
    ----------
    z_row : 1-D array of float32 or float64, non-empty

    Returns
    -------
    m : float64
        The row max.
    s : float64
        ``sum(exp(z_row - m))`` (NaN if the row holds a NaN or +inf).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> m, s = kernels.row_max_sum_exp(z)
    >>> m, s
    (3.0, 1.503214...)
    >>> float(m + np.log(s))
    3.407605...
    """
    k = z_row.shape[0]
    m = -np.inf
    s = 0.0
    for start in range(0, k, ROW_CHUNK):
        stop = start + ROW_CHUNK
        chunk = z_row[start : (k if k < stop else stop)]  # not min2: see row_max
        cm = row_max(chunk)
        if cm > m:
            s = s * exp(m - cm) if s > 0.0 else s
            m = cm
        s += row_sum_exp(chunk, m)
    return m, s


# row_max_sum_exp compiled into the per-row value-only loss, one level less
# for a first call (cross_entropy from logits, 1e5 x 10: 1.71 -> 1.63 s),
# with the same bits: strict there, as softmax_row_loss is, which changes
# nothing, as its loop only calls row_max and row_sum_exp (their flags kept).
_row_max_sum_exp_inlined = inlined_twin(row_max_sum_exp)


@stable_api
@scalar
def row_logsumexp(z_row):
    """``log(sum(exp(z_row)))`` without overflow for any finite logits.

    ``row_logsumexp(z_row) -> lse``

    Parameters
    ----------
    z_row : 1-D array of float32 or float64, non-empty

    Returns
    -------
    lse : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> kernels.row_logsumexp(np.array([1.0, 3.0, 2.0]))
    3.407605...
    >>> kernels.row_logsumexp(np.array([1000.0, 1000.0]))
    1000.693147...
    """
    m, s = row_max_sum_exp(z_row)
    if math.isinf(m):
        return m
    return m + log(s)


@inline_scalar
def _class_weight(class_weight, c):
    return class_weight[c] if class_weight.shape[0] > 0 else 1.0


@inlined_kernel  # compiled into each caller: one level less under the per-row losses
def _scaled_softmax_into(z_row, m, grad_row):
    """Write ``exp(z - m)`` into ``grad_row`` and return its float64 sum."""
    k = z_row.shape[0]
    s = 0.0
    for start in range(0, k, SUM_RUN):  # runs: see row_sum_exp
        stop = start + SUM_RUN
        stop = k if k < stop else stop  # not min2: see row_max
        run = z_row[start:stop]
        out = grad_row[start:stop]
        part = zero_like(run[0])
        for j in range(run.shape[0]):
            e = shifted_exp(run[j], m)
            out[j] = e
            part += e
        s += np.float64(part)
    return s


@stable_api
@scalar
def softmax_row_loss(target, z_row):
    """Cross-entropy of one row of logits against an integer class.

    ``softmax_row_loss(target, z_row) -> loss``

    ``logsumexp(z_row) - z_row[target]``.

    Parameters
    ----------
    target : int
        Class index in ``[0, K)``.
    z_row : 1-D float32 or float64 array of length K
        Logits of the ``K`` classes.

    Returns
    -------
    loss : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> kernels.softmax_row_loss(1, z)
    0.407605...
    """
    m, s = _row_max_sum_exp_inlined(z_row)
    return (m - z_row[target]) + log(s)


@scalar
def shifted_log_sum(m, z_target, s):
    """``(m - z_target) + log(s)`` in exactly this order.

    Strict (no reassociation) even inside a fast-math caller: rewritten as
    ``(m + log(s)) - z_target`` it loses ``log(s)`` entirely when the logits
    are large (``m = z_target = 1e300`` gives 0 instead of ``log 2``).
    """
    return (m - z_target) + log(s)


@stable_api
@kernel
def softmax_row_loss_grad(target, z_row, grad_scale, grad_row):
    """Loss of :func:`softmax_row_loss` and its gradient, in one go.

    ``softmax_row_loss_grad(target, z_row, grad_scale, grad_row) -> loss``

    Writes ``grad_scale * (softmax(z_row) - onehot(target))`` into ``grad_row``.

    Parameters
    ----------
    target : int
        Class index in ``[0, K)``.
    z_row : 1-D array of float32 or float64
    grad_scale : float
        Factor applied to every gradient entry (sample weight / normalization).
    grad_row : 1-D writable float32 or float64 array of length K
        Overwritten with ``grad_scale * (softmax(z_row) - onehot(target))``.

    Returns
    -------
    loss : float64
        The unweighted loss ``logsumexp(z_row) - z_row[target]``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> g = np.empty(3)
    >>> kernels.softmax_row_loss_grad(1, z, 1.0, g)
    0.407605...
    >>> g.round(6)
    array([ 0.090031, -0.334759,  0.244728])
    """
    m = _row_max_inlined(z_row)
    s = _scaled_softmax_into(z_row, m, grad_row)
    scale = grad_scale / s
    for j in range(grad_row.shape[0]):
        grad_row[j] = grad_row[j] * scale
    grad_row[target] = grad_row[target] - grad_scale
    return shifted_log_sum(m, np.float64(z_row[target]), s)


@inline_scalar
def _target_mass(t_row, target, c):
    """``t_row[c]``, or ``onehot(target)[c]`` when ``t_row`` is empty."""
    if t_row.shape[0] > 0:
        return np.float64(t_row[c])
    return 1.0 if c == target else 0.0


@inline_scalar
def _smoothed_coef(t_row, target, c, smoothing, uniform, class_weight):
    """``w_c * t'_c`` with ``t' = (1 - eps) t + eps / K``."""
    return _class_weight(class_weight, c) * ((1.0 - smoothing) * _target_mass(t_row, target, c) + uniform)


@kernel
def _soft_sums(z_row, target, t_row, m, smoothing, class_weight):
    """(sum_c w_c t'_c (m - z_c), A = sum_c w_c t'_c), t' the smoothed target."""
    uniform = smoothing / z_row.shape[0]
    d = 0.0
    a = 0.0
    for c in range(z_row.shape[0]):
        wt = _smoothed_coef(t_row, target, c, smoothing, uniform, class_weight)
        # 0 * (m - z) stays 0 even where z = -inf (a class given no mass).
        d += 0.0 if wt == 0.0 else wt * (m - z_row[c])
        a += wt
    return d, a


@scalar
def _target_loss(z_row, target, t_row, smoothing, class_weight):
    m = row_max(z_row)
    log_s = log(row_sum_exp(z_row, m))
    d, a = _soft_sums(z_row, target, t_row, m, smoothing, class_weight)
    return d + a * log_s


@kernel
def _target_loss_grad(z_row, target, t_row, smoothing, class_weight, grad_scale, grad_row):
    k = z_row.shape[0]
    m = _row_max_inlined(z_row)
    s = _scaled_softmax_into(z_row, m, grad_row)
    d, a = _soft_sums(z_row, target, t_row, m, smoothing, class_weight)
    uniform = smoothing / k
    scale = grad_scale * a / s
    for j in range(k):
        coef = _smoothed_coef(t_row, target, j, smoothing, uniform, class_weight)
        grad_row[j] = grad_row[j] * scale - grad_scale * coef
    return d + a * log(s)


@stable_api
@scalar
def softmax_row_smoothed_loss(target, z_row, class_weight, label_smoothing):
    """Class-weighted, label-smoothed cross-entropy of one row of logits.

    ``softmax_row_smoothed_loss(target, z_row, class_weight, label_smoothing) -> loss``

    ``(1 - eps) w_y (lse - z_y) + (eps / K) sum_c w_c (lse - z_c)``
    (``torch.nn.functional.cross_entropy`` with ``weight`` and
    ``label_smoothing``, per sample).

    Parameters
    ----------
    target : int
        Class index in ``[0, K)``.
    z_row : 1-D array of float32 or float64
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1].

    Returns
    -------
    loss : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> no_weights = np.empty(0)
    >>> kernels.softmax_row_smoothed_loss(1, z, no_weights, 0.1)
    0.507605...
    >>> kernels.softmax_row_smoothed_loss(1, z, np.array([1.0, 2.0, 1.0]), 0.1)
    0.888038...
    """
    return _target_loss(z_row, target, z_row[:0], label_smoothing, class_weight)


@stable_api
@scalar
def softmax_row_smoothed_loss_grad(target, z_row, class_weight, label_smoothing, grad_scale, grad_row):
    """:func:`softmax_row_smoothed_loss` and ``grad_scale`` times its gradient.

    ``softmax_row_smoothed_loss_grad(target, z_row, class_weight, label_smoothing, grad_scale, grad_row) -> loss``

    ``grad_j = grad_scale * (A softmax_j - w_j t_j)`` with
    ``t = (1 - eps) onehot(target) + eps / K`` and ``A = sum_c w_c t_c``.

    Parameters
    ----------
    target : int
        Class index in ``[0, K)``.
    z_row : 1-D array of float32 or float64
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).
    grad_scale : float
        Factor on every gradient entry (sample weight / normalization).
    grad_row : 1-D writable float32 or float64 array of length K
        Overwritten with ``grad_scale`` times the gradient of the loss.

    Returns
    -------
    loss : float64
        The loss of :func:`softmax_row_smoothed_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> g = np.empty(3)
    >>> no_weights = np.empty(0)
    >>> kernels.softmax_row_smoothed_loss_grad(1, z, no_weights, 0.1, 1.0, g)
    0.507605...
    >>> g.round(6)
    array([ 0.056697, -0.268092,  0.211395])
    """
    return _target_loss_grad(z_row, target, z_row[:0], label_smoothing, class_weight, grad_scale, grad_row)


@stable_api
@scalar
def softmax_row_soft_loss(t_row, z_row, class_weight, label_smoothing):
    """Cross-entropy ``sum_c w_c t'_c (lse(z) - z_c)`` against a distribution.

    ``softmax_row_soft_loss(t_row, z_row, class_weight, label_smoothing) -> loss``

    ``t' = (1 - eps) t_row + eps / K`` (PyTorch's soft-target loss).

    Parameters
    ----------
    t_row : 1-D array of float32 or float64
        Target distribution (one-hot or soft), non-empty.
    z_row : 1-D array of float32 or float64
        Logits.
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).

    Returns
    -------
    loss : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> t = np.array([0.0, 0.5, 0.5])
    >>> no_weights = np.empty(0)
    >>> kernels.softmax_row_soft_loss(t, z, no_weights, 0.0)
    0.907605...
    """
    return _target_loss(z_row, -1, t_row, label_smoothing, class_weight)


@stable_api
@scalar
def softmax_row_soft_loss_grad(t_row, z_row, class_weight, label_smoothing, grad_scale, grad_row):
    """:func:`softmax_row_soft_loss` and ``grad_scale`` times its gradient.

    ``softmax_row_soft_loss_grad(t_row, z_row, class_weight, label_smoothing, grad_scale, grad_row) -> loss``

    ``grad_j = grad_scale * (A softmax_j - w_j t'_j)``, ``A = sum_c w_c t'_c``.

    Parameters
    ----------
    t_row, z_row : 1-D arrays of float32 or float64
        Target distribution and logits.
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).
    grad_scale : float
        Factor on every gradient entry (sample weight / normalization).
    grad_row : 1-D writable float32 or float64 array of length K
        Overwritten with ``grad_scale`` times the gradient of the loss.

    Returns
    -------
    loss : float64
        The loss of :func:`softmax_row_soft_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> z = np.array([1.0, 3.0, 2.0])
    >>> t = np.array([0.0, 0.5, 0.5])
    >>> g = np.empty(3)
    >>> no_weights = np.empty(0)
    >>> kernels.softmax_row_soft_loss_grad(t, z, no_weights, 0.0, 1.0, g)
    0.907605...
    >>> g.round(6)
    array([ 0.090031,  0.165241, -0.255272])
    """
    return _target_loss_grad(z_row, -1, t_row, label_smoothing, class_weight, grad_scale, grad_row)


@inline_scalar
def _neg_xlog(coef, q):
    """``-coef * log(q)`` with ``0 * log(0) = 0``."""
    return 0.0 if coef == 0.0 else -coef * log(q)


@inline_scalar
def _clip(q, lo, hi):
    return min2(max2(np.float64(q), lo), hi)


@kernel
def _proba_loss(q_row, target, t_row, smoothing, class_weight, lo, hi):
    uniform = smoothing / q_row.shape[0]
    loss = 0.0
    for c in range(q_row.shape[0]):
        coef = _smoothed_coef(t_row, target, c, smoothing, uniform, class_weight)
        loss += _neg_xlog(coef, _clip(q_row[c], lo, hi))
    return loss


@kernel
def _proba_loss_grad(q_row, target, t_row, smoothing, class_weight, lo, hi, grad_scale, grad_row):
    uniform = smoothing / q_row.shape[0]
    loss = 0.0
    for c in range(q_row.shape[0]):
        coef = _smoothed_coef(t_row, target, c, smoothing, uniform, class_weight)
        q = _clip(q_row[c], lo, hi)
        loss += _neg_xlog(coef, q)
        grad_row[c] = 0.0 if coef == 0.0 else -grad_scale * coef / q
    return loss


@stable_api
@scalar
def proba_row_loss(target, q_row, class_weight, label_smoothing, lo, hi):
    """Class-weighted, label-smoothed cross-entropy of one row of probabilities.

    ``proba_row_loss(target, q_row, class_weight, label_smoothing, lo, hi) -> loss``

    ``-(1 - eps) w_y log q_y - (eps / K) sum_c w_c log q_c`` with ``q``
    clipped to ``[lo, hi]`` (no smoothing: ``-w_y log q_y``, reading one value).

    Parameters
    ----------
    target : int
        Class index in ``[0, K)``.
    q_row : 1-D array of float32 or float64
        Predicted probabilities of the ``K`` classes.
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).
    lo, hi : float
        Clipping bounds (``0.0, 1.0``: none).

    Returns
    -------
    loss : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> q = np.array([0.2, 0.7, 0.1])
    >>> no_weights = np.empty(0)
    >>> kernels.proba_row_loss(1, q, no_weights, 0.0, 0.0, 1.0)
    0.356674...
    >>> kernels.proba_row_loss(1, q, no_weights, 0.1, 0.0, 1.0)
    0.463297...
    """
    if label_smoothing == 0.0:
        return _neg_xlog(_class_weight(class_weight, target), _clip(q_row[target], lo, hi))
    return _proba_loss(q_row, target, q_row[:0], label_smoothing, class_weight, lo, hi)


@stable_api
@scalar
def proba_row_loss_grad(target, q_row, class_weight, label_smoothing, lo, hi, grad_scale, grad_row):
    """:func:`proba_row_loss` and ``grad_scale`` times its gradient.

    ``proba_row_loss_grad(target, q_row, class_weight, label_smoothing, lo, hi, grad_scale, grad_row) -> loss``

    ``grad_c = -grad_scale * w_c t_c / q_c`` (``0`` where ``t_c = 0``), ``q``
    clipped, ``t = (1 - eps) onehot(target) + eps / K``.

    Parameters
    ----------
    target : int
        Class index in ``[0, K)``.
    q_row : 1-D array of float32 or float64
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).
    lo, hi : float
        Clipping bounds (``0.0, 1.0``: none).
    grad_scale : float
        Factor on every gradient entry (sample weight / normalization).
    grad_row : 1-D writable float32 or float64 array of length K
        Overwritten with ``grad_scale`` times the gradient of the loss.

    Returns
    -------
    loss : float64
        The loss of :func:`proba_row_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> q = np.array([0.2, 0.7, 0.1])
    >>> g = np.empty(3)
    >>> no_weights = np.empty(0)
    >>> kernels.proba_row_loss_grad(1, q, no_weights, 0.0, 0.0, 1.0, 1.0, g)
    0.356674...
    >>> g.round(6)
    array([ 0.      , -1.428571,  0.      ])
    """
    return _proba_loss_grad(q_row, target, q_row[:0], label_smoothing, class_weight, lo, hi, grad_scale, grad_row)


@stable_api
@scalar
def proba_row_soft_loss(t_row, q_row, class_weight, label_smoothing, lo, hi):
    """Cross-entropy ``-sum_c w_c t'_c log q_c`` of a row of probabilities.

    ``proba_row_soft_loss(t_row, q_row, class_weight, label_smoothing, lo, hi) -> loss``

    ``t' = (1 - eps) t_row + eps / K``; ``0 * log 0 = 0``; ``q`` clipped.

    Parameters
    ----------
    t_row, q_row : 1-D arrays of float32 or float64
        Target distribution and predicted probabilities.
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).
    lo, hi : float
        Clipping bounds (``0.0, 1.0``: none).

    Returns
    -------
    loss : float64

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> q = np.array([0.2, 0.7, 0.1])
    >>> t = np.array([0.0, 0.5, 0.5])
    >>> no_weights = np.empty(0)
    >>> kernels.proba_row_soft_loss(t, q, no_weights, 0.0, 0.0, 1.0)
    1.329630...
    """
    return _proba_loss(q_row, -1, t_row, label_smoothing, class_weight, lo, hi)


@stable_api
@scalar
def proba_row_soft_loss_grad(t_row, q_row, class_weight, label_smoothing, lo, hi, grad_scale, grad_row):
    """:func:`proba_row_soft_loss` and ``grad_scale`` times its gradient.

    ``proba_row_soft_loss_grad(t_row, q_row, class_weight, label_smoothing, lo, hi, grad_scale, grad_row) -> loss``

    ``grad_c = -grad_scale * w_c t'_c / q_c`` at the clipped ``q``.

    Parameters
    ----------
    t_row, q_row : 1-D arrays of float32 or float64
        Target distribution and predicted probabilities.
    class_weight : 1-D float64 array of length K, or length 0 for none
    label_smoothing : float
        Label smoothing ``eps`` in [0, 1] (0.0: none).
    lo, hi : float
        Clipping bounds (``0.0, 1.0``: none).
    grad_scale : float
        Factor on every gradient entry (sample weight / normalization).
    grad_row : 1-D writable float32 or float64 array of length K
        Overwritten with ``grad_scale`` times the gradient of the loss.

    Returns
    -------
    loss : float64
        The loss of :func:`proba_row_soft_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> q = np.array([0.2, 0.7, 0.1])
    >>> t = np.array([0.0, 0.5, 0.5])
    >>> g = np.empty(3)
    >>> no_weights = np.empty(0)
    >>> kernels.proba_row_soft_loss_grad(t, q, no_weights, 0.0, 0.0, 1.0, 1.0, g)
    1.329630...
    >>> g.round(6)
    array([ 0.      , -0.714286, -5.      ])
    """
    return _proba_loss_grad(q_row, -1, t_row, label_smoothing, class_weight, lo, hi, grad_scale, grad_row)
