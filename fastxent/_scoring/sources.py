"""What every reader of an array file provides, and how problems are reported.

:class:`ArraySource` is the interface of the readers (:mod:`.readers` for
``.npy``, ``.npz`` and ``.parquet``, :mod:`.csv_reader` for ``.csv``);
:class:`InputError` is the one exception they raise, with a one-line
message that names the file.
"""

import numpy as np

__all__ = ["MAX_BLOCK_ROWS", "ArraySource", "InputError", "block_rows", "one_line"]

# Larger --chunk-size values mean "everything in one block"; the cap keeps
# them within what itertools.islice and pyarrow accept.
MAX_BLOCK_ROWS = 1 << 40


class InputError(Exception):
    """A file that cannot be scored; the message is one line naming the file."""


def one_line(exc):
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def block_rows(rows):
    """A requested block length as a usable one: at least 1, at most ``MAX_BLOCK_ROWS``."""
    return max(1, min(int(rows), MAX_BLOCK_ROWS))


class ArraySource:
    """A 1-D or 2-D array on disk, read in row blocks.

    Attributes
    ----------
    path : str
        The name given by the user (used in messages).
    shape : tuple or None
        ``None`` for the number of rows when it is only known after reading
        (CSV); the number of columns is always known.
    dtype : numpy.dtype
        The dtype of the blocks (native byte order).
    typeless : bool
        True for text formats, whose labels are read with
        :meth:`label_blocks` and typed by their values.
    """

    path = ""
    dtype = np.dtype(np.float64)
    typeless = False

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
