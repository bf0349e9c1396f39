"""The comparison benchmark of ``fastxent bench``: cases, rivals and the runner.

Imported only by ``fastxent bench`` and the test-suite, never by ``import fastxent``."""
