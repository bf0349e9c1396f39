"""Array helpers shared by the kernels and the solvers."""

from .jit import kernel

__all__ = ["copy_into"]


@kernel
def copy_into(dst, src):
    """``dst[i] = src[i]`` for every ``i`` of ``dst``, converted to ``dst``'s dtype.

    An element loop rather than ``dst[:] = src``: Numba compiles an
    array-to-array slice assignment with its broadcast checks and their
    formatted error messages, which made the first newton-cholesky fit
    compile 1.2 s longer.  ``src`` may have any stride (a matrix column).
    """
    for i in range(dst.shape[0]):
        dst[i] = src[i]
