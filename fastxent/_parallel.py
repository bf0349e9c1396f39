"""Choosing between the serial and the parallel driver of a kernel.

Every public function that has a ``prange`` kernel also has a serial twin
(a distinct Python function, so the two never share a cache entry) and
calls them through :func:`run`.  Small inputs take the serial driver (a
thread-pool launch costs tens of microseconds).  Parallel launches from
Python are serialized by a process-wide lock, because Numba's
``workqueue`` threading layer aborts the process when two Python threads
enter parallel code at once (numba#9288).
"""

import threading

import numba

__all__ = ["SERIAL_CUTOFF", "run"]

SERIAL_CUTOFF = 1 << 15

_launch_lock = threading.Lock()


def run(parallel_kernel, serial_kernel, work, *args):
    """Call ``parallel_kernel(*args)`` or, for less than ``SERIAL_CUTOFF``
    elements of ``work``, or a single thread, ``serial_kernel(*args)``."""
    if work < SERIAL_CUTOFF or numba.get_num_threads() == 1:
        return serial_kernel(*args)
    with _launch_lock:
        return parallel_kernel(*args)
