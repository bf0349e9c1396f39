"""Numba's cache file under a lock: concurrent writers never leave an index entry naming another's data."""

import threading
import time

import numpy as np
import pytest
from numba.core import caching

from fastxent import kernels, ufuncs
from fastxent._infra import disk_cache
from fastxent._infra.jit import CACHE, UFUNC_OWNERS

pytestmark = pytest.mark.skipif(disk_cache.fcntl is None, reason="file locks need fcntl (POSIX)")


def _slow(base, load_delay, data_delay):
    """``base`` with pauses after reading the index and before writing the data."""

    class Slow(base):
        def _load_index(self):
            index = super()._load_index()
            time.sleep(load_delay)
            return index

        def _save_data(self, name, data):
            time.sleep(data_delay)
            super()._save_data(name, data)

    return Slow


@pytest.mark.parametrize("locked", [True, False])
def test_two_writers_of_one_index_keep_each_entry_with_its_own_data(tmp_path, locked):
    base = disk_cache.LockedCacheFile if locked else caching.IndexDataCacheFile

    def save(load_delay, data_delay, key, data):
        _slow(base, load_delay, data_delay)(str(tmp_path), "f-1.py311", "stamp").save(key, data)

    # Unlocked, both writers read the empty index and pick data file 1; the
    # second index write wins, the first data write comes last.
    first = threading.Thread(target=save, args=(0.3, 0.6, "signature A", "code of A"))
    first.start()
    time.sleep(0.1)
    save(0.3, 0.0, "signature B", "code of B")
    first.join()
    reader = base(str(tmp_path), "f-1.py311", "stamp")
    loaded = {key: reader.load(key) for key in ("signature A", "signature B")}
    if locked:
        assert loaded == {"signature A": "code of A", "signature B": "code of B"}
    else:  # Numba's own file: B's index entry names A's machine code
        assert loaded["signature B"] == "code of A"


def test_a_read_only_cache_folder_is_read_without_a_lock(tmp_path):
    writer = disk_cache.LockedCacheFile(str(tmp_path), "f-1.py311", "stamp")
    writer.save("signature", "code")
    (tmp_path / "f-1.py311.nbi.lock").unlink()
    tmp_path.chmod(0o555)
    try:
        assert disk_cache.LockedCacheFile(str(tmp_path), "f-1.py311", "stamp").load("signature") == "code"
    finally:
        tmp_path.chmod(0o755)


@pytest.mark.skipif(not CACHE, reason="caching is turned off (FASTXENT_CACHE=0)")
def test_fastxent_kernels_use_the_locked_cache_file():
    for name in ("log", "binary_cross_entropy_serial", "entropy_rows_parallel", "fit_binary_logistic"):
        assert type(getattr(kernels, name)._cache._cache_file) is disk_cache.LockedCacheFile, name


@pytest.mark.skipif(not CACHE, reason="caching is turned off (FASTXENT_CACHE=0)")
def test_fastxent_ufuncs_use_the_locked_cache_file():
    assert ufuncs.xlogy(2.0, 3.0) == pytest.approx(2.0 * np.log(3.0))
    owners = [owner for owner in UFUNC_OWNERS if owner.ufunc is ufuncs.xlogy]
    assert len(owners) == 1
    assert type(owners[0]._dispatcher.cache._cache_file) is disk_cache.LockedCacheFile
