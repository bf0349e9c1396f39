"""The stable Numba API: every computation of fastxent as an ``@njit`` function.

Call these from your own ``numba.njit`` code (simulation loops, custom
trainers, ``prange`` loops): they run in nopython mode, take NumPy arrays and
scalars (float32 or float64; any memory layout, read-only arrays included),
never validate (the public NumPy API does that), hold no Python objects and
allocate nothing beyond what their result needs (reductions keep one float64
per block of 2048 samples so that their sums are deterministic and
accurate).  Each function's docstring gives its exact signature and formula;
``help(fastxent.kernels.NAME)``.

These names are stable API: their signatures and semantics change only with
a major version.

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
Array reductions (``_serial`` runs on the calling thread; ``_parallel``
uses Numba's thread pool and gives bit-identical results)
    ``binary_log_loss_sum``, ``multiclass_log_loss_sum``,
    ``binary_cross_entropy_serial``, ``binary_cross_entropy_parallel``,
    ``cross_entropy_index_serial``, ``cross_entropy_index_parallel``,
    ``cross_entropy_soft_serial``, ``cross_entropy_soft_parallel``,
    ``entropy_slice_serial``, ``entropy_slice_parallel``, ``entropy_rows_serial``,
    ``entropy_rows_parallel``, ``entropy_columns_serial``,
    ``entropy_columns_parallel``, ``compensated_sum``
Contingency tables and the information between two labelings
    ``contingency_table_serial``, ``contingency_table_parallel``,
    ``mutual_info_table``, ``joint_entropy_table``,
    ``conditional_entropy_table``, ``expected_mutual_info_serial``,
    ``expected_mutual_info_parallel``, ``jensenshannon_rows_serial``,
    ``jensenshannon_rows_parallel``
Logistic regression (objective and gradient in one pass over ``X``; whole fits)
    ``binary_logistic_loss_grad``, ``multinomial_logistic_loss_grad``,
    ``binary_logistic_loss_grad_csr``, ``multinomial_logistic_loss_grad_csr``,
    ``fit_binary_lbfgs``, ``fit_multinomial_lbfgs``, ``fit_binary_lbfgs_csr``,
    ``fit_multinomial_lbfgs_csr``, ``fit_binary_gd``, ``fit_multinomial_gd``,
    ``fit_binary_gd_csr``, ``fit_multinomial_gd_csr``

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
from ._kernels.log_loss import binary_log_loss_sum, multiclass_log_loss_sum
from ._kernels.logistic import (
    binary_logistic_loss_grad,
    binary_logistic_loss_grad_csr,
    multinomial_logistic_loss_grad,
    multinomial_logistic_loss_grad_csr,
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
from ._solvers.gd import fit_binary_gd, fit_binary_gd_csr, fit_multinomial_gd, fit_multinomial_gd_csr
from ._solvers.lbfgs import (
    fit_binary_lbfgs,
    fit_binary_lbfgs_csr,
    fit_multinomial_lbfgs,
    fit_multinomial_lbfgs_csr,
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
    "binary_log_loss_sum",
    "multiclass_log_loss_sum",
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
    "binary_logistic_loss_grad",
    "multinomial_logistic_loss_grad",
    "binary_logistic_loss_grad_csr",
    "multinomial_logistic_loss_grad_csr",
    "fit_binary_lbfgs",
    "fit_multinomial_lbfgs",
    "fit_binary_lbfgs_csr",
    "fit_multinomial_lbfgs_csr",
    "fit_binary_gd",
    "fit_multinomial_gd",
    "fit_binary_gd_csr",
    "fit_multinomial_gd_csr",
]
