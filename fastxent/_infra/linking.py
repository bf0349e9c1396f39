"""Each compiled function runs its own copies of the functions it calls.

Numba compiles every function into a library of its own and links into it
a copy of each compiled function it calls, which LLVM then optimizes again
as part of the caller.  Those copies are exported as weak symbols, so which
code a call runs depends on what the process loaded first: in the process
that compiles, the callee's own library (loaded before its caller), in a
process that loads the caller from the on-disk cache, the caller's copy.
The two are the same source optimized once and twice; where a reduction is
compiled with reassociation they may add in a different order, and results
then differed between the process that compiled and every later one
(float64 ``cross_entropy_value_and_grad`` gradients on 37 classes: 4e5 of
1.1e6 entries, up to 3e-8 relative; a ``newton-cholesky`` fit's
coefficients and probabilities by up to 4e-15 relative).

:class:`SelfContainedLibrary` makes the linked copies internal once the
caller's module is optimized, so every call binds to the caller's own copy,
the code written to the cache: a function gives the same bits in every
process, whichever was compiled or loaded first.  The optimization itself
is Numba's, unchanged (internal functions would be inlined more eagerly,
which costs a first call 5-10 % more compilation); the module handed to
further callers for linking keeps Numba's weak copies, so a caller two
levels up links one copy of each function, as before.

:class:`SelfContainedCompiler` is Numba's compiler pipeline with such a
library; :mod:`fastxent._infra.jit` compiles every function with it.
"""

import llvmlite.binding as ll
from numba.core.codegen import JITCodeLibrary
from numba.core.compiler import Compiler

__all__ = ["SelfContainedLibrary", "SelfContainedCompiler"]


class SelfContainedLibrary(JITCodeLibrary):
    """A JIT code library whose calls into linked libraries run its own copies."""

    def finalize(self):
        self._own_functions = {fn.name for fn in self._final_module.functions if not fn.is_declaration}
        self._internalized = []
        super().finalize()

    def _optimize_final_module(self):
        super()._optimize_final_module()
        for fn in self._final_module.functions:
            linked = fn.name not in self._own_functions
            if linked and not fn.is_declaration and fn.linkage == ll.Linkage.linkonce_odr:
                fn.linkage = "internal"
                self._internalized.append(fn.name)

    def _get_module_for_linking(self):
        # Numba's module for linking, with the linked copies weak again (as
        # Numba has them), so that a caller linking several libraries keeps
        # one copy of each function.
        if self._shared_module is None:
            module = super()._get_module_for_linking()
            if self._internalized:
                if module is self._final_module:
                    module = module.clone()
                for name in self._internalized:
                    module.get_function(name).linkage = "linkonce_odr"
                self._shared_module = module
        return self._shared_module


class SelfContainedCompiler(Compiler):
    """Numba's compiler, building a :class:`SelfContainedLibrary`."""

    def compile_extra(self, func):
        if self.state.library is None:
            library = self.state.targetctx.codegen().create_library(func.__qualname__)
            if type(library) is JITCodeLibrary:  # another codegen's library is left as Numba makes it
                library.__class__ = SelfContainedLibrary
            library.enable_object_caching()  # what Numba's lowering does with the library it makes
            self.state.library = library
        return super().compile_extra(func)
