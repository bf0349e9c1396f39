"""notebooks/tour.ipynb runs from top to bottom and matches its generator."""

import importlib.util
import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")
TOUR = os.path.join(NOTEBOOKS, "tour.ipynb")


def _builder():
    spec = importlib.util.spec_from_file_location("build_tour", os.path.join(NOTEBOOKS, "build_tour.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_saved_notebook_is_the_generated_one_with_outputs():
    saved = nbformat.read(TOUR, as_version=4)
    built = _builder().build()
    assert [c.source for c in saved.cells] == [c.source for c in built.cells]
    for cell in _code_cells(saved):  # saved after a full run, so it reads on the web
        assert cell.execution_count is not None, f"cell never run:\n{cell.source[:200]}"
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:200]
    assert any("image/png" in o.get("data", {}) for o in _code_cells(saved)[-1].outputs)
    assert _pictures(saved) >= 5  # saturation, solvers, clustering, benchmark times, scaling
    saved_text = _text(saved).lower()  # the saved benchmark is a quick run, not the test-suite's smoke run
    assert "quick run" in saved_text and "smoke" not in saved_text


def _pictures(nb):
    return sum("image/png" in o.get("data", {}) for cell in _code_cells(nb) for o in cell.outputs)


def _text(nb):
    return "".join(
        o.get("text", "") or o.get("data", {}).get("text/plain", "") for c in _code_cells(nb) for o in c.outputs
    )


def test_notebook_executes(monkeypatch):
    monkeypatch.setenv("FASTXENT_TOUR_BENCH", "smoke")  # tiny benchmark inputs
    nb = nbformat.read(TOUR, as_version=4)
    for cell in _code_cells(nb):
        cell.outputs = []
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
    ).execute()  # raises CellExecutionError on the first failing cell
    outputs = _text(nb)
    assert "H(p, q)" in outputs and "largest coefficient difference" in outputs
    assert "z = -40: loss 36.0437 from p, 40 from z (exact: 40)" in outputs  # clipping vs from_logits
    assert "lbfgs:" in outputs and "gd:" in outputs and "scikit-learn lbfgs:" in outputs
    assert "adjusted_mutual_info_score" in outputs
    assert _pictures(nb) >= 5, "a picture is missing"
