"""Benchmarks of the `log_loss` family against its rivals (see fastxent.benchmarks.cases)."""

import pytest

from ._harness import implementations, run_benchmark


@pytest.mark.parametrize("case,impl", implementations("log_loss"))
def test_log_loss(benchmark, bench_size, case, impl):
    run_benchmark(benchmark, case, impl, bench_size)
