"""The documentation site (docs/) builds without a warning and documents every public name.

One Sphinx build (``sphinx-build -W --keep-going -b html``) into a temporary
folder serves every test here; the API reference is generated from the
docstrings, so the tests read the anchors of the built pages: each public
function, class, method, ufunc, kernel, Dask function and command-line option
must have one.
"""

import argparse
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fastxent

DOCS = Path(__file__).resolve().parent.parent / "docs"
BUILD_SECONDS = 600


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site: ``(folder, {anchor ids of every page})``."""
    pytest.importorskip("sphinx")
    out = tmp_path_factory.mktemp("docs_html")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)]
    build = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_SECONDS)
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stdout}\n{build.stderr}"
    ids = set()
    for page in out.rglob("*.html"):
        ids.update(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
    return out, ids


def missing_anchors(ids, names):
    return sorted(name for name in names if name not in ids)


def test_site_builds_without_warnings(site):
    out, _ = site
    for page in ("index", "getting_started", "user_guide/index", "reference/index", "benchmarks", "compatibility"):
        assert (out / f"{page}.html").is_file(), page


def test_every_public_name_of_fastxent_is_documented(site):
    _, ids = site
    modules = {name for name in fastxent.__all__ if inspect.ismodule(getattr(fastxent, name))}
    assert missing_anchors(ids, [f"fastxent.{name}" for name in fastxent.__all__ if name not in modules]) == []
    assert missing_anchors(ids, [f"module-fastxent.{name}" for name in modules]) == []


def test_every_public_method_of_the_classes_is_documented(site):
    _, ids = site
    expected = []
    for name in fastxent.__all__:
        cls = getattr(fastxent, name)
        if not inspect.isclass(cls):
            continue
        for owner in cls.__mro__:
            if owner.__module__.startswith("fastxent"):
                expected += [
                    f"fastxent.{name}.{member}"
                    for member, value in vars(owner).items()
                    if not member.startswith("_") and inspect.isfunction(value)
                ]
    assert expected
    assert missing_anchors(ids, expected) == []


@pytest.mark.parametrize("module_name", ["fastxent.kernels", "fastxent.ufuncs", "fastxent.dask"])
def test_every_name_of_a_submodule_is_documented(site, module_name):
    _, ids = site
    module = importlib.import_module(module_name)
    assert module.__all__
    assert missing_anchors(ids, [f"{module_name}.{name}" for name in module.__all__]) == []


def test_every_command_and_option_of_the_cli_is_documented(site):
    out, ids = site
    from fastxent.cli import _parser

    page = (out / "reference" / "cli.html").read_text(encoding="utf-8")
    parser = _parser()
    (commands,) = [action for action in parser._actions if action.choices and hasattr(action, "add_parser")]
    assert commands.choices
    for command, subparser in commands.choices.items():
        assert f"fastxent-{command}" in ids, command
        for action in subparser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert f"<kbd>{option}</kbd>" in page, f"fastxent {command} {option}"


def test_benchmark_page_renders_the_saved_results_with_their_sizes(site):
    from fastxent.benchmarks.cases import CASES

    out, _ = site
    results = json.loads((DOCS.parent / "bench" / "results.json").read_text(encoding="utf-8"))
    page = (out / "benchmarks.html").read_text(encoding="utf-8")
    shapes = {case.key: case.shapes[results["size"]] for case in CASES}
    assert results["rows"]
    for row in results["rows"]:
        if row["ratio"] is not None:
            assert f"{row['ratio']:.1f}×" in page, row["case"]
        for key, value in shapes.get(row["case"], {}).items():
            assert f"{key} = {value:,}" in page, row["case"]
