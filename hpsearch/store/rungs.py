"""Early stopping's files in a run: ``rungs.jsonl`` (one line per rung training: its bracket,
rung and trial record with the curve so far, written before any decision it leads to) and
``checkpoints/trial-NNNNNN/`` (what a trial that may still train needs to continue)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hpsearch.errors import StorageError
from hpsearch.files import BadLine, append_line, open_append, read_log, repair_log
from hpsearch.record import RecordProblem, TrialRecord, is_int
from hpsearch.rungs import RungResult

if TYPE_CHECKING:
    from hpsearch.space import Space


class RungLog:
    """``rungs.jsonl`` and the checkpoints of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "rungs.jsonl"
        self.checkpoints = run_dir / "checkpoints"
        self._file: IO[str] | None = None

    def append(self, line: Mapping[str, Any]) -> None:
        """Append one rung training's result, flushed at once (written before any decision
        it leads to, so a resume takes the same decisions)."""
        try:
            if self._file is None:
                self._file = open_append(self.path)
            append_line(self._file, json.dumps(line))
        except OSError as exc:
            self.abandon()
            raise StorageError(
                f"{exc.filename or self.path}: cannot write a rung result: {exc.strerror or exc}; "
                "the results written before it are kept"
            ) from None

    def load(self, repair: bool = False, space: Space | None = None) -> list[RungResult]:
        """The rung results on disk, in the order written. A torn last line is set aside (cut,
        with ``repair``); a bad line elsewhere is a RunError naming file and line."""

        def parse(item: dict[str, Any]) -> RungResult:
            bracket, rung = item.pop("bracket", None), item.pop("rung", None)
            curves = item.pop("curves", None)
            if not (is_int(bracket) and is_int(rung)) or bracket < 0 or rung < 0:
                raise BadLine(
                    "corrupt rung result (field 'bracket' or 'rung': expected an integer)"
                )
            try:
                record = TrialRecord.from_json(item, space)
            except RecordProblem as problem:
                raise BadLine(f"corrupt rung result ({problem})") from None
            return RungResult(bracket, rung, replace(record, curves=_curves(curves)))

        read = read_log(
            self.path, parse, what="rung result", fix="fix or delete that line and resume"
        )
        if repair:
            repair_log(self.path, read)
        return [replace(result, line=number) for number, result in read.items]

    def sync(self) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._file.fileno())
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def abandon(self) -> None:
        """Drop the handle after a failed write, without raising again."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        self._file = None

    def checkpoint_dir(self, trial: int) -> Path:
        """Where trial ``trial`` keeps what it needs to continue (made when first asked). A
        file where a checkpoint directory belongs holds no checkpoint: it is replaced by an
        empty directory, and the trial trains from scratch."""
        path = self.checkpoints / f"trial-{trial:06d}"
        try:
            for directory in (self.checkpoints, path):
                _make_directory(directory)
        except OSError as exc:
            raise StorageError(
                f"{path}: cannot make the trial's checkpoint directory: {exc.strerror or exc}"
            ) from None
        return path

    def remove_checkpoints(self, trial: int | None = None) -> None:
        """Drop one trial's checkpoint (it is final) or all of them (the run is complete)."""
        if self.checkpoints.is_symlink():  # never through a link: only the link goes
            with contextlib.suppress(OSError):
                self.checkpoints.unlink()
            return
        target = self.checkpoints if trial is None else self.checkpoints / f"trial-{trial:06d}"
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            with contextlib.suppress(OSError):
                target.unlink()
        shutil.rmtree(target, ignore_errors=True)


def _make_directory(path: Path) -> None:
    """``path`` a directory: made if missing; anything else there (a file, a FIFO, a link,
    even to a directory: a run writes and deletes only inside itself) removed first."""
    if path.is_symlink():
        path.unlink()
    try:
        path.mkdir(exist_ok=True)
    except FileExistsError:
        path.unlink()
        path.mkdir()


def _curves(curves: Any) -> Any:
    return curves if isinstance(curves, dict) else None
