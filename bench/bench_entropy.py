"""Benchmarks of the `entropy` family against its rivals (see fastxent.benchmarks.cases)."""

import pytest

from ._harness import implementations, run_benchmark


@pytest.mark.parametrize("case,impl", implementations("entropy"))
def test_entropy(benchmark, bench_size, case, impl):
    run_benchmark(benchmark, case, impl, bench_size)
