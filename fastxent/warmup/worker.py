"""A warm-up process: runs the tasks it is given and prints one JSON line per task."""

import json
import os
import sys
import time
import traceback
import warnings

from .tasks import TASKS


def specializations():
    """Number of compiled specializations held by fastxent's dispatchers and ufuncs in this process."""
    from numba.core.dispatcher import Dispatcher

    counts = {}
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "fastxent" or name.startswith("fastxent.")):
            for value in list(vars(module).values()):
                if isinstance(value, Dispatcher):
                    counts[id(value)] = len(value.signatures)
    from .._infra.jit import UFUNC_OWNERS

    for owner in UFUNC_OWNERS:
        counts[id(owner)] = len(owner.types)
    return sum(counts.values())


class _CompileCounter:
    """Counts Numba compilations (cache misses, including nested callees) while active."""

    def __init__(self):
        from numba.core import event

        class Listener(event.Listener):
            def on_start(listener, event):
                self.count += 1

            def on_end(listener, event):
                pass

        self.count = 0
        self._listener = Listener()

    def __enter__(self):
        from numba.core import event

        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc):
        from numba.core import event

        event.unregister("numba:compile", self._listener)


def _lock_cache_writes(lock_path):
    """Serialize Numba's cache writes across the warm-up processes (see the module docstring)."""
    try:
        import fcntl

        from numba.core import caching

        save = caching.IndexDataCacheFile.save
    except (ImportError, AttributeError):  # no fcntl (Windows) or another Numba: the families still separate
        return

    def locked_save(self, key, data):
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                return save(self, key, data)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    caching.IndexDataCacheFile.save = locked_save


def run_task(task):
    """Run one task here; a dict with its name, seconds, new and compiled specializations, error."""
    before = specializations()
    start = time.perf_counter()
    error = None
    # The tasks stop fits after a few iterations on purpose: their convergence warnings are noise here.
    with _CompileCounter() as compiled, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            task.func()
        except ImportError as exc:
            if "scikit-learn" not in str(exc):
                error = f"{type(exc).__name__}: {exc}"
            else:
                return {"task": task.name, "skipped": "scikit-learn is not installed"}
        except Exception as exc:  # reported as a failed task, the others go on
            if os.environ.get("FASTXENT_DEBUG"):
                traceback.print_exc()
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            error = f"{type(exc).__name__}: {' | '.join(lines[:3])[:300]}"  # Numba's reason is on line 2
    return {
        "task": task.name,
        "seconds": time.perf_counter() - start,
        "new": specializations() - before,
        "compiled": compiled.count,
        "error": error,
    }


def main(argv):
    """Entry point of a warm-up process: ``LOCK_PATH TASK...``; one JSON line per task on stdout."""
    lock_path, names = argv[0], argv[1:]
    if lock_path:
        _lock_cache_writes(lock_path)
    by_name = {t.name: t for t in TASKS}
    for name in names:
        print(json.dumps(run_task(by_name[name])), flush=True)
    return 0
