"""Benchmarks of the `binary` family against its rivals (see fastxent.benchmarks.cases)."""

import pytest

from ._harness import implementations, run_benchmark


@pytest.mark.parametrize("case,impl", implementations("binary"))
def test_binary(benchmark, bench_size, case, impl):
    run_benchmark(benchmark, case, impl, bench_size)
