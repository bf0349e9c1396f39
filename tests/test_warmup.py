"""``fastxent warmup``: after it, a new process compiles nothing for the common calls."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics
from conftest import COUNT_COMPILATIONS

import fastxent
from fastxent import cli, warmup
from fastxent.warmup import background, tasks, worker

# The warm-up run of this module: a subset of the tasks.  The whole list takes
# many minutes, most of them in the logistic-regression families (a solver
# stack per solver, storage, dtype and thread-pool use).
SUBSET = "log_loss,entropy,cross_entropy"

# The inputs of the fresh process, also built by the test to compute the references.
INPUTS = """
import numpy as np

rng = np.random.default_rng(0)
y = rng.integers(0, 2, size=1000)
p = rng.uniform(0.05, 0.95, size=1000)
P, Q = rng.dirichlet(np.ones(64), size=(2, 1000))
classes = rng.integers(0, 4, size=5000)
logits = rng.normal(size=(5000, 4))
"""

FRESH_PROCESS = (
    """
import json
import numpy as np
"""
    + COUNT_COMPILATIONS
    + """
import fastxent
from fastxent.warmup.worker import specializations

exec(INPUTS)
values = {
    "log_loss": fastxent.log_loss(y, p),
    "cross_entropy": fastxent.cross_entropy(classes, logits, from_logits=True),
    "entropy": fastxent.entropy(P, Q, axis=1).tolist(),
}
print(json.dumps({"compiled": compiled, "loaded": specializations(), "values": values}))
"""
).replace("exec(INPUTS)", INPUTS)


def _env(cache_dir, **extra):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), **extra)
    env.pop("FASTXENT_WARMUP", None)
    return env


@pytest.fixture(scope="module")
def warmed_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("numba-cache")
    done = subprocess.run(
        [sys.executable, "-m", "fastxent", "warmup", "--only", SUBSET, "--jobs", "2"],
        env=_env(cache),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return cache, done


def test_every_public_name_has_a_warmup_task():
    covered = {name for task in warmup.TASKS for name in task.covers}
    public = set(fastxent.__all__) - set(fastxent._SUBMODULES)
    assert public - covered == set()
    assert "ufuncs" in covered


def test_warmup_subset_succeeds_and_reports_each_task(warmed_cache):
    _, done = warmed_cache
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    names = [t.name for t in warmup.select(SUBSET)]
    assert sorted(line.split()[0] for line in lines[:-1]) == sorted(names)
    for line in lines[:-1]:
        assert "FAILED" not in line and "new specializations" in line
        assert float(line.split()[1]) >= 0
    assert lines[-1].startswith(f"warm-up: {len(names)} tasks in") and "all tasks succeeded" in lines[-1]
    assert sum(int(line.split("(")[1].split()[0]) for line in lines[:-1]) > 0  # a cold cache compiles


def test_new_process_after_warmup_compiles_nothing(warmed_cache, tmp_path):
    cache, _ = warmed_cache
    script = tmp_path / "fresh.py"
    script.write_text(textwrap.dedent(FRESH_PROCESS))
    done = subprocess.run([sys.executable, str(script)], env=_env(cache), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["compiled"] == []
    assert report["loaded"] > 0

    inputs = {}
    exec(INPUTS, inputs)
    y, p, P, Q, classes, logits = (inputs[k] for k in "y p P Q classes logits".split())
    values = report["values"]
    assert values["log_loss"] == pytest.approx(sklearn.metrics.log_loss(y, p), rel=1e-12)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert values["cross_entropy"] == pytest.approx(-log_softmax[np.arange(5000), classes].mean(), rel=1e-12)
    np.testing.assert_allclose(values["entropy"], scipy.stats.entropy(P, Q, axis=1), rtol=1e-12)


def test_list_prints_every_task(capsys):
    assert cli.main(["warmup", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [t.name for t in warmup.TASKS]


def test_python_m_fastxent_is_the_command():
    done = subprocess.run([sys.executable, "-m", "fastxent", "warmup", "--list"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.split()[0] == warmup.TASKS[0].name


def test_unknown_task_is_a_usage_error(capsys):
    assert cli.main(["warmup", "--only", "log_loss,nonsense"]) == 2
    err = capsys.readouterr().err
    assert "unknown warm-up task nonsense" in err and len(err.strip().splitlines()) == 1


def test_select_by_task_or_family():
    assert [t.name for t in warmup.select("binary")] == ["binary_cross_entropy", "binary_accumulator"]
    assert [t.name for t in warmup.select(["entropy", "ufuncs"])] == ["entropy", "ufuncs"]
    assert [t.name for t in warmup.select("logistic_binary")] == ["logistic_binary"]


def test_a_failing_or_non_finite_task_is_reported():
    def wrong():
        tasks._finite([1.0, np.nan])

    result = worker.run_task(warmup.Task("wrong", "none", [], wrong))
    assert result["error"].startswith("AssertionError: non-finite result")
    assert not warmup.succeeded([result])
    assert "FAILED: AssertionError" in warmup.format_result(result)
    fine = worker.run_task(warmup.Task("fine", "none", [], lambda: tasks._agree(1.0, 1.0 + 1e-9, 1e-6)))
    assert fine["error"] is None and warmup.succeeded([fine])


def test_background_warmup_only_when_asked(tmp_path):
    code = (
        "import sys, fastxent, fastxent.warmup.background as w; "
        "p = w.background_process; print(p.pid if p else 0, 'numba' in sys.modules)"
    )
    env = _env(tmp_path / "cache", TMPDIR=str(tmp_path))
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert off.stdout.split() == ["0", "False"]

    env["FASTXENT_WARMUP"] = "background"
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    pid, numba_imported = on.stdout.split()
    assert numba_imported == "False"  # the importing process compiles nothing
    pid = int(pid)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert b"fastxent.warmup.background import main" in f.read()
        assert os.getpgid(pid) == pid  # detached: its own session and process group
    finally:
        os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.1)


def test_background_warmup_is_not_repeated_once_done(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    stamp = background.stamp_path()
    assert stamp.startswith(str(tmp_path))
    os.makedirs(os.path.dirname(stamp))
    with open(stamp, "w") as f:
        f.write("done\n")
    assert warmup.start_background() is None
