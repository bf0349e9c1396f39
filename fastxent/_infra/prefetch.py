"""Software prefetch of a table row that a loop will read a few steps later.

Sparse kernels read and update rows of a coefficient table chosen by each
stored value's column: random rows of a table larger than the core's own
cache, so each access waits on memory unless the row was asked for
earlier.  :func:`prefetch_row` asks for the first and the last cache line
of a row of a C-contiguous 2-D table (a row of 20 float64 spans up to three
lines; the middle one follows the first) with LLVM's ``llvm.prefetch``,
which changes no value and faults on no address.  With the JIT disabled it
does nothing.
"""

from llvmlite import ir
from numba.core import cgutils, types

from .jit import intrinsic

__all__ = ["prefetch_row"]


def _prefetch_row_python(table, row):
    return None


@intrinsic(_prefetch_row_python)
def prefetch_row(typingctx, table, row):
    """Prefetch row ``row`` of the 2-D C-contiguous array ``table`` for reading.

    Parameters
    ----------
    table : 2-D C-contiguous array
    row : integer
        A row of ``table`` (not checked: a prefetch never faults).

    Returns
    -------
    None
    """
    if not (isinstance(table, types.Array) and table.ndim == 2 and table.layout == "C"):
        return None
    if not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        table_type, row_type = signature.args
        array = context.make_array(table_type)(context, builder, args[0])
        columns = cgutils.unpack_tuple(builder, array.shape, 2)[1]
        index = context.cast(builder, args[1], row_type, types.intp)
        first = context.get_constant(types.intp, 0)
        last = builder.sub(columns, context.get_constant(types.intp, 1))
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0"
        )
        for column in (first, last):
            pointer = cgutils.get_item_pointer(context, builder, table_type, array, [index, column], wraparound=False)
            # read (0), keep in every cache level (3), data (1)
            builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.none(table, row), codegen
