"""The one place that sets Numba's compilation flags.

Every compiled function in fastxent is made by one of the decorators below;
no module calls ``numba.njit`` or ``numba.vectorize`` directly.  Keeping the
flags here means a change of policy (caching, the fast-math subset, the
error model) is a one-line change that applies everywhere.

Policy
------
* Lazy compilation: no signatures, so importing fastxent compiles nothing;
  Numba specialises on first call (float32/float64, C/F/any layout,
  read-only or writable arrays alike).
* Caching: compiled code is kept on disk, by Numba's rules: in
  ``NUMBA_CACHE_DIR`` when set, else in the ``__pycache__`` folder next to
  the module, else (a read-only install) in the user-wide cache folder
  (``~/.cache/numba`` on Linux).  ``FASTXENT_CACHE=0`` turns caching off
  for every decorator below (``CACHE``); when no folder is writable at all
  (read-only install and no writable home), functions are compiled
  without a cache instead of failing at import, with one warning.
* Wrappers: no C-callable (``cfunc``) wrapper is compiled for any
  function (fastxent's functions are called from Python or from compiled
  code, never through a C function pointer), and a private function (a
  name starting with ``_``, not inlined) gets no Python entry either: it
  is a helper of compiled code, a :class:`CompiledOnlyDispatcher`, and a
  call from Python raises ``TypeError``.  Leaving the two wrappers out
  takes about 8 % off a first call's compilation (``LogisticRegression``
  fit and ``predict_proba``, 10,000 × 20, empty cache: binary 9.5 → 8.7 s,
  3 classes 15.7 → 14.4 s; ``jensenshannon`` rows 3.0 → 2.7 s).
* Linking: every function is compiled by
  :class:`~fastxent._infra.linking.SelfContainedCompiler`, so its calls run
  its own copies of the functions it calls and a result is the same in the
  process that compiled it and in those that load it from the cache.
* Constants: a function of the stable kernel API (:func:`stable_api`)
  types an integer or boolean constant passed by a compiled caller as
  ``int64`` or ``bool``, not as a literal of its value, so a user's
  ``@njit`` code shares the specializations (and cache entries) of the
  NumPy API and ``fastxent warmup`` instead of compiling the kernel and
  everything under it again for each constant it passes.
* ``error_model="numpy"``: division by zero gives inf/nan instead of a
  Python exception, which keeps divisions vectorizable.
* ``FASTMATH`` allows reassociation (so reductions vectorize) and FMA
  contraction, but never ``nnan``/``ninf``: NaN and infinity checks must
  survive compilation.  Scalar special functions (``_fastmath``) are
  compiled *without* fast-math so that their error-compensated operation
  order is kept even after they are inlined into a fast-math loop (LLVM
  fast-math flags are per instruction).

With the JIT disabled (``NUMBA_DISABLE_JIT=1``, for debugging) Numba's
decorators return the Python functions unchanged, which then run as plain
Python on NumPy scalars.  The pieces that have no Python form of their own
get one here, so the whole API still runs (slowly, with the same results):
:func:`intrinsic` takes a Python stand-in, :func:`specialized` and
:func:`kernel_by_type` pick their implementation from ``numba.typeof`` of
the arguments at run time, and
:func:`ufunc` builds a Python elementwise function instead of a NumPy ufunc;
kernels run with NumPy's floating-point warnings off, as compiled code
reports none.  ``JIT_DISABLED`` is the one place that reads the flag.
"""

import functools
import inspect
import os
import warnings

import numba
import numba.extending
import numpy as np
from numba.core import types
from numba.core.caching import FunctionCache
from numba.core.errors import LiteralTypingError
from numba.core.registry import CPUDispatcher
from numba.np.ufunc.decorators import Vectorize

from .disk_cache import guard
from .linking import SelfContainedCompiler

__all__ = [
    "CACHE",
    "FASTMATH",
    "JIT_DISABLED",
    "scalar",
    "contracted_scalar",
    "inline_scalar",
    "strict_inline",
    "kernel",
    "inlined_kernel",
    "inlined_twin",
    "parallel_kernel",
    "ufunc",
    "intrinsic",
    "specialized",
    "kernel_by_type",
    "start_thread_pool",
    "CompiledOnlyDispatcher",
    "stable_api",
    "StableApiDispatcher",
]

JIT_DISABLED = bool(numba.config.DISABLE_JIT)

FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

# FASTXENT_CACHE=0 (or false/no/off) compiles in every process without
# touching the disk: for read-only or shared file systems where stale or
# concurrently written cache files are unwanted.
CACHE = os.environ.get("FASTXENT_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")

_COMMON = dict(nogil=True, error_model="numpy", no_cfunc_wrapper=True)


def _njit(func, **flags):
    """``numba.njit(**flags)(func)`` with the cache policy of this module; a
    private function (name starting with ``_``) that is not inlined becomes a
    :class:`CompiledOnlyDispatcher`."""
    helper = func.__name__.startswith("_") and flags.get("inline") != "always" and not JIT_DISABLED
    if helper:
        flags = dict(flags, no_cpython_wrapper=True)

    def make(cache):
        # guard: cache writes of concurrent processes must not interleave (see disk_cache).
        dispatcher = numba.njit(cache=cache, pipeline_class=SelfContainedCompiler, **flags)(func)
        if helper:
            dispatcher.__class__ = CompiledOnlyDispatcher
            if type(dispatcher._cache) is FunctionCache:
                dispatcher._cache.__class__ = CompiledOnlyCache
        return guard(dispatcher)

    return _with_cache_policy(make)


class CompiledOnlyDispatcher(CPUDispatcher):
    """The dispatcher of a private compiled function: called from compiled code only.

    Its specializations are compiled without the wrapper that converts
    Python arguments (the module docstring gives the time saved), so they
    must not be entered from Python: they are kept out of the dispatcher's
    table of Python entry points, and a call from Python raises
    ``TypeError`` instead of compiling.
    """

    def add_overload(self, cres):
        self.overloads[tuple(cres.signature.args)] = cres

    def _compile_for_args(self, *args, **kws):
        raise TypeError(
            f"{self.py_func.__module__}.{self.py_func.__qualname__} is a helper of compiled code: "
            "call it from a numba.njit function, not from Python"
        )


class StableApiDispatcher(CPUDispatcher):
    """The dispatcher of a function of the stable kernel API (``fastxent.kernels``).

    Numba types a constant argument of a compiled caller as a literal of its
    value (``Literal[bool](True)``, ``Literal[int](500)``) and compiles the
    callee, and every function it passes the constant on to, once per
    value; a call from Python passes ``bool`` and ``int64``.  Here integer
    and boolean literals are typed as their plain types, so a kernel called
    from a user's ``@njit`` function with constants runs the specialization
    that the NumPy API and ``fastxent warmup`` compile (loaded from the
    cache when there is one), and ``max_iter=100`` and ``max_iter=200``
    share one.  String literals (a solver's name) are left as they are: the
    fits choose their solver by it when they are compiled.
    """

    def get_call_template(self, args, kws):
        args = tuple(_plain(a) for a in args)
        kws = {name: _plain(a) for name, a in kws.items()}
        return super().get_call_template(args, kws)


def _plain(numba_type):
    if isinstance(numba_type, (types.IntegerLiteral, types.BooleanLiteral)):
        return numba_type.literal_type
    return numba_type


def stable_api(compiled):
    """Make ``compiled`` (a compiled function of fastxent) a function of the
    stable kernel API, re-exported by ``fastxent.kernels``: a
    :class:`StableApiDispatcher`.  Functions inlined at Numba IR level
    (:func:`inline_scalar`) are typed inside their callers and need
    nothing; with the JIT disabled there is no dispatcher."""
    if isinstance(compiled, CPUDispatcher) and compiled.targetoptions.get("inline") != "always":
        if type(compiled) is not CPUDispatcher:
            raise TypeError(f"{compiled.py_func.__qualname__}: a {type(compiled).__name__} cannot be stable API")
        compiled.__class__ = StableApiDispatcher
    return compiled


class CompiledOnlyCache(FunctionCache):
    """The on-disk cache of a :class:`CompiledOnlyDispatcher`: its entries are
    keyed apart from those of the same function compiled with a Python entry
    (by another version of fastxent, whose cache files may sit in the same
    folder), so that neither loads the other's."""

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), "no Python entry")


def _with_cache_policy(make):
    """``make(CACHE)``; ``make(False)`` when Numba finds no writable cache folder
    for the module (it raises at decoration time), with one warning."""
    try:
        return make(CACHE)
    except RuntimeError as exc:
        if not CACHE or "cannot cache" not in str(exc):
            raise
        _warn_uncached(exc)
        return make(False)


_warned_uncached = []


def _warn_uncached(exc):
    if not _warned_uncached:
        _warned_uncached.append(True)
        warnings.warn(
            f"fastxent: no writable Numba cache folder ({exc}); compiled code is not kept between processes. "
            "Set NUMBA_CACHE_DIR to a writable folder.",
            RuntimeWarning,
            stacklevel=3,
        )


def scalar(func):
    """Compile a strict per-element function (no fast-math, always inlined by LLVM)."""
    # fastmath=False must be explicit: Numba lets a callee whose flag is
    # unset inherit the fast-math flags of the (first) caller that compiles it.
    return _njit(func, fastmath=False, **_COMMON)


def contracted_scalar(func):
    """Compile a per-element function like :func:`scalar`, with FMA contraction.

    Only ``contract``: a multiply followed by an add may become one fused
    multiply-add (one rounding instead of two, never less accurate for a
    polynomial), the order of every other operation is kept.  A polynomial
    logarithm runs about 30% faster this way (fewer instructions, shorter
    dependency chains).  Use it where the results need not match a strict
    function bit for bit.
    """
    return _njit(func, fastmath={"contract"}, **_COMMON)


def inline_scalar(func):
    """Compile a per-element formula that Numba inlines into each caller.

    LLVM does not inline a function that, once *its* callees (``_fastmath``)
    are inlined, exceeds its size threshold; a loop calling it then makes a
    scalar call per element and does not vectorize (10x slower, measured on
    softplus).  ``inline="always"`` inlines at Numba IR level instead, so the
    body takes the *caller's* flags: use it only for formulas that are
    correct under ``FASTMATH`` (no ``nnan``/``ninf``, so NaN tests and
    selects survive).  The strict special functions it calls stay separate
    ``scalar`` functions with their own (strict) flags.
    """
    return _njit(func, inline="always", **_COMMON)


def strict_inline(func):
    """Compile a small strict helper that Numba inlines into each caller.

    Inlining at Numba IR level saves the helper its own compilation (type
    inference, LLVM optimization and code emission, once per helper and
    again for its cache entry), but the body then takes the *caller's*
    flags: call it only from ``scalar`` functions or ``kernel(fastmath=False)``
    kernels when its operation order matters (compensated sums, the
    argument reduction of ``log``), or for integer arithmetic, which
    fast-math does not touch.
    """
    return _njit(func, inline="always", fastmath=False, **_COMMON)


def _quiet(func):
    """``func`` with NumPy's floating-point warnings off: what a kernel is like
    with the JIT disabled, since compiled code never reports them (0/0 of an
    all-zero slice, -inf - -inf of a row of -inf logits)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    return run


def kernel(func=None, *, fastmath=True):
    """Compile a serial array kernel."""

    def wrap(f):
        if JIT_DISABLED:
            return _quiet(f)
        return _njit(f, fastmath=set(FASTMATH) if fastmath else False, **_COMMON)

    return wrap if func is None else wrap(func)


def inlined_kernel(func):
    """Compile a serial kernel into each compiled caller, at Numba IR level.

    Each separately compiled function links in, optimizes and emits again the
    machine code of every function it calls, so a level of its own under a
    thin caller repeats the work of everything below it: a dispatch level (a
    binary ``LogisticRegression`` fit: about 7 % of the LLVM instructions of
    its first call), a solver under its entry point (first
    ``newton-cholesky`` fit: 1.1 s, first ``lbfgs`` fit: 0.5 s).  For
    functions with few callers: Numba types the body again at every call
    site, so inlining small helpers called from many places costs more than
    it saves (the solvers' vector helpers inlined: first binary fit 4.8 ->
    5.9 s).  The body takes its caller's fast-math flags: the callers must
    be compiled with :func:`kernel`'s (``FASTMATH``).  Called from Python it
    is compiled like a kernel.
    """
    if JIT_DISABLED:
        return _quiet(func)
    return _njit(func, inline="always", fastmath=set(FASTMATH), **_COMMON)


def inlined_twin(compiled):
    """The function of ``compiled`` (a :func:`kernel`), compiled into each
    caller instead (:func:`inlined_kernel`): for the callers where the level
    it saves pays, while the others keep calling ``compiled``."""
    if JIT_DISABLED:
        return compiled
    return inlined_kernel(compiled.py_func)


def parallel_kernel(func=None, *, fastmath=True):
    """Compile a kernel whose ``numba.prange`` loops run on Numba's thread pool."""

    def wrap(f):
        if JIT_DISABLED:
            return _quiet(f)
        return _njit(f, parallel=True, fastmath=set(FASTMATH) if fastmath else False, **_COMMON)

    return wrap if func is None else wrap(func)


# Numba's DUFunc objects own the machine code of the ufuncs handed out.
UFUNC_OWNERS = []


def ufunc(signatures):
    """Build a real NumPy ufunc with the given loops, e.g.
    ``["float32(float32)", "float64(float64)"]`` (each loop's arguments and
    result of one type).

    Returns the plain :class:`numpy.ufunc` (not Numba's ``DUFunc`` wrapper,
    which is kept alive here).  With the JIT disabled, a :class:`PythonUfunc`.
    """

    def wrap(func):
        if JIT_DISABLED:
            return PythonUfunc(func, signatures)
        compiled = _with_cache_policy(lambda cache: _locked_vectorize(func, signatures, cache))
        UFUNC_OWNERS.append(compiled)
        return compiled.ufunc

    return wrap


def _locked_vectorize(func, signatures, cache):
    """``numba.vectorize(signatures, cache=cache, nopython=True)(func)`` with the
    cache file guarded (see :mod:`fastxent._infra.disk_cache`) before the loops
    are compiled and written: the steps of ``numba.vectorize`` itself."""
    vectorized = Vectorize(func, cache=cache, nopython=True)
    guard(vectorized._dispatcher)
    for signature in signatures:
        vectorized.add(signature)
    vectorized.disable_compile()
    return vectorized.build_ufunc()


class PythonUfunc:
    """What :func:`ufunc` builds with the JIT disabled: ``func`` applied element
    by element in Python, with the compiled ufunc's choice of loop (the first
    of ``signatures``' types that the inputs cast to safely: float32 for
    float32, float16 and 8/16-bit integer inputs, float64 otherwise),
    broadcasting, ``dtype=`` and ``out=``.  No ``reduce``/``outer``.
    """

    def __init__(self, func, signatures):
        functools.update_wrapper(self, func)
        self.nin = func.__code__.co_argcount
        self.nout = 1
        self._loops = [np.dtype(sig.split("(")[0]) for sig in signatures]
        self.types = [dt.char * self.nin + "->" + dt.char for dt in self._loops]
        self._elementwise = np.frompyfunc(func, self.nin, 1)

    def __call__(self, *args, out=None, dtype=None):
        if len(args) != self.nin:
            raise TypeError(f"{self.__name__}() takes {self.nin} arguments ({len(args)} given)")
        loop = self._loop(args, dtype)
        values = self._elementwise(*(np.asarray(a, dtype=loop) for a in args))
        result = np.asarray(values, dtype=object).astype(loop)
        if isinstance(out, tuple):
            (out,) = out
        if out is not None:
            np.copyto(out, result, casting="same_kind")
            return out
        return result[()] if result.ndim == 0 else result

    def _loop(self, args, dtype):
        if dtype is not None:
            usable = [loop for loop in self._loops if loop == np.dtype(dtype)]
        else:
            common = np.result_type(*args)
            usable = [loop for loop in self._loops if np.can_cast(common, loop, "safe")]
        if not usable:
            raise TypeError(f"{self.__name__}: no loop for these input types")
        return usable[0]

    def __repr__(self):
        return f"<Python stand-in for ufunc {self.__name__!r} (JIT disabled)>"


def intrinsic(python_impl):
    """Decorate a ``numba.extending.intrinsic`` typer, with a Python stand-in.

    An intrinsic is LLVM code only; with the JIT disabled the decorated name
    is ``python_impl`` (same arguments, same result) instead.
    """

    def wrap(typer):
        return python_impl if JIT_DISABLED else numba.extending.intrinsic(typer)

    return wrap


def specialized(typer=None, *, prefer_literal=False):
    """A function whose implementation depends on its argument types.

    ``typer`` is a ``numba.extending.overload`` typer: given the arguments'
    Numba types it returns the implementation, which compiled callers
    inline.  With ``prefer_literal``, a constant argument of the caller
    (the literal ``1`` of a binary model) reaches the typer as its literal
    type, so the typer can choose by its value.  Called from Python (as
    every caller is with the JIT disabled), the function runs the
    implementation chosen for ``numba.typeof`` of the actual arguments.

    Numba compiles the implementation in full to type it before inlining it
    (code and machine code, then thrown away): an implementation that only
    forwards its arguments to one of several kernels is
    :func:`kernel_by_type`'s job, which compiles nothing of its own.
    """

    def wrap(typer):
        @functools.wraps(typer)
        def dispatch(*args):
            return typer(*(numba.typeof(a) for a in args))(*args)

        if not JIT_DISABLED:
            numba.extending.overload(dispatch, inline="always", prefer_literal=prefer_literal)(typer)
        return dispatch

    return wrap if typer is None else wrap(typer)


def kernel_by_type(chooser=None, *, prefer_literal=False):
    """A call of the kernel that ``chooser`` picks from the argument types,
    with nothing compiled of its own.

    ``chooser`` gets the arguments' Numba types (literal types first with
    ``prefer_literal``) and returns one of several compiled functions taking
    the same arguments; a compiled caller calls that function directly.
    Where a :func:`specialized` function that only forwards its arguments
    is compiled in full before its caller inlines it (Numba types an inlined
    overload by compiling it: its code and a copy of the chosen kernel's are
    optimized and emitted, then thrown away), this costs the caller one
    typed call (``jensenshannon(P, Q, axis=1)``'s first call, empty cache:
    1.46 -> 1.28 s).
    The chosen functions must be compiled ones, not inlined (an inlined
    function called through here would be compiled on its own).  It is
    called from compiled code only; with the JIT disabled it calls the
    function chosen for the types of the actual arguments (``numba.typeof``,
    with ``prefer_literal`` the literal type of a constant: plain Python has
    no compile-time constants, so the value stands for one).
    """

    def python_type(value):
        if prefer_literal:
            try:
                return types.literal(value)
            except LiteralTypingError:
                pass
        return numba.typeof(value)

    def wrap(chooser):
        @functools.wraps(chooser)
        def dispatch(*args):
            return chooser(*(python_type(a) for a in args))(*args)

        if JIT_DISABLED:
            return dispatch

        def typer(typingctx, *args):
            target = chooser(*args)
            if target is None:
                return None
            if target.targetoptions.get("inline") == "always":
                # An inlined function called through here would be compiled on its own.
                raise TypeError(
                    f"{chooser.__name__} chose {target.py_func.__name__}, which is inlined: choose a kernel"
                )
            target_type = types.Dispatcher(target)
            target_sig = typingctx.resolve_function_type(target_type, tuple(types.unliteral(a) for a in args), {})
            if target_sig is None:
                return None

            def codegen(context, builder, sig, values):
                call = context.get_function(target_type, target_sig)
                cast = [context.cast(builder, v, a, b) for v, a, b in zip(values, sig.args, target_sig.args)]
                return call(builder, cast)

            return target_sig.return_type(*args), codegen

        context_parameter = inspect.Parameter("typingctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        parameters = list(inspect.signature(chooser).parameters.values())
        typer.__signature__ = inspect.Signature([context_parameter, *parameters])
        typer.__name__ = typer.__qualname__ = chooser.__name__
        return numba.extending.intrinsic(prefer_literal=prefer_literal)(typer)

    return wrap if chooser is None else wrap(chooser)


def start_thread_pool():
    """Start Numba's thread pool now (idempotent, cheap: no parallel region runs).

    Numba starts its pool when a ``parallel=True`` function is compiled or
    loaded, but not when a *serial* function that calls parallel code (a
    solver looping over a parallel objective, a user's ``@njit(cache=True)``
    function calling a ``_parallel`` kernel) is loaded from the on-disk
    cache: that code then runs against a pool that was never started and
    crashes the process.  Modules holding such kernels call this at import.
    """
    numba.get_num_threads()
