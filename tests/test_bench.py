"""The benchmark runner itself: timing, ratios, table, extra-memory probe; what it imports."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from fastxent.benchmarks import cold_start
from fastxent.benchmarks import run as _bench
from fastxent.benchmarks.cases import CASES, SIZES, Case, make_inputs
from fastxent.benchmarks.references import REFERENCES


def _fake_case(**overrides):
    fields = dict(
        key="fake",
        family="fake",
        title="fake case",
        shapes={"full": {"n": 10}, "quick": {"n": 10}, "smoke": {"n": 10}},
        make=lambda n: {"p": np.arange(1.0, n + 1)},
        function="entropy",
        arguments=lambda d: ((d["p"],), {}),
        rival_library="numpy",
        target_speedup=1.0,
        floor=lambda d: None,
        target_floor=1e9,
    )
    fields.update(overrides)
    return Case(**fields)


@pytest.mark.requires("scipy")
def test_measure_case_reports_medians_and_ratios():
    row = _bench.measure_case(_fake_case(), "smoke", rounds=3, budget_s=1.0)
    assert row["error"] is None and row["rounds"] == 3
    assert row["ratio"] == pytest.approx(row["rival_s"] / row["fastxent_s"])
    assert row["floor_ratio"] == pytest.approx(row["fastxent_s"] / row["floor_s"])
    assert row["met"] in (True, False)


def test_a_failing_function_is_reported_not_raised():
    case = _fake_case(function="log_loss", arguments=lambda d: (([0, 1], [0.5]), {}), rival_library="scikit-learn")
    row = _bench.measure_case(case, "smoke")
    assert row["ratio"] is None and row["error"].startswith("ValueError: ")


def test_markdown_table_and_json_round_trip(tmp_path):
    rows = [_bench.measure_case(_fake_case(), "smoke", rounds=3)]
    rows[0]["rival_s"] = rows[0]["rival_s"] or 1.0  # the same row whether SciPy is installed or not
    rows[0]["ratio"] = rows[0]["ratio"] or 1.0
    results = {"size": "smoke", "rows": rows, "memory": None, "environment": {}}
    table = _bench.format_markdown(json.loads(json.dumps(results)))
    header, separator, row = table.splitlines()[2:5]
    assert header.count("|") == separator.count("|") == row.count("|")
    assert row.startswith("| fake case | n = 10 | numpy | ")
    assert table.startswith("Smoke run (smaller inputs, few rounds: indicative): ")
    assert "target" not in table and "≥" not in table


def test_peak_growth_sees_a_temporary_and_ignores_reuse():
    # 48 MB: above glibc's largest mmap threshold (32 MB), so the temporary gets
    # fresh pages whatever this process freed before (a smaller one can reuse
    # resident heap memory and leave the peak unchanged).
    n = 6_000_000

    def allocate():
        return float(np.ones(n).sum())

    assert _bench._peak_growth(allocate) >= 0.9 * 8 * n
    x = np.ones(n)
    assert _bench._peak_growth(lambda: float(x.sum())) < 0.05 * x.nbytes


def test_every_case_has_all_sizes_and_builds_small_inputs():
    assert len({c.key for c in CASES}) == len(CASES)
    for case in CASES:
        assert set(case.shapes) == set(SIZES)
        inputs = make_inputs(case, "smoke")
        assert all(np.asarray(v).size <= 100_000 for k, v in inputs.items() if k != "labels")


def test_every_rival_is_a_reference_of_the_table():
    for case in CASES:
        assert case.rival in REFERENCES[case.function], case.key
        assert case.rival.library == case.rival_library


def _modules_after(code):
    """Names of the modules that ``code`` adds to a fresh interpreter beyond those of Numba itself."""
    probe = (
        "import json, sys, numba\n"
        "numba.njit(lambda x: x + 1)(1)\n"  # Numba imports SciPy itself, when installed
        "before = set(sys.modules)\n"
        f"{code}\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_fastxent_and_its_cli_imports_no_benchmark_and_no_rival():
    added = _modules_after("import fastxent, fastxent.cli")
    assert "fastxent.cli" in added
    assert [m for m in added if m.startswith("fastxent.benchmarks")] == []
    assert [m for m in added if m.split(".")[0] in ("sklearn", "scipy", "torch", "pandas", "matplotlib")] == []


def test_the_benchmarks_never_import_the_cli():
    added = _modules_after(
        "import fastxent.benchmarks.cases, fastxent.benchmarks.references, fastxent.benchmarks.run,"
        " fastxent.benchmarks.plot, fastxent.benchmarks.report, fastxent.benchmarks.scaling"
    )
    assert "fastxent.benchmarks.run" in added and "fastxent.cli" not in added


def test_cold_start_counts_compilations_in_a_fresh_process_and_none_with_a_warm_cache():
    case = cold_start.ColdStartCase("entr", "x = np.linspace(0.0, 1.0, 11)", "fastxent.ufuncs.entr(x)")
    row = cold_start.measure(case)
    assert row["compiled"] >= 1 and row["compiled_warm"] == 0
    assert row["cold_s"] > 0 and row["warm_s"] > 0 and row["baseline"] == "import numpy"


def test_cold_start_numba_floor_compiles_nothing_and_is_the_first_row(monkeypatch):
    monkeypatch.setattr(cold_start, "COLD_START_CASES", ())
    (row,) = cold_start.run(quick=True)
    assert row["case"] == cold_start.NUMBA_FLOOR.name
    assert row["compiled"] == 0 and row["compiled_warm"] == 0
    assert 0 < row["warm_s"] < 60


def test_cold_start_case_failure_names_the_case():
    case = cold_start.ColdStartCase("broken", "", "fastxent.no_such_function()")
    with pytest.raises(RuntimeError, match="'broken'"):
        cold_start.measure(case)


def test_cold_start_table_in_the_markdown_report():
    first_calls = [
        {"case": "log_loss, binary", "baseline": "import numpy", "cold_s": 4.2, "warm_s": 0.31, "compiled": 35}
        | {"compiled_warm": 0, "repeat": 1}
    ]
    results = {"size": "quick", "rows": [], "memory": None, "cold_start": first_calls, "environment": {}}
    table = _bench.format_markdown(json.loads(json.dumps(results)))
    assert "| log_loss, binary | 4.20 s | 0.31 s | 35 (warm: 0) | `import numpy` |" in table


def test_cold_start_cases_call_the_main_public_entry_points():
    import fastxent

    names = [c.name for c in cold_start.COLD_START_CASES]
    assert len(set(names)) == len(names)
    called = {re.match(r"fastxent\.(\w+)", c.call).group(1) for c in cold_start.COLD_START_CASES}
    assert called <= set(fastxent.__all__)
    assert {"log_loss", "binary_cross_entropy", "cross_entropy", "entropy", "LogisticRegression"} <= called
    estimator_cases = [c for c in cold_start.COLD_START_CASES if "LogisticRegression" in c.call]
    assert estimator_cases and all(c.baseline == "numpy, sklearn" for c in estimator_cases)
