"""SciPy's own ``TestEntropy`` (scipy/stats/tests/test_entropy.py), run against fastxent.entropy.

The SciPy test module calls ``stats.entropy``; an autouse fixture replaces
that module's ``stats`` name with a namespace whose ``entropy`` is
fastxent's (everything else is still ``scipy.stats``), and ``TestEntropy``
is collected here as a subclass, so every one of its test methods runs
unchanged.  SciPy parametrizes them over array-API backends through an
``xp`` fixture from its own conftest; fastxent is NumPy-only, so ``xp`` is
NumPy here.  The SciPy test module is imported as a module (not a pytest
plugin), so its conftest and markers do not leak into our run.
"""

import types

import numpy as np
import pytest

import fastxent

scipy_stats = pytest.importorskip("scipy.stats")
scipy_entropy_tests = pytest.importorskip("scipy.stats.tests.test_entropy")


class _StatsWithFastxentEntropy(types.SimpleNamespace):
    """``scipy.stats`` with ``entropy`` replaced (attribute lookups fall through)."""

    def __getattr__(self, name):
        return getattr(scipy_stats, name)


@pytest.fixture
def xp():
    return np


@pytest.fixture(autouse=True)
def _use_fastxent_entropy(monkeypatch):
    monkeypatch.setattr(scipy_entropy_tests, "stats", _StatsWithFastxentEntropy(entropy=fastxent.entropy))


class TestEntropy(scipy_entropy_tests.TestEntropy):
    """Every test method of SciPy's TestEntropy, with ``stats.entropy`` = fastxent.entropy."""


def test_the_substitution_is_in_effect():
    assert scipy_entropy_tests.stats.entropy is fastxent.entropy
    assert scipy_entropy_tests.stats.norm is scipy_stats.norm


def test_scipy_suite_was_collected_in_full():
    ours = {n for n in dir(TestEntropy) if n.startswith("test_")}
    theirs = {n for n in dir(scipy_entropy_tests.TestEntropy) if n.startswith("test_")}
    assert ours == theirs and len(ours) >= 15
