"""The stable Numba API: every computation of fastxent as an ``@njit`` function.

Call these from your own ``numba.njit`` code (simulation loops, custom
trainers, ``prange`` loops): they run in nopython mode, take NumPy arrays and
scalars (float32 or float64; any memory layout, read-only arrays included),
never validate (the public NumPy API does that) and hold no Python objects.
Each function's docstring gives its exact signature and formula;
``help(fastxent.kernels.NAME)``.

These names are stable API: their signatures and semantics change only with
a major version.

Conventions
-----------
Every kernel below follows these rules (``tests/test_kernels_api.py``
checks them mechanically, so a new kernel cannot break them unnoticed).

1. Argument order.  Losses take the target before the prediction, like the
   NumPy API and scikit-learn's ``log_loss(y_true, y_pred)``: per sample
   ``(y, z)`` / ``(y, p)``, per row ``(target, z_row)`` / ``(t_row, z_row)``
   (``q_row`` for probabilities), arrays ``(y_true, y_pred, ...)``.
   Divergences and entropies take ``(pk, qk)`` / ``(p, q)`` in SciPy's
   order.  Logistic objectives and fits take the design matrix first, like
   scikit-learn's ``fit(X, y)``: ``(X, y, sample_weight, ...)``, a CSR matrix
   as ``(data, indices, indptr, y, sample_weight, ...)``.  After the data
   come ``sample_weight``, then the family's options, then the clip bounds
   ``lo, hi``, then ``grad_scale``, then the output arrays, last.
2. An absent optional array (``sample_weight``, ``class_weight``, ``qk``,
   ``losses``, ``grad``, ``out``, ``coef0`` ...) is an array of length 0
   (``len(a) == 0``) with the dimensions it has when present:
   ``np.empty(0)``, or ``np.empty((0, k))`` for a 2-D one; never ``None``.
   One argument type compiles one specialization of a kernel and its
   callees, where ``None`` would compile a second one: this keeps the
   first-call compile time of your code down.  For the same reason an
   integer or boolean constant passed from your compiled code is typed as
   ``int64`` or ``bool``, as from Python, not as a literal of its value
   (a solver's name stays a literal: the fits choose their solver by it).
3. Shared names are the NumPy API's where the concept is the same:
   ``y_true``, ``y_pred``, ``sample_weight``, ``class_weight``,
   ``pos_weight``, ``label_smoothing``, ``ignore_index``, ``from_logits``,
   ``lo``, ``hi`` (clip bounds of probabilities: ``0.0, 1.0`` clip nothing),
   ``grad_scale`` (the factor applied to every gradient entry), and the
   outputs ``losses`` (per-sample values), ``grad`` (``grad_row`` for one
   row) and ``out``.
4. Twins.  Every array kernel (a pass over the samples of an array) comes as
   ``NAME_serial``, which runs on the calling thread (the one to call inside
   your own ``prange`` loop), and ``NAME_parallel``, which uses Numba's
   thread pool; both take the same arguments and give bit-identical results
   for any thread count (fixed blocks, compensated sums).  Functions of one
   sample, one row, one vector or one table have no suffix.  The whole fits
   ``fit_*`` run on the calling thread and use the thread pool for their
   objective from about 1e6 stored values of ``X``.
5. Outputs.  Reductions return float64 scalars (a tuple when several);
   per-sample and per-row results are written into caller-allocated arrays
   passed last (``losses``, ``grad``, ``grad_row``, ``out``; length 0 = not
   wanted), and a kernel whose only result is such an array returns None.
   Kernels allocate nothing of the input's size (reductions keep one
   float64 per block of 2048 samples).  Fits return new arrays,
   ``(coef, n_iter, converged, objective_history)`` (and, given no
   ``sample_weight``, allocate the unit weights their solvers read).

Groups
------
Elementary functions (vectorizable, < 1 ulp)
    ``log``, ``log1p``, ``exp``
Special functions (scalars; the definitions behind ``fastxent.ufuncs``)
    ``xlogy``, ``xlog1py``, ``entr``, ``rel_entr``, ``kl_div``, ``expit``, ``log_expit``
Per-sample binary cross-entropy (logits or probabilities)
    ``softplus``, ``sigmoid``, ``binary_logit_loss``, ``binary_logit_grad``,
    ``binary_logit_loss_grad``, ``binary_proba_loss``, ``binary_proba_grad``,
    ``binary_proba_loss_grad``
Per-row softmax / categorical cross-entropy
    ``row_max``, ``row_sum_exp``, ``row_max_sum_exp``, ``row_logsumexp``,
    ``softmax_row_loss``, ``softmax_row_loss_grad``,
    ``softmax_row_smoothed_loss``, ``softmax_row_smoothed_loss_grad``,
    ``softmax_row_soft_loss``, ``softmax_row_soft_loss_grad``,
    ``proba_row_loss``, ``proba_row_loss_grad``,
    ``proba_row_soft_loss``, ``proba_row_soft_loss_grad``
Array reductions (``_serial`` / ``_parallel`` twins)
    ``binary_log_loss_sum_serial``, ``binary_log_loss_sum_parallel``,
    ``multiclass_log_loss_sum_serial``, ``multiclass_log_loss_sum_parallel``,
    ``binary_cross_entropy_serial``, ``binary_cross_entropy_parallel``,
    ``cross_entropy_index_serial``, ``cross_entropy_index_parallel``,
    ``cross_entropy_soft_serial``, ``cross_entropy_soft_parallel``,
    ``entropy_slice_serial``, ``entropy_slice_parallel``, ``entropy_rows_serial``,
    ``entropy_rows_parallel``, ``entropy_columns_serial``,
    ``entropy_columns_parallel``
Sums (one vector, calling thread)
    ``compensated_sum``
Contingency tables and the information between two labelings
    ``contingency_table_serial``, ``contingency_table_parallel``,
    ``mutual_info_table``, ``joint_entropy_table``,
    ``conditional_entropy_table``, ``expected_mutual_info_serial``,
    ``expected_mutual_info_parallel``, ``jensenshannon_rows_serial``,
    ``jensenshannon_rows_parallel``
Logistic regression (objective and gradient in one pass over ``X``; whole fits)
    ``binary_logistic_loss_grad_serial``, ``binary_logistic_loss_grad_parallel``,
    ``multinomial_logistic_loss_grad_serial``, ``multinomial_logistic_loss_grad_parallel``,
    ``binary_logistic_loss_grad_csr_serial``, ``binary_logistic_loss_grad_csr_parallel``,
    ``multinomial_logistic_loss_grad_csr_serial``, ``multinomial_logistic_loss_grad_csr_parallel``,
    ``fit_binary_logistic``, ``fit_multinomial_logistic``,
    ``fit_binary_logistic_csr``, ``fit_multinomial_logistic_csr``

Examples
--------
>>> import numba, numpy as np
>>> from fastxent import kernels
>>> @numba.njit
... def total_logistic_loss(y, z):
...     s = 0.0
...     for i in range(z.shape[0]):
...         s += kernels.binary_logit_loss(y[i], z[i], 1.0)
...     return s
>>> total_logistic_loss(np.array([0.0, 1.0]), np.array([-3.0, 2.5]))  # doctest: +ELLIPSIS
0.12...
"""

from ._infra.jit import start_thread_pool
from ._infra.summation import compensated_sum
from ._kernels.binary import binary_cross_entropy_parallel, binary_cross_entropy_serial
from ._kernels.categorical import (
    cross_entropy_index_parallel,
    cross_entropy_index_serial,
    cross_entropy_soft_parallel,
    cross_entropy_soft_serial,
)
from ._kernels.contingency import contingency_table_parallel, contingency_table_serial
from ._kernels.entropy_columns import entropy_columns_parallel, entropy_columns_serial
from ._kernels.entropy_rows import entropy_rows_parallel, entropy_rows_serial
from ._kernels.entropy_slices import entropy_slice_parallel, entropy_slice_serial
from ._kernels.expected_mutual_info import expected_mutual_info_parallel, expected_mutual_info_serial
from ._kernels.jensenshannon import jensenshannon_rows_parallel, jensenshannon_rows_serial
from ._kernels.log_loss import (
    binary_log_loss_sum_parallel,
    binary_log_loss_sum_serial,
    multiclass_log_loss_sum_parallel,
    multiclass_log_loss_sum_serial,
)
from ._kernels.logistic import (
    binary_logistic_loss_grad_csr_parallel,
    binary_logistic_loss_grad_csr_serial,
    binary_logistic_loss_grad_parallel,
    binary_logistic_loss_grad_serial,
    multinomial_logistic_loss_grad_csr_parallel,
    multinomial_logistic_loss_grad_csr_serial,
    multinomial_logistic_loss_grad_parallel,
    multinomial_logistic_loss_grad_serial,
)
from ._kernels.mutual_info import conditional_entropy_table, joint_entropy_table, mutual_info_table
from ._math.binary import (
    binary_logit_grad,
    binary_logit_loss,
    binary_logit_loss_grad,
    binary_proba_grad,
    binary_proba_loss,
    binary_proba_loss_grad,
    sigmoid,
    softplus,
)
from ._math.elementary import exp, log, log1p
from ._math.softmax import (
    proba_row_loss,
    proba_row_loss_grad,
    proba_row_soft_loss,
    proba_row_soft_loss_grad,
    row_logsumexp,
    row_max,
    row_max_sum_exp,
    row_sum_exp,
    softmax_row_loss,
    softmax_row_loss_grad,
    softmax_row_smoothed_loss,
    softmax_row_smoothed_loss_grad,
    softmax_row_soft_loss,
    softmax_row_soft_loss_grad,
)
from ._math.special import entr, expit, kl_div, log_expit, rel_entr, xlog1py, xlogy
from ._solvers.fit import (
    fit_binary_logistic,
    fit_binary_logistic_csr,
    fit_multinomial_logistic,
    fit_multinomial_logistic_csr,
)

# A user's @njit(cache=True) function that calls a ``_parallel`` kernel is
# serial code calling parallel code: loaded from Numba's cache into a process
# whose thread pool never started, it would crash (see start_thread_pool).
start_thread_pool()

__all__ = [
    # elementary functions
    "log",
    "log1p",
    "exp",
    # special functions
    "xlogy",
    "xlog1py",
    "entr",
    "rel_entr",
    "kl_div",
    "expit",
    "log_expit",
    # per-sample binary cross-entropy
    "softplus",
    "sigmoid",
    "binary_logit_loss",
    "binary_logit_grad",
    "binary_logit_loss_grad",
    "binary_proba_loss",
    "binary_proba_grad",
    "binary_proba_loss_grad",
    # per-row softmax cross-entropy
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
    # array reductions
    "binary_log_loss_sum_serial",
    "binary_log_loss_sum_parallel",
    "multiclass_log_loss_sum_serial",
    "multiclass_log_loss_sum_parallel",
    "binary_cross_entropy_serial",
    "binary_cross_entropy_parallel",
    "cross_entropy_index_serial",
    "cross_entropy_index_parallel",
    "cross_entropy_soft_serial",
    "cross_entropy_soft_parallel",
    "entropy_slice_serial",
    "entropy_slice_parallel",
    "entropy_rows_serial",
    "entropy_rows_parallel",
    "entropy_columns_serial",
    "entropy_columns_parallel",
    # sums
    "compensated_sum",
    # contingency tables and information between labelings
    "contingency_table_serial",
    "contingency_table_parallel",
    "mutual_info_table",
    "joint_entropy_table",
    "conditional_entropy_table",
    "expected_mutual_info_serial",
    "expected_mutual_info_parallel",
    "jensenshannon_rows_serial",
    "jensenshannon_rows_parallel",
    # logistic regression
    "binary_logistic_loss_grad_serial",
    "binary_logistic_loss_grad_parallel",
    "multinomial_logistic_loss_grad_serial",
    "multinomial_logistic_loss_grad_parallel",
    "binary_logistic_loss_grad_csr_serial",
    "binary_logistic_loss_grad_csr_parallel",
    "multinomial_logistic_loss_grad_csr_serial",
    "multinomial_logistic_loss_grad_csr_parallel",
    "fit_binary_logistic",
    "fit_multinomial_logistic",
    "fit_binary_logistic_csr",
    "fit_multinomial_logistic_csr",
]
