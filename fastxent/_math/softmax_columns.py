"""Categorical cross-entropy of many samples at once, their logits stored by class.

The formula is :func:`fastxent._math.softmax.softmax_row_loss_grad`'s, per
sample: from logits ``z`` (``K`` classes) with ``m = max(z)`` and
``s = Σ_c exp(z_c - m)``,

.. math::

    \\ell = (m - z_y) + \\log s, \\qquad
    \\frac{\\partial \\ell}{\\partial z_c} = \\frac{\\exp(z_c - m)}{s} - [c = y],

with the same operations in the same order (the sum over classes in class
order, :func:`~fastxent._math.softmax.shifted_log_sum` for the value).
Here a block of samples is stored class-major, ``Z[c, r]`` the logit of
class ``c`` for sample ``r``, so every step is a loop over samples with
unit stride that vectorizes, the exponentials included; one sample at a
time, a softmax over a few classes costs more than the dot products that
make its logits (multinomial logistic regression: 5 classes, 100 features).
"""

from .._infra.floats import max2
from .._infra.jit import kernel
from .softmax import shifted_log_sum
from .softmax_exp import shifted_exp

__all__ = ["softmax_columns_loss_grad"]


@kernel
def softmax_columns_loss_grad(targets, weights, Z, m, scratch):
    """Weighted losses of the first ``m`` columns of ``Z``, and their gradients in place.

    Parameters
    ----------
    targets : 1-D integer array, length >= m
        Class of each sample, in ``[0, K)``.
    weights : 1-D float64 array, length >= m
        Sample weight ``s_r`` of each sample.
    Z : 2-D float64 array of shape (K, n), n >= m, rows contiguous
        Logits, ``Z[c, r]`` for class ``c`` of sample ``r``; on return the
        first ``m`` columns hold ``s_r (softmax(z_r) - onehot(y_r))``.
    m : int
        Number of samples (columns) to use.
    scratch : 2-D float64 array of shape (3, n)
        Work space.

    Returns
    -------
    float64
        ``Σ_r s_r ℓ_r``.
    """
    k = Z.shape[0]
    top, total, gap = scratch[0], scratch[1], scratch[2]
    for r in range(m):
        top[r] = Z[0, r]
        total[r] = 0.0
    for c in range(1, k):
        z = Z[c]
        for r in range(m):
            top[r] = max2(top[r], z[r])
    for r in range(m):
        gap[r] = top[r] - Z[targets[r], r]
    for c in range(k):
        z = Z[c]
        for r in range(m):
            e = shifted_exp(z[r], top[r])
            z[r] = e
            total[r] += e
    for r in range(m):
        # (gap - 0) + log(s): the row function's (m - z_y) + log(s), with m - z_y taken above
        gap[r] = weights[r] * shifted_log_sum(gap[r], 0.0, total[r])
        total[r] = weights[r] / total[r]
    # summed in a loop of its own, which only reads: a reduction in a loop that
    # also stores is vectorized only when a run-time overlap check passes, so
    # its order (and its last bits) would depend on where the buffers lie
    loss = 0.0
    for r in range(m):
        loss += gap[r]
    for c in range(k):
        z = Z[c]
        for r in range(m):
            z[r] *= total[r]
    for r in range(m):
        Z[targets[r], r] -= weights[r]
    return loss
