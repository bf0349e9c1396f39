"""The fastxent command line: values against scikit-learn, bounded memory, one-line errors."""

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.metrics import d2_log_loss_score, log_loss

from fastxent.cli import main

N = 500


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _score(capsys, *args):
    code = main(["score", *map(str, args), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""  # no progress bar when stderr is not a terminal
    return json.loads(out)


def _expect(report, y, p, *, sample_weight=None, labels=None):
    assert report["n_samples"] == len(y)
    np.testing.assert_allclose(
        report["log_loss"], log_loss(y, p, sample_weight=sample_weight, labels=labels), rtol=1e-12
    )
    np.testing.assert_allclose(
        report["d2_log_loss_score"],
        d2_log_loss_score(y, p, sample_weight=sample_weight, labels=labels),
        rtol=1e-11,
    )
    classes = np.unique(y if labels is None else labels)
    codes = np.searchsorted(classes, y)
    predicted = (p > 0.5).astype(int) if p.ndim == 1 else p.argmax(axis=1)
    np.testing.assert_allclose(report["accuracy"], np.average(predicted == codes, weights=sample_weight), rtol=1e-12)
    assert report["class_counts"] == np.bincount(codes, minlength=len(classes)).tolist()
    assert [str(v) for v in report["labels"]] == [str(v) for v in classes]


def _dirichlet(rng, n, k):
    return rng.dirichlet(np.ones(k), size=n)


def test_binary_npy_matches_sklearn(tmp_path, rng, capsys):
    y = rng.integers(0, 2, N)
    p = rng.random(N)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", p)
    _expect(_score(capsys, tmp_path / "y.npy", tmp_path / "p.npy"), y, p)


@pytest.mark.parametrize("chunk", [None, 1, 7, 10_000])
def test_multiclass_with_weights_any_chunking(tmp_path, rng, capsys, chunk):
    y = rng.integers(0, 4, N) * 10
    p = _dirichlet(rng, N, 4)
    w = rng.random(N) * 3
    for name, data in (("y", y), ("p", p), ("w", w)):
        np.save(tmp_path / f"{name}.npy", data)
    args = [tmp_path / "y.npy", tmp_path / "p.npy", "--weights", tmp_path / "w.npy"]
    if chunk:
        args += ["--chunk-size", chunk]
    report = _score(capsys, *args)
    _expect(report, y, p, sample_weight=w)
    np.testing.assert_allclose(report["sum_weights"], w.sum(), rtol=1e-13)


def test_labels_option_adds_a_class_missing_from_the_data(tmp_path, rng, capsys):
    y = rng.integers(0, 3, N)  # class 3 never occurs
    p = _dirichlet(rng, N, 4)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", p)
    report = _score(capsys, tmp_path / "y.npy", tmp_path / "p.npy", "--labels", 0, 1, 2, 3)
    _expect(report, y, p, labels=[0, 1, 2, 3])
    assert report["class_counts"][3] == 0


def test_csv_string_labels_and_float32_npz(tmp_path, rng, capsys):
    y = rng.choice(np.array(["ham", "spam", "eggs"]), N)
    p = _dirichlet(rng, N, 3).astype(np.float32)
    (tmp_path / "y.csv").write_text("label\n" + "\n".join(y) + "\n")
    np.savez_compressed(tmp_path / "p.npz", proba=p, other=np.zeros(3))
    report = _score(capsys, f"{tmp_path / 'y.csv'}:label", f"{tmp_path / 'p.npz'}:proba", "--chunk-size", 64)
    assert report["labels"] == ["eggs", "ham", "spam"]
    assert report["n_samples"] == N
    # scikit-learn computes in float32; fastxent accumulates in float64.
    np.testing.assert_allclose(report["log_loss"], log_loss(y, p), rtol=1e-6)


def test_csv_predictions_with_header(tmp_path, rng, capsys):
    y = rng.integers(0, 3, N)
    p = _dirichlet(rng, N, 3)
    np.savetxt(tmp_path / "y.csv", y, fmt="%d")
    np.savetxt(tmp_path / "p.csv", p, delimiter=",", fmt="%.17g", header="a,b,c", comments="")
    _expect(_score(capsys, tmp_path / "y.csv", tmp_path / "p.csv", "--chunk-size", 33), y, p)


def test_parquet_columns(tmp_path, rng, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    y = rng.integers(0, 2, N)
    p = _dirichlet(rng, N, 2)
    table = pa.table({"y": y, "p0": p[:, 0], "p1": p[:, 1]})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=100)
    path = tmp_path / "d.parquet"
    report = _score(capsys, f"{path}:y", f"{path}:p0,p1", "--chunk-size", 64)
    _expect(report, y, p)


def test_logits_binary_and_multiclass(tmp_path, rng, capsys):
    y = rng.integers(0, 2, N)
    z = rng.normal(0, 3, N)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "z.npy", z)
    report = _score(capsys, tmp_path / "y.npy", tmp_path / "z.npy", "--logits")
    np.testing.assert_allclose(report["log_loss"], log_loss(y, expit(z)), rtol=1e-11)
    np.testing.assert_allclose(report["accuracy"], np.mean((z > 0) == y), rtol=1e-12)
    assert report["logits"] is True

    y = rng.integers(0, 5, N)
    z = rng.normal(0, 3, (N, 5))
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "z.npy", z)
    report = _score(capsys, tmp_path / "y.npy", tmp_path / "z.npy", "--logits", "--chunk-size", 50)
    _expect(report, y, softmax(z, axis=1))


def test_table_output(tmp_path, rng, capsys):
    y = rng.integers(0, 2, N)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", rng.random(N))
    assert main(["score", str(tmp_path / "y.npy"), str(tmp_path / "p.npy")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["samples", str(N)]
    for word in ("log loss", "D²", "accuracy", "class  count"):
        assert word in out
    assert f"1      {int(y.sum())}" in out


def _write(tmp_path, name, data):
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data)
    else:
        np.save(path, data)
    return str(path)


BAD_CASES = {
    "missing file": (lambda t: [str(t / "nope.npy"), _write(t, "p.npy", np.full(4, 0.5))], "nope.npy: no such file"),
    "unknown extension": (
        lambda t: [_write(t, "y.txt", "1\n0\n"), _write(t, "p.npy", np.ones(2))],
        "unknown file type '.txt'",
    ),
    "3-D predictions": (
        lambda t: [_write(t, "y.npy", np.zeros(2)), _write(t, "p.npy", np.zeros((2, 2, 2)))],
        "1-D or 2-D",
    ),
    "2-D labels": (
        lambda t: [_write(t, "y.npy", np.zeros((4, 2))), _write(t, "p.npy", np.full(4, 0.5))],
        "labels must be 1-D",
    ),
    "mismatched lengths": (
        lambda t: [_write(t, "y.npy", np.array([0, 1, 1])), _write(t, "p.npy", np.full(4, 0.5))],
        "different numbers of samples",
    ),
    "mismatched csv lengths": (
        lambda t: [_write(t, "y.csv", "0\n1\n1\n"), _write(t, "p.npy", np.full(4, 0.5))],
        "different numbers of samples",
    ),
    "NaN": (
        lambda t: [_write(t, "y.npy", np.array([0, 1, 1])), _write(t, "p.npy", np.array([0.5, np.nan, 0.2]))],
        "row 1: nan is not finite",
    ),
    "non-numeric csv": (
        lambda t: [_write(t, "y.npy", np.array([0, 1])), _write(t, "p.csv", "0.2,0.8\nabc,0.5\n")],
        "p.csv: line 2: 'abc' is not a number",
    ),
    "probability above 1": (
        lambda t: [_write(t, "y.npy", np.array([0, 1])), _write(t, "p.npy", np.array([0.5, 1.5]))],
        "outside [0, 1]",
    ),
    "wrong number of columns": (
        lambda t: [_write(t, "y.npy", np.array([0, 1, 2])), _write(t, "p.npy", np.full((3, 2), 0.5))],
        "2 prediction columns but 3 classes",
    ),
    "single class": (
        lambda t: [_write(t, "y.npy", np.array([1, 1])), _write(t, "p.npy", np.array([0.5, 0.7]))],
        "all labels are",
    ),
    "label not in --labels": (
        lambda t: [
            _write(t, "y.npy", np.array([0, 5])),
            _write(t, "p.npy", np.array([0.5, 0.7])),
            "--labels",
            "0",
            "1",
        ],
        "row 1: label 5",
    ),
    "negative weight": (
        lambda t: [
            _write(t, "y.npy", np.array([0, 1])),
            _write(t, "p.npy", np.array([0.5, 0.7])),
            "--weights",
            _write(t, "w.npy", np.array([1.0, -1.0])),
        ],
        "weight -1.0 is negative",
    ),
    "NaN label": (
        lambda t: [_write(t, "y.npy", np.array([0.0, np.nan, 1.0])), _write(t, "p.npy", np.array([0.5, 0.7, 0.1]))],
        "row 1: label nan is not finite",
    ),
    "weights of another length": (
        lambda t: [
            _write(t, "y.npy", np.array([0, 1])),
            _write(t, "p.npy", np.array([0.5, 0.7])),
            "--weights",
            _write(t, "w.csv", "1\n2\n3\n"),
        ],
        "w.csv has more",
    ),
    "empty csv": (lambda t: [_write(t, "y.csv", ""), _write(t, "p.npy", np.ones(0))], "empty"),
    "corrupt npy": (
        lambda t: [_write(t, "y.npy", np.array([0, 1])), _write(t, "p.npy", "garbage")],
        "p.npy: cannot read",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_and_exit_1(tmp_path, capsys, case):
    make_args, message = BAD_CASES[case]
    code = main(["score", *make_args(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("fastxent: error: "), err
    assert message in err, err


def test_console_script_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fastxent.cli", "score", str(tmp_path / "a.npy"), "b.npy"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"fastxent: error: {tmp_path / 'a.npy'}: no such file"


# ----------------------------------------------------------- bounded memory


def write_large_npy(path_labels, path_proba, n, k, rng_seed=0, block=1 << 20):
    """Chunk-wise generation of labels and Dirichlet-like probabilities on disk."""
    rng = np.random.default_rng(rng_seed)
    y = np.lib.format.open_memmap(path_labels, mode="w+", dtype=np.int8, shape=(n,))
    p = np.lib.format.open_memmap(path_proba, mode="w+", dtype=np.float64, shape=(n, k))
    for start in range(0, n, block):
        stop = min(start + block, n)
        y[start:stop] = rng.integers(0, k, stop - start)
        q = rng.random((stop - start, k)) + 0.05
        q /= q.sum(axis=1, keepdims=True)
        p[start:stop] = q
        p.flush()
        y.flush()
    del y, p


PEAK_RSS = textwrap.dedent(
    """
    import sys
    from fastxent.cli import main
    code = main(sys.argv[1:])
    status = open("/proc/self/status").read().split("\\n")
    peak = [line for line in status if line.startswith("VmHWM")][0].split()[1]
    print(int(peak) * 1024, file=sys.stderr)
    sys.exit(code)
    """
)


def peak_rss_of_score(labels, proba):
    """(report, peak resident set size in bytes) of ``fastxent score`` in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, "score", str(labels), str(proba), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout), int(result.stderr.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_memory_stays_bounded_on_a_large_npy(tmp_path):
    k = 10
    # The small pair is above the serial cutoff too, so that both runs load the
    # same (parallel) kernels and the difference is the data's share alone.
    n_small, n_large = 20_000, 2_500_000  # the large pair is 200 MB of probabilities
    write_large_npy(tmp_path / "ys.npy", tmp_path / "ps.npy", n_small, k)
    write_large_npy(tmp_path / "yl.npy", tmp_path / "pl.npy", n_large, k)
    _, baseline = peak_rss_of_score(tmp_path / "ys.npy", tmp_path / "ps.npy")
    report, peak = peak_rss_of_score(tmp_path / "yl.npy", tmp_path / "pl.npy")
    assert report["n_samples"] == n_large
    size = os.path.getsize(tmp_path / "pl.npy") + os.path.getsize(tmp_path / "yl.npy")
    # Loading the file would add its 225 MB; streaming adds a few blocks of 8 MB.
    assert peak - baseline < 0.2 * size, (peak, baseline, size)
    assert peak < 300 << 20


# -------------------------------------------------------------------- bench


def test_bench_prints_the_table_and_draws_the_plot(tmp_path, capsys, monkeypatch):
    import fastxent.benchmarks.run as bench

    canned = {
        "size": "quick",
        "rows": [
            {
                "case": "a",
                "title": "log_loss binary",
                "rival": "scikit-learn",
                "ratio": 250.0,
                "target": 200,
                "fastxent_s": 0.004,
                "rival_s": 1.0,
                "floor_s": 0.003,
                "floor_ratio": 1.3,
                "floor_target": 1.5,
                "met": True,
                "error": None,
            },
            {
                "case": "b",
                "title": "entropy",
                "rival": "scipy",
                "ratio": None,
                "target": 20,
                "fastxent_s": 0.01,
                "rival_s": None,
                "floor_s": None,
                "floor_ratio": None,
                "floor_target": None,
                "met": None,
                "error": "scipy not installed",
            },
        ],
        "memory": None,
        "environment": {},
    }
    calls = []

    def fake_run(quick=False, json_path=None, plot_path=None, progress=None, **kwargs):
        calls.append((quick, json_path, plot_path))
        if json_path:
            with open(json_path, "w") as f:
                json.dump(canned, f)
        if plot_path:
            from fastxent.benchmarks.plot import save_figure

            save_figure(canned, plot_path)
        return canned

    monkeypatch.setattr(bench, "run", fake_run)
    png, js = tmp_path / "r.png", tmp_path / "r.json"
    assert main(["bench", "--quick", "--plot", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert calls == [(True, str(js), str(png))]
    assert "| log_loss binary | – | scikit-learn | 4 ms | 1 s | 3 ms | 250.0× | 1.30× |" in out
    assert "scipy not installed" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(js.read_text())["rows"][0]["ratio"] == 250.0


def test_bench_scaling_runs_the_scaling_benchmark_and_prints_its_table(capsys, monkeypatch):
    import fastxent.benchmarks.scaling as scaling

    point = {"n": 1000, "sizes": {"y": [1000], "p": [1000]}, "fastxent_s": 2e-5, "rival_s": 1e-3, "floor_s": 1e-6}
    case = {"title": "log_loss, binary", "rival": "scikit-learn", "unit": "samples", "shape": "(N,)", "errors": {}}
    calls = []

    def fake_run(quick=False, json_path=None, plot_path=None, progress=None, **kwargs):
        calls.append((quick, json_path, plot_path, kwargs))
        return {"kind": "scaling", "size": "quick", "n": [1000], "cases": [case | {"points": [point]}]}

    monkeypatch.setattr(scaling, "run", fake_run)
    assert main(["bench", "--scaling", "--quick", "--json", "s.json"]) == 0
    assert calls == [(True, "s.json", None, {})]
    out = capsys.readouterr().out
    assert out.startswith("Time against input size, quick run (smaller inputs, few rounds: indicative)")
    assert "| 1,000 | 20 µs | 1 ms | 1 µs | 50× | 20.00× |" in out


def test_bench_plot_without_matplotlib_is_one_line(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["bench", "--quick", "--plot", "x.png"]) == 1
    err = capsys.readouterr().err
    assert err == "fastxent: error: --plot needs matplotlib (pip install 'fastxent[bench]')\n"


class _Terminal:
    """A stderr that says it is a terminal and keeps what is written."""

    def __init__(self):
        self.parts = []

    def isatty(self):
        return True

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_progress_bar_only_on_a_terminal_for_long_jobs(tmp_path, rng, capsys, monkeypatch, tqdm_installed):
    import fastxent.cli as cli

    y = rng.integers(0, 2, N)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", rng.random(N))
    args = ["score", str(tmp_path / "y.npy"), str(tmp_path / "p.npy"), "--chunk-size", "100"]
    if not tqdm_installed:
        monkeypatch.setitem(sys.modules, "tqdm", None)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(args) == 0  # small job: no bar
    assert terminal.parts == []
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    assert main(args) == 0
    drawn = "".join(terminal.parts)
    assert ("100.0%" in drawn) if not tqdm_installed else ("rows" in drawn), drawn
    assert "samples" in capsys.readouterr().out


def test_labels_option_is_converted_to_the_labels_type(tmp_path, rng, capsys):
    y = rng.integers(0, 2, N).astype(np.float32)
    p = rng.random(N)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", p)
    report = _score(capsys, tmp_path / "y.npy", tmp_path / "p.npy", "--labels", "1", "0")
    assert report["labels"] == [0.0, 1.0]
    _expect(report, y, p)
    assert main(["score", str(tmp_path / "y.npy"), str(tmp_path / "p.npy"), "--labels", "a", "b"]) == 1
    assert "--labels: a b are not all numbers" in capsys.readouterr().err


def test_corrupt_compressed_archive_is_one_line(tmp_path, rng, capsys):
    np.save(tmp_path / "y.npy", rng.integers(0, 2, 20_000))
    np.savez_compressed(tmp_path / "p.npz", p=rng.random(20_000))
    data = bytearray((tmp_path / "p.npz").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # damage the deflate stream
    (tmp_path / "p.npz").write_bytes(bytes(data))
    assert main(["score", str(tmp_path / "y.npy"), str(tmp_path / "p.npz")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastxent: error: ") and err.count("\n") == 1, err
    assert "p.npz: damaged archive" in err


# ------------------------------------------------------------ hostile files


def _run(*args):
    """(status, stdout, stderr) of ``fastxent score ARGS`` in-process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["score", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def _json(*args):
    code, out, err = _run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out, parse_constant=_reject_constant)


def _reject_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def _error(*args, status=1):
    code, out, err = _run(*args)
    assert code == status, (out, err)
    assert out == ""
    assert err.startswith("fastxent: error: ") and err.count("\n") == 1, err
    return err


def test_csv_with_byte_order_mark_keeps_the_first_row(tmp_path):
    (tmp_path / "y.csv").write_bytes(b"\xef\xbb\xbf0\n1\n1\n0\n")
    (tmp_path / "p.csv").write_bytes(b"\xef\xbb\xbf0.2\n0.7\n0.6\n0.1\n")
    report = _json(tmp_path / "y.csv", tmp_path / "p.csv")
    _expect(report, np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.6, 0.1]))


def test_quoted_csv_with_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(
        b'"label","p"\r\n"cat, big",0.2\r\n\r\ndog,"0.7"\r\n"say ""hi""",0.4\r\n"cat, big",0.1\r\n\r\n  \r\n'
    )
    y = np.array(["cat, big", "dog", 'say "hi"', "cat, big"])
    p = np.array([[0.2, 0.5, 0.3], [0.1, 0.7, 0.2], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    np.save(tmp_path / "p.npy", p)
    for chunk in (1, 3, 100):
        report = _json(f"{path}:label", tmp_path / "p.npy", "--chunk-size", chunk)
        _expect(report, y, p)
    err = _error(f"{path}:label", f"{path}:p")
    assert "d.csv: one column of positive-class probabilities needs exactly 2 classes" in err


def test_integer_labels_of_any_size_stay_distinct(tmp_path):
    values = [9007199254740993, 9007199254740992, 2**64 - 1, 10**30]
    y = [values[i] for i in (0, 1, 2, 3, 0, 1)]
    (tmp_path / "y.csv").write_text("\n".join(map(str, y)) + "\n")
    p = np.random.default_rng(0).dirichlet(np.ones(4), size=6)
    np.save(tmp_path / "p.npy", p)
    report = _json(tmp_path / "y.csv", tmp_path / "p.npy")
    assert report["labels"] == sorted(values)
    assert report["class_counts"] == [2, 2, 1, 1]
    codes = [sorted(values).index(v) for v in y]
    np.testing.assert_allclose(report["log_loss"], log_loss(codes, p), rtol=1e-12)


def test_float_labels_that_would_round_together_are_an_error(tmp_path):
    (tmp_path / "y.csv").write_text("9007199254740993\n9007199254740992\n0.5\n")
    np.save(tmp_path / "p.npy", np.full((3, 3), 1 / 3))
    err = _error(tmp_path / "y.csv", tmp_path / "p.npy")
    assert "y.csv: rows 0 and 1" in err and "same float64" in err


@pytest.mark.parametrize(
    "labels, message",
    [
        (["0", "0.5", "1", "2"], "--labels: 0.5 is not an integer, but y.npy holds integer labels"),
        (["nan", "1", "2"], "--labels: nan is not an integer"),
        (["0", "1", "300"], "--labels: 300 is outside the range of the int8 labels of y.npy"),
        (["0", "x"], "--labels: 0 x are not all numbers"),
        (["1"], "--labels: at least two classes are needed"),
    ],
)
def test_bad_class_lists_are_errors(tmp_path, monkeypatch, labels, message):
    monkeypatch.chdir(tmp_path)
    np.save("y.npy", np.array([0, 1, 2, 1], dtype=np.int8))
    np.save("p.npy", np.full((4, len(labels)), 1 / len(labels)))
    assert message in _error("y.npy", "p.npy", "--labels", *labels)


@pytest.mark.parametrize(
    "labels_file, labels, message",
    [
        ("f.npy", ["nan", "1"], "--labels: nan is not a finite float32 number"),
        ("f.npy", ["0", "1e300"], "--labels: 1e300 is not a finite float32 number"),
        ("b.npy", ["yes", "no"], "--labels: 'yes' is not a boolean (0, 1, false or true), but b.npy holds booleans"),
        ("i.csv", ["0", "0.5"], "--labels: 0.5 is not an integer, but i.csv holds integer labels"),
        ("i.csv", ["inf", "1"], "--labels: inf is not an integer"),
        ("f.csv", ["inf", "0.5"], "--labels: inf is not finite"),
        ("f.csv", ["0.5", "cat"], "--labels: 'cat' is not a number, but f.csv holds numbers"),
    ],
)
def test_bad_class_lists_for_float_bool_and_csv_labels(tmp_path, monkeypatch, labels_file, labels, message):
    monkeypatch.chdir(tmp_path)
    np.save("p.npy", np.array([0.2, 0.7, 0.4]))
    np.save("f.npy", np.array([0.0, 1.0, 0.0], dtype=np.float32))
    np.save("b.npy", np.array([True, False, True]))
    (tmp_path / "i.csv").write_text("0\n1\n0\n")
    (tmp_path / "f.csv").write_text("0.5\n1\n0.5\n")
    assert message in _error(labels_file, "p.npy", "--labels", *labels)


def test_labels_option_keeps_strings_longer_than_the_files(tmp_path):
    np.save(tmp_path / "y.npy", np.array(["a", "a", "a"]))  # dtype <U1
    p = np.array([[0.5, 0.3, 0.2], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8]])
    np.save(tmp_path / "p.npy", p)
    report = _json(tmp_path / "y.npy", tmp_path / "p.npy", "--labels", "a9", "a0", "a")
    assert report["labels"] == ["a", "a0", "a9"]
    _expect(report, np.array(["a"] * 3), p, labels=["a", "a0", "a9"])


def test_json_is_strict_nan_becomes_null(tmp_path):
    np.save(tmp_path / "y.npy", np.array([1]))
    np.save(tmp_path / "p.npy", np.array([0.5]))
    code, out, err = _run(tmp_path / "y.npy", tmp_path / "p.npy", "--labels", "0", "1", "--format", "json")
    assert code == 0
    report = json.loads(out, parse_constant=_reject_constant)
    assert report["d2_log_loss_score"] is None  # undefined for one sample
    assert "not well-defined" in err  # scikit-learn's warning, once


def test_big_endian_and_uint64_npy(tmp_path):
    y = np.array([2**64 - 1, 2**63, 2**63, 5, 2**64 - 1], dtype=np.uint64)
    z = np.array([0.5, -2.0, 3.0, 1.0, -0.25])
    np.save(tmp_path / "y.npy", y.astype(">u8"))
    np.save(tmp_path / "z.npy", np.column_stack([z, -z, 2 * z]).astype(">f8"))
    report = _json(tmp_path / "y.npy", tmp_path / "z.npy", "--logits")
    assert report["labels"] == [5, 2**63, 2**64 - 1]
    assert report["class_counts"] == [1, 2, 2]
    logits = np.column_stack([z, -z, 2 * z])
    codes = np.searchsorted(np.unique(y), y)
    np.testing.assert_allclose(report["log_loss"], log_loss(codes, softmax(logits, axis=1)), rtol=1e-12)
    report = _json(tmp_path / "y.npy", tmp_path / "z.npy", "--logits", "--labels", str(2**64 - 1), "5", str(2**63))
    assert report["class_counts"] == [1, 2, 2]
    np.save(tmp_path / "b.npy", np.array([0, 1, 1, 0, 1]).astype(">i8"))
    np.save(tmp_path / "zb.npy", z.astype(">f8"))
    np.savez(tmp_path / "d.npz", y=np.array([0, 1, 1, 0, 1]).astype(">i4"), z=z.astype(">f4"))
    for args in ([tmp_path / "b.npy", tmp_path / "zb.npy"], [f"{tmp_path / 'd.npz'}:y", f"{tmp_path / 'd.npz'}:z"]):
        report = _json(*args, "--logits")
        np.testing.assert_allclose(report["log_loss"], log_loss([0, 1, 1, 0, 1], expit(z)), rtol=1e-6)


def test_uint64_parquet_labels(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    y = np.array([2**64 - 1, 2**63, 2**63 + 1, 2**63], dtype=np.uint64)
    p = np.array([0.3, 0.6, 0.9, 0.2])
    pq.write_table(pa.table({"y": y, "p": p}), tmp_path / "d.parquet")
    path = tmp_path / "d.parquet"
    err = _error(f"{path}:y", f"{path}:p", "--labels", str(2**63), str(2**64 - 1))
    assert f"row 2: label {2**63 + 1} is not one of the classes" in err
    y[2] = 2**63
    pq.write_table(pa.table({"y": y, "p": p}), path)
    report = _json(f"{path}:y", f"{path}:p")
    assert report["labels"] == [2**63, 2**64 - 1] and report["class_counts"] == [3, 1]
    np.testing.assert_allclose(report["log_loss"], log_loss([1, 0, 0, 0], p), rtol=1e-12)


def test_parquet_categorical_labels(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    y = ["x", "y", "x", "y\x00"]
    p = np.array([[0.1, 0.6, 0.3], [0.2, 0.5, 0.3], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])
    table = pa.table({"y": pa.array(y).dictionary_encode(), "p0": p[:, 0], "p1": p[:, 1], "p2": p[:, 2]})
    pq.write_table(table, tmp_path / "d.parquet")
    path = tmp_path / "d.parquet"
    report = _json(f"{path}:y", f"{path}:p0,p1,p2", "--chunk-size", 3)
    assert report["labels"] == ["x", "y", "y\x00"]  # a trailing NUL is part of the label
    np.testing.assert_allclose(report["log_loss"], log_loss([0, 1, 0, 2], p), rtol=1e-12)


@pytest.mark.parametrize("one_file", [False, True])
def test_named_pipe_is_read_once(tmp_path, one_file):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes")
    fifo = tmp_path / "y.csv"
    os.mkfifo(fifo)
    if one_file:  # labels and predictions from the same pipe
        content, args = b"y,p\n0,0.2\n1,0.7\n1,0.6\n0,0.1\n", [f"{fifo}:y", f"{fifo}:p"]
    else:
        np.save(tmp_path / "p.npy", np.array([0.2, 0.7, 0.6, 0.1]))
        content, args = b"0\n1\n1\n0\n", [fifo, tmp_path / "p.npy"]
    writer = threading.Thread(target=lambda: fifo.write_bytes(content))
    writer.start()
    try:
        report = _json(*args)
    finally:
        writer.join(timeout=30)
    _expect(report, np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.6, 0.1]))


def test_zero_weights_name_the_file_and_zero_blocks_are_fine(tmp_path):
    y, p = np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.6, 0.1])
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "w.npy", np.zeros(4))
    err = _error(tmp_path / "y.npy", tmp_path / "p.npy", "--weights", tmp_path / "w.npy")
    assert "w.npy: all weights are 0" in err
    w = np.array([0.0, 0.0, 1.0, 3.0])  # the first block weighs nothing
    np.save(tmp_path / "w.npy", w)
    report = _json(tmp_path / "y.npy", tmp_path / "p.npy", "--weights", tmp_path / "w.npy", "--chunk-size", 2)
    _expect(report, y, p, sample_weight=w)


def test_huge_chunk_size_and_dotted_i_in_file_names(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    y, p = np.array([0, 1, 1]), np.array([0.2, 0.7, 0.4])
    folder = tmp_path / "İİ.csv dir"
    folder.mkdir()
    csv_path = folder / "İstanbul İİ.csv"
    csv_path.write_text("y,p\n" + "".join(f"{a},{b}\n" for a, b in zip(y, p)))
    pq.write_table(pa.table({"y": y, "p": p}), folder / "İ.parquet")
    for source in (csv_path, folder / "İ.parquet"):
        report = _json(f"{source}:y", f"{source}:p", "--chunk-size", 10**20)
        _expect(report, y, p)


def test_headerless_csv_with_a_text_column_keeps_its_first_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("cat,0.1,0.9\ndog,0.2,0.8\ncat,0.5,0.5\n")
    report = _json(f"{path}:0", f"{path}:1,2")
    _expect(report, np.array(["cat", "dog", "cat"]), np.array([[0.1, 0.9], [0.2, 0.8], [0.5, 0.5]]))


@pytest.mark.parametrize(
    "content, message",
    [
        (b'0\n"1\n0\n', "y.csv: line 3: unexpected end of data"),
        (b"caf\xe9\nab\n", "y.csv: not UTF-8 text"),
        (b"0\n1,2\n0\n", "y.csv: line 2: expected 1 fields, found 2"),
        (b"1" * 5000 + b"\n0\n0\n", "y.csv: row 0: label 1111"),
        (b"nan\n1\n0\n", "y.csv: row 0: label nan is not finite"),
    ],
)
def test_malformed_label_csv_is_one_line(tmp_path, content, message):
    (tmp_path / "y.csv").write_bytes(content)
    np.save(tmp_path / "p.npy", np.array([0.2, 0.7, 0.4]))
    assert message in _error(tmp_path / "y.csv", tmp_path / "p.npy")


def test_bytes_labels_and_odd_prediction_dtypes(tmp_path):
    y = np.array([b"a", b"b", b"a"])
    p = np.array([0.2, 0.7, 0.4])
    np.save(tmp_path / "y.npy", y)
    for dtype in (np.float16, np.longdouble, ">f4"):
        np.save(tmp_path / "p.npy", p.astype(dtype))
        report = _json(tmp_path / "y.npy", tmp_path / "p.npy")
        assert report["labels"] == ["a", "b"]
        # scikit-learn refuses bytes labels; the same labels as str:
        expected = log_loss(y.astype(str), p.astype(dtype).astype(float))
        # float16 and longdouble are read as float64; float32 keeps float32 precision.
        rtol = 1e-6 if dtype == ">f4" else 1e-12
        np.testing.assert_allclose(report["log_loss"], expected, rtol=rtol)


def test_control_characters_do_not_break_lines(tmp_path):
    np.save(tmp_path / "y.npy", np.array(["a\nb", "c", "c"]))
    np.save(tmp_path / "p.npy", np.array([0.2, 0.7, 0.4]))
    code, out, _ = _run(tmp_path / "y.npy", tmp_path / "p.npy")
    assert code == 0 and "a\\nb  " in out
    bad = tmp_path / "a\nb.npy"
    err = _error(tmp_path / "y.npy", bad)
    assert "a\\nb.npy: no such file" in err


def test_wrong_command_line_is_one_line_with_status_2():
    code, out, err = _run("y.npy", "p.npy", "--chunk-size", "0")
    assert (code, out) == (2, "")
    assert err == ("fastxent score: error: argument --chunk-size: must be positive: 0 (see fastxent score --help)\n")


class _Output:
    """A standard output that fails on flush like a closed pipe or a full disk."""

    def __init__(self, error):
        self.error = error

    def write(self, text):
        return len(text)

    def flush(self):
        raise self.error


@pytest.mark.parametrize(
    "stdout, status, message",
    [
        (None, 1, "fastxent: error: cannot write the result: standard output is closed\n"),
        (
            _Output(OSError(28, "No space left on device")),
            1,
            "fastxent: error: cannot write the result to standard output: [Errno 28] No space left on device\n",
        ),
        (_Output(BrokenPipeError(32, "Broken pipe")), 141, ""),
    ],
)
def test_lost_output_is_never_a_silent_success(tmp_path, monkeypatch, stdout, status, message):
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    np.save(tmp_path / "p.npy", np.array([0.2, 0.7]))
    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["score", str(tmp_path / "y.npy"), str(tmp_path / "p.npy")]) == status
    assert err.getvalue() == message


@pytest.mark.skipif(not hasattr(os, "pipe") or sys.platform == "win32", reason="POSIX pipes")
def test_console_script_on_a_gone_reader_or_closed_stdout(tmp_path):
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    np.save(tmp_path / "p.npy", np.array([0.2, 0.7]))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, like `| head -c 1` after its byte
    try:
        result = subprocess.run(
            [sys.executable, "-m", "fastxent.cli", "score", str(tmp_path / "y.npy"), str(tmp_path / "p.npy")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")
    closed = subprocess.run(  # `fastxent score ... >&-`
        [sys.executable, "-m", "fastxent.cli", "score", str(tmp_path / "y.npy"), str(tmp_path / "p.npy")],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 1
    assert closed.stderr == "fastxent: error: cannot write the result: standard output is closed\n"
