"""Numba's on-disk cache in deployment: read-only installs, caching off, cold starts at once.

Each scenario runs fresh interpreters (the cache matters only between
processes) and checks their results against SciPy and scikit-learn.
"""

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics
from conftest import COUNT_COMPILATIONS

import fastxent

PACKAGE = Path(fastxent.__file__).parent

# A few public calls, the thread-pool case of tests/test_cached_parallel_callers.py
# (a user's cached serial function calling a parallel kernel), and what
# Numba compiled: the listener sees compilations, never loads from the cache.
CHILD = (
    """
import json, os, sys
import numba
import numpy as np
"""
    + COUNT_COMPILATIONS
    + """
import fastxent
from fastxent import kernels
from fastxent._infra import jit

WITH_USER_KERNEL = {with_user_kernel}


@numba.njit(cache=True)
def user_entropies(pk):
    out = np.empty(pk.shape[0])
    kernels.entropy_rows_parallel(pk, np.empty((0, pk.shape[1])), True, False, out)
    return out


probe = os.path.join(os.path.dirname(fastxent.__file__), "probe")
try:
    open(probe, "w").close()
    os.remove(probe)
    package_writable = True
except OSError:
    package_writable = False

y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
p = np.linspace(0.1, 0.9, 8)
pk = np.linspace(1.0, 2.0, 9)
out = {{
    "log_loss": fastxent.log_loss(y, p),
    "entropy": fastxent.entropy(pk, base=2),
    "package": fastxent.__file__,
    "package_writable": package_writable,
    "cache": jit.CACHE,
}}
if WITH_USER_KERNEL:
    out["rows"] = user_entropies(np.random.default_rng(0).uniform(0.1, 1.0, size=(5000, 8))).tolist()
out["compiled"] = len(compiled)
print(json.dumps(out))
"""
)


def _expected():
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    p = np.linspace(0.1, 0.9, 8)
    return sklearn.metrics.log_loss(y, p), scipy.stats.entropy(np.linspace(1.0, 2.0, 9), base=2)


def _expected_rows():
    return scipy.stats.entropy(np.random.default_rng(0).uniform(0.1, 1.0, size=(5000, 8)), axis=1)


def _without_write_override():
    """In the child: make root obey file permissions (drop CAP_DAC_OVERRIDE from
    the bounding set, so the exec'd interpreter never regains it)."""
    if os.geteuid() == 0:
        pr_capbset_drop, cap_dac_override = 24, 1
        if ctypes.CDLL(None, use_errno=True).prctl(pr_capbset_drop, cap_dac_override, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _run_child(workdir, env, with_user_kernel=False, name="child"):
    script = workdir / f"{name}.py"  # a real file: Numba caches only those
    script.write_text(textwrap.dedent(CHILD.format(with_user_kernel=with_user_kernel)))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_without_write_override,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "FASTXENT_", "XDG_"))}
    env.update(extra)
    return env


def _read_only_copy(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "fastxent", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for folder, _, files in os.walk(site):
        for name in files:
            os.chmod(os.path.join(folder, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    for folder, _, _ in os.walk(site, topdown=False):
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return site


def _make_writable(root):
    for folder, _, _ in os.walk(root):
        os.chmod(folder, stat.S_IRWXU)


def _files_under(root):
    return [os.path.join(f, n) for f, _, names in os.walk(root) for n in names]


@pytest.fixture
def read_only_site(tmp_path):
    site = _read_only_copy(tmp_path)
    yield site
    _make_writable(site)


def test_read_only_install_caches_in_the_user_folder(tmp_path, read_only_site):
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(PYTHONPATH=str(read_only_site), HOME=str(home))
    first, _ = _run_child(tmp_path, env, with_user_kernel=True)
    second, _ = _run_child(tmp_path, env, with_user_kernel=True)
    assert first["package"].startswith(str(read_only_site)) and not first["package_writable"]
    assert first["compiled"] > 0
    assert second["compiled"] == 0  # everything, fastxent's kernels and the user's function, from the cache
    expected_loss, expected_entropy = _expected()
    for run in (first, second):
        assert run["log_loss"] == pytest.approx(expected_loss, rel=1e-12)
        assert run["entropy"] == pytest.approx(expected_entropy, rel=1e-12)
        np.testing.assert_allclose(run["rows"], _expected_rows(), rtol=1e-12)
    user_cache = _files_under(home / ".cache" / "numba")  # one folder per package folder: _kernels_<hash>, ...
    assert {Path(path).parent.name.rsplit("_", 1)[0] for path in user_cache if path.endswith(".nbi")} >= {
        "_kernels",
        "_math",
    }
    assert not any(path.endswith((".nbi", ".nbc")) for path in _files_under(read_only_site))


def test_no_writable_cache_folder_compiles_without_cache(tmp_path, read_only_site):
    home = tmp_path / "home"
    home.mkdir(mode=0o555)
    env = _clean_env(PYTHONPATH=str(read_only_site), HOME=str(home))
    run, stderr = _run_child(tmp_path, env)
    assert run["log_loss"] == pytest.approx(_expected()[0], rel=1e-12)
    assert "no writable Numba cache folder" in stderr
    assert stderr.count("no writable Numba cache folder") == 1
    assert _files_under(home) == []


def test_cache_off_writes_nothing_and_keeps_the_thread_pool_safe(tmp_path):
    cache = tmp_path / "cache"
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(FASTXENT_CACHE="0", NUMBA_CACHE_DIR=str(cache), HOME=str(home))
    runs = [_run_child(tmp_path, env, with_user_kernel=True)[0] for _ in range(2)]
    assert [r["cache"] for r in runs] == [False, False]
    assert runs[1]["compiled"] > 0  # fastxent compiles again in every process
    # The second run loads the user's own cached function: the thread pool must be running.
    np.testing.assert_allclose(runs[1]["rows"], _expected_rows(), rtol=1e-12)
    assert runs[0]["log_loss"] == pytest.approx(_expected()[0], rel=1e-12)
    # Only the user's script has a cache folder (named after its folder); fastxent has none.
    assert {Path(path).parent.name.rsplit("_", 1)[0] for path in _files_under(cache)} == {tmp_path.name}
    assert _files_under(home) == []


EIGHT_COLD = """
import json
import numpy as np
import fastxent

y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
p = np.linspace(0.1, 0.9, 8)
print(json.dumps([fastxent.log_loss(y, p), fastxent.entropy(np.linspace(1.0, 2.0, 9), base=2)]))
"""


def test_eight_cold_processes_share_one_empty_cache(tmp_path):
    cache = tmp_path / "cache"
    env = _clean_env(NUMBA_CACHE_DIR=str(cache), NUMBA_NUM_THREADS="1")
    script = tmp_path / "cold.py"
    script.write_text(textwrap.dedent(EIGHT_COLD))
    deadline = time.monotonic() + 600  # eight compilations at once share the machine's cores
    procs = [
        subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(8)
    ]
    try:
        outputs = [proc.communicate(timeout=max(deadline - time.monotonic(), 1)) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    expected = _expected()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err.decode()[-3000:]
        loss, entropy = json.loads(out.decode().splitlines()[-1])
        assert loss == pytest.approx(expected[0], rel=1e-12)
        assert entropy == pytest.approx(expected[1], rel=1e-12)
    assert any(path.endswith(".nbi") for path in _files_under(cache))
    again = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
    assert json.loads(again.stdout.splitlines()[-1]) == pytest.approx(list(expected), rel=1e-12)


HELPER_CALLER = (
    """
import json
import numba
import numpy as np

from fastxent._solvers import gram
"""
    + COUNT_COMPILATIONS
    + """


@numba.njit(cache=True)
def caller_{index}(values):
    return gram._largest_magnitude(values) + {index}


print(json.dumps([caller_{index}(np.array([1.0, -3.5])), compiled]))
"""
)


def test_a_private_helper_loaded_from_the_cache_serves_a_new_compiled_caller(tmp_path):
    # Private helpers have no Python entry; loaded from the disk cache, one is
    # linked into a caller compiled in a later process like a fresh one.
    env = _clean_env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    results = []
    for index in (0, 1):
        script = tmp_path / f"caller_{index}.py"
        script.write_text(textwrap.dedent(HELPER_CALLER.format(index=index)))
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        results.append(json.loads(done.stdout.splitlines()[-1]))
    (first, compiled_first), (second, compiled_second) = results
    assert (first, second) == (3.5, 4.5)
    assert "_largest_magnitude" in compiled_first
    assert compiled_second == ["caller_1"]  # the helper came from the cache
