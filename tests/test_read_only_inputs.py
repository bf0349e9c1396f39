"""Writable and read-only inputs run one compiled kernel; results stay writable, inputs untouched.

Numba compiles a separate specialization for a read-only array; the API
hands every kernel read-only views of its inputs, so a read-only array
(pandas' copy-on-write arrays, memory maps) costs no compilation once a
writable one of the same kind has been seen, and the reverse.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastxent
from fastxent._api.validation import read_only

# Each case runs its call on writable inputs, then on read-only copies of the
# same inputs, in a fresh process (another test of this process could have
# compiled the read-only specializations already), and counts the
# specializations that the second call added.
ONE_SPECIALIZATION = """
import json
import numpy as np
import fastxent
from fastxent.warmup.worker import specializations

rng = np.random.default_rng(0)
n, k = 300, 4
y = rng.integers(0, 2, size=n)
p = rng.uniform(0.05, 0.95, size=n)
labels = rng.integers(0, k, size=n)
P = rng.dirichlet(np.ones(k), size=n)
Q = rng.dirichlet(np.ones(k), size=n)
logits = rng.normal(size=(n, k))
w = rng.uniform(0.5, 2.0, size=n)
class_weight = np.linspace(0.5, 2.0, k)

CASES = {
    "log_loss": lambda y, p, w: fastxent.log_loss(y, p, sample_weight=w),
    "log_loss_strings": lambda y, p, w: fastxent.log_loss(y.astype(str), p),
    "d2_log_loss_score": lambda labels, P: fastxent.d2_log_loss_score(labels, P),
    "binary_cross_entropy": lambda y, p, w: fastxent.binary_cross_entropy(y, p, sample_weight=w, reduction="none"),
    "binary_cross_entropy_grad": lambda P, logits: fastxent.binary_cross_entropy_grad(
        P, logits, from_logits=True, pos_weight=np.ones(logits.shape[1])
    ),
    "cross_entropy": lambda labels, logits, w, class_weight: fastxent.cross_entropy_value_and_grad(
        labels, logits, from_logits=True, sample_weight=w, class_weight=class_weight
    ),
    "cross_entropy_soft": lambda P, Q: fastxent.cross_entropy(P, Q, reduction="none"),
    "entropy": lambda P, Q: (fastxent.entropy(P, Q, axis=1), fastxent.entropy(P, axis=0), fastxent.entropy(P[0])),
    "kl_divergence": lambda P, Q: fastxent.kl_divergence(P, Q),
    "jensenshannon": lambda P, Q: fastxent.jensenshannon(P, Q, axis=1),
    "mutual_info": lambda labels, y: (
        fastxent.adjusted_mutual_info_score(labels, y),
        fastxent.entropy_of_labels(labels),
        fastxent.contingency_matrix(labels, y),
    ),
    "mutual_info_strings": lambda labels, y: fastxent.mutual_info_score(labels.astype(str), y),
    "mutual_info_contingency": lambda table: fastxent.mutual_info_score(None, None, contingency=table),
    "accumulators": lambda labels, P, logits: (
        fastxent.LogLossAccumulator().update(labels, P).result(),
        fastxent.CrossEntropyAccumulator(from_logits=True).update(labels, logits).result(),
        fastxent.ContingencyAccumulator().update(labels, labels).mutual_info(),
    ),
}
ARGUMENTS = dict(
    y=y, p=p, w=w, labels=labels, P=P, Q=Q, logits=logits, class_weight=class_weight,
    table=fastxent.contingency_matrix(labels, y),
)


def frozen(x):
    x = x.copy()
    x.flags.writeable = False
    return x


added = {}
for name, call in CASES.items():
    args = [ARGUMENTS[a] for a in call.__code__.co_varnames[: call.__code__.co_argcount]]
    call(*args)
    before = specializations()
    call(*[frozen(a) for a in args])
    added[name] = specializations() - before
print(json.dumps(added))
"""


def test_read_only_inputs_compile_nothing_after_writable_ones(tmp_path):
    script = tmp_path / "one_specialization.py"
    script.write_text(textwrap.dedent(ONE_SPECIALIZATION))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    added = json.loads(done.stdout.splitlines()[-1])
    assert added == {name: 0 for name in added}
    assert len(added) == 14


def test_read_only_is_a_view_of_a_writable_array_and_leaves_it_writable():
    x = np.arange(6.0).reshape(2, 3)
    view = read_only(x)
    assert view is not x and np.shares_memory(view, x) and view.flags.c_contiguous
    assert not view.flags.writeable and x.flags.writeable


def test_read_only_keeps_read_only_arrays_none_and_scalars():
    x = np.arange(3.0)
    x.flags.writeable = False
    assert read_only(x) is x
    assert read_only(None) is None
    assert read_only(2.5) == 2.5


def test_read_only_keeps_a_memmap_a_memmap(tmp_path):
    mm = np.memmap(tmp_path / "a.dat", dtype=np.float64, mode="w+", shape=(4,))
    view = read_only(mm)
    assert isinstance(view, np.memmap) and not view.flags.writeable and mm.flags.writeable


def _writable_inputs():
    rng = np.random.default_rng(1)
    return dict(
        y=rng.integers(0, 2, size=50),
        p=rng.uniform(0.05, 0.95, size=50),
        labels=rng.integers(0, 3, size=50),
        P=rng.dirichlet(np.ones(3), size=50),
        Q=rng.dirichlet(np.ones(3), size=50),
        logits=rng.normal(size=(50, 3)),
        w=rng.uniform(0.5, 2.0, size=50),
    )


RESULTS = {
    "binary_cross_entropy none": lambda a: fastxent.binary_cross_entropy(a["y"], a["p"], reduction="none"),
    "binary_cross_entropy_grad": lambda a: fastxent.binary_cross_entropy_grad(a["y"], a["p"], sample_weight=a["w"]),
    "binary_cross_entropy_value_and_grad": lambda a: fastxent.binary_cross_entropy_value_and_grad(
        a["y"], a["p"], reduction="none"
    ),
    "cross_entropy none": lambda a: fastxent.cross_entropy(
        a["labels"], a["logits"], from_logits=True, reduction="none"
    ),
    "cross_entropy_value_and_grad": lambda a: fastxent.cross_entropy_value_and_grad(
        a["P"], a["Q"], reduction="none", sample_weight=a["w"]
    ),
    "entropy": lambda a: fastxent.entropy(a["P"], a["Q"], axis=1),
    "entropy keepdims": lambda a: fastxent.entropy(a["P"], axis=0, keepdims=True),
    "kl_divergence": lambda a: fastxent.kl_divergence(a["P"], a["Q"]),
    "jensenshannon": lambda a: fastxent.jensenshannon(a["P"], a["Q"], axis=1),
    "contingency_matrix": lambda a: fastxent.contingency_matrix(a["labels"], a["y"]),
    "contingency_matrix eps": lambda a: fastxent.contingency_matrix(a["labels"], a["y"], eps=0.5),
}


@pytest.mark.parametrize("frozen", [False, True], ids=["writable", "read-only"])
@pytest.mark.parametrize("name", sorted(RESULTS))
def test_returned_arrays_are_writable_and_inputs_unchanged(name, frozen):
    inputs = _writable_inputs()
    before = {key: value.copy() for key, value in inputs.items()}
    for value in inputs.values():
        value.flags.writeable = not frozen
    result = RESULTS[name](inputs)
    arrays = [r for r in (result if isinstance(result, tuple) else (result,)) if isinstance(r, np.ndarray)]
    assert arrays
    for array in arrays:
        assert array.flags.writeable
        array[...] = 0  # the caller owns the result
    for key, value in inputs.items():
        assert value.flags.writeable is not frozen
        np.testing.assert_array_equal(value, before[key])
