"""Datasets for the built-in trainer: generated, bundled or read from a file, split and scaled.

``load_dataset`` turns a validated ``DataConfig`` into a ``Dataset``: a stratified, seeded
training / validation split, standardised with the training split's statistics. Every problem
with the data is one ``DataError`` naming the file, the line and the column where it can::

    data.csv:17: column 'x2': not a number: 'abc'

The data are drawn from their own random streams, derived from the search's seed but apart
from every trial's (``SeedSequence(seed, spawn_key=(i, k))`` in ``sampling``): the same seed
gives bit-identical arrays, whatever trials run.
"""

from __future__ import annotations

import csv
import math
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.config import BLOBS_FEATURES, DataConfig, suggest
from hpsearch.errors import DataError

# spawn_key of the data's random streams: one number, so never a trial's (i, k).
_GENERATE_STREAM = 2**31
_SPLIT_STREAM = 2**31 + 1


@dataclass(frozen=True, eq=False)
class Dataset:
    """A split, standardised classification dataset (arrays are read-only)."""

    name: str
    x_train: np.ndarray  # (n_train, features) float64, standardised
    y_train: np.ndarray  # (n_train,) int64 in 0..K-1
    x_val: np.ndarray  # (n_val, features) float64, standardised with the training statistics
    y_val: np.ndarray  # (n_val,) int64
    labels: tuple  # the original label of class index k
    mean: np.ndarray  # (features,) training mean subtracted
    std: np.ndarray  # (features,) training std divided by (1 for a constant column)

    @property
    def classes(self) -> int:
        return len(self.labels)

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


def data_rng(seed: int, stream: int = _GENERATE_STREAM) -> np.random.Generator:
    """The data's random generator for a search seed (``stream``: generation or split)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def load_dataset(data: DataConfig, seed: int, base_dir: Path | str = ".") -> Dataset:
    """The dataset ``data`` describes, split and standardised; relative paths start at base_dir.

    Raises DataError for a missing or malformed file and for data that cannot be split.
    """
    if data.source in ("csv", "npz"):
        assert data.path is not None
        read = _read_csv if data.source == "csv" else _read_npz
        table = read(_resolve(data.path, base_dir), data.target, None)
        val = None
        if data.val_path is not None:
            val = read(_resolve(data.val_path, base_dir), data.target, table)
        table, val = _typed_labels(table, val)
        y, labels = _encode(table.labels)
        _check_classes(y, labels, table.file)
        if val is None:
            return _split_and_scale(table.file.name, table.x, y, labels, data, seed, table.file)
        y_val = _encode_val(val, labels)
        return _scaled(table.file.name, table.x, y, val.x, y_val, labels)

    rng = data_rng(seed, _GENERATE_STREAM)
    if data.source == "digits":
        x, y = _digits()
    elif data.source == "spirals":
        assert data.classes and data.samples and data.noise is not None
        x, y = make_spirals(data.classes, data.samples, data.noise, rng)
    elif data.source == "blobs":
        assert data.classes and data.samples and data.noise is not None
        features = data.features if data.features is not None else BLOBS_FEATURES
        x, y = make_blobs(data.classes, data.samples, features, data.noise, rng)
    else:
        raise AssertionError(f"unknown data source {data.source!r}")
    labels = tuple(range(int(y.max()) + 1))
    _check_classes(y, labels, None)
    return _split_and_scale(data.source, x, y, labels, data, seed, None)


# -- generated and bundled sets ------------------------------------------------------------


def _per_class(classes: int, samples: int) -> list[int]:
    """``samples`` split as evenly as possible: the first ``samples % classes`` get one more."""
    return [samples // classes + (k < samples % classes) for k in range(classes)]


def make_spirals(
    classes: int, samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """K interleaved spiral arms in 2-D, evenly spaced, each making one full turn.

    For each point of arm k, r runs evenly from 0 to 1 and the angle is 2πk/K + 2πr plus
    ``noise`` times a standard normal (radians); the point is (r sin θ, r cos θ). Arms start
    2π/K apart, so with 4 classes and noise 0.2 neighbouring arms are 4 noise-widths apart.
    (CS231n's version starts arm k at angle 4k, which for 4 classes leaves two arms only
    0.56 rad apart.) Returns x (samples, 2) and y (samples,), in class order.
    """
    xs, ys = [], []
    for k, n in enumerate(_per_class(classes, samples)):
        r = np.linspace(0.0, 1.0, n)
        theta = 2.0 * np.pi * (k / classes + r) + noise * rng.standard_normal(n)
        xs.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        ys.append(np.full(n, k, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def make_blobs(
    classes: int, samples: int, features: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs: centres uniform in [-1, 1]^features, spread ``noise``.

    Each point is its class centre plus ``noise`` times a standard normal vector, so noise is
    each blob's standard deviation, against centres 1.0 apart on average in 2-D. With the
    defaults (4 classes, 2 features, noise 0.2) the best possible accuracy (nearest centre) is
    0.9 for the median seed and 0.74 to 0.98 for 90 % of seeds: the centres are random, and
    two may fall close together. More features spread them apart (10 features: 1.0), more
    classes crowd them (10 classes: 0.7). Returns x (samples, features) and y, in class order.
    """
    centres = rng.uniform(-1.0, 1.0, size=(classes, features))
    xs, ys = [], []
    for k, n in enumerate(_per_class(classes, samples)):
        xs.append(centres[k] + noise * rng.standard_normal((n, features)))
        ys.append(np.full(n, k, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits: 1,797 images, 64 pixels in 0..16, 10 classes."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError(
            "data.source 'digits' needs scikit-learn: pip install 'hpsearch[datasets]'"
        ) from None
    x, y = load_digits(return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)


# -- split and standardisation ------------------------------------------------------------


def split_stratified(
    y: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices with each class in both, in proportion.

    Class c's n_c rows are shuffled and round(n_c * val_fraction) of them (rounded half up,
    at least 1, at most n_c - 1) go to validation. Each index array is then shuffled, so
    neither is in class order. Every class needs at least 2 rows.
    """
    y = np.asarray(y)
    train, val = [], []
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        if len(rows) < 2:
            raise ValueError(f"class {c!r} has {len(rows)} row; each class needs at least 2")
        n_val = min(max(math.floor(len(rows) * val_fraction + 0.5), 1), len(rows) - 1)
        val.append(rows[:n_val])
        train.append(rows[n_val:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))


def standardize(
    x_train: np.ndarray, x_val: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, x_val, mean, std): both scaled by the training split's per-feature mean and std.

    A constant training column is divided by 1 instead of 0.
    """
    x_train = np.asarray(x_train, dtype=np.float64)
    x_val = np.asarray(x_val, dtype=np.float64)
    mean = x_train.mean(axis=0)
    constant = x_train.max(axis=0) == x_train.min(axis=0)
    std = np.where(constant, 1.0, x_train.std(axis=0))
    return (x_train - mean) / std, (x_val - mean) / std, mean, std


def _split_and_scale(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    labels: tuple,
    data: DataConfig,
    seed: int,
    file: Path | None,
) -> Dataset:
    counts = np.bincount(y, minlength=len(labels))
    short = int(np.argmin(counts))
    if counts[short] < 2:
        raise DataError(
            f"too few rows to split into training and validation: {len(y)} rows in "
            f"{len(labels)} classes, and class {labels[short]!r} has {counts[short]}; "
            "each class needs at least 2 rows, one for each split",
            file=str(file) if file else None,
        )
    assert data.val_fraction is not None
    train, val = split_stratified(y, data.val_fraction, data_rng(seed, _SPLIT_STREAM))
    return _scaled(name, x[train], y[train], x[val], y[val], labels)


def _scaled(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    labels: tuple,
) -> Dataset:
    x_train, x_val, mean, std = standardize(x_train, x_val)
    arrays = [x_train, y_train.astype(np.int64), x_val, y_val.astype(np.int64), mean, std]
    for array in arrays:
        array.flags.writeable = False
    x_train, y_train, x_val, y_val, mean, std = arrays
    return Dataset(name, x_train, y_train, x_val, y_val, labels, mean, std)


def _check_classes(y: np.ndarray, labels: tuple, file: Path | None) -> None:
    if len(labels) < 2:
        raise DataError(
            f"only one class ({labels[0]!r}) in {len(y)} rows; need at least 2 to classify",
            file=str(file) if file else None,
        )


# -- files --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Table:
    """A data file's contents before encoding: features, raw labels, where each row was."""

    file: Path
    x: np.ndarray  # (rows, features) float64, all finite
    labels: list[Any]  # one per row: numbers or strings (in a text file, as written)
    lines: list[int] | None = None  # the line of each row, in a text file
    columns: tuple[str, ...] | None = None  # the feature columns' names, in a text file


def _resolve(path: str, base_dir: Path | str) -> Path:
    return Path(base_dir) / Path(path).expanduser()


def _check_readable(file: Path, kind: str) -> None:
    if not file.exists():
        raise DataError("file not found", file=str(file))
    if file.is_dir():
        raise DataError(f"is a directory, expected a {kind} file", file=str(file))


def _read_csv(file: Path, target: str | None, like: _Table | None) -> _Table:
    """A CSV file with a header row; ``like``: the training file, whose columns it must have."""
    assert target is not None
    _check_readable(file, "CSV")
    name = str(file)
    rows: list[list[float]] = []
    raw: list[str] = []
    lines: list[int] = []
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next((row for row in reader if row), None)
            if header is None:
                raise DataError("is empty; expected a header row naming the columns", file=name)
            header_line = reader.line_num
            names = [cell.strip() for cell in header]
            label_at = _header(names, target, name, header_line)
            feature_at = [i for i in range(len(names)) if i != label_at]
            if like is not None and like.columns is not None:
                feature_at = _same_columns(names, feature_at, like.columns, name, header_line)
            for cells in reader:
                if not cells:
                    continue
                line = reader.line_num
                if len(cells) != len(names):
                    raise DataError(
                        f"{len(cells)} cells, the header has {len(names)} columns",
                        file=name,
                        line=line,
                    )
                label = cells[label_at].strip()
                if not label:
                    raise DataError(f"column '{target}': empty label", file=name, line=line)
                rows.append([_cell(cells[i], names[i], name, line) for i in feature_at])
                raw.append(label)
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"is not UTF-8 text (byte {exc.start}); expected a CSV file", file=name
        ) from None
    except csv.Error as exc:
        raise DataError(f"cannot read as CSV: {exc}", file=name) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", file=name) from None
    if not rows:
        raise DataError("has a header row but no data rows", file=name, line=header_line)
    x = np.array(rows, dtype=np.float64).reshape(len(rows), len(feature_at))
    return _Table(file, x, raw, lines, tuple(names[i] for i in feature_at))


def _header(names: list[str], target: str, file: str, line: int) -> int:
    """The label column's index, after checking that the header names the columns."""
    for i, column in enumerate(names):
        if not column:
            raise DataError(f"header: column {i + 1} has no name", file=file, line=line)
    for column, count in Counter(names).items():
        if count > 1:
            raise DataError(
                f"header: column '{column}' appears {count} times", file=file, line=line
            )
    if target in names:
        if len(names) == 1:
            raise DataError(
                f"no feature columns, only the label column '{target}'", file=file, line=line
            )
        return names.index(target)
    if all(_is_float(column) for column in names):
        raise DataError(
            f"no header row: the first line must name the columns, e.g. x1,x2,{target}",
            file=file,
            line=line,
        )
    shown = ", ".join(names[:12]) + (f", … ({len(names)} columns)" if len(names) > 12 else "")
    hint = suggest(target, names)
    hint = hint if hint.startswith("; did you mean") else ""
    raise DataError(
        f"no column '{target}' (data.target); the columns are: {shown}{hint}",
        file=file,
        line=line,
    )


def _same_columns(
    names: list[str], feature_at: list[int], expected: tuple[str, ...], file: str, line: int
) -> list[int]:
    """A validation file's feature columns, reordered to the training file's order."""
    shown = ", ".join(expected[:12]) + (", …" if len(expected) > 12 else "")
    found = [names[i] for i in feature_at]
    for column in expected:
        if column not in found:
            raise DataError(
                f"no column '{column}'; a validation file needs the training file's "
                f"columns: {shown}",
                file=file,
                line=line,
            )
    for column in found:
        if column not in expected:
            raise DataError(
                f"column '{column}' is not in the training file, whose columns are: {shown}",
                file=file,
                line=line,
            )
    return [names.index(column) for column in expected]


def _cell(text: str, column: str, file: str, line: int) -> float:
    text = text.strip()
    if not text:
        raise DataError(f"column '{column}': empty cell", file=file, line=line)
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"column '{column}': not a number: '{text}'", file=file, line=line
        ) from None
    if not math.isfinite(value):
        raise DataError(f"column '{column}': not a finite number: '{text}'", file=file, line=line)
    return value


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _typed_labels(table: _Table, val: _Table | None) -> tuple[_Table, _Table | None]:
    """A text file's labels as ints if all are, else as floats if all are finite, else text.

    Decided over both files, so numeric labels sort as numbers (2 before 10) and match.
    """
    if table.lines is None:
        return table, val
    raw = table.labels + (val.labels if val else [])
    values: list[Any] = raw
    for kind in (int, float):
        try:
            numbers = [kind(label) for label in raw]
        except ValueError:
            continue
        if all(math.isfinite(v) for v in numbers):
            values = numbers
            break
    n = len(table.labels)
    table = replace(table, labels=values[:n])
    return table, (replace(val, labels=values[n:]) if val else None)


def _read_npz(file: Path, target: str | None, like: _Table | None) -> _Table:
    """An .npz file with arrays X and y; ``like``: the training file, whose width X must have."""
    _check_readable(file, ".npz")
    name = str(file)
    saved = "np.savez(path, X=features, y=labels)"
    try:
        loaded = np.load(file, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile):
        raise DataError(f"is not a NumPy .npz file ({saved} writes one)", file=name) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", file=name) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataError(
            f"holds a single array; expected an .npz file with arrays X and y ({saved})",
            file=name,
        )
    with loaded:
        x, y = (_npz_array(loaded, key, name) for key in ("X", "y"))
    if x.ndim != 2 or x.shape[1] < 1:
        raise DataError(f"X must be 2-D (rows, features), got shape {x.shape}", file=name)
    if x.dtype.kind not in "biuf":
        raise DataError(f"X must hold numbers, got dtype {x.dtype}", file=name)
    if y.ndim != 1:
        raise DataError(
            f"y must be 1-D (one label per row), got shape {y.shape}; save y.ravel()", file=name
        )
    if y.dtype.kind not in "biufUS":
        raise DataError(f"y must hold numbers or strings, got dtype {y.dtype}", file=name)
    if len(y) != len(x):
        raise DataError(f"X has {len(x)} rows but y has {len(y)} labels", file=name)
    if len(x) == 0:
        raise DataError("X and y have no rows", file=name)
    if like is not None and x.shape[1] != like.x.shape[1]:
        raise DataError(
            f"X has {x.shape[1]} columns, the training file's X has {like.x.shape[1]}; "
            "a validation file needs the same columns",
            file=name,
        )
    x = x.astype(np.float64)
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        row, col = (int(i) for i in bad[0])
        raise DataError(f"X[{row}, {col}] is not a finite number: {x[row, col]}", file=name)
    if y.dtype.kind == "f":
        bad_y = np.flatnonzero(~np.isfinite(y))
        if len(bad_y):
            raise DataError(f"y[{bad_y[0]}] is not a finite number: {y[bad_y[0]]}", file=name)
    return _Table(file, x, y.tolist())


def _npz_array(archive: Any, key: str, file: str) -> np.ndarray:
    if key not in archive.files:
        what = "the features, rows × columns" if key == "X" else "the labels, one per row"
        held = ", ".join(archive.files) or "no arrays"
        raise DataError(f"no array '{key}' ({what}); the file holds: {held}", file=file)
    try:
        return archive[key]
    except ValueError:
        raise DataError(
            f"array '{key}' holds Python objects; save numbers or strings", file=file
        ) from None


# -- labels -------------------------------------------------------------------------------


def _encode(raw: Sequence[Any]) -> tuple[np.ndarray, tuple]:
    """Labels -> class indices 0..K-1 in sorted order, and the original label of each."""
    labels = tuple(sorted(set(raw)))
    index = {label: k for k, label in enumerate(labels)}
    return np.array([index[label] for label in raw], dtype=np.int64), labels


def _encode_val(val: _Table, labels: tuple) -> np.ndarray:
    """A validation file's labels encoded with the training file's classes."""
    index = {label: k for k, label in enumerate(labels)}
    for row, label in enumerate(val.labels):
        if label not in index:
            what, line = (f"y[{row}] =", None) if val.lines is None else ("label", val.lines[row])
            shown = ", ".join(str(x) for x in labels[:12]) + (", …" if len(labels) > 12 else "")
            raise DataError(
                f"{what} {label!r} is not among the training file's classes: {shown}",
                file=str(val.file),
                line=line,
            )
    y_val = np.array([index[label] for label in val.labels], dtype=np.int64)
    counts = np.bincount(y_val, minlength=len(labels))
    missing = int(np.argmin(counts))
    if counts[missing] == 0:
        raise DataError(
            f"no rows of class {labels[missing]!r} ({len(y_val)} rows, {len(labels)} classes); "
            "the validation file needs at least one row of each class",
            file=str(val.file),
        )
    return y_val
