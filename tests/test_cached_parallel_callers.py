"""Serial code that calls parallel kernels, loaded from Numba's on-disk cache.

Numba starts its thread pool when a ``parallel=True`` function is compiled or
loaded, but not when a serial function that calls one is loaded from the
cache; such code used to crash the process (segfault) the second time it ran.
"""

import os
import subprocess
import sys
import textwrap

USER_CACHED_FIT = """
import numba, numpy as np
from fastxent import kernels

@numba.njit(cache=True)
def fit(X, y, w):
    coef = np.zeros(X.shape[1] + 1)
    return kernels.fit_binary_logistic(X, y, w, coef, 1.0, True, 5, 1e-8, "lbfgs")[0]

rng = np.random.default_rng(0)
X = rng.normal(size=(300_000, 4))
y = (X[:, 0] + rng.normal(size=300_000) > 0).astype(float)
print(fit(X, y, np.ones(300_000))[0])
"""

DIRECT_FIT = """
import numpy as np
from fastxent import kernels

rng = np.random.default_rng(0)
X = rng.normal(size=(300_000, 4))
y = (X[:, 0] + rng.normal(size=300_000) > 0).astype(float)
print(kernels.fit_binary_logistic(X, y, np.empty(0), np.empty(0), 1.0, True, 5, 1e-8, "lbfgs")[0][0])
"""


def _run(code, cache_dir, cwd, name):
    script = cwd / f"{name}.py"  # a real file: Numba caches only those
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_solver_kernels_loaded_from_cache_do_not_crash(tmp_path):
    cache = tmp_path / "numba-cache"
    outputs = []
    runs = [("user_fit", USER_CACHED_FIT)] * 2 + [("direct_fit", DIRECT_FIT)] * 2
    for name, code in runs:
        result = _run(code, cache, tmp_path, name)
        assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
        outputs.append(float(result.stdout.split()[-1]))
    assert max(outputs) - min(outputs) <= 1e-12 * abs(outputs[0])


USER_CACHED_LOSSES = """
import numba, numpy as np
from fastxent import kernels

@numba.njit(cache=True)
def losses(y, z, t):
    none = np.empty(0)
    grad = np.empty_like(z)
    a, _ = kernels.cross_entropy_index_parallel(y, z, none, none, 0.0, -100, True, 0.0, 1.0, 1.0, none, grad)
    b, _ = kernels.cross_entropy_index_parallel(
        y, z, none, none, 0.0, -100, True, 0.0, 1.0, 1.0, none, np.empty((0, z.shape[1]))
    )
    c, _, _ = kernels.binary_cross_entropy_parallel(t, z[:, 0].copy(), none, 1.0, True, 0.0, 1.0, 1.0, none, none)
    return a + b + c + grad[0, 0]

rng = np.random.default_rng(0)
z = rng.normal(size=(200_000, 4))
y = rng.integers(0, 4, 200_000)
t = (z[:, 0] > 0).astype(float)
print(losses(y, z, t))
"""


def test_public_loss_kernels_called_from_cached_user_code_do_not_crash(tmp_path):
    # The public parallel loss kernels are serial functions that call the
    # parallel drivers, with or without a gradient.
    cache = tmp_path / "numba-cache"
    outputs = []
    for _ in range(2):
        result = _run(USER_CACHED_LOSSES, cache, tmp_path, "user_losses")
        assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
        outputs.append(float(result.stdout.split()[-1]))
    assert outputs[0] == outputs[1]
