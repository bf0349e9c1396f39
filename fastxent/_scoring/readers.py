"""Chunked readers for arrays saved on disk (used by ``fastxent score``).

Every reader yields consecutive row blocks of a bounded size, so a file of
any size is scored in bounded memory:

* ``.npy``: memory-mapped.  After a block has been used its pages are
  released with ``madvise(MADV_DONTNEED)``: the page cache keeps the data but
  the process's resident set does not grow with the file (file-backed pages
  of a plain ``np.memmap`` count towards RSS until the kernel reclaims them).
* ``.npz``: the member is read as a stream (stored or deflated alike), one
  block of bytes at a time.
* ``.csv``: RFC 4180 records, see :mod:`fastxent._scoring.csv_reader`.
* ``.parquet``: record batches through pyarrow (optional dependency).

Blocks are always in native byte order.  ``path.npz:KEY`` picks a member of
an ``.npz``; ``path.csv:COLUMN`` and ``path.parquet:COLUMN[,COLUMN...]`` pick
columns by name (or 0-based index for headerless CSV).  A path that is not a
regular file (a named pipe, ``/dev/fd/N``) is copied once to a temporary
file, since scoring reads the labels twice and ``.npy``/``.npz``/``.parquet``
need to seek.  Problems are reported as :class:`InputError`, whose message is
one line that names the file.
"""

import math
import mmap
import os
import shutil
import stat
import tempfile
import weakref
import zipfile
import zlib

import numpy as np

from .csv_reader import CsvSource
from .sources import ArraySource, InputError, block_rows, one_line

__all__ = ["DEFAULT_BLOCK_BYTES", "InputError", "open_array"]

DEFAULT_BLOCK_BYTES = 8 << 20
RELEASE_MARGIN = 1 << 20

SUFFIXES = (".npy", ".npz", ".csv", ".parquet")


def _suffix(path):
    return os.path.splitext(path)[1].lower()


def _split_selector(spec):
    """``'a.npz:key'`` -> ``('a.npz', 'key')``; a plain path -> ``(path, None)``.

    An existing file is taken whole (its name may hold ``.csv:``); otherwise
    the cut is at the last ``:`` preceded by a known suffix.  The position is
    found in ``spec`` itself: ``str.lower`` may change the length of a name.
    """
    if os.path.exists(spec):
        return spec, None
    cut = spec.rfind(":")
    while cut > 0:
        if _suffix(spec[:cut]) in SUFFIXES:
            return spec[:cut], spec[cut + 1 :]
        cut = spec.rfind(":", 0, cut)
    return spec, None


def open_array(spec):
    """Open ``spec`` (a path, optionally ``:selector``) as an :class:`ArraySource`."""
    path, selector = _split_selector(spec)
    suffix = _suffix(path)
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; expected one of {', '.join(SUFFIXES)}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {one_line(exc)}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory")
    spool = None
    try:
        file = path
        if not stat.S_ISREG(mode):
            spool = _spool(path, suffix)
            file = spool.name
        if suffix == ".npy":
            source = _NpySource(path, file, selector)
        elif suffix == ".npz":
            source = _NpzSource(path, file, selector)
        elif suffix == ".csv":
            source = CsvSource(path, file, selector)
        else:
            source = _ParquetSource(path, file, selector)
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: cannot read: {one_line(exc)}") from None
    source.spool = spool  # the temporary copy lives as long as the source
    return source


# Copies still in use, by path: "d.csv:label d.csv:p" on a pipe reads it once.
_SPOOLS = weakref.WeakValueDictionary()


def _spool(path, suffix):
    key = os.path.realpath(path)
    spool = _SPOOLS.get(key)
    if spool is None:
        spool = _SPOOLS[key] = _Spool(path, suffix)
    return spool


class _Spool:
    """A temporary regular-file copy of a pipe, removed when no longer referenced."""

    def __init__(self, path, suffix):
        fd, self.name = tempfile.mkstemp(prefix="fastxent-", suffix=suffix)
        self._finalizer = weakref.finalize(self, _remove, self.name)
        with open(fd, "wb") as out, open(path, "rb") as pipe:
            shutil.copyfileobj(pipe, out, 1 << 20)


def _remove(name):
    try:
        os.unlink(name)
    except OSError:  # already gone, or still open elsewhere (Windows)
        pass


def _native(block):
    """``block`` in native byte order (the kernels read native numbers only)."""
    if block.dtype.isnative:
        return block
    return block.astype(block.dtype.newbyteorder("="))


def _check_ndim(path, shape):
    if len(shape) not in (1, 2):
        raise InputError(f"{path}: expected a 1-D or 2-D array, got shape {tuple(shape)}")


def _check_dtype(path, dtype):
    if dtype.kind not in "biufUS":
        raise InputError(f"{path}: unsupported dtype {dtype}")


# --------------------------------------------------------------------- .npy


def _read_npy_header(f):
    """``(shape, fortran_order, dtype)`` from an open ``.npy`` stream, which is
    left at the first data byte."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    return np.lib.format.read_array_header_2_0(f)


class _NpySource(ArraySource):
    def __init__(self, path, file, selector):
        if selector:
            raise InputError(f"{path}: a .npy file holds one array; remove ':{selector}'")
        self.path, self.file = path, file
        with open(file, "rb") as f:
            shape, fortran_order, dtype = _read_npy_header(f)
            self.offset = f.tell()
        _check_ndim(path, shape)
        _check_dtype(path, dtype)
        self.shape, self.file_dtype, self.fortran_order = tuple(shape), dtype, fortran_order
        self.dtype = dtype.newbyteorder("=")
        expected = self.offset + math.prod(shape) * dtype.itemsize  # no int64 overflow
        size = os.path.getsize(file)
        if size < expected:
            raise InputError(f"{path}: truncated file ({size} bytes, the header promises {expected})")

    def blocks(self, rows):
        rows = block_rows(rows)
        n = self.shape[0]
        if n == 0:
            return
        with open(self.file, "rb") as f:
            length = os.path.getsize(self.file)
            mapping = mmap.mmap(f.fileno(), length, access=mmap.ACCESS_READ)
        # The mapping is never closed explicitly: NumPy views do not pin it
        # (closing would unmap memory that blocks still point to); it is
        # unmapped when the last view is garbage-collected.
        order = "F" if self.fortran_order else "C"
        data = np.ndarray(self.shape, dtype=self.file_dtype, buffer=mapping, offset=self.offset, order=order)
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            yield _native(data[start:stop])
            if self.fortran_order and self.ndim == 2:
                _release(mapping, 0, length)  # the rows are spread over the whole file
            else:
                # The kernel maps pages around a fault ("fault-around", 64 KiB
                # by default), which re-maps the tail of the previous block:
                # release a margin before the block too.
                _release(
                    mapping, self.offset + start * self.row_bytes - RELEASE_MARGIN, self.offset + stop * self.row_bytes
                )


def _release(mapping, start_byte, stop_byte):
    """Drop the pages of ``[start_byte, stop_byte)`` from this process's resident
    set; the data stays in the page cache and is re-read on the next access."""
    if not hasattr(mmap, "MADV_DONTNEED"):  # not Linux/macOS: the OS reclaims later
        return
    page = mmap.PAGESIZE
    start = max(0, (start_byte // page) * page)
    stop = min(-(-stop_byte // page) * page, len(mapping))
    if stop > start:
        mapping.madvise(mmap.MADV_DONTNEED, start, stop - start)


# --------------------------------------------------------------------- .npz


class _NpzSource(ArraySource):
    def __init__(self, path, file, selector):
        self.path, self.file = path, file
        with zipfile.ZipFile(file) as archive:
            names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        if not names:
            raise InputError(f"{path}: the archive holds no array")
        if selector is None:
            if len(names) > 1:
                raise InputError(f"{path}: holds several arrays ({', '.join(names)}); choose one as {path}:NAME")
            selector = names[0]
        elif selector not in names:
            raise InputError(f"{path}: no array named {selector!r} (it holds {', '.join(names)})")
        self.member = selector + ".npy"
        with zipfile.ZipFile(file) as archive, archive.open(self.member) as f:
            shape, fortran_order, dtype = _read_npy_header(f)
        _check_ndim(path, shape)
        _check_dtype(path, dtype)
        self.shape, self.file_dtype, self.fortran_order = tuple(shape), dtype, fortran_order
        self.dtype = dtype.newbyteorder("=")

    def blocks(self, rows):
        rows = block_rows(rows)
        if self.fortran_order and self.ndim == 2:
            # Column-major rows are not contiguous in the stream; such arrays
            # are small in practice (np.savez writes C order unless asked).
            with np.load(self.file) as archive:
                data = archive[self.member[:-4]]
            for start in range(0, self.shape[0], rows):
                yield _native(data[start : start + rows])
            return
        try:
            yield from self._stream(rows)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"{self.path}: damaged archive: {one_line(exc)}") from None

    def _stream(self, rows):
        row_bytes = max(1, self.file_dtype.itemsize * (self.shape[1] if self.ndim == 2 else 1))
        with zipfile.ZipFile(self.file) as archive, archive.open(self.member) as f:
            _read_npy_header(f)
            n = self.shape[0]
            for start in range(0, n, rows):
                count = min(rows, n - start)
                raw = f.read(count * row_bytes)
                if len(raw) != count * row_bytes:
                    raise InputError(f"{self.path}: member {self.member} is truncated")
                block = np.frombuffer(raw, dtype=self.file_dtype)
                yield _native(block.reshape((count,) + self.shape[1:]))


# ----------------------------------------------------------------- .parquet


def _numpy_dtype(arrow_type):
    """The NumPy dtype of a supported Arrow column type, else None."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):  # pandas' categorical columns
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return np.dtype(object)
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t):
        return np.dtype(t.to_pandas_dtype())
    return None


def _decoded(column):
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return column.dictionary_decode()
    return column


class _ParquetSource(ArraySource):
    def __init__(self, path, file, selector):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError(f"{path}: reading .parquet needs pyarrow (pip install 'fastxent[parquet]')") from None
        self.path, self.file = path, file
        try:
            self._file = pq.ParquetFile(file)
        except Exception as exc:  # pyarrow raises its own exception types
            raise InputError(f"{path}: cannot read: {one_line(exc)}") from None
        schema = self._file.schema_arrow
        names = list(schema.names)
        if selector is not None:
            wanted = selector.split(",")
            missing = [w for w in wanted if w not in names]
            if missing:
                raise InputError(f"{path}: no column named {missing[0]!r}")
            names = wanted
        self.names = names
        dtypes = set()
        for name in names:
            dtype = _numpy_dtype(schema.field(name).type)
            if dtype is None:
                raise InputError(
                    f"{path}: column {name!r} has type {schema.field(name).type}, expected numbers, booleans or strings"
                )
            dtypes.add(dtype)
        numeric = all(d.kind in "biuf" for d in dtypes)
        if not numeric and len(names) > 1:
            raise InputError(f"{path}: non-numeric columns in a multi-column file")
        if numeric and len(dtypes) > 1 and {d.kind for d in dtypes} == {"i", "u"}:
            # int64 with uint64 promotes to float64, which merges large integers.
            raise InputError(f"{path}: columns mix signed and unsigned integers")
        self.dtype = np.result_type(*dtypes) if numeric else np.dtype(object)
        n = self._file.metadata.num_rows
        self.shape = (n,) if len(names) == 1 else (n, len(names))

    def blocks(self, rows):
        rows = block_rows(rows)
        pending = []
        count = 0
        for batch in self._file.iter_batches(batch_size=min(rows, 1 << 30), columns=self.names):
            columns = [_decoded(batch.column(name)) for name in self.names]
            if any(c.null_count for c in columns):
                raise InputError(f"{self.path}: missing values (nulls)")
            arrays = [c.to_numpy(zero_copy_only=False) for c in columns]
            block = arrays[0] if len(arrays) == 1 else np.column_stack(arrays)
            pending.append(_native(np.asarray(block, dtype=self.dtype)))
            count += len(block)
            while count >= rows:
                merged = np.concatenate(pending) if len(pending) > 1 else pending[0]
                yield merged[:rows]
                rest = merged[rows:]
                pending, count = ([rest], len(rest)) if len(rest) else ([], 0)
        if count:
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]
