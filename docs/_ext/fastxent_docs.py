"""Sphinx extension of the fastxent documentation: API tables that follow ``__all__``, the benchmark table.

``.. fastxent-autosummary:: MODULE``
    An autosummary table of every name in ``MODULE.__all__``, in that order,
    each name linked to its own page.
    With ``:group-by-module:``, one section per module that *defines* the
    names (``fastxent.kernels`` re-exports functions of ``fastxent._math``,
    ``fastxent._kernels``, ...), titled by the first line of that module's
    docstring and introduced by the rest of it, which states the formulas
    and the argument conventions of the family.  The page of each name (an
    ``autofunction``) is written into ``fastxent_stub_dir`` when the build
    starts, for every module of ``fastxent_stub_modules``; a renamed or
    removed name therefore never leaves a stale page behind.

``.. fastxent-bench-results::``
    The tables of the benchmark run saved in ``fastxent_bench_results``
    (``bench/results.json``): speed-up over each rival with the input sizes
    of the case, the extra-memory measurement, the first calls in fresh
    processes when measured, and the environment.
"""

import importlib
import inspect
import json
import re
import shutil
from collections import OrderedDict
from pathlib import Path

import numpy as np
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from sphinx.util.rst import escape

# Orphans: the tables link each name to its page through the Python domain, so
# the pages need no place in the navigation tree (70 kernel names would swamp it).
STUB = """:orphan:

{title}
{underline}

.. currentmodule:: {module}

.. autofunction:: {name}
"""


def public_names(module_name):
    """``__all__`` of a module, in its order."""
    return list(importlib.import_module(module_name).__all__)


def defining_module(obj):
    """Name of the module whose source defines ``obj`` (a Numba dispatcher reports its Python function's)."""
    return getattr(obj, "__module__", None) or getattr(getattr(obj, "py_func", None), "__module__", None)


def groups_by_defining_module(module_name):
    """``{defining module: [names]}`` for ``module_name.__all__``, modules in order of first appearance."""
    module = importlib.import_module(module_name)
    groups = OrderedDict()
    for name in module.__all__:
        groups.setdefault(defining_module(getattr(module, name)) or module_name, []).append(name)
    return groups


def write_stubs(app):
    """Write the page of every name of the configured modules, after removing the previous build's pages.

    The folder also holds autosummary's own pages; it is emptied before
    autosummary writes them (this handler runs first), so a page of a name
    that no longer exists cannot survive into the build.
    """
    stub_dir = Path(app.srcdir) / app.config.fastxent_stub_dir
    shutil.rmtree(stub_dir, ignore_errors=True)
    stub_dir.mkdir(parents=True)
    for module_name in app.config.fastxent_stub_modules:
        for name in public_names(module_name):
            title = escape(f"{module_name}.{name}")
            text = STUB.format(title=title, underline="=" * len(title), module=module_name, name=name)
            (stub_dir / f"{module_name}.{name}.rst").write_text(text, encoding="utf-8")


def docstring_title_and_body(module_name):
    """The first line of a module's docstring (without its final period) and the lines after it."""
    doc = inspect.getdoc(importlib.import_module(module_name)) or module_name
    first, _, rest = doc.partition("\n")
    return first.strip().rstrip("."), rest.strip("\n").splitlines()


class FastxentAutosummary(SphinxDirective):
    """``.. fastxent-autosummary:: MODULE`` (see the module docstring)."""

    required_arguments = 1
    option_spec = {"group-by-module": directives.flag}

    def run(self):
        module_name = self.arguments[0]
        if module_name not in self.config.fastxent_stub_modules:
            raise self.error(f"{module_name} is not in fastxent_stub_modules: its pages are not written")
        if "group-by-module" in self.options:
            groups = groups_by_defining_module(module_name).items()
        else:
            groups = [(None, public_names(module_name))]
        lines = []
        for defining, names in groups:
            if defining is not None:
                title, body = docstring_title_and_body(defining)
                lines += [title, "-" * len(title), "", f".. py:module:: {defining}", "", *body, ""]
            lines += [f".. currentmodule:: {module_name}", "", ".. autosummary::", ""]
            lines += [f"   {name}" for name in names] + [""]
        return parse(self, lines)


def parse(directive, lines):
    """Nodes of generated reStructuredText lines (section titles allowed) for a directive to return."""
    container = nodes.container()
    nested_parse_with_titles(directive.state, StringList(lines, source=directive.get_source_info()[0]), container)
    return container.children


def literal_markdown(text):
    """Markdown inline code (single backticks) as reStructuredText literals."""
    return re.sub(r"`([^`]+)`", r"``\1``", text)


def describe_sizes(parameters):
    """``{"n": 10000000, "k": 10}`` as ``n = 10,000,000, k = 10``."""
    return ", ".join(
        f"{key} = {value:,}" if isinstance(value, int) else f"{key} = {value}" for key, value in parameters.items()
    )


class FastxentBenchResults(SphinxDirective):
    """``.. fastxent-bench-results::`` (see the module docstring)."""

    def run(self):
        from fastxent.benchmarks.cases import CASES
        from fastxent.benchmarks.report import duration

        path = Path(self.config.fastxent_bench_results)
        self.env.note_dependency(str(path))
        results = json.loads(path.read_text(encoding="utf-8"))
        size = results.get("size", "full")
        shapes = {case.key: case.shapes.get(size) for case in CASES}
        lines = [
            f"Sizes: ``{size}`` (the inputs of each case are given in the second column). "
            "Speed-up = rival time ÷ fastxent time; fastxent ÷ read = fastxent's time over NumPy's "
            "time to read the same inputs once (1.0 is the memory-bandwidth floor).",
            "",
            ".. list-table:: Medians of one run",
            "   :header-rows: 1",
            "",
            "   * - case",
            "     - inputs",
            "     - rival",
            "     - speed-up",
            "     - fastxent",
            "     - rival time",
            "     - fastxent ÷ read",
        ]
        for row in results["rows"]:
            ratio = "–" if row.get("ratio") is None else f"{row['ratio']:.1f}×"
            floor = "–" if row.get("floor_ratio") is None else f"{row['floor_ratio']:.2f}×"
            sizes = shapes.get(row["case"])
            lines += [
                f"   * - {literal_markdown(row['title'])}",
                f"     - {describe_sizes(sizes) if sizes else '–'}",
                f"     - {row['rival']}",
                f"     - {ratio}",
                f"     - {duration(row.get('fastxent_s'))}",
                f"     - {duration(row.get('rival_s'))}",
                f"     - {floor}",
            ]
        lines.append("")
        memory = results.get("memory")
        if memory:
            lines += ["Extra memory of ``log_loss`` (peak resident memory added by one call, binary input):", ""]
            lines += [".. list-table::", "   :header-rows: 1", "", "   * - library", "     - input", "     - growth"]
            for library in ("fastxent", "scikit-learn"):
                measured = memory.get(library, {})
                growth = f"{measured['fraction'] * 100:.2f} % of the input" if "fraction" in measured else "–"
                lines += [
                    f"   * - {library}",
                    f"     - n = {memory['n']:,} ({measured.get('input_bytes', 0) / 1e6:.0f} MB)",
                    f"     - {growth}",
                ]
            lines.append("")
        first_calls = results.get("cold_start") or []
        if first_calls:
            lines += ["Time to first result: each entry point's first call in a fresh process.", ""]
            lines += [".. list-table::", "   :header-rows: 1", "", "   * - first call", "     - measured over"]
            lines += ["     - empty Numba cache", "     - warm cache", "     - specializations compiled"]
            for row in first_calls:
                lines += [
                    f"   * - {row['case']}",
                    f"     - ``{row['baseline']}``",
                    f"     - {row['cold_s']:.2f} s",
                    f"     - {row['warm_s']:.2f} s",
                    f"     - {row['compiled']} (warm: {row['compiled_warm']})",
                ]
            lines.append("")
        environment = results.get("environment") or {}
        if environment:
            versions = ", ".join(
                f"{name} {environment[name]}"
                for name in ("python", "numpy", "numba", "scikit-learn", "scipy", "torch")
                if name in environment
            )
            lines += [
                f"Environment: {versions}; {environment.get('cpus')} CPUs, Numba threading layer "
                f"{environment.get('threading_layer')} with {environment.get('numba_threads')} threads.",
                "",
            ]
        return parse(self, lines)


def keep_ufunc_tables_signatureless(app, what, name, obj, options, signature, return_annotation):
    """Answer first, with nothing, for a NumPy ufunc listed in an autosummary table.

    autosummary documents a ufunc (not a Python routine) as data, which has no
    signature; numpydoc would then answer with the signature line of the
    ufunc's docstring, which Sphinx cannot attach to an object that has none.
    An empty answer ends the event without changing anything.
    """
    if what == "data" and isinstance(obj, np.ufunc):
        return ()
    return None


def setup(app):
    app.add_config_value("fastxent_stub_modules", [], "env")
    app.add_config_value("fastxent_stub_dir", "reference/generated", "env")
    app.add_config_value("fastxent_bench_results", "", "env")
    # Before autosummary (priority 500), which writes its own pages into the same folder.
    app.connect("builder-inited", write_stubs, priority=100)
    # Before numpydoc's handler (priority 500).
    app.connect("autodoc-process-signature", keep_ufunc_tables_signatureless, priority=100)
    app.add_directive("fastxent-autosummary", FastxentAutosummary)
    app.add_directive("fastxent-bench-results", FastxentBenchResults)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
