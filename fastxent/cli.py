"""The ``fastxent`` command line: score saved predictions, run the benchmark.

``fastxent score LABELS PREDICTIONS`` streams both files in row blocks
through fastxent's accumulators, so memory stays bounded whatever the file
size (``.npy`` is memory-mapped, ``.csv``/``.npz``/``.parquet`` are read
block by block; see :mod:`fastxent._scoring.readers`).  It prints the log loss, D², the
accuracy, the number of samples and the per-class counts.

``fastxent bench`` prints the comparison table of ``fastxent.benchmarks.run``
(``--scaling``: the time against input size of ``fastxent.benchmarks.scaling``;
imported by that command only, and never importing this module).

``fastxent warmup`` compiles the common signatures into Numba's on-disk
cache (see :mod:`fastxent.warmup`).

Errors in the input (missing file, wrong shape, lengths that differ, NaN,
text in a numeric CSV, unknown extension) are reported as one line on
stderr with exit status 1 (2 for a wrong command line), never as a traceback
(``FASTXENT_DEBUG=1`` shows the traceback of an unexpected error).  When
standard output cannot be written the status is 1 with a message; when its
reader has gone (``fastxent score ... | head -c 1``) the command stops
quietly with status 141, like a program ended by SIGPIPE.
"""

import argparse
import json
import math
import os
import sys
import time
import warnings

from ._scoring.readers import DEFAULT_BLOCK_BYTES, InputError

__all__ = ["main"]

EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # the status of a program ended by SIGPIPE
PROGRESS_MIN_BYTES = 256 << 20  # below this a run takes well under a second


class _OutputError(Exception):
    """Standard output cannot be written (closed, disk full)."""


class _UsageError(Exception):
    """A wrong command line; the message is one line."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (``fastxent score: error: ...``)."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def main(argv=None):
    """Entry point of the ``fastxent`` console script; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        _error_line(_printable(str(exc)))
        return EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (InputError, _OutputError) as exc:
        _error_line(f"fastxent: error: {_printable(str(exc))}")
    except KeyboardInterrupt:
        _error_line("fastxent: interrupted")
        return 130
    except Exception as exc:  # e.g. a ValueError of the accumulators, a corrupt archive
        if os.environ.get("FASTXENT_DEBUG"):
            raise
        text = str(exc).strip().splitlines()
        detail = _printable(text[0]) if text else ""
        if not isinstance(exc, (ValueError, TypeError, OSError)):
            detail = f"{type(exc).__name__}: {detail}"
        _error_line(f"fastxent: error: {detail}")
    return EXIT_INPUT_ERROR


def _printable(text):
    """``text`` on one line: control characters (a newline in a file name) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _error_line(text):
    if sys.stderr is not None:
        print(text, file=sys.stderr)


def _emit(text):
    """Write ``text`` and a newline to standard output, failing loudly if it is lost."""
    out = sys.stdout
    if out is None:  # started with standard output closed (``>&-``)
        raise _OutputError("cannot write the result: standard output is closed")
    try:
        out.write(text + "\n")
        out.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: the stream object was closed
        raise _OutputError(f"cannot write the result to standard output: {exc}") from None


def _silence_stdout():
    """After a broken pipe: point stdout at /dev/null so that the interpreter's
    final flush of what is still buffered does not fail (and print) again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests, embedding)
        pass


def _parser():
    parser = _Parser(prog="fastxent", description="Fast entropy and cross-entropy: scoring and benchmarks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    score = sub.add_parser(
        "score",
        help="log loss, D², accuracy and class counts of saved predictions",
        description=(
            "Score saved predictions in bounded memory. Files: .npy (memory-mapped), "
            ".npz (FILE.npz:KEY picks an array), .csv (FILE.csv:COLUMN picks columns), "
            ".parquet (needs pyarrow; FILE.parquet:COL1,COL2 picks columns)."
        ),
    )
    score.add_argument("labels_file", metavar="LABELS", help="true labels, one per sample")
    score.add_argument(
        "predictions_file",
        metavar="PREDICTIONS",
        help="probabilities: (n,) of the positive class or (n, k); logits with --logits",
    )
    score.add_argument(
        "--logits",
        action="store_true",
        help="PREDICTIONS are logits (sigmoid for (n,), softmax for (n, k))",
    )
    score.add_argument("--weights", metavar="FILE", help="sample weights, one per sample")
    score.add_argument(
        "--labels",
        nargs="+",
        metavar="LABEL",
        dest="label_set",
        help="all class labels; the prediction columns follow their sorted order (default: the labels found in LABELS)",
    )
    score.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json: one object, with null where a value is undefined (e.g. D² of a single sample)",
    )
    score.add_argument(
        "--chunk-size",
        type=_positive_int,
        metavar="N",
        help=f"rows per block (default: about {DEFAULT_BLOCK_BYTES >> 20} MB per block)",
    )
    score.set_defaults(run=_score_command)

    bench = sub.add_parser("bench", help="benchmark fastxent against the installed rivals")
    bench.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    bench.add_argument(
        "--plot", metavar="FILE.png", help="draw the measured times (with --scaling: time against N) with matplotlib"
    )
    bench.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    bench.add_argument(
        "--scaling",
        action="store_true",
        help="time against input size instead: N = 1e3 to 1e8 (--quick: to 1e6) for three representative cases",
    )
    bench.add_argument(
        "--no-cold-start",
        action="store_true",
        help="skip the time-to-first-result table (each entry point's first call in a fresh process)",
    )
    bench.set_defaults(run=_bench_command)

    warmup = sub.add_parser(
        "warmup",
        help="compile the common signatures of the whole API into Numba's on-disk cache",
        description=(
            "Compile the public API's common signatures (float32/float64, read-only arrays, serial and parallel "
            "kernels) into Numba's cache (NUMBA_CACHE_DIR if set), so that later processes compile nothing. "
            "One line per task: seconds, new specializations and how many were compiled. Exit status 0 only if "
            "every task succeeded."
        ),
    )
    warmup.add_argument("--jobs", type=_positive_int, metavar="N", help="processes at once (default: the CPU count)")
    warmup.add_argument("--only", type=_warmup_tasks, metavar="TASKS", help="comma-separated task or family names")
    warmup.add_argument("--list", action="store_true", help="print the tasks and exit")
    warmup.set_defaults(run=_warmup_command)
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return value


# ------------------------------------------------------------------- score


def _score_command(args):
    from ._scoring.files import score_files

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = score_files(
            args.labels_file,
            args.predictions_file,
            weights_file=args.weights,
            labels=args.label_set,
            logits=args.logits,
            chunk_size=args.chunk_size,
            progress=_progress_factory(),
        )
    for message in dict.fromkeys(str(w.message).strip().splitlines()[0] for w in caught):
        print(f"fastxent: warning: {message}", file=sys.stderr)  # once each, not per block
    if args.format == "json":
        _emit(format_json(report))
    else:
        _emit(format_table(report))
    return 0


def format_json(report):
    """The report as strict JSON: NaN and infinities (which JSON lacks) become null."""
    clean = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value for key, value in report.items()
    }
    return json.dumps(clean, indent=2, allow_nan=False)


def format_table(report):
    """The report of :func:`fastxent._scoring.files.score_files` as aligned text."""
    rows = [
        ("samples", f"{report['n_samples']}"),
        ("log loss", _fmt(report["log_loss"])),
        ("D²", _fmt(report["d2_log_loss_score"])),
        ("accuracy", _fmt(report["accuracy"])),
    ]
    if report["sum_weights"] is not None:
        rows.insert(1, ("sum of weights", _fmt(report["sum_weights"])))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    labels = [_printable(str(label)) for label in report["labels"]]
    label_width = max([len("class")] + [len(label) for label in labels])
    lines.append("")
    lines.append(f"{'class':<{label_width}}  count")
    for label, count in zip(labels, report["class_counts"]):
        lines.append(f"{label:<{label_width}}  {count}")
    return "\n".join(lines)


def _fmt(value):
    return "nan" if value is None or math.isnan(value) else f"{value:.10g}"


def _progress_factory():
    """A callable ``(total_rows, total_bytes) -> bar or None`` for stderr."""

    def make(total_rows, total_bytes):
        if total_rows is None or total_bytes < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return _SimpleBar(total_rows)
        return tqdm(total=total_rows, unit="rows", unit_scale=True, file=sys.stderr, leave=False)

    return make


class _SimpleBar:
    """Percentage on one stderr line, redrawn at most ten times a second."""

    def __init__(self, total):
        self.total, self.done, self._last = max(total, 1), 0, 0.0

    def update(self, rows):
        self.done += rows
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            sys.stderr.write(f"\rscoring {100.0 * self.done / self.total:5.1f}%")
            sys.stderr.flush()

    def close(self):
        sys.stderr.write("\r" + " " * 20 + "\r")
        sys.stderr.flush()


# ------------------------------------------------------------------ warmup


def _warmup_tasks(text):
    from . import warmup

    try:
        return warmup.select(text)
    except KeyError as exc:
        raise argparse.ArgumentTypeError(exc.args[0]) from None


def _warmup_command(args):
    from . import warmup

    tasks = args.only if args.only is not None else warmup.select()
    if args.list:
        width = max(len(t.name) for t in tasks)
        _emit("\n".join(f"{t.name:<{width}}  {t.family:<20}  {', '.join(t.covers)}" for t in tasks))
        return 0
    return 0 if warmup.succeeded(warmup.run(tasks, jobs=args.jobs)) else 1


# ------------------------------------------------------------------- bench


def _bench_command(args):
    # here, not at the top: ``import fastxent.cli`` stays light
    if args.scaling:
        from .benchmarks import scaling as _bench
    else:
        from .benchmarks import run as _bench

    if args.plot:
        try:
            import matplotlib  # noqa: F401  (fail before the long run, not after)
        except ImportError:
            raise InputError("--plot needs matplotlib (pip install 'fastxent[bench]')") from None
    options = {} if args.scaling else {"cold_start": not args.no_cold_start}
    results = _bench.run(
        quick=args.quick,
        json_path=args.json,
        plot_path=args.plot,
        progress=lambda what: print(f"measuring {what} ...", file=sys.stderr),
        **options,
    )
    _emit(_bench.format_markdown(results))
    if args.plot:
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
