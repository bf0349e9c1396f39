"""Chunked readers for arrays saved on disk (used by ``fastxent score``).

Every reader yields consecutive row blocks of a bounded size, so a file of
any size is scored in bounded memory:

* ``.npy``: memory-mapped.  After a block has been used its pages are
  released with ``madvise(MADV_DONTNEED)``: the page cache keeps the data but
  the process's resident set does not grow with the file (file-backed pages
  of a plain ``np.memmap`` count towards RSS until the kernel reclaims them).
* ``.npz``: the member is read as a stream (stored or deflated alike), one
  block of bytes at a time.
* ``.csv``: lines are parsed in batches with ``np.loadtxt``.
* ``.parquet``: record batches through pyarrow (optional dependency).

``path.npz:KEY`` picks a member of an ``.npz``; ``path.csv:COLUMN`` and
``path.parquet:COLUMN[,COLUMN...]`` pick columns by name (or 0-based index
for headerless CSV).  Problems are reported as :class:`InputError`, whose
message is one line that names the file.
"""

import itertools
import mmap
import os
import zipfile
import zlib

import numpy as np

__all__ = ["InputError", "open_array", "ArraySource", "DEFAULT_BLOCK_BYTES"]

DEFAULT_BLOCK_BYTES = 8 << 20
RELEASE_MARGIN = 1 << 20

SUFFIXES = (".npy", ".npz", ".csv", ".parquet")


class InputError(Exception):
    """A file that cannot be scored; the message is one line naming the file."""


def _split_selector(spec):
    """``'a.npz:key'`` -> ``('a.npz', 'key')``; a plain path -> ``(path, None)``."""
    for suffix in SUFFIXES:
        marker = suffix + ":"
        index = spec.lower().rfind(marker)
        if index >= 0:
            cut = index + len(suffix)
            return spec[:cut], spec[cut + 1 :]
    return spec, None


def open_array(spec):
    """Open ``spec`` (a path, optionally ``:selector``) as an :class:`ArraySource`."""
    path, selector = _split_selector(spec)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"{path}: unknown file type {suffix or '(none)'!r}; "
            f"expected one of {', '.join(SUFFIXES)}"
        )
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory")
    try:
        if suffix == ".npy":
            return _NpySource(path, selector)
        if suffix == ".npz":
            return _NpzSource(path, selector)
        if suffix == ".csv":
            return _CsvSource(path, selector)
        return _ParquetSource(path, selector)
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: cannot read: {_one_line(exc)}") from None


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class ArraySource:
    """A 1-D or 2-D array on disk, read in row blocks.

    Attributes
    ----------
    path : str
    shape : tuple or None
        ``None`` for the number of rows when it is only known after reading
        (CSV); the number of columns is always known.
    dtype : numpy.dtype
    """

    path = ""
    dtype = np.dtype(np.float64)
    typeless = False  # True for text formats, whose numbers have no integer type

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def row_bytes(self):
        n_cols = self.shape[1] if self.ndim == 2 else 1
        return max(1, n_cols * self.dtype.itemsize)

    def blocks(self, rows):
        """Yield consecutive blocks of ``rows`` rows (the last may be shorter)."""
        raise NotImplementedError


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
    def __init__(self, path, selector):
        if selector:
            raise InputError(f"{path}: a .npy file holds one array; remove ':{selector}'")
        self.path = path
        with open(path, "rb") as f:
            shape, fortran_order, dtype = _read_npy_header(f)
            self.offset = f.tell()
        _check_ndim(path, shape)
        _check_dtype(path, dtype)
        self.shape, self.dtype, self.fortran_order = tuple(shape), dtype, fortran_order
        expected = self.offset + int(np.prod(shape)) * dtype.itemsize
        size = os.path.getsize(path)
        if size < expected:
            raise InputError(
                f"{path}: truncated file ({size} bytes, the header promises {expected})"
            )

    def blocks(self, rows):
        with open(self.path, "rb") as f:
            length = os.path.getsize(self.path)
            mapping = mmap.mmap(f.fileno(), length, access=mmap.ACCESS_READ)
        # The mapping is never closed explicitly: NumPy views do not pin it
        # (closing would unmap memory that blocks still point to); it is
        # unmapped when the last view is garbage-collected.
        order = "F" if self.fortran_order else "C"
        data = np.ndarray(self.shape, dtype=self.dtype, buffer=mapping, offset=self.offset,
                          order=order)
        n = self.shape[0]
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            yield data[start:stop]
            if self.fortran_order and self.ndim == 2:
                _release(mapping, 0, length)  # the rows are spread over the whole file
            else:
                # The kernel maps pages around a fault ("fault-around", 64 KiB
                # by default), which re-maps the tail of the previous block:
                # release a margin before the block too.
                _release(mapping, self.offset + start * self.row_bytes - RELEASE_MARGIN,
                         self.offset + stop * self.row_bytes)


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
    def __init__(self, path, selector):
        self.path = path
        with zipfile.ZipFile(path) as archive:
            names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        if not names:
            raise InputError(f"{path}: the archive holds no array")
        if selector is None:
            if len(names) > 1:
                raise InputError(
                    f"{path}: holds several arrays ({', '.join(names)}); "
                    f"choose one as {path}:NAME"
                )
            selector = names[0]
        elif selector not in names:
            raise InputError(
                f"{path}: no array named {selector!r} (it holds {', '.join(names)})"
            )
        self.member = selector + ".npy"
        with zipfile.ZipFile(path) as archive, archive.open(self.member) as f:
            shape, fortran_order, dtype = _read_npy_header(f)
        _check_ndim(path, shape)
        _check_dtype(path, dtype)
        self.shape, self.dtype, self.fortran_order = tuple(shape), dtype, fortran_order

    def blocks(self, rows):
        if self.fortran_order and self.ndim == 2:
            # Column-major rows are not contiguous in the stream; such arrays
            # are small in practice (np.savez writes C order unless asked).
            with np.load(self.path) as archive:
                data = archive[self.member[:-4]]
            for start in range(0, self.shape[0], rows):
                yield data[start : start + rows]
            return
        try:
            yield from self._stream(rows)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"{self.path}: damaged archive: {_one_line(exc)}") from None

    def _stream(self, rows):
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as f:
            _read_npy_header(f)
            n = self.shape[0]
            for start in range(0, n, rows):
                count = min(rows, n - start)
                raw = f.read(count * self.row_bytes)
                if len(raw) != count * self.row_bytes:
                    raise InputError(f"{self.path}: member {self.member} is truncated")
                yield np.frombuffer(raw, dtype=self.dtype).reshape((count,) + self.shape[1:])


# --------------------------------------------------------------------- .csv


def _parses_as_float(field):
    try:
        float(field)
        return True
    except ValueError:
        return False


class _CsvSource(ArraySource):
    """Comma-separated numbers, one sample per line, with an optional header.

    The first line is a header when one of its fields is not a number, except
    in a one-column file of text (string labels), whose first line is a
    header only when ``path.csv:NAME`` names it.  Text is allowed only in a
    one-column file, never in predictions.  Numbers are read as float64
    (``typeless``: integral labels are shown as integers).
    """

    def __init__(self, path, selector):
        self.path = path
        with open(path, newline="") as f:
            first = f.readline()
            while first and not first.strip():
                first = f.readline()
            second = f.readline()
        if not first:
            raise InputError(f"{path}: the file is empty")
        fields = [x.strip() for x in first.rstrip("\r\n").split(",")]
        probe = [x.strip() for x in second.rstrip("\r\n").split(",")] if second else []
        named = selector is not None and any(name in fields for name in selector.split(","))
        self.header = None
        if not all(_parses_as_float(x) for x in fields) and (
            # A one-column file of text is data (string labels), unless the
            # next line is a number or the selector names the column.
            len(fields) > 1 or named or (probe and all(_parses_as_float(x) for x in probe))
        ):
            self.header = fields
        n_cols = len(fields)
        self.columns = None
        if selector is not None:
            self.columns = [self._column_index(name) for name in selector.split(",")]
            n_cols = len(self.columns)
        self.text = False
        if n_cols == 1:
            data_fields = fields if self.header is None else probe
            column = 0 if self.columns is None else self.columns[0]
            if data_fields and column < len(data_fields):
                self.text = not _parses_as_float(data_fields[column])
        self.dtype = np.dtype(str) if self.text else np.dtype(np.float64)
        self.shape = (None,) if n_cols == 1 else (None, n_cols)
        self.n_fields = len(fields)
        self.typeless = True

    def _column_index(self, name):
        if self.header is not None and name in self.header:
            return self.header.index(name)
        if name.isdigit():
            return int(name)
        raise InputError(f"{self.path}: no column named {name!r}")

    @property
    def row_bytes(self):
        return 8 * (self.shape[1] if self.ndim == 2 else 1) + 16

    def blocks(self, rows):
        usecols = self.columns
        dtype = str if self.text else np.float64
        with open(self.path, newline="") as f:
            numbered = ((no, line) for no, line in enumerate(f, 1) if line.strip())
            if self.header is not None:
                next(numbered, None)
            while True:
                batch = list(itertools.islice(numbered, rows))
                if not batch:
                    return
                first_line, last_line = batch[0][0], batch[-1][0]
                lines = [line for _, line in batch]
                try:
                    block = np.loadtxt(
                        lines, delimiter=",", dtype=dtype, usecols=usecols, ndmin=1,
                        comments=None,
                    )
                except ValueError as exc:
                    raise InputError(
                        f"{self.path}: lines {first_line}-{last_line}: {_one_line(exc)}"
                    ) from None
                if self.text:
                    block = np.char.strip(block)
                if self.ndim == 2 and (block.ndim != 2 or block.shape[1] != self.shape[1]):
                    block = block.reshape(len(lines), -1)
                if self.ndim == 1 and block.ndim != 1:
                    raise InputError(
                        f"{self.path}: expected one column, found {block.shape[1]} "
                        f"near line {first_line}"
                    )
                yield block


# ----------------------------------------------------------------- .parquet


class _ParquetSource(ArraySource):
    def __init__(self, path, selector):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError(
                f"{path}: reading .parquet needs pyarrow (pip install 'fastxent[parquet]')"
            ) from None
        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own exception types
            raise InputError(f"{path}: cannot read: {_one_line(exc)}") from None
        schema = self._file.schema_arrow
        names = list(schema.names)
        if selector is not None:
            wanted = selector.split(",")
            missing = [w for w in wanted if w not in names]
            if missing:
                raise InputError(f"{path}: no column named {missing[0]!r}")
            names = wanted
        self.names = names
        types = {schema.field(n).type for n in names}
        dtypes = set()
        for t in types:
            try:
                dtypes.add(np.dtype(t.to_pandas_dtype()))
            except (NotImplementedError, TypeError):
                raise InputError(f"{path}: column type {t} is not supported") from None
        numeric = all(d.kind in "biuf" for d in dtypes)
        if not numeric and len(names) > 1:
            raise InputError(f"{path}: non-numeric columns in a multi-column file")
        self.dtype = np.result_type(*dtypes) if numeric else np.dtype(object)
        n = self._file.metadata.num_rows
        self.shape = (n,) if len(names) == 1 else (n, len(names))

    def blocks(self, rows):
        pending = []
        count = 0
        for batch in self._file.iter_batches(batch_size=rows, columns=self.names):
            columns = [batch.column(name) for name in self.names]
            if any(c.null_count for c in columns):
                raise InputError(f"{self.path}: missing values (nulls)")
            arrays = [c.to_numpy(zero_copy_only=False) for c in columns]
            block = arrays[0] if len(arrays) == 1 else np.column_stack(arrays)
            pending.append(block)
            count += len(block)
            while count >= rows:
                merged = np.concatenate(pending) if len(pending) > 1 else pending[0]
                yield merged[:rows]
                rest = merged[rows:]
                pending, count = ([rest], len(rest)) if len(rest) else ([], 0)
        if count:
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]
