"""bench/speed_logistic.py's handling of a peer that never reaches its tolerance.

glum on float32 data cannot get its gradient below ``tol`` and runs every
step up to its cap; the benchmark must stop it early, time it once and keep
it out of the ratio.  Stand-in models: nothing here fits for real.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "speed_logistic.py"


@pytest.fixture(scope="module")
def speed():
    spec = importlib.util.spec_from_file_location("speed_logistic", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SETTLE_SECONDS = 0.0
    return module


class _Capped:
    """A model that stops at its step cap on every fit, as glum does on float32 data."""

    fits = 0

    def __init__(self, C, warm_start=False, max_iter=7, steps=7):
        self.C, self.max_iter, self.steps = C, max_iter, steps

    def fit(self, X, y):
        type(self).fits += 1
        self.coef_ = np.zeros((1, X.shape[1]), dtype=X.dtype)
        self.intercept_ = np.zeros(1)
        self.n_iter_ = np.array([self.steps])
        return self

    def set_params(self, C):
        self.C = C
        return self


def test_unconverged_peer_is_timed_once_and_reported(speed):
    X, y = np.ones((4, 2), dtype=np.float32), np.array([0, 1, 0, 1])
    _Capped.fits = 0
    _, model, _, done = speed.time_fit(_Capped, X, y, repeat=3)
    assert not done and _Capped.fits == 1
    _Capped.fits = 0
    _, _, values, done = speed.time_path(_Capped, X, y, repeat=3)
    assert not done and _Capped.fits == len(speed.PATH_CS) and len(values) == len(speed.PATH_CS)
    _, _, _, done = speed.time_fit(lambda C, warm: _Capped(C, warm, max_iter=8), X, y, repeat=2)
    assert done


def test_unconverged_peer_is_not_the_fastest(speed):
    info = dict(config="float32-100k-100-binary", quick=True, chosen="fastxent-newton-cholesky")
    row = dict(n_iter=9, converged=True, objective_rel_diff=0.0)
    rows = [
        dict(row, peer="fastxent-newton-cholesky", seconds=0.2),
        dict(row, peer="sklearnex", seconds=0.6),
        dict(row, peer="glum", seconds=0.1, n_iter=50, converged=False),
    ]
    line, ratio, _ = speed.summary_line(info, rows)
    assert ratio == pytest.approx(3.0)
    assert "glum 0.100 s (50 it, not converged)" in line and "| sklearnex 0.600 s |" in line


@pytest.mark.requires("glum")
def test_glum_is_capped(speed):
    model = speed.peers("float32", 100, 2)["glum"](1.0, False)
    assert model.model.max_iter == model.max_iter == speed.GLUM_MAX_ITER <= 100
