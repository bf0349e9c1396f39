"""Collection and sizing of the benchmark suite.

* Files are named ``bench_<family>.py``; the hook below collects them
  (pytest's ``python_files`` only matches ``test_*.py``).
* Sizes: the full sizes when benchmarking for real
  (``pytest bench/ --benchmark-only``, or ``FASTXENT_BENCH_SIZE=full``);
  otherwise -- the test-suite, usually with ``--benchmark-disable`` -- tiny
  "smoke" inputs, each benchmark runs exactly once and fastxent's result is
  checked against the rival's.  ``FASTXENT_BENCH_SIZE=quick`` picks the
  intermediate sizes of ``fastxent bench --quick``.
"""

import os

import pytest

from fastxent.benchmarks.cases import SIZES


def pytest_collect_file(file_path, parent):
    if (
        file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path)
    ):  # given explicitly: pytest collects it
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def bench_size(request):
    size = os.environ.get("FASTXENT_BENCH_SIZE")
    if size is None:
        size = "full" if request.config.getoption("benchmark_only", False) else "smoke"
    if size not in SIZES:
        raise pytest.UsageError(f"FASTXENT_BENCH_SIZE must be one of {SIZES}, not {size!r}")
    return size
