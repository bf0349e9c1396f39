"""``prefetch_row``: a hint that changes no value, for any row index type."""

import numba
import numpy as np
import pytest

from fastxent._infra.jit import JIT_DISABLED
from fastxent._infra.prefetch import prefetch_row


@numba.njit
def gathered_row_sums(table, rows, ahead):
    total = np.zeros(table.shape[1])
    for q in range(rows.shape[0]):
        prefetch_row(table, rows[min(q + ahead, rows.shape[0] - 1)])
        total += table[rows[q]]
    return total


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64, np.uint32])
def test_prefetching_changes_no_value(index_dtype):
    rng = np.random.default_rng(3)
    table = rng.normal(size=(1000, 20))
    rows = rng.integers(0, 1000, 5000).astype(index_dtype)
    np.testing.assert_array_equal(gathered_row_sums(table, rows, 16), table[rows].sum(axis=0, dtype=np.float64))


@pytest.mark.skipif(JIT_DISABLED, reason="typing only exists compiled")
def test_only_c_contiguous_tables_are_accepted():
    table = np.asfortranarray(np.ones((4, 3)))
    with pytest.raises(numba.core.errors.TypingError):
        gathered_row_sums(table, np.arange(4), 1)
