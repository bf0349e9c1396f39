"""Shared test configuration: the table of reference implementations, optional packages.

``REFERENCES`` is the table that maps each public function of fastxent --
``"log_loss"``, ``"cross_entropy_grad"``, ``"ufuncs.xlogy"``,
``"kernels.row_logsumexp"``, ... -- to its references in scikit-learn, SciPy,
NumPy and PyTorch.  It lives in :mod:`fastxent.benchmarks.references` so that
the installed ``fastxent bench`` command and the pytest-benchmark suite
(``bench/``) compare against the same calls without this folder; this file
re-exports it and builds the tests' parametrization from it.  Each entry is a
:class:`Reference` whose ``call`` takes *fastxent's* arguments and returns
NumPy values, so a test reads::

    from conftest import reference

    def test_matches_torch():
        expected = reference("cross_entropy", "torch")(y, logits, from_logits=True)
        assert fastxent.cross_entropy(y, logits, from_logits=True) == approx(expected)

or, to check every reference of a function::

    @pytest.mark.parametrize("ref", reference_params("entropy"))
    def test_entropy(ref):
        ...

Optional packages: a reference of a library that is not installed skips the
test that asked for it and nothing else (``reference`` skips when called, each
parameter of ``reference_params`` carries the ``requires`` marker of its
library).  A test that needs a package for another reason says so with
``@pytest.mark.requires("pandas")``; no test module is skipped as a whole for
the sake of a few of its tests.
"""

import importlib.util
import itertools
import os
import subprocess
import sys

import pytest

from fastxent.benchmarks.references import REFERENCES, Reference, lookup, references_for

__all__ = ["REFERENCES", "Reference", "reference", "reference_params", "references_for", "skip_unless_available"]


def _missing(modules):
    return [module for module in modules if importlib.util.find_spec(module) is None]


def pytest_runtest_setup(item):
    for mark in item.iter_markers("requires"):
        missing = _missing(mark.args)
        if missing:
            pytest.skip(f"needs {', '.join(missing)}, which is not installed")


# Source for a child process: ``compiled`` lists the functions Numba compiles
# from here on (the listener sees compilations, never loads from the cache).
COUNT_COMPILATIONS = """
from numba.core import event

compiled = []


class Count(event.Listener):
    def on_start(self, e):
        compiled.append(e.data["dispatcher"].py_func.__name__)

    def on_end(self, e):
        pass


event.register("numba:compile", Count())
"""


@pytest.fixture
def fresh_process(tmp_path):
    """``run(script)``: run a Python script in a new process with an empty
    Numba cache folder, check that it succeeded, and return its stdout
    (what a user's first call compiles, whatever this process has compiled)."""

    def run(script):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    return run


def skip_unless_available(ref):
    """Skip the calling test when ``ref``'s library is not installed."""
    if not ref.available():
        pytest.skip(f"{ref.library} is not installed")
    return ref


def reference(name, library):
    """The ``library`` reference of public function ``name`` (skip if not installed)."""
    return skip_unless_available(lookup(name, library))


def reference_params(name, *libraries):
    """``pytest.param`` of each reference of ``name`` (only ``libraries``'s, when given),
    with the library as its id and a ``requires`` mark for the library's module."""
    return [
        pytest.param(ref, id=ref.library, marks=pytest.mark.requires(ref.module))
        for ref in REFERENCES[name]
        if not libraries or ref.library in libraries
    ]


def expand_parametrize(func):
    """``(id, kwargs)`` for every combination of a test function's parametrize marks.

    Used to run scikit-learn's own test functions against fastxent: each
    combination of their ``pytest.mark.parametrize`` values becomes one of
    our parameters (marks of the values are dropped)."""
    axes = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        combos = []
        for value in values:
            value = value.values if hasattr(value, "values") and hasattr(value, "marks") else value
            value = value if len(names) > 1 else (value,)
            combos.append(dict(zip(names, value)))
        axes.append(combos)
    for n, combo in enumerate(itertools.product(*axes)):
        kwargs = {}
        for part in combo:
            kwargs.update(part)
        yield (f"{func.__name__}[{n}]" if axes else func.__name__), kwargs
