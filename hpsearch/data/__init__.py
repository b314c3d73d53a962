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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpsearch.data.sources import BLOBS_FEATURES, DataConfig
from hpsearch.errors import DataError
from hpsearch.sampling import DATA_GENERATE_STREAM, DATA_SPLIT_STREAM, data_rng


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


def load_dataset(data: DataConfig, seed: int, base_dir: Path | str = ".") -> Dataset:
    """The dataset ``data`` describes, split and standardised; relative paths start at base_dir.

    Raises DataError for a missing or malformed file and for data that cannot be split.
    """
    if data.source in ("csv", "npz"):
        from hpsearch.data.files import (
            encode,
            encode_val,
            read_csv,
            read_npz,
            resolve,
            typed_labels,
        )

        assert data.path is not None
        read = read_csv if data.source == "csv" else read_npz
        table = read(resolve(data.path, base_dir), data.target, None)
        val = None
        if data.val_path is not None:
            val = read(resolve(data.val_path, base_dir), data.target, table)
        table, val = typed_labels(table, val)
        y, labels = encode(table.labels)
        _check_classes(y, labels, table.file)
        if val is None:
            return _split_and_scale(table.file.name, table.x, y, labels, data, seed, table.file)
        y_val = encode_val(val, labels)
        return _scaled(table.file.name, table.x, y, val.x, y_val, labels)

    rng = data_rng(seed, DATA_GENERATE_STREAM)
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
    train, val = split_stratified(y, data.val_fraction, data_rng(seed, DATA_SPLIT_STREAM))
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
