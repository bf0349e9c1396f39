"""IEEE-754 constants and bit casts shared by the compiled formulas.

The bit casts reinterpret a float's storage as the signed integer of the
same width and back (no conversion, one LLVM ``bitcast``): float64 <->
int64 and float32 <-> int32, chosen by the argument's type.  Table-free
``log``/``exp`` read and build exponent fields with them, which keeps the
loops that call them vectorizable.

With the JIT disabled they are NumPy views, with the integer wrapped to
the width of the type (``int64``, or ``int32`` for an ``np.int32``
argument) as LLVM would: the callers' integer arithmetic then runs on
Python ints, which do not wrap, and a wrapped value only arises for inputs
whose result the callers replace (nan, negative, zero).
"""

import numpy as np
from llvmlite import ir
from numba.core import types

from .jit import intrinsic, strict_inline

__all__ = ["SMALLEST_NORMAL", "FLOAT64_EPS", "FLOAT64_MAX", "float_bits", "float_from_bits", "max2", "min2"]

SMALLEST_NORMAL = 2.2250738585072014e-308  # DBL_MIN = 2**-1022
FLOAT64_EPS = 2.220446049250313e-16  # 2**-52, np.finfo(np.float64).eps
FLOAT64_MAX = 1.7976931348623157e308  # DBL_MAX

# Each float type and the signed integer of its width, for Numba's typer.
_INTEGER_OF = {types.float64: types.int64, types.float32: types.int32}
_FLOAT_OF = {integer: real for real, integer in _INTEGER_OF.items()}
_IR_INTEGER = {types.int64: ir.IntType(64), types.int32: ir.IntType(32)}
_IR_FLOAT = {types.float64: ir.DoubleType(), types.float32: ir.FloatType()}


def _wrapped(value, bits):
    """``value`` reduced to a signed integer of ``bits`` bits (two's complement)."""
    half = 1 << (bits - 1)
    return ((int(value) + half) & ((1 << bits) - 1)) - half


def _float_bits_python(x):
    if isinstance(x, np.float32):
        return int(x.view(np.int32))
    return int(np.float64(x).view(np.int64))


def _float_from_bits_python(i):
    if isinstance(i, np.int32):
        return np.int32(_wrapped(i, 32)).view(np.float32)
    return np.int64(_wrapped(i, 64)).view(np.float64)


@intrinsic(_float_bits_python)
def float_bits(typingctx, x):
    """The IEEE-754 bit pattern of a float64 (as int64) or a float32 (as int32).

    Parameters
    ----------
    x : float64 or float32

    Returns
    -------
    int64 or int32
        The same bits read as a two's-complement integer.
    """
    integer = _INTEGER_OF.get(x)
    if integer is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _IR_INTEGER[integer])

    return integer(x), codegen


@intrinsic(_float_from_bits_python)
def float_from_bits(typingctx, i):
    """The float64 (from an int64) or float32 (from an int32) with the bit pattern ``i``.

    Parameters
    ----------
    i : int64 or int32

    Returns
    -------
    float64 or float32
    """
    real = _FLOAT_OF.get(i)
    if real is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _IR_FLOAT[real])

    return real(i), codegen


# The builtins ``max``/``min`` of two numbers, inlined: Numba compiles the
# builtins as functions of their own (one per pair of argument types), a
# cost every first call pays.  Same result as the builtins, NaN included:
# ``max(a, b)`` is ``b if b > a else a`` (types unified likewise).


@strict_inline
def max2(a, b):
    return b if b > a else a


@strict_inline
def min2(a, b):
    return b if b < a else a
