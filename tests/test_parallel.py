"""Thread safety, fork safety, thread-count control and determinism of
fastxent._infra.dispatch.run with blocked reduction kernels."""

import math
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading

import numba
import numpy as np
import pytest

from fastxent._infra import dispatch as _parallel
from fastxent._infra.jit import kernel, parallel_kernel
from fastxent._infra.summation import block_bounds, compensated_sum, n_blocks
from fastxent._math import elementary as fm


# A test-only reduction written like every fastxent kernel: fixed blocks,
# float64 partial sums, compensated sum of the partials in block order.
@kernel
def _block_sum_log(p, b):
    start, stop = block_bounds(b, p.shape[0])
    block = p[start:stop]  # a view: indices provably >= 0, so loads vectorize
    acc = 0.0
    for i in range(block.shape[0]):
        acc += fm.log(block[i])
    return acc


@parallel_kernel
def sum_log_parallel(p):
    partial = np.empty(n_blocks(p.shape[0]))
    for b in numba.prange(partial.shape[0]):
        partial[b] = _block_sum_log(p, b)
    return compensated_sum(partial)


@kernel
def sum_log_serial(p):
    partial = np.empty(n_blocks(p.shape[0]))
    for b in range(partial.shape[0]):
        partial[b] = _block_sum_log(p, b)
    return compensated_sum(partial)


@kernel
def threads_seen_serial(n):
    return 1


@parallel_kernel
def threads_seen_parallel(n):
    """Largest Numba thread id that ran a block, plus one."""
    ids = np.zeros(n, dtype=np.int64)
    for b in numba.prange(n):
        ids[b] = numba.get_thread_id()
    return ids.max() + 1


def sum_log(p):
    return _parallel.run(sum_log_parallel, sum_log_serial, p.shape[0], p)


@pytest.fixture(scope="module")
def probabilities():
    return np.random.default_rng(42).random(400_000) + 1e-3


@pytest.fixture
def restore_threads():
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


def test_serial_and_parallel_drivers_agree(probabilities, restore_threads):
    numba.set_num_threads(2)
    assert _parallel.parallel_allowed(probabilities.shape[0])
    parallel = sum_log(probabilities)
    serial = sum_log_serial(probabilities)
    assert parallel == pytest.approx(serial, rel=1e-14, abs=0)
    assert parallel == pytest.approx(math.fsum(np.log(probabilities)), rel=1e-13)


def test_bit_identical_for_a_given_thread_count(probabilities, restore_threads):
    for threads in (1, 2):
        numba.set_num_threads(threads)
        first = sum_log_parallel(probabilities)
        for _ in range(5):
            assert sum_log_parallel(probabilities) == first


def test_thread_counts_one_and_two_agree(probabilities, restore_threads):
    results = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        results[threads] = sum_log_parallel(probabilities)
    assert abs(results[1] - results[2]) <= 1e-14 * abs(results[1])


def test_set_num_threads_is_respected(restore_threads):
    blocks = 64
    numba.set_num_threads(1)
    assert not _parallel.parallel_allowed(1 << 20)
    assert _parallel.run(threads_seen_parallel, threads_seen_serial, 1 << 20, blocks) == 1
    assert threads_seen_parallel(blocks) == 1
    numba.set_num_threads(2)
    assert _parallel.parallel_allowed(1 << 20)
    assert _parallel.run(threads_seen_parallel, threads_seen_serial, 1 << 20, blocks) <= 2


def test_small_inputs_take_the_serial_driver():
    def fail(*args):
        raise AssertionError("parallel driver used for a small input")

    p = np.full(10, 0.5)
    assert _parallel.run(fail, sum_log_serial, p.shape[0], p) == sum_log_serial(p)


def test_sum_of_ten_million_samples_within_1e13_of_fsum(restore_threads):
    numba.set_num_threads(2)
    p = np.random.default_rng(0).random(10_000_000)
    p[::1000] = 1e-300  # large terms mixed with small ones
    exact = math.fsum(np.log(p))
    assert abs(sum_log(p) - exact) <= 1e-13 * abs(exact)


def hammer(p, expected, n_threads=4, calls=12):
    errors = []
    start = threading.Barrier(n_threads)

    def worker(k):
        try:
            start.wait()
            for i in range(calls):
                # vary the size so calls of different lengths overlap
                m = p.shape[0] - 1000 * ((k + i) % 3)
                got = sum_log(p[:m])
                if got != expected[m]:
                    errors.append((k, i, got, expected[m]))
        except BaseException as exc:  # noqa: BLE001 - report any failure
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_calls_from_python_threads(probabilities, restore_threads):
    numba.set_num_threads(2)
    sizes = [probabilities.shape[0] - 1000 * j for j in range(3)]
    expected = {m: sum_log(probabilities[:m]) for m in sizes}
    assert hammer(probabilities, expected) == []


def _child_sum(conn, p):
    try:
        conn.send(sum_log(p))
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="fork does not exist on Windows")
def test_forked_child_can_compute(probabilities, restore_threads):
    numba.set_num_threads(2)
    expected = sum_log(probabilities)  # the parent's pool is now running
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_sum, args=(child_end, probabilities))
    child.start()
    child_end.close()
    child.join(timeout=120)
    assert child.exitcode == 0
    assert parent_end.recv() == pytest.approx(expected, rel=1e-14, abs=0)


CHILD_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    sys.path.insert(0, {tests_dir!r})
    import numba, numpy as np
    import test_parallel as tp
    numba.set_num_threads(2)
    p = np.random.default_rng(1).random(300_000) + 1e-3
    sizes = [p.shape[0] - 1000 * j for j in range(3)]
    expected = {{m: tp.sum_log(p[:m]) for m in sizes}}
    errors = tp.hammer(p, expected, n_threads=4, calls=8)
    print(numba.threading_layer(), len(errors))
    """
)


def test_concurrent_calls_under_the_workqueue_layer():
    """workqueue is the layer that aborts on concurrent launches: the lock must hold."""
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    script = CHILD_SCRIPT.format(tests_dir=os.path.dirname(__file__))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["workqueue", "0"]
