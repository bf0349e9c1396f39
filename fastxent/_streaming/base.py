"""What every streaming accumulator shares: how its state changes.

``update`` validates a chunk and computes its whole contribution without
touching the state -- the expensive part, which threads run at the same
time -- and only then commits it under a lock; ``merge`` commits another
accumulator's state, read under that one's lock.  A commit computes every
new value before it stores any, so a rejected chunk (or a refused merge)
leaves the state exactly as it was, and concurrent updates lose nothing.
The lock is not part of the state: pickles and copies get a new one.

Running sums are Neumaier pairs ``(total, comp)`` grown with
:func:`fastxent._infra.summation.compensated_add`: adding chunk totals, and
merging pairs (both parts added in turn), loses nothing, so any chunking
and any tree of merges gives the one-call sum to ~1e-15 relative.
"""

import threading

import numpy as np

from .._infra.summation import compensated_add, compensated_add_arrays

__all__ = ["Accumulator", "no_samples_error", "pair_plus", "pair_value"]


class Accumulator:
    """Base of the accumulators: the lock, pickling, ``merge`` and the commit protocol.

    A subclass defines

    * ``_commit(contribution, source)``: add a contribution to the state,
      the lock held; ``source`` is ``"update"`` or ``"merge"`` (for error
      messages).  It raises, if at all, before it changes anything.
    * ``_state()``: the state as a contribution (called with the lock held),
      or None when it has nothing to add.
    * ``_check_mergeable(other)``: raise unless ``other`` can be merged.

    and its ``update`` computes a chunk's contribution (None for an empty
    chunk) and passes it to :meth:`_add`.
    """

    def __init__(self):
        self._lock = threading.Lock()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _add(self, contribution, source):
        """Commit ``contribution`` (None: nothing to add) under the lock; returns self."""
        if contribution is not None:
            with self._lock:
                self._commit(contribution, source)
        return self

    def _snapshot(self):
        """The state as a contribution, read consistently (under the lock)."""
        with self._lock:
            return self._state()

    def merge(self, other):
        """Add the state of another accumulator of the same kind.

        Returns
        -------
        self
        """
        self._check_mergeable(other)
        return self._add(other._snapshot(), "merge")


def no_samples_error(accumulator):
    """The error of asking an accumulator without samples for a result."""
    return ValueError(
        f"no samples were added to this {type(accumulator).__name__}: update() it with a "
        "non-empty chunk (or merge() one that has samples) before asking for a result"
    )


def pair_plus(pair, value):
    """The Neumaier pair ``pair`` plus ``value``: a number, or another pair
    (its two parts added in turn); arrays of pairs element by element."""
    add = compensated_add_arrays if isinstance(pair[0], np.ndarray) else compensated_add
    for part in value if isinstance(value, tuple) else (value,):
        pair = add(*pair, part)
    return pair


def pair_value(pair):
    """The sum a Neumaier pair stands for (``total + comp``)."""
    return pair[0] + pair[1]
