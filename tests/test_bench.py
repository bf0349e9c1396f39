"""The benchmark runner itself: timing, ratios, table, extra-memory probe."""

import json

import numpy as np
import pytest

from fastxent.benchmarks import run as _bench
from fastxent.benchmarks.cases import CASES, SIZES, Case, make_inputs


def _fake_case(**overrides):
    fields = dict(
        key="fake",
        family="fake",
        title="fake case",
        shapes={"full": {"n": 10}, "quick": {"n": 10}, "smoke": {"n": 10}},
        make=lambda n: {"x": np.arange(float(n))},
        fastxent=lambda d: d["x"].sum(),
        rival_library="numpy",
        rival=lambda d: sorted(d["x"].tolist()),
        target_speedup=1.0,
        floor=lambda d: None,
        target_floor=1e9,
    )
    fields.update(overrides)
    return Case(**fields)


def test_measure_case_reports_medians_and_ratios():
    row = _bench.measure_case(_fake_case(), "smoke", rounds=3, budget_s=1.0)
    assert row["error"] is None and row["rounds"] == 3
    assert row["ratio"] == pytest.approx(row["rival_s"] / row["fastxent_s"])
    assert row["floor_ratio"] == pytest.approx(row["fastxent_s"] / row["floor_s"])
    assert row["met"] in (True, False)


def test_a_failing_function_is_reported_not_raised():
    def broken(d):
        raise ValueError("no such thing")

    row = _bench.measure_case(_fake_case(fastxent=broken), "smoke")
    assert row["ratio"] is None and "ValueError: no such thing" in row["error"]


def test_markdown_table_and_json_round_trip(tmp_path):
    rows = [_bench.measure_case(_fake_case(), "smoke", rounds=3)]
    results = {"size": "smoke", "rows": rows, "memory": None, "environment": {}}
    table = _bench.format_markdown(json.loads(json.dumps(results)))
    header, separator, row = table.splitlines()[2:5]
    assert header.count("|") == separator.count("|") == row.count("|")
    assert row.startswith("| fake case | numpy | ≥ 1× |")


def test_peak_growth_sees_a_temporary_and_ignores_reuse():
    n = 4_000_000  # 32 MB

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
