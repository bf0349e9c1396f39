"""Benchmarks of the `information` family against its rivals (see fastxent.benchmarks.cases)."""

import pytest

from ._harness import implementations, run_benchmark


@pytest.mark.parametrize("case,impl", implementations("information"))
def test_information(benchmark, bench_size, case, impl):
    run_benchmark(benchmark, case, impl, bench_size)
