"""Numba's on-disk cache, made safe for several processes compiling at once.

Numba keeps one index file per function (signature -> data file) and
numbers the data files by reading the index, picking the first unused
number, rewriting the index and then writing the data file.  Two processes
that compile different specializations of one function at the same moment
(eight Dask workers starting cold on a shared ``NUMBA_CACHE_DIR``, a
parallel test run) can both pick the same number: the index then names one
specialization while the data file holds the other's machine code, which a
later process loads and runs on arguments of the wrong type.

:func:`guard` gives a dispatcher a cache file whose writes (index and data
together) hold an exclusive ``flock`` on a lock file next to the index, and
whose reads hold a shared one, so a reader never sees an index entry before
its data.  Where the lock file cannot be opened (a read-only, pre-filled
cache folder) or ``fcntl`` does not exist (Windows), reads and writes
proceed as Numba does them.
"""

import contextlib

try:
    import fcntl
except ImportError:  # Windows: Numba's own behaviour
    fcntl = None

from numba.core import caching

__all__ = ["LockedCacheFile", "guard"]


@contextlib.contextmanager
def _locked(index_path, mode):
    if fcntl is None:
        yield
        return
    try:
        handle = open(index_path + ".lock", "a")
    except OSError:  # read-only cache folder: nothing can be written there either
        yield
        return
    with handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class LockedCacheFile(caching.IndexDataCacheFile):
    """Numba's index-and-data cache file with its writes and reads under a file lock."""

    def save(self, key, data):
        with _locked(self._index_path, fcntl.LOCK_EX if fcntl else None):
            super().save(key, data)

    def load(self, key):
        with _locked(self._index_path, fcntl.LOCK_SH if fcntl else None):
            return super().load(key)


def guard(dispatcher):
    """Make a caching dispatcher's cache file a :class:`LockedCacheFile`; returns the dispatcher.

    ``dispatcher``: a function's (its cache is ``_cache``) or a ufunc's
    (``cache``, set once caching is enabled).
    """
    cache = getattr(dispatcher, "_cache", None) or getattr(dispatcher, "cache", None)
    cache_file = getattr(cache, "_cache_file", None)
    if type(cache_file) is caching.IndexDataCacheFile:
        cache_file.__class__ = LockedCacheFile
    return dispatcher
