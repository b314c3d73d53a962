"""Reading a dataset from a CSV or NPZ file: one located ``DataError`` for anything wrong.

data.csv:17: column 'x2': not a number: 'abc'
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

from hpsearch.errors import DataError, suggest


@dataclass(frozen=True, eq=False)
class _Table:
    """A data file's contents before encoding: features, raw labels, where each row was."""

    file: Path
    x: np.ndarray  # (rows, features) float64, all finite
    labels: list[Any]  # one per row: numbers or strings (in a text file, as written)
    lines: list[int] | None = None  # the line of each row, in a text file
    columns: tuple[str, ...] | None = None  # the feature columns' names, in a text file


def resolve(path: str, base_dir: Path | str) -> Path:
    return Path(base_dir) / Path(path).expanduser()


def _check_readable(file: Path, kind: str) -> None:
    if not file.exists():
        raise DataError("file not found", file=str(file))
    if file.is_dir():
        raise DataError(f"is a directory, expected a {kind} file", file=str(file))


def read_csv(file: Path, target: str | None, like: _Table | None) -> _Table:
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


def typed_labels(table: _Table, val: _Table | None) -> tuple[_Table, _Table | None]:
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


def read_npz(file: Path, target: str | None, like: _Table | None) -> _Table:
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


def encode(raw: Sequence[Any]) -> tuple[np.ndarray, tuple]:
    """Labels -> class indices 0..K-1 in sorted order, and the original label of each."""
    labels = tuple(sorted(set(raw)))
    index = {label: k for k, label in enumerate(labels)}
    return np.array([index[label] for label in raw], dtype=np.int64), labels


def encode_val(val: _Table, labels: tuple) -> np.ndarray:
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
