"""CSV input of ``fastxent score``: RFC 4180 records read in row blocks.

Files are UTF-8, with or without the byte-order mark that spreadsheet
programs write ("CSV UTF-8").  Fields may be quoted (``"cat, big"``, with
``""`` for a quote inside a quoted field, which may also span lines), lines
may end in LF, CRLF or CR, and blank lines are skipped.  As long as no line
holds a quote character, lines are split on commas and their numbers parsed
by ``np.loadtxt`` in one call per block; from the first line with a quote on,
records come from the standard library's :mod:`csv` reader, which is slower.

The first record is a header when one of its fields is text where the second
record has a number, or when ``path.csv:NAME`` names one of its fields.

Labels are read as text and typed by their values (:func:`text_classes`):
integers stay exact whatever their size (``9007199254740993`` and
``9007199254740992`` are two classes), a column of numbers that are not all
integers is float64 (refused where two different numbers would round to the
same float64), anything else is text compared as written.
"""

import csv
import itertools
import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np

from .sources import ArraySource, InputError, block_rows, one_line

__all__ = ["CsvSource", "exact_integer", "is_number", "text_classes"]

ENCODING = "utf-8-sig"  # also reads files without the byte-order mark

_INT = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*")
_NUMBER = re.compile(
    r"[ \t]*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf(?:inity)?)[ \t]*",
    re.IGNORECASE,
)
_INDEX = re.compile(r"[0-9]+")
# Integers this long take seconds to convert (and Python refuses > 4300 digits).
MAX_DIGITS = 4000


def is_number(text):
    """Whether ``text`` is a decimal number (optionally nan or inf) with optional blanks."""
    return _NUMBER.fullmatch(text) is not None


def exact_integer(text):
    """The integer written in ``text`` (``"3"``, ``"-2"``, ``"1e3"``, ``"4.0"``), or
    None when it is not a number; raises ValueError for a non-integral number."""
    if not is_number(text):
        return None
    if _INT.fullmatch(text):
        digits = text.strip().lstrip("+-")
        if len(digits) > MAX_DIGITS:
            raise ValueError(f"{text.strip()[:20]}... has more than {MAX_DIGITS} digits")
        return int(text)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover (the pattern admits only decimals)
        return None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"{text.strip()} is not an integer")
    if value.adjusted() > MAX_DIGITS:
        raise ValueError(f"{text.strip()} has more than {MAX_DIGITS} digits")
    return int(value)


def _fields(record):
    """The fields of a record: a raw line (no quotes in it) or a parsed list."""
    if type(record) is str:
        return record.rstrip("\r\n").split(",")
    return record


def _is_blank(fields):
    # An empty line gives [], a line of blanks one blank field; a quoted
    # empty field ("") is a value, not a blank line.
    return not fields or (len(fields) == 1 and fields[0] != "" and not fields[0].strip())


def _records(f, path):
    """``(line number, record)`` of the non-blank records of the text stream ``f``.

    A record is its raw line while no line has held a quote, then the list of
    its fields from :func:`csv.reader` (started at a record boundary: every
    earlier line was a whole record).
    """
    lines = enumerate(f, 1)
    for no, line in lines:
        if '"' in line:
            break
        if line.strip():
            yield no, line
    else:
        return
    reader = csv.reader(itertools.chain([line], (text for _, text in lines)), strict=True)
    base = start = no
    try:
        for fields in reader:
            if not _is_blank(fields):
                yield start, fields
            start = base + reader.line_num
    except csv.Error as exc:
        raise InputError(f"{path}: line {base + reader.line_num - 1}: {one_line(exc)}") from None


class CsvSource(ArraySource):
    """Comma-separated values, one sample per record, with an optional header."""

    typeless = True

    def __init__(self, path, file, selector):
        self.path, self.file = path, file
        stream = self._stream()
        head = [_fields(record) for _, record in itertools.islice(stream, 2)]
        stream.close()
        if not head:
            raise InputError(f"{path}: the file is empty")
        first = head[0]
        probe = head[1] if len(head) > 1 else None
        names = [x.strip() for x in first]
        wanted = None if selector is None else [w.strip() for w in selector.split(",")]
        named = wanted is not None and any(w in names for w in wanted if not _INDEX.fullmatch(w))
        self.header = None
        if named or (probe is not None and any(not is_number(a) and is_number(b) for a, b in zip(first, probe))):
            self.header = names
        self.n_fields = len(first)
        self.columns = None if wanted is None else [self._column_index(w) for w in wanted]
        n_cols = self.n_fields if self.columns is None else len(self.columns)
        self.shape = (None,) if n_cols == 1 else (None, n_cols)
        data = probe if self.header is not None else first
        self.text = False
        if n_cols == 1 and data is not None:
            column = 0 if self.columns is None else self.columns[0]
            self.text = column < len(data) and not is_number(data[column])
        self.dtype = np.dtype(object) if self.text else np.dtype(np.float64)

    def _column_index(self, name):
        if self.header is not None and name in self.header:
            return self.header.index(name)
        if _INDEX.fullmatch(name):
            index = int(name)
            if index >= self.n_fields:
                raise InputError(
                    f"{self.path}: no column {index} (the file has {self.n_fields} columns, numbered from 0)"
                )
            return index
        raise InputError(f"{self.path}: no column named {name!r}")

    @property
    def row_bytes(self):
        return 8 * (self.shape[1] if self.ndim == 2 else 1) + 16

    def _stream(self):
        try:
            with open(self.file, newline="", encoding=ENCODING) as f:
                yield from _records(f, self.path)
        except UnicodeDecodeError:
            raise InputError(f"{self.path}: not UTF-8 text (save it as CSV UTF-8)") from None

    def _batches(self, rows):
        records = self._stream()
        if self.header is not None:
            next(records, None)
        rows = block_rows(rows)
        while True:
            batch = list(itertools.islice(records, rows))
            if not batch:
                return
            yield batch

    def blocks(self, rows):
        """Blocks of float64 numbers (object arrays of str for a column of text)."""
        for batch in self._batches(rows):
            if self.text:
                yield np.array(self._column_text(batch), dtype=object)
            else:
                yield self._numbers(batch)

    def label_blocks(self, rows):
        """Blocks of the labels column as lists of the strings written in the file."""
        for batch in self._batches(rows):
            yield self._column_text(batch)

    def _width_error(self, no, found):
        return InputError(f"{self.path}: line {no}: expected {self.n_fields} fields, found {found}")

    def _column_text(self, batch):
        column = 0 if self.columns is None else self.columns[0]
        values = []
        for no, record in batch:
            fields = _fields(record)
            if len(fields) != self.n_fields:
                raise self._width_error(no, len(fields))
            values.append(fields[column])
        return values

    def _numbers(self, batch):
        width = self.n_fields
        if type(batch[-1][1]) is str:  # raw lines only: hand them to loadtxt as they are
            lines = [record for _, record in batch]
            if self.columns is not None:  # loadtxt ignores extra fields outside usecols
                for no, line in batch:
                    if line.count(",") != width - 1:
                        raise self._width_error(no, line.count(",") + 1)
            usecols = self.columns
        else:
            lines = []
            for no, record in batch:
                fields = _fields(record)
                if len(fields) != width:
                    raise self._width_error(no, len(fields))
                if self.columns is not None:
                    fields = [fields[c] for c in self.columns]
                lines.append(",".join(fields))
            usecols = None
        n_cols = self.shape[1] if self.ndim == 2 else 1
        try:
            block = np.loadtxt(lines, delimiter=",", dtype=np.float64, usecols=usecols, ndmin=2, comments=None)
        except ValueError:
            block = None
        # A quoted field holding a comma or a line end splits into more
        # values: the shape check catches it.
        if block is None or block.shape != (len(batch), n_cols):
            raise self._number_error(batch)
        return block[:, 0] if self.ndim == 1 else block

    def _number_error(self, batch):
        for no, record in batch:
            fields = _fields(record)
            if len(fields) != self.n_fields:
                return self._width_error(no, len(fields))
            for c in range(self.n_fields) if self.columns is None else self.columns:
                if not is_number(fields[c]):
                    return InputError(f"{self.path}: line {no}: {fields[c]!r} is not a number")
        return InputError(f"{self.path}: lines {batch[0][0]}-{batch[-1][0]}: not all numbers")


# ------------------------------------------------------------------ labels


def text_classes(source, rows, given, show, shorten):
    """The classes of a CSV labels column and the class index of every string in it.

    Parameters
    ----------
    source : CsvSource
    rows : int
        Rows per block.
    given : list of str or None
        ``--labels``, read in the type of the column.
    show, shorten : callable
        Format a label / a list of labels for messages.

    Returns
    -------
    classes : numpy.ndarray
        Sorted: int64, uint64 or object (Python ints) for integers, float64,
        or object (str) for text.
    codes : dict
        ``{string in the file: index in classes}``.
    """
    path = source.path
    first_row = {}
    start = 0
    for block in source.label_blocks(rows):
        for text in set(block).difference(first_row):
            first_row[text] = start + block.index(text)
        start += len(block)
    if not first_row:
        raise InputError(f"{path}: no samples")
    written = sorted(first_row, key=first_row.get)
    kind = _column_kind(written)
    values = {}
    for text in written:
        try:
            values[text] = _value(text, kind)
        except ValueError as exc:
            raise InputError(f"{path}: row {first_row[text]}: label {exc}") from None
    if kind == "float":
        _check_distinct_floats(written, values, first_row, path)
    if given is None:
        classes = sorted(set(values.values()))
        if len(classes) == 1:
            raise InputError(f"{path}: all labels are {show(classes[0])}; pass the class labels with --labels")
    else:
        classes = sorted({_given_value(text, kind, path) for text in given})
        known = set(classes)
        for text in written:
            if values[text] not in known:
                raise InputError(
                    f"{path}: row {first_row[text]}: label {show(values[text])} is not one of "
                    f"the classes ({shorten(classes)})"
                )
    index = {value: i for i, value in enumerate(classes)}
    return _class_array(classes, kind), {text: index[values[text]] for text in written}


def _column_kind(written):
    if all(_INT.fullmatch(text) for text in written):
        return "int"
    if all(is_number(text) for text in written):
        return "float"
    return "text"


def _value(text, kind):
    if kind == "int":
        return exact_integer(text)
    if kind == "float":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text.strip()} is not finite")
        return value
    return text


def _check_distinct_floats(written, values, first_row, path):
    """Two different numbers of a float column must not round to one float64."""
    seen = {}
    for text in written:
        exact = Decimal(text.strip())
        other = seen.setdefault(values[text], (text, exact))
        if other[1] != exact:
            raise InputError(
                f"{path}: rows {first_row[other[0]]} and {first_row[text]}: labels "
                f"{other[0].strip()} and {text.strip()} are different numbers but the same "
                "float64; write integer labels without a decimal point, or quote them as text"
            )


def _given_value(text, kind, path):
    if kind == "text":
        return text
    what = "integers" if kind == "int" else "numbers"
    if not is_number(text):
        raise InputError(f"--labels: {text!r} is not a number, but {path} holds {what}")
    if kind == "int":
        try:
            return exact_integer(text)
        except ValueError as exc:
            raise InputError(f"--labels: {exc}, but {path} holds integer labels") from None
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"--labels: {text.strip()} is not finite")
    return value


def _class_array(classes, kind):
    if kind == "float":
        return np.array(classes, dtype=np.float64)
    if kind == "int":
        if -(1 << 63) <= classes[0] and classes[-1] < 1 << 63:
            return np.array(classes, dtype=np.int64)
        if 0 <= classes[0] and classes[-1] < 1 << 64:
            return np.array(classes, dtype=np.uint64)
    array = np.empty(len(classes), dtype=object)
    array[:] = classes
    return array
