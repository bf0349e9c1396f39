"""What every bench_<family>.py does: one benchmark per (case, implementation)."""

import numpy as np
import pytest

from fastxent.benchmarks.cases import cases_of, make_inputs

_inputs_cache = {}


def implementations(family):
    """pytest parameters (case, implementation) of a family, with readable ids."""
    params = []
    for case in cases_of(family):
        impls = ["fastxent", case.rival_library] + (["numpy-read"] if case.floor else [])
        params += [pytest.param(case, impl, id=f"{case.key}-{impl}") for impl in impls]
    return params


def inputs_of(case, size):
    """Inputs of a case, built once for all its implementations (one case kept)."""
    key = (case.key, size)
    if key not in _inputs_cache:
        _inputs_cache.clear()
        _inputs_cache[key] = make_inputs(case, size)
    return _inputs_cache[key]


def _assert_same(got, expected, rtol):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same(g, e, rtol)
    else:
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol=rtol)


def run_benchmark(benchmark, case, impl, size):
    if impl not in ("fastxent", "numpy-read") and not case.rival.available():
        pytest.skip(f"{impl} is not installed")
    inputs = inputs_of(case, size)
    bind = {"fastxent": case.fastxent_call, "numpy-read": case.floor_call}.get(impl, case.rival_call)
    func = bind(inputs)
    benchmark.group = case.key
    benchmark.extra_info.update(case=case.title, implementation=impl, size=size, target_speedup=case.target_speedup)
    if size != "smoke":
        func()  # warm-up: JIT compilation is not what we measure
        benchmark(func)
        return
    result = benchmark.pedantic(func, rounds=1, iterations=1)
    if impl == "fastxent" and case.rival.available():
        _assert_same(result, case.rival_call(inputs)(), case.rtol)
