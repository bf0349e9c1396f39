"""Choosing between the serial and the parallel driver of a kernel.

Every public function that has a ``prange`` kernel also has a serial twin
(a distinct Python function, so the two never share a cache entry) and
calls them through :func:`run`, which makes the parallel launch safe in
every situation a library meets:

* **Small inputs** (fewer than ``SERIAL_CUTOFF`` elements of work) and a
  thread count of 1 (``numba.set_num_threads(1)``, which Numba keeps per
  calling thread) take the serial driver: a thread-pool launch costs tens
  of microseconds, and the parallel driver is compiled only once a large
  input needs it.
* **Several Python threads at once.**  Numba's ``tbb`` and ``omp`` layers
  accept concurrent launches; the ``workqueue`` layer aborts the process
  when two threads enter parallel code at once.  Launches are
  therefore serialized by a process-wide lock whenever the layer is
  ``workqueue`` or not yet chosen (the first launch picks it), and run
  freely otherwise.  Numba's default picks the first layer available of
  ``tbb``, ``omp`` and ``workqueue``.  We do not pin a layer:
  that is the application's choice (``NUMBA_THREADING_LAYER``).
* **fork.**  GNU OpenMP is not fork-safe: a child forked from a process
  whose OpenMP pool has started terminates ("fork() called from a process
  already using GNU OpenMP") at its first parallel region.  A forked
  child of such a process therefore runs the serial driver, which gives
  the same result (kernels use fixed blocks, see ``_summation``).  The
  lock is recreated in the child in case another thread held it at the
  fork.  ``tbb``, ``workqueue`` and non-GNU OpenMP children stay parallel.

Results are unaffected by the driver: both drivers reduce over the same
fixed blocks in the same order.
"""

import os
import threading

import numba

__all__ = ["SERIAL_CUTOFF", "run", "parallel_allowed", "row_work"]

# 131072: a 1-D input of 1e5 samples stays serial, so its first call does
# not compile the parallel twin (parfor lowering: 2-13 s per kernel, the
# largest single compile item), for a run-time cost of about 0.3 ms at that
# size (serial 0.6-0.8 ms against parallel 0.3-0.4 ms on 2 cores, binary
# log-loss scan).
SERIAL_CUTOFF = 1 << 17

# Values of a row that weigh like one sample of a 1-D kernel (see row_work).
VALUES_PER_ROW_UNIT = 8

_launch_lock = threading.Lock()
# Set in a forked child when the parent's thread pool cannot be used there.
_pool_unusable_after_fork = False


def _current_layer():
    """Name of Numba's threading layer, or None before its first launch."""
    try:
        return numba.threading_layer()
    except ValueError:
        return None


def _is_gnu_openmp(layer):
    if layer != "omp":
        return False
    from numba.np.ufunc import omppool

    return omppool.openmp_vendor == "GNU"


def _after_fork_in_child():
    global _launch_lock, _pool_unusable_after_fork
    _launch_lock = threading.Lock()
    if _is_gnu_openmp(_current_layer()):
        _pool_unusable_after_fork = True


if hasattr(os, "register_at_fork"):  # POSIX only; fork does not exist elsewhere
    os.register_at_fork(after_in_child=_after_fork_in_child)


def parallel_allowed(work):
    """Whether :func:`run` would take the parallel driver for ``work`` elements."""
    return work >= SERIAL_CUTOFF and not _pool_unusable_after_fork and numba.get_num_threads() > 1


def row_work(n_rows, n_values):
    """Work of a kernel over ``n_rows`` rows holding ``n_values`` values in
    all, in the units of ``SERIAL_CUTOFF``: ``max(n_rows, n_values // 8)``.

    A row costs one per-sample computation (a logarithm, a normalization)
    plus cheap per-value work (loads, compares, an ``exp``): measured
    serially, a row of ``k`` probabilities in the multi-class log-loss scan
    costs about ``1 + k / 8`` samples of the binary one.  So a first call
    on 1e5 rows of up to 10 values runs the serial driver and does not
    compile the parallel one, for a run-time cost below a millisecond on 2
    cores (serial about 1 ms at 1e5 x 10); wider rows take the parallel
    driver.
    """
    return max(n_rows, n_values // VALUES_PER_ROW_UNIT)


def run(parallel_kernel, serial_kernel, work, *args):
    """Call ``parallel_kernel(*args)`` or ``serial_kernel(*args)``.

    The serial driver is used for fewer than ``SERIAL_CUTOFF`` elements of
    ``work``, when the calling thread's Numba thread count is 1, and in a
    forked child whose inherited GNU OpenMP pool is unusable.  Parallel
    launches are serialized only under the ``workqueue`` layer (or before
    the layer is known), the one layer that is not thread-safe.
    """
    if not parallel_allowed(work):
        return serial_kernel(*args)
    if _current_layer() in ("tbb", "omp"):
        return parallel_kernel(*args)
    with _launch_lock:
        return parallel_kernel(*args)
