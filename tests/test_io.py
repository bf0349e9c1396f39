"""Chunked readers of fastxent._scoring.readers: every format yields the saved array, block by block."""

import gc
import io
import os
import threading

import numpy as np
import pytest

from fastxent._scoring.readers import InputError, open_array


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
    # A header whose size overflows int64 is still a truncated file.
    forged = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (2**62, 4)}
    np.lib.format.write_array_header_1_0(forged, header)
    path.write_bytes(forged.getvalue() + bytes(64))
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
    path.write_text("spam\nham\n\n  \nham\r\n spam\n")
    src, back = _read_all(str(path), 2)
    assert src.ndim == 1
    # Text is kept as written: " spam" and "spam" are different labels.
    assert back.tolist() == ["spam", "ham", "ham", " spam"]


def test_csv_text_in_numbers_names_the_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("0.1,0.9\n0.2,0.8\n0.3,oops\n")
    with pytest.raises(InputError, match=r"p\.csv: line 3: 'oops' is not a number"):
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


def test_csv_byte_order_mark_crlf_and_quotes(tmp_path):
    path = tmp_path / "y.csv"
    path.write_bytes(b'\xef\xbb\xbf"label","p"\r\n"cat, big", 0.25\r\n\r\ndog,"0.5"\r\n')
    src = open_array(f"{path}:label")
    assert src.header == ["label", "p"]
    assert [v for block in src.label_blocks(1) for v in block] == ["cat, big", "dog"]
    _, back = _read_all(f"{path}:p", 1)
    np.testing.assert_array_equal(back, [0.25, 0.5])
    path.write_bytes(b"\xef\xbb\xbf0\n1\n")
    _, back = _read_all(str(path), 5)
    np.testing.assert_array_equal(back, [0.0, 1.0])


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 100])
def test_csv_blocks_stay_exact_when_quotes_start_mid_file(tmp_path, rows):
    # Lines 1-3 go through loadtxt, the rest through the csv module; a quoted
    # field spans two lines, and a blank line sits inside it.
    path = tmp_path / "d.csv"
    path.write_text('a,0.1\n\nb,0.2\nc,"0.3"\n"d\n\ne",0.4\nf,0.5\n')
    _, back = _read_all(f"{path}:1", rows)
    np.testing.assert_array_equal(back, [0.1, 0.2, 0.3, 0.4, 0.5])
    labels = [list(b) for b in open_array(f"{path}:0").label_blocks(rows)]
    assert all(len(b) == rows for b in labels[:-1])
    assert [v for b in labels for v in b] == ["a", "b", "c", "d\n\ne", "f"]
    path.write_text('a,0.1\nb,"0.2"\n"c\nd",x\n')
    with pytest.raises(InputError, match=r"d\.csv: line 3: 'x' is not a number"):
        list(open_array(f"{path}:1").blocks(rows))


def test_csv_header_rules(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("cat,0.1\ndog,0.2\n")  # text in both lines: no header
    assert open_array(str(path)).header is None
    path.write_text("label,p\ncat,0.2\n")  # text above a number: a header
    assert open_array(str(path)).header == ["label", "p"]
    path.write_text("spam\nham\n")
    assert open_array(str(path)).header is None
    assert open_array(f"{path}:spam").header == ["spam"]  # named by the selector
    with pytest.raises(InputError, match=r"d\.csv: no column 2 \(the file has 1 columns"):
        open_array(f"{path}:2")
    with pytest.raises(InputError, match="no column named 'eggs'"):
        open_array(f"{path}:eggs")


def test_selector_split_by_position_in_the_name(tmp_path):
    from fastxent._scoring.readers import _split_selector

    assert _split_selector("İİ.csv:label") == ("İİ.csv", "label")
    assert _split_selector("İ/x.CSV:a,b") == ("İ/x.CSV", "a,b")
    assert _split_selector("a:b.npz:k:y") == ("a:b.npz", "k:y")
    odd = tmp_path / "a.csv:b.npy"  # an existing file is taken whole
    np.save(odd, np.arange(3))
    assert _split_selector(str(odd)) == (str(odd), None)
    _, back = _read_all(str(odd), 2)
    np.testing.assert_array_equal(back, np.arange(3))


@pytest.mark.parametrize("dtype", [">f8", ">i8", ">u8", ">U3", "<f4"])
def test_blocks_are_in_native_byte_order(tmp_path, dtype):
    data = np.array([1, 2, 2**40, 3]).astype(np.dtype(dtype).newbyteorder("<")).astype(dtype)
    np.save(tmp_path / "a.npy", data)
    np.savez(tmp_path / "a.npz", a=data)
    for spec in (tmp_path / "a.npy", tmp_path / "a.npz"):
        src = open_array(str(spec))
        assert src.dtype.isnative
        blocks = list(src.blocks(3))
        assert all(b.dtype.isnative for b in blocks)
        np.testing.assert_array_equal(np.concatenate(blocks), data)


def test_huge_block_sizes_are_clamped(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(5.0))
    np.savez(tmp_path / "a.npz", a=np.arange(5.0))
    (tmp_path / "a.csv").write_text("0\n1\n2\n3\n4\n")
    for name in ("a.npy", "a.npz", "a.csv"):
        blocks = list(open_array(str(tmp_path / name)).blocks(10**20))
        assert len(blocks) == 1 and blocks[0].tolist() == [0, 1, 2, 3, 4]


def test_named_pipe_is_copied_once(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes")
    fifo = tmp_path / "a.npy"
    os.mkfifo(fifo)
    data = np.arange(6.0).astype(">f8")
    buffer = io.BytesIO()
    np.save(buffer, data)
    writer = threading.Thread(target=lambda: fifo.write_bytes(buffer.getvalue()))
    writer.start()
    src = open_array(str(fifo))
    writer.join(timeout=30)
    assert src.path == str(fifo) and src.shape == (6,)
    for rows in (4, 6):  # read twice from the one copy
        np.testing.assert_array_equal(np.concatenate(list(src.blocks(rows))), data)
    copy = src.spool.name
    del src
    gc.collect()
    assert not os.path.exists(copy)
