"""Scoring files of any size in row blocks (the engine of ``fastxent score``).

The log loss goes through fastxent's streaming accumulators (probabilities:
:class:`~fastxent.LogLossAccumulator`; logits: the cross-entropy
accumulators, which apply the log-sigmoid / log-softmax inside the kernel,
so no probability array is ever formed).  Per-class weight totals, the
accuracy and the counts are block-wise NumPy on arrays of one block.

D² is scikit-learn's ``d2_log_loss_score``: for probabilities the
accumulator's own; for logits the same formula
(:func:`fastxent._api.log_loss.d2_from_class_weights`) applied to the
accumulator's loss sum and the class weight totals: one minus the ratio of
the loss to that of the null model that always predicts the (weighted)
class frequencies :math:`\\pi_c = W_c / W`.
"""

import math

import numpy as np

from .._api.log_loss import d2_from_class_weights
from .._api.validation import first_outside
from .._streaming.log_loss import LogLossAccumulator
from .._streaming.losses import BinaryCrossEntropyAccumulator, CrossEntropyAccumulator
from .csv_reader import exact_integer, is_number, text_classes
from .readers import DEFAULT_BLOCK_BYTES, open_array
from .sources import InputError, block_rows, one_line

__all__ = ["score_files"]


def score_files(
    labels_file,
    predictions_file,
    *,
    weights_file=None,
    labels=None,
    logits=False,
    chunk_size=None,
    progress=None,
):
    """Score saved predictions block by block.

    Returns
    -------
    dict
        ``n_samples``, ``sum_weights`` (None without weights), ``log_loss``,
        ``d2_log_loss_score``, ``accuracy``, ``labels`` and ``class_counts``
        (unweighted, in label order), ``logits``.
    """
    y_src = open_array(labels_file)
    p_src = open_array(predictions_file)
    w_src = open_array(weights_file) if weights_file is not None else None
    _check_shapes(y_src, p_src, w_src)

    rows = block_rows(chunk_size) if chunk_size else _default_rows(y_src, p_src, w_src)
    classes, encode = _class_labels(y_src, labels, rows)
    n_classes = len(classes)
    binary = p_src.ndim == 1
    if binary and n_classes != 2:
        raise InputError(
            f"{p_src.path}: one column of positive-class "
            f"{'logits' if logits else 'probabilities'} needs exactly 2 classes, "
            f"found {n_classes} ({_shorten(classes)})"
        )
    if not binary and p_src.shape[1] != n_classes:
        raise InputError(
            f"{p_src.path}: {p_src.shape[1]} prediction columns but {n_classes} classes "
            f"({_shorten(classes)}); pass all class labels with --labels"
        )

    total = _Totals(n_classes, logits, binary)
    bar = None
    if progress is not None and p_src.shape[0] is not None:
        bar = progress(p_src.shape[0], p_src.shape[0] * p_src.row_bytes)
    streams = [_label_blocks(y_src, rows), p_src.blocks(rows)]
    if w_src is not None:
        streams.append(w_src.blocks(rows))
    start = 0
    try:
        for blocks in _lockstep(streams, [s.path for s in (y_src, p_src, w_src) if s]):
            y_block, p_block = blocks[0], blocks[1]
            w_block = blocks[2] if w_src is not None else None
            stop = start + len(y_block)
            codes = encode(y_block, start)
            p_block = _checked_predictions(p_block, p_src.path, start, logits)
            if w_block is not None:
                w_block = _checked_weights(w_block, w_src.path, start)
            try:
                total.update(codes, p_block, w_block)
            except (ValueError, TypeError) as exc:  # the accumulators' own checks
                files = ", ".join(s.path for s in (p_src, w_src) if s is not None)
                raise InputError(f"{files}: rows {start}-{stop - 1}: {one_line(exc)}") from None
            if bar is not None:
                bar.update(len(y_block))
            start = stop
    finally:
        if bar is not None:
            bar.close()
    if start == 0:
        raise InputError(f"{y_src.path}: no samples")
    if w_src is not None and total.sum_weights() == 0:
        raise InputError(f"{w_src.path}: all weights are 0 (at least one must be positive)")
    return total.report(classes, start, weighted=w_src is not None)


def _check_shapes(y_src, p_src, w_src):
    if y_src.ndim != 1:
        raise InputError(f"{y_src.path}: labels must be 1-D, got shape {y_src.shape}")
    if w_src is not None and w_src.ndim != 1:
        raise InputError(f"{w_src.path}: weights must be 1-D, got shape {w_src.shape}")
    for src in (p_src, w_src):
        if src is not None and src.dtype.kind not in "biuf":
            got = "text" if src.dtype.kind in "OUS" else f"{src.dtype} data"
            raise InputError(f"{src.path}: expected numbers, got {got}")
    lengths = {s.path: s.shape[0] for s in (y_src, p_src, w_src) if s is not None}
    known = {n for n in lengths.values() if n is not None}
    if len(known) > 1:
        described = ", ".join(f"{path} has {n}" for path, n in lengths.items() if n is not None)
        raise InputError(f"different numbers of samples: {described}")


def _default_rows(*sources):
    row_bytes = max(s.row_bytes for s in sources if s is not None)
    return max(1, DEFAULT_BLOCK_BYTES // row_bytes)


def _lockstep(streams, paths):
    """Zip block iterators, failing on the first difference in length."""
    done = object()
    row = 0
    while True:
        blocks = [next(s, done) for s in streams]
        ended = [b is done for b in blocks]
        if all(ended):
            return
        lengths = [0 if b is done else len(b) for b in blocks]
        if any(ended) or len(set(lengths)) > 1:
            shortest = min(lengths)
            described = ", ".join(
                f"{p} ends after {row + n} samples" if n == shortest else f"{p} has more"
                for p, n in zip(paths, lengths)
            )
            raise InputError(f"different numbers of samples: {described}")
        row += lengths[0]
        yield blocks


def _label_blocks(y_src, rows):
    return y_src.label_blocks(rows) if y_src.typeless else y_src.blocks(rows)


def _class_labels(y_src, given, rows):
    """The sorted class labels and a function ``(block, start) -> class indices``.

    The classes are ``given`` (``--labels``, read in the type of the labels)
    or the distinct values of the labels file (one extra pass over it; always
    made for a CSV, whose labels are typed by the values found)."""
    if y_src.typeless:
        classes, codes = text_classes(y_src, rows, given, _show, _shorten)
        _check_class_count(classes, given)
        return classes, lambda block, start: _encode_text(block, codes, classes, y_src.path, start)
    if given is not None:
        classes = np.unique(_convert_labels(given, y_src))
        _check_class_count(classes, given)
        return classes, lambda block, start: _encode(block, classes, y_src.path, start)
    found = None
    for start, block in _enumerate_blocks(y_src.blocks(rows)):
        if block.dtype.kind == "f" and not np.isfinite(block).all():
            bad = start + int(np.flatnonzero(~np.isfinite(block))[0])
            raise InputError(f"{y_src.path}: row {bad}: label {_show(block[bad - start])} is not finite")
        values = np.unique(block)
        found = values if found is None else np.union1d(found, values)
    if found is None:
        raise InputError(f"{y_src.path}: no samples")
    if len(found) == 1:
        raise InputError(f"{y_src.path}: all labels are {_show(found[0])}; pass the class labels with --labels")
    return found, lambda block, start: _encode(block, found, y_src.path, start)


def _check_class_count(classes, given):
    if given is not None and len(classes) < 2:
        raise InputError(f"--labels: at least two classes are needed, got {_shorten(classes)}")


def _enumerate_blocks(blocks):
    start = 0
    for block in blocks:
        yield start, block
        start += len(block)


def _convert_labels(given, y_src):
    """``--labels`` (strings from the command line) as exact values of the labels' dtype."""
    dtype, path = y_src.dtype, y_src.path
    kind = dtype.kind
    if kind == "b":
        words = {"0": False, "false": False, "1": True, "true": True}
        for text in given:
            if text.strip().lower() not in words:
                raise InputError(
                    f"--labels: {text!r} is not a boolean (0, 1, false or true), but {path} holds booleans"
                )
        return np.array([words[text.strip().lower()] for text in given])
    if kind in "iuf":
        for text in given:
            if not is_number(text):
                raise InputError(f"--labels: {' '.join(given)} are not all numbers, but {path} holds numbers")
    if kind in "iu":
        info = np.iinfo(dtype)
        values = []
        for text in given:
            try:
                value = exact_integer(text)
            except ValueError as exc:
                raise InputError(f"--labels: {exc}, but {path} holds integer labels") from None
            if not info.min <= value <= info.max:
                raise InputError(f"--labels: {value} is outside the range of the {dtype} labels of {path}")
            values.append(value)
        return np.array(values, dtype=dtype)
    if kind == "f":
        with np.errstate(over="ignore"):
            values = np.array([float(text) for text in given]).astype(dtype)
        if not np.isfinite(values).all():
            bad = given[int(np.flatnonzero(~np.isfinite(values))[0])]
            raise InputError(f"--labels: {bad.strip()} is not a finite {dtype} number")
        return values
    if kind == "S":
        return np.array([text.encode("utf-8", "surrogateescape") for text in given])
    # Not the file's own width: "<U1" would cut "a0" to "a".
    return np.array(given, dtype=str if kind == "U" else object)


def _is_integer_range(classes):
    return classes.dtype.kind in "iu" and int(classes[-1]) - int(classes[0]) == len(classes) - 1


def _encode(y_block, classes, path, start):
    """Class indices of a block of labels (positions in the sorted ``classes``)."""
    if y_block.dtype.kind != classes.dtype.kind and "O" in (y_block.dtype.kind + classes.dtype.kind):
        y_block = y_block.astype(object)
        classes = classes.astype(object)
    if _is_integer_range(classes) and y_block.dtype == classes.dtype:
        # Integer classes lo, lo+1, ...: the code is an offset (10x faster
        # than a binary search).  The difference wraps around in the labels'
        # own type; read as unsigned it is below n exactly for the classes.
        offset = (y_block - classes[0]).view(np.dtype(f"u{classes.dtype.itemsize}"))
        unknown = offset >= len(classes)
        codes = offset.astype(np.intp)
    else:
        codes = np.searchsorted(classes, y_block)
        np.minimum(codes, len(classes) - 1, out=codes)
        unknown = classes[codes] != y_block
    if unknown.any():
        bad = int(np.flatnonzero(unknown)[0])
        raise InputError(
            f"{path}: row {start + bad}: label {_show(y_block[bad])} is not one of the classes ({_shorten(classes)})"
        )
    return codes


def _encode_text(block, codes, classes, path, start):
    """Class indices of a block of CSV label strings."""
    try:
        return np.fromiter(map(codes.__getitem__, block), dtype=np.intp, count=len(block))
    except KeyError as exc:  # the file changed since the classes were read
        bad = block.index(exc.args[0])
        raise InputError(
            f"{path}: row {start + bad}: label {block[bad]!r} is not one of the classes ({_shorten(classes)})"
        ) from None


def _checked_predictions(p_block, path, start, logits):
    if p_block.dtype not in (np.float32, np.float64):  # float16, longdouble, ints, bools
        p_block = p_block.astype(np.float64)
    bad = first_outside(p_block, -np.inf, np.inf)
    if bad is not None:
        raise InputError(f"{path}: row {start + bad[0]}: {p_block[bad]} is not finite")
    bad = None if logits else first_outside(p_block, 0.0, 1.0)
    if bad is not None:
        raise InputError(
            f"{path}: row {start + bad[0]}: probability {p_block[bad]} is outside [0, 1] (use --logits for logits)"
        )
    return p_block


def _checked_weights(w_block, path, start):
    w_block = w_block.astype(np.float64, copy=False)
    bad = first_outside(w_block, 0.0, np.inf)
    if bad is not None:
        raise InputError(f"{path}: row {start + bad[0]}: weight {w_block[bad]} is negative or not finite")
    return w_block


def _show(value):
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, str) else str(value)


def _plain(value):
    """A label as a JSON-ready Python value (exact for any integer)."""
    value = value.item() if isinstance(value, np.generic) else value
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


def _shorten(values, limit=8):
    shown = ", ".join(_show(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


class _Totals:
    """Running totals of one scoring pass."""

    def __init__(self, n_classes, logits, binary):
        self.n_classes, self.logits, self.binary = n_classes, logits, binary
        if not logits:
            self.loss = LogLossAccumulator(labels=np.arange(n_classes))
        elif binary:
            self.loss = BinaryCrossEntropyAccumulator(from_logits=True)
        else:
            self.loss = CrossEntropyAccumulator(from_logits=True)
        self.counts = np.zeros(n_classes, dtype=np.int64)
        self.class_weight = [[] for _ in range(n_classes)]
        self.correct = []

    def update(self, codes, p_block, w_block):
        if w_block is None:
            self.loss.update(codes, p_block)
        else:
            self.loss.update(codes, p_block, sample_weight=w_block)
        self.counts += np.bincount(codes, minlength=self.n_classes)
        if w_block is not None:
            for c, total in enumerate(np.bincount(codes, weights=w_block, minlength=self.n_classes)):
                self.class_weight[c].append(total)
        threshold = 0.0 if self.logits else 0.5
        predicted = (p_block > threshold) if self.binary else np.argmax(p_block, axis=1)
        hits = predicted == codes
        self.correct.append(float(hits.sum() if w_block is None else w_block[hits].sum()))

    def _logits_d2(self, class_weight, sum_weights, n_samples):
        """scikit-learn's ``d2_log_loss_score`` from the totals of logits."""
        if n_samples < 2 or sum_weights <= 0:
            return math.nan  # scikit-learn: undefined with fewer than two samples
        return d2_from_class_weights(self.loss.loss_sum_, class_weight, sum_weights)

    def _class_weight(self):
        return np.array([math.fsum(parts) for parts in self.class_weight])

    def sum_weights(self):
        return math.fsum(self._class_weight())

    def report(self, classes, n_samples, weighted):
        if weighted:
            class_weight = self._class_weight()
        else:
            class_weight = self.counts.astype(np.float64)
        sum_weights = math.fsum(class_weight)
        mean_loss = float(self.loss.result())
        if self.logits:
            d2 = self._logits_d2(class_weight, sum_weights, n_samples)
        else:
            d2 = self.loss.d2_score()
        accuracy = math.fsum(self.correct) / sum_weights if sum_weights > 0 else math.nan
        return {
            "n_samples": int(n_samples),
            "sum_weights": sum_weights if weighted else None,
            "log_loss": mean_loss,
            "d2_log_loss_score": d2,
            "accuracy": accuracy,
            "labels": [_plain(v) for v in classes],
            "class_counts": [int(c) for c in self.counts],
            "logits": bool(self.logits),
        }
