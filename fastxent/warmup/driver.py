"""The warm-up driver: one process per family of tasks, ``jobs`` at a time, progress as they finish."""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

from .tasks import FAMILY_ORDER, TASKS

# The package directory of this very fastxent (the warm-up processes must import the same one).
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_env():
    env = dict(os.environ)
    env.pop("FASTXENT_WARMUP", None)  # a worker must not start another background warm-up
    # Two threads reach every parallel kernel whatever the machine, without
    # starting a full-size pool in each of --jobs processes.
    env["NUMBA_NUM_THREADS"] = "2"
    return env


def python_command(module):
    """The command running ``fastxent.warmup.<module>.main(sys.argv[1:])`` in a new interpreter with
    this very fastxent (wherever it was imported from; its folder is on ``sys.path`` only for that import)."""
    parent = os.path.dirname(PACKAGE_DIR)
    code = (
        f"import sys; sys.path.insert(0, {parent!r}); import fastxent; sys.path.remove({parent!r}); "
        f"from fastxent.warmup.{module} import main; sys.exit(main(sys.argv[1:]))"
    )
    return [sys.executable, "-c", code]


def _start_worker(tasks, lock_path, results):
    proc = subprocess.Popen(
        python_command("worker") + [lock_path] + [t.name for t in tasks],
        stdout=subprocess.PIPE,
        env=worker_env(),
        text=True,
    )

    def read():
        done = set()
        for line in proc.stdout:
            try:
                result = json.loads(line)
            except ValueError:  # a stray print of user code: not ours
                continue
            done.add(result["task"])
            results.put(result)
        status = proc.wait()
        for task in tasks:
            if task.name not in done:
                results.put({"task": task.name, "seconds": 0.0, "new": 0, "compiled": 0,
                             "error": f"warm-up process exited with status {status}"})  # fmt: skip
        results.put(None)

    threading.Thread(target=read, daemon=True).start()


def _families(tasks):
    groups = {}
    for task in tasks:
        groups.setdefault(task.family, []).append(task)
    order = {name: i for i, name in enumerate(FAMILY_ORDER)}
    return sorted(groups.values(), key=lambda group: order.get(group[0].family, len(order)))


def format_result(result, width=26):
    """One progress line: task, seconds, specializations (new, and how many were compiled)."""
    name = result["task"]
    if "skipped" in result:
        return f"{name:<{width}} skipped: {result['skipped']}"
    text = f"{name:<{width}} {result['seconds']:7.1f} s  {result['new']:4d} new specializations"
    text += f" ({result['compiled']} compiled)"
    return text + (f"  FAILED: {result['error']}" if result["error"] else "")


def run(tasks=None, jobs=None, out=sys.stdout):
    """Run ``tasks`` (default: all) in up to ``jobs`` processes (default:
    ``os.cpu_count()``), one family per process; print one line per task and
    a summary to ``out`` (None: silent).  Returns the list of result dicts."""
    tasks = list(TASKS) if tasks is None else list(tasks)
    families = _families(tasks)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(families) or 1))
    results, finished = queue.Queue(), []
    start = time.perf_counter()
    handle, lock_path = tempfile.mkstemp(prefix="fastxent-warmup-", suffix=".lock")
    os.close(handle)
    try:
        pending, running = list(families), 0
        while pending or running:
            while pending and running < jobs:
                _start_worker(pending.pop(0), lock_path, results)
                running += 1
            result = results.get()
            if result is None:
                running -= 1
                continue
            finished.append(result)
            if out is not None:
                print(format_result(result), file=out, flush=True)
    finally:
        os.unlink(lock_path)
    if out is not None:
        print(_summary(finished, time.perf_counter() - start, jobs), file=out, flush=True)
    return finished


def _summary(results, seconds, jobs):
    failed = [r["task"] for r in results if r.get("error")]
    compiled = sum(r.get("compiled", 0) for r in results)
    processes = f"{jobs} process" + ("es" if jobs > 1 else "")
    text = f"warm-up: {len(results)} tasks in {seconds:.1f} s ({processes}), {compiled} compilations"
    text += f"; cache: {os.environ.get('NUMBA_CACHE_DIR') or 'Numba default (__pycache__ or user cache folder)'}"
    return text + (f"; FAILED: {', '.join(failed)}" if failed else "; all tasks succeeded")


def succeeded(results):
    """Whether every task of a :func:`run` succeeded (skipped tasks count as success)."""
    return all(not r.get("error") for r in results)
