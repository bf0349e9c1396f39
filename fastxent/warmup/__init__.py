"""Compile fastxent's common signatures into Numba's on-disk cache ahead of use.

fastxent compiles each kernel on its first call (seconds: ``log_loss`` about
5 s, a ``LogisticRegression`` fit 20 s on an empty cache) and keeps the
machine code on disk.  ``fastxent warmup`` (or ``python -m fastxent warmup``)
makes those first calls once, for the inputs users pass: float32 and
float64, C-contiguous arrays, writable and read-only (one compiled kernel
serves both: the API hands its kernels read-only views of their inputs),
with and without weights, small inputs (the serial kernels) and inputs above
:data:`fastxent._infra.dispatch.SERIAL_CUTOFF` (their parallel twins).  A
later process then loads every kernel from the cache: run it when building a
Docker image, in CI, or once before starting the workers of a cluster that
share one ``NUMBA_CACHE_DIR``.

Each task computes results with the public API and checks them (finite,
float32 agreeing with float64, read-only equal to writable), so a warm-up
that succeeds has also run every kernel once.  Tasks are grouped in
families that compile mostly disjoint sets of kernels; each family runs in
its own process (``--jobs`` processes at a time), so no two processes
compile the same kernel at once.  Numba's cache numbers its data files
from a read-modify-write of the index file, which two processes saving
signatures of one function at the same moment can interleave; the warm-up
processes therefore take a file lock around each cache write.

``FASTXENT_WARMUP=background`` makes ``import fastxent`` start a warm-up in
a detached, low-priority process (:func:`start_background`) unless one has
completed for this installation, cache folder and Numba version; the
importing process compiles nothing.
"""

from .background import start_background
from .driver import format_result, run, succeeded
from .tasks import TASKS, Task, select

__all__ = ["TASKS", "Task", "select", "run", "format_result", "succeeded", "start_background"]
