"""A result does not depend on whether this process compiled the code or loaded it.

Numba links into each compiled function a copy of every function it calls,
optimized again inside the caller.  Were the copies bound by symbol, the
process that compiles (which runs the callees' own code) and a process that
loads the caller from the cache (which runs the caller's copies) could add
the terms of a reduction in different orders.  Here one process compiles
into an empty cache, a second loads from it, and every result must be the
same to the bit; the cases are those that differed before each caller was
bound to its own copies.
"""

import importlib
import os
import pkgutil
import subprocess
import sys
import textwrap

import llvmlite.binding as ll
import numba
import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from fastxent import kernels
from fastxent._infra.jit import JIT_DISABLED
from fastxent._infra.linking import SelfContainedCompiler, SelfContainedLibrary

pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="compiled code only")

RESULTS = """
import sys
import numpy as np
import fastxent
from fastxent import kernels

rng = np.random.default_rng(0)
out = {}
for dtype in (np.float32, np.float64):
    name = np.dtype(dtype).name
    z = (rng.normal(size=(20_000, 37)) * np.linspace(1.0, 30.0, 37)).astype(dtype)
    y = rng.integers(0, 37, size=20_000)
    t = rng.dirichlet(np.ones(37), size=20_000).astype(dtype)
    value, grad = fastxent.cross_entropy_value_and_grad(y, z, from_logits=True)
    out["value_and_grad_" + name] = np.append(np.ravel(grad), value)
    value, grad = fastxent.cross_entropy_value_and_grad(t, z, from_logits=True, label_smoothing=0.1)
    out["soft_value_and_grad_" + name] = np.append(np.ravel(grad), value)
    out["losses_" + name] = fastxent.cross_entropy(y, z, from_logits=True, reduction="none")
    out["row_max_sum_exp_" + name] = np.ravel([kernels.row_max_sum_exp(row) for row in z[:2000]])
X = rng.normal(size=(20_000, 20))
y = (X @ rng.normal(size=20) + rng.logistic(size=20_000) > 0).astype(int)
model = fastxent.LogisticRegression(solver="newton-cholesky").fit(X, y)
out["newton_cholesky"] = np.append(model.coef_.ravel(), model.intercept_)
np.savez(sys.argv[1], **out)
"""


def test_the_compiling_and_the_loading_process_give_the_same_bits(tmp_path):
    script = tmp_path / "results.py"
    script.write_text(textwrap.dedent(RESULTS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "FASTXENT_"))}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    for name in ("compiled", "loaded"):
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / f"{name}.npz")],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    compiled = np.load(tmp_path / "compiled.npz")
    loaded = np.load(tmp_path / "loaded.npz")
    assert sorted(compiled.files) == sorted(loaded.files)
    for key in compiled.files:
        a, b = compiled[key], loaded[key]
        assert a.dtype == b.dtype and a.shape == b.shape, key
        assert a.tobytes() == b.tobytes(), f"{key}: {np.count_nonzero(a != b)} of {a.size} values differ"


FOUNDATION = ("fastxent._infra", "fastxent._math", "fastxent._kernels", "fastxent._solvers")


def test_every_compiled_function_of_fastxent_is_built_self_contained():
    dispatchers = []
    for package_name in FOUNDATION:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            dispatchers += [v for v in vars(module).values() if isinstance(v, CPUDispatcher)]
    assert len(dispatchers) > 100
    assert {d._compiler.pipeline_class for d in dispatchers} == {SelfContainedCompiler}


def test_a_compiled_caller_binds_its_calls_to_its_own_copies():
    def caller(z, grad):
        loss = 0.0
        for i in range(z.shape[0]):
            loss += kernels.softmax_row_loss_grad(i % z.shape[1], z[i], 1.0, grad[i])
        return loss

    compiled = numba.njit(pipeline_class=SelfContainedCompiler)(caller)  # not cached: compiled here
    z = np.random.default_rng(1).normal(size=(50, 7))
    grad = np.empty_like(z)
    assert compiled(z, grad) == pytest.approx(sum(kernels.softmax_row_loss(i % 7, z[i]) for i in range(50)))
    (result,) = compiled.overloads.values()
    library = result.library
    assert isinstance(library, SelfContainedLibrary)
    defined = [fn for fn in library._final_module.functions if not fn.is_declaration]
    own = [fn for fn in defined if fn.name in library._own_functions]
    linked = [fn for fn in defined if fn.name not in library._own_functions]
    assert own and all(fn.linkage == ll.Linkage.external for fn in own)
    # What runs: copies of the callees that belong to this caller, bound by no other library.
    assert any(result.fndesc.mangled_name in fn.name for fn in own)
    assert linked and all(fn.linkage == ll.Linkage.internal for fn in linked), [(f.name, f.linkage) for f in linked]
    assert any("softmax_row_loss_grad" in name for name in library._internalized)
    # What a further caller links: Numba's weak copies, merged with other libraries' copies of the same function.
    shared = library._get_module_for_linking()
    assert all(shared.get_function(name).linkage == ll.Linkage.linkonce_odr for name in library._internalized)
