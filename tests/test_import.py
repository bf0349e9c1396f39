"""Start-up contract: importing fastxent is cheap and has no side effects."""

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import COUNT_COMPILATIONS

import fastxent
from fastxent.benchmarks.cold_start import NUMBA_FLOOR

HEAVY = ("sklearn", "scipy", "pandas", "torch", "dask")

# Numba itself imports SciPy when it is installed: ``import numba`` imports
# the ``scipy`` package (a version check), and the first compilation or cache
# load imports ``scipy.linalg`` (Numba's BLAS bindings).  What fastxent must
# not do is import anything heavy beyond what Numba brings in by itself.
_HEAVY_ADDED_BY_FASTXENT = f"""
import json, sys
def heavy():
    return {{m for m in sys.modules if m.split(".")[0] in {HEAVY!r}}}
import numba
numba.njit(lambda x: x + 1)(1)
before = heavy()
"""


def _run(code):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_pulls_in_no_heavy_library():
    loaded = _run(_HEAVY_ADDED_BY_FASTXENT + "import fastxent\nprint(json.dumps(sorted(heavy() - before)))")
    assert loaded == []


def test_public_api_modules_pull_in_no_heavy_library():
    names = [n for n in fastxent._PUBLIC if n != "LogisticRegression"]
    loaded = _run(
        _HEAVY_ADDED_BY_FASTXENT
        + "import fastxent, fastxent.kernels, fastxent.ufuncs\n"
        + f"for name in {names!r}:\n    getattr(fastxent, name)\n"
        + "print(json.dumps(sorted(heavy() - before)))"
    )
    assert loaded == []


def test_import_compiles_no_signature():
    names = list(fastxent._PUBLIC)
    compiled = _run(
        f"""
        import json, sys
        import numba
        from numba.core.registry import CPUDispatcher
        import fastxent, fastxent.kernels
        for name in {names!r}:
            getattr(fastxent, name)
        found = []
        for modname, mod in list(sys.modules.items()):
            if modname.startswith("fastxent"):
                for attr, value in vars(mod).items():
                    if isinstance(value, CPUDispatcher) and value.signatures:
                        found.append(f"{{modname}}.{{attr}}")
        print(json.dumps(found))
        """
    )
    assert compiled == []


# The start-up tests time the child's CPU (time.process_time): the work it does,
# whatever else the machine runs at the same moment (wall time on a busy
# machine measures the neighbours).


def test_import_is_fast_with_warm_cache():
    # Warm the Numba cache and the bytecode cache once, then time fresh imports.
    _run("import json, fastxent; print(json.dumps(0))")
    times = [
        _run(
            """
            import json, time
            t = time.process_time()
            import fastxent
            print(json.dumps(time.process_time() - t))
            """
        )
        for _ in range(5)
    ]
    assert min(times) <= 0.5, times


@pytest.mark.parametrize(
    "call",
    [
        "fastxent.log_loss([0, 1, 1, 0], [0.1, 0.8, 0.7, 0.3])",
        "fastxent.cross_entropy(np.array([0, 2]), np.array([[1.0, 2.0, 3.0], [0.5, 0.1, 2.0]]), from_logits=True)",
        "fastxent.entropy([0.2, 0.3, 0.5])",
    ],
)
def test_first_call_with_warm_cache_is_fast(call):
    # Warm, a first call compiles nothing and costs what Numba's own start costs
    # (its import and target context, the cold-start benchmark's first row, measured
    # alongside: the part no library built on Numba avoids) plus a small share.
    code = (
        "import json, time\nimport numpy as np\nimport fastxent\nt = time.process_time()\n"
        + COUNT_COMPILATIONS
        + f"{call}\nprint(json.dumps([time.process_time() - t, len(compiled)]))\n"
    )
    numba_start = (
        "import json, time\nimport numpy as np\nt = time.process_time()\n"
        + NUMBA_FLOOR.call
        + "\nprint(json.dumps(time.process_time() - t))\n"
    )
    _run(code)  # populates the on-disk cache
    runs = [_run(code) for _ in range(3)]
    floor = min(_run(numba_start) for _ in range(3))
    assert [compiled for _, compiled in runs] == [0, 0, 0]
    first_call = min(seconds for seconds, _ in runs)
    assert first_call < floor + 0.5, (first_call, floor)
