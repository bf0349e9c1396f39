"""Shared test configuration: the table of reference implementations.

``REFERENCES`` (defined in :mod:`fastxent.benchmarks.references`, so that the
``fastxent bench`` script can use it without the test-suite) maps each
public name -- ``"log_loss"``, ``"cross_entropy_grad"``,
``"ufuncs.xlogy"``, ... -- to its rivals in scikit-learn, SciPy, NumPy and
PyTorch.  Each entry is a :class:`Reference` whose ``call`` takes
*fastxent's* arguments (its public signature) and returns NumPy values, so a
test reads::

    from conftest import reference

    def test_matches_torch(...):
        expected = reference("cross_entropy", "torch")(y, logits, from_logits=True)
        assert fastxent.cross_entropy(y, logits, from_logits=True) == approx(expected)

or, to check every installed reference::

    @pytest.mark.parametrize("ref", REFERENCES["entropy"], ids=lambda r: r.library)
    def test_entropy(ref):
        skip_unless_available(ref)
        ...

Rival libraries are imported lazily (inside ``call``); a missing one skips
the test that asked for it and nothing else.  This file defines no fixtures
and no hooks, so it cannot interfere with anyone's test module.
"""

import pytest

from fastxent.benchmarks.references import REFERENCES, Reference, references_for

__all__ = ["REFERENCES", "Reference", "reference", "skip_unless_available", "references_for"]


def skip_unless_available(ref):
    """Skip the calling test when ``ref``'s library is not installed."""
    if not ref.available():
        pytest.skip(f"{ref.library} is not installed")
    return ref


def reference(name, library):
    """The ``library`` reference of public function ``name`` (skip if not installed)."""
    for ref in REFERENCES[name]:
        if ref.library == library:
            return skip_unless_available(ref)
    raise KeyError(f"no {library} reference for {name!r}; have {[r.library for r in REFERENCES[name]]}")
