"""The package's layering, read from the source with ``ast`` (nothing is imported).

Layers, lowest first: ``_infra`` < ``_math`` < ``_kernels`` < ``_solvers`` <
{``kernels``, ``ufuncs``} < ``_api`` < ``_streaming`` < ``_estimators`` <
``_scoring`` < ``warmup`` < ``dask`` < ``benchmarks`` < ``cli`` < ``__main__``
(the CLI's ``bench`` command imports the benchmarks, lazily).
A module may import its own subpackage (a top-level module: only itself)
and lower layers, lazily inside a function as much as at the top; it names
other subpackages' modules only by their public names; it imports the
package relatively, never as ``fastxent``; and no chain of imports leads
from a module back to itself.  ``fastxent/__init__.py`` is the facade that
loads the public names on first use and stands above every layer.
"""

import ast
import functools
import pathlib
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "fastxent"

LAYERS = [
    {"_infra"},
    {"_math"},
    {"_kernels"},
    {"_solvers"},
    {"kernels", "ufuncs"},
    {"_api"},
    {"_streaming"},
    {"_estimators"},
    {"_scoring"},
    {"warmup"},
    {"dask"},
    {"benchmarks"},
    {"cli"},
    {"__main__"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
FACADE = "fastxent"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _unit(module):
    """The subpackage (or top-level module) a module belongs to, or None for the facade."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _is_package(module):
    return MODULES[module].name == "__init__.py"


def _resolve(module, node):
    """The absolute module a ``from ... import`` statement reads from."""
    if node.level == 0:
        return node.module
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Import:
    def __init__(self, target, line, names=(), private_attributes=()):
        self.target = target  # absolute module name
        self.line = line
        self.names = names  # names imported from the module
        self.private_attributes = private_attributes


@functools.cache
def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def _imports(module):
    """Every import of a fastxent module by ``module``, lazy ones included,
    with the underscored attributes read from a module imported as a name."""
    tree = _tree(MODULES[module])
    found = []
    aliases = {}  # local name -> fastxent module bound to it
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fastxent":
                    found.append(_Import(alias.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if source.split(".")[0] != "fastxent":
                continue
            plain = []
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:
                    found.append(_Import(submodule, node.lineno))
                    aliases[alias.asname or alias.name] = submodule
                else:
                    plain.append(alias.name)
            if plain:
                found.append(_Import(source, node.lineno, tuple(plain)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
        ):
            found.append(_Import(aliases[node.value.id], node.lineno, private_attributes=(node.attr,)))
    return found


def _absolute_imports(module):
    """Lines that import the package by its own name."""
    tree = _tree(MODULES[module])
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "fastxent" for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] == "fastxent":
            lines.append(node.lineno)
    return lines


def _is_dunder(name):
    return name.startswith("__") and name.endswith("__")


def _params(check):
    return [pytest.param(module, id=module) for module in MODULES]


def test_the_layers_name_every_subpackage_and_top_level_module():
    units = {_unit(module) for module in MODULES} - {None}
    assert units == set(RANK), "a new subpackage or module needs a place in LAYERS"


@pytest.mark.parametrize("module", _params("downward"))
def test_imports_flow_downward(module):
    unit = _unit(module)
    if unit is None:
        return
    upward = []
    for imp in _imports(module):
        other = _unit(imp.target)
        if other is None:
            upward.append(f"line {imp.line}: the facade {imp.target}")
        elif other != unit and RANK[other] >= RANK[unit]:
            upward.append(f"line {imp.line}: {imp.target} (layer {RANK[other]}, this is layer {RANK[unit]})")
    assert not upward, f"{module} imports from its own or a higher layer: " + "; ".join(upward)


@pytest.mark.parametrize("module", _params("private"))
def test_no_private_name_crosses_subpackages(module):
    unit = _unit(module)
    crossing = []
    for imp in _imports(module):
        if _unit(imp.target) == unit:
            continue
        for name in imp.names + imp.private_attributes:
            if name.startswith("_") and not _is_dunder(name):
                crossing.append(f"line {imp.line}: {imp.target}.{name}")
        last = imp.target.rsplit(".", 1)[-1]
        if imp.target.count(".") > 1 and last.startswith("_") and not _is_dunder(last):
            crossing.append(f"line {imp.line}: private module {imp.target}")
    assert not crossing, f"{module} uses private names of another subpackage: " + "; ".join(crossing)


@pytest.mark.parametrize("module", _params("relative"))
def test_the_package_imports_itself_relatively(module):
    lines = _absolute_imports(module)
    assert not lines, f"{module} imports fastxent by name (lines {lines}); import the defining module relatively"


def _cycles():
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {m: sorted({i.target for i in _imports(m) if i.target in MODULES} - {m}) for m in MODULES}
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles():
    assert _cycles() == []


# ---------------------------------------------------------------- the checker


def _write(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_sees_upward_lazy_private_absolute_and_cyclic_imports(tmp_path, monkeypatch):
    package = tmp_path / "fastxent"
    _write(
        package,
        {
            "__init__.py": "",
            "_math/__init__.py": "",
            "_math/low.py": "def f():\n    from .._api import high\n",
            "_api/__init__.py": "",
            "_api/high.py": "from .._math.low import _private\nfrom .._math import low\nlow._hidden\n",
            "dask.py": "import fastxent\nfrom fastxent._api import high\n",
        },
    )
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "PACKAGE", package)
    monkeypatch.setattr(this, "MODULES", {_module_name(p): p for p in sorted(package.rglob("*.py"))})
    targets = {i.target for i in _imports("fastxent._math.low")}
    assert targets == {"fastxent._api.high"}
    assert RANK[_unit("fastxent._api.high")] > RANK[_unit("fastxent._math.low")]
    private = [n for i in _imports("fastxent._api.high") for n in i.names + i.private_attributes]
    assert sorted(private) == ["_hidden", "_private"]
    assert _absolute_imports("fastxent.dask") == [1, 2]
    assert _cycles() == [["fastxent._api.high", "fastxent._math.low"]]
