"""The scaling benchmark and the pictures of ``fastxent bench``: what they measure and what they state."""

import json
import re
import time

import numpy as np
import pytest

from fastxent.benchmarks import report, scaling
from fastxent.benchmarks.references import REFERENCES


def test_measure_point_interleaves_the_callables_and_reports_a_failure():
    order = []

    def sleeper(name):
        def call():
            order.append(name)
            time.sleep(3e-3)  # longer than one clock sample: one call per sample

        return call

    def broken():
        raise MemoryError("too big")

    calls = {"fastxent": sleeper("fastxent"), "rival": broken, "floor": sleeper("floor")}
    medians, errors, rounds = scaling.measure_point(calls, rounds=3, budget_s=0.0)
    assert rounds == 3 and set(medians) == {"fastxent", "floor"}
    assert errors == {"rival": "MemoryError: too big"}
    assert order == ["fastxent", "floor"] + ["fastxent", "floor"] * 3  # warm-up, then round after round
    assert all(3e-3 <= seconds < 1.0 for seconds in medians.values())


def test_short_calls_are_timed_in_loops():
    calls = []
    medians, _, _ = scaling.measure_point({"fastxent": lambda: calls.append(1)}, rounds=3, budget_s=0.0)
    assert len(calls) > 3 * 100  # a sample of a call of nanoseconds is the mean of many
    assert medians["fastxent"] < 1e-4


def test_the_grids_span_the_promised_sizes():
    assert scaling.GRIDS["full"][0] == 1_000 and scaling.GRIDS["full"][-1] == 100_000_000
    assert scaling.GRIDS["quick"][-1] == 1_000_000
    for grid in scaling.GRIDS.values():
        assert grid == sorted(set(grid))


@pytest.mark.parametrize("case", scaling.SCALING_CASES, ids=lambda c: c.key)
def test_each_scaling_case_agrees_with_its_rival(case):
    calls = case.calls(case.make(1_000))
    if "rival" not in calls:
        pytest.skip(f"{case.rival_library} is not installed")
    assert any(ref.library == case.rival_library for ref in REFERENCES[case.function])
    assert calls["floor"]() is None
    np.testing.assert_allclose(calls["fastxent"](), calls["rival"](), rtol=1e-10)


def test_a_run_records_every_point_with_its_sizes(tmp_path):
    case = scaling.SCALING_CASES[0]
    measured = scaling.measure_case(case, [1_000, 2_000], rounds=3, budget_s=0.0)
    assert [p["n"] for p in measured["points"]] == [1_000, 2_000]
    assert measured["points"][1]["sizes"] == {"y": [2_000], "p": [2_000]}
    for point in measured["points"]:
        assert point["fastxent_s"] > 0 and point["floor_s"] > 0 and point["rounds"] == 3
    results = {"kind": "scaling", "size": "smoke", "n": [1_000, 2_000], "cases": [measured]}
    table = scaling.format_markdown(json.loads(json.dumps(results)))
    assert table.startswith("Time against input size, smoke run")
    assert "| 2,000 |" in table


# ---------------------------------------------------------------- pictures


def _comparison(size):
    row = {
        "case": "log_loss-binary-1e7",
        "title": "`log_loss`, binary",
        "sizes": {"n": 1_000_000},
        "rival": "scikit-learn",
        "target": 200.0,
        "fastxent_s": 0.001,
        "rival_s": 0.1,
        "floor_s": 0.0009,
        "ratio": 100.0,
        "floor_ratio": 1.1,
    }
    first_call = {"case": "log_loss, binary", "baseline": "import numpy", "cold_s": 4.0, "warm_s": 0.3}
    return {"size": size, "rows": [row], "cold_start": [first_call], "environment": {"cpus": 2}}


def _texts(fig):
    texts = [t.get_text() for t in fig.findobj(lambda artist: hasattr(artist, "get_text"))]
    return "\n".join(texts)


@pytest.mark.requires("matplotlib")
def test_the_comparison_picture_states_the_run_the_sizes_and_the_three_times():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fastxent.benchmarks.plot import comparison_figure

    fig = comparison_figure(_comparison("quick"), plt)
    text = _texts(fig)
    plt.close(fig)
    assert "quick run" in text and "n = 1e6" in text
    assert "1 ms" in text and "100 ms" in text and "900 µs" in text  # fastxent, rival, NumPy read
    assert "100× faster than scikit-learn" in text
    assert "4.00 s" in text and "0.30 s" in text  # first calls: empty and warm cache
    assert "target" not in text.lower() and "200" not in text


@pytest.mark.requires("matplotlib")
def test_the_scaling_picture_states_the_run_and_its_range(tmp_path):
    from fastxent.benchmarks.plot import main as plot_main

    point = {"fastxent_s": 1e-5, "rival_s": 1e-3, "floor_s": 1e-6}
    case = {"title": "log_loss, binary", "rival": "scikit-learn", "unit": "samples", "shape": "(N,)", "errors": {}}
    points = [{"n": n, **point} for n in (1_000, 1_000_000)]
    results = {"kind": "scaling", "size": "quick", "n": [1_000, 1_000_000], "cases": [case | {"points": points}]}
    saved, png = tmp_path / "scaling.json", tmp_path / "scaling.png"
    saved.write_text(json.dumps(results))
    assert plot_main([str(saved), str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    import matplotlib.pyplot as plt

    from fastxent.benchmarks.plot import scaling_figure

    fig = scaling_figure(results, plt)
    text = _texts(fig)
    plt.close(fig)
    assert "quick run" in text and "N = 1,000 … 1e6" in text and "N = samples" in text
    assert "scikit-learn" in text and "NumPy reads the inputs once" in text


def test_sizes_are_written_as_people_write_them():
    assert report.describe_sizes({"n": 10_000_000, "k": 10}) == "n = 1e7, k = 10"
    assert report.describe_sizes({"n": 200_000, "k": 32_000}) == "n = 2e5, k = 32,000"
    assert report.describe_sizes({"n": 123_456}) == "n = 123,456"
    assert report.sizes_of({"case": "log_loss-binary-1e7"}, "quick") == {"n": 1_000_000}


def test_the_benchmark_page_shows_both_pictures_and_its_commands_parse():
    from pathlib import Path

    from fastxent.cli import _parser

    docs = Path(__file__).resolve().parent.parent / "docs"
    page = (docs / "benchmarks.rst").read_text(encoding="utf-8")
    pictures = re.findall(r"^\.\. figure:: (\S+)$", page, flags=re.MULTILINE)
    assert pictures == ["images/benchmark_times.png", "images/benchmark_scaling.png"]
    for picture in pictures:
        assert (docs / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    console = [line.strip() for line in page.replace("\\\n", " ").splitlines() if line.strip().startswith("$ ")]
    commands = [re.search(r"fastxent (bench[^#]*)", line).group(1) for line in console if "fastxent bench" in line]
    assert any("--scaling" in c for c in commands) and any("--json bench/results.json" in c for c in commands)
    for command in commands:
        arguments = _parser().parse_args(command.split())
        assert arguments.command == "bench"
        if arguments.plot:  # the pictures the page shows are the ones the commands write
            assert arguments.plot.startswith("docs/images/") or "--quick" in command, command
