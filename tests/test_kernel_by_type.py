"""``kernel_by_type``: a compiled caller calls the kernel chosen from the
argument types directly, with no compiled function of the choice's own."""

import numba
import numpy as np
import pytest
from numba.core import event, types

from fastxent._infra.jit import JIT_DISABLED, kernel, kernel_by_type

pytestmark = pytest.mark.skipif(
    JIT_DISABLED, reason="compiled dispatch only; the Python path runs in test_jit_disabled"
)


@kernel
def sum_rows_in_place(x, out, scale):
    for i in range(x.shape[0]):
        out[i] = scale * x[i].sum()
    return 1


@kernel
def sum_rows_by_column(x, out, scale):
    out[:] = 0.0
    for j in range(x.shape[1]):
        for i in range(x.shape[0]):
            out[i] += scale * x[i, j]
    return 2


@kernel_by_type
def row_sums(x, out, scale):
    """Rows of a C-contiguous ``x`` in place, other layouts column by column."""
    return sum_rows_in_place if x.layout == "C" else sum_rows_by_column


@numba.njit
def user_row_sums(x, out):
    return row_sums(x, out, 2)


@kernel
def scaled_once(x, n):
    return x * n


@kernel
def scaled_many(x, n):
    total = 0.0
    for _ in range(n):
        total += x
    return total


@kernel_by_type(prefer_literal=True)
def scaled(x, n):
    """``x * n``; a literal ``n`` of 1 reaches the chooser as a literal type."""
    return scaled_once if isinstance(n, types.IntegerLiteral) and n.literal_value == 1 else scaled_many


@numba.njit
def scaled_by_one(x):
    return scaled(x, 1)


@numba.njit
def scaled_by(x, n):
    return scaled(x, n)


class _Compiled(event.Listener):
    def __init__(self):
        self.names = []

    def on_start(self, ev):
        func = ev.data["dispatcher"].py_func
        if func.__module__ == __name__:  # not Numba's own implementations (of x.sum())
            self.names.append(func.__name__)

    def on_end(self, ev):
        pass


@pytest.mark.parametrize(
    "order, chosen, other", [("C", sum_rows_in_place, sum_rows_by_column), ("F", sum_rows_by_column, sum_rows_in_place)]
)
def test_the_caller_calls_the_kernel_of_its_argument_types_and_compiles_no_other(order, chosen, other):
    x = np.asarray(np.arange(12.0).reshape(4, 3), order=order)
    out = np.empty(4)
    listener = _Compiled()
    with event.install_listener("numba:compile", listener):
        tag = user_row_sums(x, out)
    assert tag == (1 if order == "C" else 2)
    np.testing.assert_array_equal(out, 2 * x.sum(axis=1))
    assert any(sig[0] == numba.typeof(x) for sig in chosen.signatures)
    assert not any(sig[0] == numba.typeof(x) for sig in other.signatures)
    # The choice itself compiles nothing: the caller and the chosen kernel only.
    assert "row_sums" not in listener.names
    assert set(listener.names) <= {"user_row_sums", chosen.py_func.__name__}


def test_integer_arguments_are_cast_to_the_kernels_signature():
    """A literal reaches the chooser as its literal type, the kernel as a plain integer."""
    assert scaled_by_one(2.5) == 2.5
    assert scaled_by(2.5, 3) == 7.5
    assert [str(sig[1]) for sig in scaled_once.signatures] == ["int64"]
    assert [str(sig[1]) for sig in scaled_many.signatures] == ["int64"]


def test_a_python_call_is_refused():
    with pytest.raises(NotImplementedError, match="not usable in pure-python"):
        row_sums(np.ones((2, 2)), np.empty(2), 1.0)
