"""Sphinx configuration of the fastxent documentation.

Build with ``sphinx-build -b html docs docs/_build/html`` (``pip install -e ".[docs]"``).
Every API page is generated from the docstrings at build time: autosummary
writes one page per public name into ``reference/generated/``, and
``_ext/fastxent_docs.py`` does the same for every name in the ``__all__`` of
``fastxent.kernels``, ``fastxent.ufuncs`` and ``fastxent.dask``, so the
reference follows the code without a hand-kept list of signatures.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The checkout being documented comes first, so a build from a source tree
# documents that tree even when another fastxent is installed.
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "_ext"))
import fastxent  # noqa: E402

project = "fastxent"
author = "the fastxent developers"
copyright = "the fastxent developers"
release = fastxent.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinxarg.ext",
    "fastxent_docs",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
templates_path = ["_templates"]
default_role = "literal"
nitpicky = False

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# Signatures come from introspection: the first docstring line of a NumPy ufunc
# ("xlogy(x1, x2, /, ...[, signature])") is not valid Python, and numpydoc
# drops that line from the rendered text.
autodoc_docstring_signature = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# Pages of docs/_ext/fastxent_docs.py: modules whose whole __all__ gets a page per name.
fastxent_stub_modules = ["fastxent.kernels", "fastxent.ufuncs", "fastxent.dask"]
fastxent_stub_dir = "reference/generated"
fastxent_bench_results = str(DOCS.parent / "bench" / "results.json")

html_theme = "pydata_sphinx_theme"
html_title = f"fastxent {release}"
html_static_path = []
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "benchmarks": [], "compatibility": []}
modindex_common_prefix = ["fastxent."]


def skip_members_of_other_libraries(app, what, name, obj, skip, options):
    """Document the methods fastxent defines, not those a class inherits from scikit-learn.

    ``LogisticRegression`` inherits ``get_params``, ``set_params``, ``score``
    and the metadata-routing methods from scikit-learn's base classes; their
    docstrings cite scikit-learn's own pages, and scikit-learn documents them.
    """
    module = getattr(obj, "__module__", None) or "fastxent"
    return True if what == "class" and not module.startswith("fastxent") else None


def setup(app):
    app.connect("autodoc-skip-member", skip_members_of_other_libraries)
