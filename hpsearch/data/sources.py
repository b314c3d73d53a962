"""What the ``data`` section can name: the sources, the keys each takes, their defaults."""

from __future__ import annotations

from dataclasses import dataclass

DATA_SOURCES = ("spirals", "blobs", "digits", "csv", "npz")
# The data keys each source takes besides ``source``; any other is an error.
DATA_KEYS = {
    "spirals": ("classes", "samples", "noise", "val_fraction", "seed"),
    "blobs": ("classes", "samples", "features", "noise", "val_fraction", "seed"),
    "digits": ("val_fraction", "seed"),
    "csv": ("path", "target", "val_path", "val_fraction", "seed"),
    "npz": ("path", "val_path", "val_fraction", "seed"),
}
FILE_SUFFIXES = {".csv": "csv", ".npz": "npz"}  # a path's extension -> its source
BLOBS_FEATURES = 2  # data.features when a blobs section leaves it out
BUILT_IN = ("spirals", "blobs", "digits")  # what needs no file


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section. A field is None when it does not apply to the source."""

    source: str = "spirals"
    classes: int | None = 4  # spirals, blobs
    samples: int | None = 2000  # spirals, blobs
    features: int | None = None  # blobs only (BLOBS_FEATURES when not given)
    noise: float | None = 0.2  # spirals, blobs
    val_fraction: float | None = 0.2  # None when val_path gives the validation set
    path: str | None = None  # csv, npz: as written; relative to the config file's directory
    target: str | None = None  # csv: the label column
    val_path: str | None = None  # csv, npz: a validation file in the same format
    seed: int | None = None  # generation and split; None: the config's seed
