"""Deterministic, accurate summation shared by every reduction kernel.

Reductions are split into fixed blocks of ``BLOCK`` consecutive samples.
Each block is summed in float64 by one thread (LLVM vectorizes that loop,
which is fine: within 2048 terms the rounding error stays ~1e-14 relative
for non-negative terms), its partial sum is stored in a small array of
``n_blocks(n)`` floats, and the partials are added in index order with
Neumaier's compensated summation.  Because block boundaries do not depend
on the thread count, the result is bit-identical for any number of
threads; because partials are compensated, the total is within ~1e-14
relative of ``math.fsum`` even at 1e7+ samples (naive left-to-right
summation is not).

Kernel pattern (the block body is written once and shared by the serial
and the parallel driver; it is a ``kernel``, not a ``scalar``, so that its
reduction may be reassociated and vectorized; and it indexes a slice view,
because ``x[i]`` for ``i`` in ``range(start, stop)`` keeps Numba's
negative-index check and turns the loads into gathers, ~3x slower)::

    @kernel
    def _block_total(x, b):
        start, stop = block_bounds(b, x.shape[0])
        block = x[start:stop]
        acc = 0.0
        for i in range(block.shape[0]):
            acc += term(block[i])
        return acc

    @parallel_kernel
    def _total_parallel(x):
        partial = np.empty(n_blocks(x.shape[0]))
        for b in numba.prange(partial.shape[0]):
            partial[b] = _block_total(x, b)
        return compensated_sum(partial)

    # _total_serial: the same with range(), decorated with @kernel.
"""

import numpy as np

from .jit import kernel, scalar, stable_api, strict_inline

__all__ = [
    "BLOCK",
    "n_blocks",
    "block_bounds",
    "compensated_add",
    "compensated_add_arrays",
    "compensated_sum",
    "compensated_sum_columns",
    "compensated_sum_columns_into",
]

BLOCK = 2048


# Integer helpers, inlined: a separate compilation each would cost more
# than their bodies.


@strict_inline
def n_blocks(n):
    return (n + BLOCK - 1) // BLOCK


@strict_inline
def block_bounds(b, n):
    start = b * BLOCK
    stop = start + BLOCK
    # an if-expression, not min(): the builtin compiles a function of its own
    return start, (n if n < stop else stop)


@strict_inline
def _neumaier_step(total, comp, value):
    t = total + value
    if abs(total) >= abs(value):
        comp += (total - t) + value
    else:
        comp += (value - t) + total
    return t, (comp if abs(t) < np.inf else 0.0)


@scalar
def compensated_add(total, comp, value):
    """One step of Neumaier's compensated summation: ``(total, comp) + value``.

    ``compensated_add(total, comp, value) -> (total, comp)``

    ``t = total + value``; the rounding error of that addition, exact by
    Fast2Sum with the larger operand first, ``(total - t) + value`` if
    ``|total| >= |value|`` else ``(value - t) + total``, is added to
    ``comp``.  The sum of everything added is ``total + comp``.

    Parameters
    ----------
    total, comp : float64
        The running sum and its accumulated rounding error (start at 0.0).
    value : float64
        The term to add.

    Returns
    -------
    total, comp : float64
        The new pair.  Once ``total`` is infinite or nan, ``comp`` is 0: the
        error term would be ``inf - inf = nan``, while ``total + comp`` must
        stay the plain sum (inf, or nan for inf - inf).
    """
    return _neumaier_step(total, comp, value)


@stable_api
@scalar
def compensated_sum(values):
    """Neumaier sum of a 1-D float64 array, in index order.

    ``compensated_sum(values) -> total``

    :func:`compensated_add` of each value in turn; the result is
    ``total + comp``.

    Parameters
    ----------
    values : 1-D float64 array of shape (n,)
        Any stride; read-only is fine; length 0 gives 0.0.

    Returns
    -------
    total : float64
        The compensated sum (error about one rounding of the exact sum for
        well-conditioned data); with an infinite partial sum, the plain
        sum (inf, or nan for inf - inf).

    Examples
    --------
    >>> import numpy as np
    >>> from fastxent import kernels
    >>> values = np.array([1e16, 1.0, -1e16])
    >>> kernels.compensated_sum(values)
    1.0
    >>> float(np.sum(values))
    0.0
    """
    total = 0.0
    comp = 0.0
    for v in values:
        total, comp = _neumaier_step(total, comp, v)
    return total + comp


@scalar
def compensated_sum_columns(values):
    """Neumaier sum down each column of a 2-D float64 array (rows in order).

    ``compensated_sum_columns(values) -> totals``: ``totals[j]`` is
    :func:`compensated_sum` of ``values[:, j]``.
    """
    out = np.empty(values.shape[1])
    compensated_sum_columns_into(values, out)
    return out


@strict_inline
def compensated_sum_columns_into(values, out):
    """:func:`compensated_sum_columns` written into ``out`` (length
    ``values.shape[1]``), inlined into the caller: call it only from strict
    code (``scalar`` or ``kernel(fastmath=False)``), as fast-math would
    reassociate the compensation away."""
    for j in range(values.shape[1]):
        total = 0.0
        comp = 0.0
        for i in range(values.shape[0]):
            total, comp = _neumaier_step(total, comp, values[i, j])
        out[j] = total + comp


@kernel(fastmath=False)
def compensated_add_arrays(total, comp, values):
    """:func:`compensated_add` element by element, into new arrays.

    ``compensated_add_arrays(total, comp, values) -> (total, comp)``

    Parameters
    ----------
    total, comp, values : 1-D float64 arrays of one length
        Running sums, their rounding errors and the terms to add; not
        modified.

    Returns
    -------
    total, comp : 1-D float64 arrays
        The new pairs.
    """
    new_total = np.empty(total.shape[0])
    new_comp = np.empty(total.shape[0])
    for j in range(total.shape[0]):
        new_total[j], new_comp[j] = _neumaier_step(total[j], comp[j], values[j])
    return new_total, new_comp
