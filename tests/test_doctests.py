"""The examples in the documentation run and show what they claim.

* Every public function, class, ufunc and ``fastxent.kernels`` kernel has a
  numpydoc ``Examples`` section, and :mod:`doctest` runs it
  (``NORMALIZE_WHITESPACE | ELLIPSIS``) under NumPy's default print options,
  whatever options were set before.  The examples print Python floats
  and arrays, never NumPy scalars, so their text is the same with NumPy 1
  and 2.
* Each ```python block of README.md is executed; where a line ends with a
  comment that starts with a number (``# 0.21616..., like scikit-learn``) the
  value of that line is checked against it: the shown digits, rounded, or a
  prefix of the value's ``repr`` when they end with ``...``.
"""

import ast
import doctest
import importlib
import importlib.util
import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

import fastxent
from fastxent import kernels, ufuncs

README = Path(__file__).resolve().parents[1] / "README.md"
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
NUMPY_DEFAULT_PRINT = dict(
    precision=8,
    threshold=1000,
    edgeitems=3,
    linewidth=75,
    suppress=False,
    nanstr="nan",
    infstr="inf",
    sign="-",
    floatmode="maxprec",
    legacy=False,
)
HAS_DASK = importlib.util.find_spec("dask") is not None


def _public_names():
    """Dotted names of the public objects whose docstrings must hold examples."""
    names = [f"fastxent.{n}" for n in sorted(fastxent._PUBLIC)]
    names += [f"fastxent.kernels.{n}" for n in kernels.__all__]
    names += [f"fastxent.ufuncs.{n}" for n in ufuncs.__all__]
    if HAS_DASK:
        names += [f"fastxent.dask.{n}" for n in importlib.import_module("fastxent.dask").__all__]
    return names


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _run_doctest(name, doc):
    test = doctest.DocTestParser().get_doctest(doc, {"__name__": name}, name, None, 0)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    with np.printoptions(**NUMPY_DEFAULT_PRINT):
        result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()
    return result.attempted


@pytest.mark.parametrize("name", _public_names())
def test_public_docstring_examples_run(name):
    doc = _resolve(name).__doc__ or ""
    assert re.search(r"^\s*Examples\n\s*--------\n", doc, re.MULTILINE), f"{name} has no Examples section"
    assert _run_doctest(name, doc) > 0, f"{name}'s Examples section holds no example"


@pytest.mark.parametrize(
    "module",
    [
        "fastxent.kernels",
        "fastxent.ufuncs",
        pytest.param("fastxent.dask", marks=pytest.mark.skipif(not HAS_DASK, reason="needs dask")),
    ],
)
def test_module_docstring_examples_run(module):
    _run_doctest(module, importlib.import_module(module).__doc__)


# ------------------------------------------------------------------ README


def _python_blocks():
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


_VALUE_COMMENT = re.compile(r"#\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(\.\.\.)?")


def _value_comments(source):
    """{line number: (shown number, truncated?)} for comments that start with a number."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            match = _VALUE_COMMENT.match(tok.string)
            if match:
                found[tok.start[0]] = (match.group(1), bool(match.group(2)))
    return found


def _check_value(value, shown, truncated, where):
    value = float(value)
    if truncated:
        assert repr(value).startswith(shown), f"{where}: {value!r} does not start with {shown}"
    else:
        decimals = len(shown.partition(".")[2])
        assert round(value, decimals) == float(shown), f"{where}: {value!r} is not {shown} to {decimals} decimals"


def _needed_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module.split(".")[0]


def _close_clients(namespace):
    for value in namespace.values():
        if type(value).__name__ == "Client" and hasattr(value, "cluster"):
            cluster = value.cluster
            value.close()
            if cluster is not None:
                cluster.close()


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_python_block(index, capsys):
    source = _python_blocks()[index]
    tree = ast.parse(source)
    for module in _needed_modules(tree):
        if module != "fastxent":
            pytest.importorskip(module)
    comments = _value_comments(source)
    namespace = {"__name__": f"README block {index}"}
    try:
        for statement in tree.body:
            shown = comments.get(statement.end_lineno)
            if shown is None or not isinstance(statement, ast.Expr):
                exec(compile(ast.Module([statement], []), namespace["__name__"], "exec"), namespace)
                continue
            expr = statement.value
            if isinstance(expr, ast.Call) and getattr(expr.func, "id", None) == "print":
                expr = expr.args[0]
            value = eval(compile(ast.Expression(expr), namespace["__name__"], "eval"), namespace)
            _check_value(value, *shown, f"README block {index}, line {statement.end_lineno}")
    finally:
        _close_clients(namespace)
