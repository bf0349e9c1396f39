"""Chunked readers of fastxent._io: every format yields the saved array, block by block."""

import numpy as np
import pytest

from fastxent._io import InputError, open_array


def _read_all(spec, rows):
    src = open_array(spec)
    blocks = list(src.blocks(rows))
    assert all(len(b) == rows for b in blocks[:-1])
    return src, np.concatenate(blocks)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(1000,), (1000, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_npy_blocks_reassemble_the_array(tmp_path, rng, order, shape, dtype):
    data = np.asarray(rng.random(shape) * 10, dtype=dtype, order=order)
    path = tmp_path / "a.npy"
    np.save(path, data)
    for rows in (1, 7, 999, 1000, 5000):
        src, back = _read_all(str(path), rows)
        assert src.shape == shape and src.dtype == data.dtype
        np.testing.assert_array_equal(back, data)


def test_npy_blocks_are_read_only_views_of_the_file(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.arange(10.0))
    block = next(open_array(str(path)).blocks(4))
    assert not block.flags.writeable


def test_npy_truncated_or_3d_is_an_input_error(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.arange(100.0))
    with open(path, "r+b") as f:
        f.truncate(200)
    with pytest.raises(InputError, match="truncated"):
        open_array(str(path))
    np.save(path, np.zeros((2, 2, 2)))
    with pytest.raises(InputError, match="1-D or 2-D"):
        open_array(str(path))
    path.write_bytes(b"not an npy file at all")
    with pytest.raises(InputError, match="a.npy: cannot read"):
        open_array(str(path))


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_member_streams(tmp_path, rng, compressed):
    y = rng.integers(0, 3, 500)
    p = rng.random((500, 3))
    path = tmp_path / "d.npz"
    (np.savez_compressed if compressed else np.savez)(path, y=y, p=p)
    for key, data in (("y", y), ("p", p)):
        src, back = _read_all(f"{path}:{key}", 33)
        assert src.shape == data.shape
        np.testing.assert_array_equal(back, data)
    with pytest.raises(InputError, match="several arrays"):
        open_array(str(path))
    with pytest.raises(InputError, match="no array named 'q'"):
        open_array(f"{path}:q")
    single = tmp_path / "s.npz"
    np.savez(single, p)
    _, back = _read_all(str(single), 64)
    np.testing.assert_array_equal(back, p)


def test_csv_with_and_without_header(tmp_path, rng):
    p = rng.random((100, 3))
    plain = tmp_path / "p.csv"
    np.savetxt(plain, p, delimiter=",", fmt="%.17g")
    src, back = _read_all(str(plain), 17)
    assert src.shape == (None, 3)
    np.testing.assert_array_equal(back, p)
    headed = tmp_path / "h.csv"
    np.savetxt(headed, p, delimiter=",", fmt="%.17g", header="a,b,c", comments="")
    _, back = _read_all(str(headed), 40)
    np.testing.assert_array_equal(back, p)
    _, back = _read_all(f"{headed}:c,a", 40)
    np.testing.assert_array_equal(back, p[:, [2, 0]])
    _, back = _read_all(f"{headed}:b", 40)
    np.testing.assert_array_equal(back, p[:, 1])


def test_csv_text_labels_and_blank_lines(tmp_path):
    path = tmp_path / "y.csv"
    path.write_text("spam\nham\n\nham\r\n spam\n")
    src, back = _read_all(str(path), 2)
    assert src.ndim == 1
    assert back.tolist() == ["spam", "ham", "ham", "spam"]


def test_csv_text_in_numbers_names_the_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("0.1,0.9\n0.2,0.8\n0.3,oops\n")
    with pytest.raises(InputError, match=r"p\.csv: lines 1-3: .*oops"):
        list(open_array(str(path)).blocks(10))
    path.write_text("0.1,0.9\n0.2\n")
    with pytest.raises(InputError, match=r"p\.csv"):
        list(open_array(str(path)).blocks(10))
    path.write_text("")
    with pytest.raises(InputError, match="empty"):
        open_array(str(path))


def test_parquet_columns(tmp_path, rng):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    p = rng.random((300, 2))
    table = pa.table({"label": ["a", "b", "c"] * 100, "p0": p[:, 0], "p1": p[:, 1]})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=64)
    src, back = _read_all(f"{path}:p0,p1", 50)
    assert src.shape == (300, 2)
    np.testing.assert_array_equal(back, p)
    _, back = _read_all(f"{path}:label", 70)
    assert back.tolist() == ["a", "b", "c"] * 100
    with pytest.raises(InputError, match="no column named 'zz'"):
        open_array(f"{path}:zz")
    with pytest.raises(InputError, match="non-numeric"):
        open_array(str(path))


@pytest.mark.parametrize(
    "name, message",
    [("x.txt", "unknown file type '.txt'"), ("x", "unknown file type"), ("missing.npy", "no such file")],
)
def test_bad_paths(tmp_path, name, message):
    if name != "missing.npy":
        (tmp_path / name).write_text("1\n")
    with pytest.raises(InputError, match=message):
        open_array(str(tmp_path / name))


def test_parquet_without_pyarrow_is_an_input_error(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r"needs pyarrow \(pip install 'fastxent\[parquet\]'\)"):
        open_array(str(path))
