"""A built-in-trainer trial saved between two rungs, to continue exactly where it stopped.

One ``.npz`` per trial: the flat parameter vector, the optimizer's state, every BatchNorm's
running statistics, the random generator's state, the learning curve so far and the epochs
trained, with a key naming the trial's settings, seed and data. It is written to a temporary
name, flushed and renamed, so a checkpoint on disk is always whole; one that cannot be read,
was made for other settings, or is not a regular file, is ignored (the trial trains again
from scratch).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from hpsearch.files import loads, open_regular

FILE = "trainer.npz"
META_LIMIT = 16 * 2**20  # bytes of the meta string (settings, curves, random state) at most
_HEADER_LIMIT = 2**16 + 16  # an .npy header (magic, length, dict) is never longer


def key_of(hp: dict[str, Any], seed: int, arrays: tuple[np.ndarray, ...]) -> str:
    """What a checkpoint was made for: settings (but the epochs), seed, and the data itself
    (an edited data file of the same shape must not continue a trial)."""
    settings = {k: v for k, v in hp.items() if k != "epochs"}
    digest = hashlib.sha256(json.dumps([settings, seed], sort_keys=True, default=str).encode())
    for array in arrays:
        digest.update(repr((array.shape, array.dtype.str)).encode())
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


def _state_arrays(model: Any, optimizer: Any) -> dict[str, np.ndarray]:
    arrays = {"params": model.params}
    for name, value in vars(optimizer).items():
        if isinstance(value, np.ndarray) and name != "scratch":
            arrays[f"optimizer.{name}"] = value
    for i, layer in enumerate(model.layers):
        for name in ("running_mean", "running_var"):
            if hasattr(layer, name):
                arrays[f"layer{i}.{name}"] = getattr(layer, name)
    return arrays


def save(
    directory: str,
    key: str,
    model: Any,
    optimizer: Any,
    rng: np.random.Generator,
    curves: dict[str, list[float]],
    epochs: int,
) -> None:
    meta = {
        "key": key,
        "epochs": epochs,
        "curves": curves,
        "rng": rng.bit_generator.state,
        "first_loss": model.first_loss,
        "step": getattr(optimizer, "t", None),
    }
    arrays = {**_state_arrays(model, optimizer), "meta": np.array(json.dumps(meta))}
    path = Path(directory) / FILE
    temporary = path.with_name(f".{FILE}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub: kwds as allow_pickle
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError:
        # No place to keep it (a full disk; a Dask worker that does not see the run
        # directory): the trial trains again from scratch if it goes on. Same result.
        pass
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def load(
    directory: str,
    key: str,
    model: Any,
    optimizer: Any,
    rng: np.random.Generator,
    at_most: int | None = None,
) -> tuple[dict[str, list[float]], int] | None:
    """Restore a trial from its checkpoint into ``model``, ``optimizer`` and ``rng``;
    returns (curves, epochs trained), or None when there is no usable checkpoint (nothing
    is changed then), or it is past ``at_most`` epochs."""
    path = Path(directory) / FILE
    try:
        wanted = _state_arrays(model, optimizer)
        with open_regular(path) as file:
            if not _declares_what_is_wanted(file, wanted):
                return None  # checked before anything is inflated: no decompression bomb
            file.seek(0)
            with np.load(file, allow_pickle=False) as saved:
                meta = loads(str(saved["meta"]))
                if not isinstance(meta, dict) or meta.get("key") != key:
                    return None
                loaded = {name: saved[name] for name in wanted}
        type(rng.bit_generator)().state = meta["rng"]  # raises if it is not one
        curves, epochs = meta["curves"], meta["epochs"]
        if not isinstance(curves, dict) or not isinstance(epochs, int):
            return None
        if at_most is not None and epochs > at_most:
            return None
        curves = {str(k): list(v) for k, v in curves.items()}
    except Exception:
        return None
    for name, target in wanted.items():
        if loaded[name].shape != target.shape or loaded[name].dtype != target.dtype:
            return None
    for name, target in wanted.items():
        target[...] = loaded[name]  # in place: the layers' views stay bound
    rng.bit_generator.state = meta["rng"]
    model.first_loss = meta.get("first_loss")
    if meta.get("step") is not None:
        optimizer.t = int(meta["step"])
    return curves, epochs


def _declares_what_is_wanted(file: IO[bytes], wanted: dict[str, np.ndarray]) -> bool:
    """The checkpoint's zip holds exactly the arrays ``wanted`` and the meta string, each
    declaring (in its ``.npy`` header, and in the zip's sizes) the shape and dtype the model
    has, the meta at most ``META_LIMIT`` bytes. Only the headers are read, and only of
    members whose declared size fits (numpy reads a header whole before it checks its
    length), so a member that would inflate to gigabytes is refused before it is."""
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        names = [member.filename for member in members]
        if sorted(names) != sorted(f"{name}.npy" for name in [*wanted, "meta"]):
            return False
        for member in members:
            name = member.filename.removesuffix(".npy")
            largest = META_LIMIT if name == "meta" else wanted[name].nbytes
            if member.file_size > largest + _HEADER_LIMIT:
                return False
            with archive.open(member) as stream:  # reads at most the declared size
                shape, dtype = _npy_header(stream)
            if name == "meta":
                fits = shape == () and dtype.kind == "U" and dtype.itemsize <= META_LIMIT
            else:
                fits = shape == wanted[name].shape and dtype == wanted[name].dtype
            size = math.prod(shape) * dtype.itemsize
            if not fits or not size <= member.file_size <= size + _HEADER_LIMIT:
                return False
    return True


def _npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an ``.npy`` stream declares (a ValueError if it declares none)."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"npy format {version}")
    return tuple(shape), np.dtype(dtype)
