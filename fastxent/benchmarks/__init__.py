"""The comparison benchmark of ``fastxent bench``: the reference table, the cases, the runner and its plot.

Imported only by ``fastxent bench``, the pytest-benchmark suite and the test-suite, never by
``import fastxent`` or ``import fastxent.cli``; nothing here imports :mod:`fastxent.cli`."""
