"""Retried trials' earlier records: ``resume --retry`` moves the records of the trials it
runs again to ``attempts.jsonl`` (with their curves) first, so nothing is lost; a marker
(``attempts.pending``) makes the move finish or undo after a kill, never double."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hpsearch.errors import RunError, StorageError
from hpsearch.files import atomic_write, loads, open_append, open_update, read_text
from hpsearch.record import is_int


class Attempts:
    """``attempts.jsonl`` of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir

    def set_aside(self, trials: set[int]) -> None:
        """Move every record of ``trials`` (with its curve) from trials.jsonl to
        attempts.jsonl, so they run again on resume and nothing is lost. A marker
        (``attempts.pending``: the records moved, and attempts.jsonl's length before) is
        written first, then the attempts are appended and synced, then trials.jsonl is
        rewritten, then the marker goes; ``recover`` finishes or undoes a move that
        a kill interrupted, so an attempt is kept exactly once."""
        self.recover()
        file, curves_file = self.path / "trials.jsonl", self.path / "curves.jsonl"
        lines, curve_lines = _lines(file), _lines(curves_file)
        self._attempt_lines()  # an attempts.jsonl that cannot be read is refused before any write
        kept, moved = _split_by_trial(lines, trials)
        kept_curves, moved_curves = _split_by_trial(curve_lines, trials)
        curve_of = {}
        for line in moved_curves:
            item = loads(line)
            curve_of[item.pop("trial")] = item
        attempts = self.path / "attempts.jsonl"
        try:
            before = attempts.stat().st_size if attempts.exists() else 0
            atomic_write(self._pending, json.dumps({"size": before, "moved": moved}) + "\n")
            with open_append(attempts) as f:
                for line in moved:
                    item = loads(line)
                    if item["trial"] in curve_of:
                        item["curves"] = curve_of[item["trial"]]
                    f.write(json.dumps(item) + "\n")
                f.flush()
                os.fsync(f.fileno())
            atomic_write(file, "".join(line + "\n" for line in kept))
            atomic_write(curves_file, "".join(line + "\n" for line in kept_curves))
            self._pending.unlink()
        except OSError as exc:
            raise StorageError(
                f"{self.path}: cannot set the trials to retry aside: {exc.strerror or exc}; "
                "resume puts things back as they were"
            ) from None

    @property
    def _pending(self) -> Path:
        return self.path / "attempts.pending"

    def recover(self) -> None:
        """After a kill inside ``set_aside``: if trials.jsonl still holds the records being
        moved, the move did not happen (attempts.jsonl is cut back to its length before);
        otherwise it did (only the marker is left to remove)."""
        try:
            pending = loads(read_text(self._pending))
            size, moved = int(pending["size"]), list(pending["moved"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError):
            return  # a marker that cannot be read: leave the files as they are
        file = self.path / "trials.jsonl"
        try:
            present = set(read_text(file).splitlines()) if file.exists() else set()
            if moved and all(line in present for line in moved):
                attempts = self.path / "attempts.jsonl"
                if attempts.exists() and attempts.stat().st_size > size:
                    with open_update(attempts) as f:
                        f.truncate(size)
                        os.fsync(f.fileno())
            self._pending.unlink()
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(
                f"{self._pending}: cannot finish an interrupted retry: {exc}"
            ) from None

    def _attempt_lines(self) -> list[str]:
        try:
            text = read_text(self.path / "attempts.jsonl")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{self.path / 'attempts.jsonl'}: cannot read it: {exc}") from None
        return [line for line in text.splitlines() if line.strip()]

    def load(self) -> list[dict[str, Any]]:
        """The earlier attempts of retried trials, in the order set aside (a file or a line
        that cannot be read is skipped: they are a history, not the run's results; a retry
        refuses to add to an unreadable file before it runs anything)."""
        attempts = []
        try:
            lines = self._attempt_lines()
        except RunError:
            return []
        for line in lines:
            try:
                item = loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and is_int(item.get("trial")):
                attempts.append(item)
        return attempts


def _split_by_trial(lines: list[str], trials: set[int]) -> tuple[list[str], list[str]]:
    """Lines of JSON records: those of other trials, those of ``trials`` (blank and unreadable
    lines are kept where they are: load_trials reports them)."""
    kept: list[str] = []
    moved: list[str] = []
    for line in lines:
        try:
            item = loads(line)
            index = item.get("trial") if isinstance(item, dict) else None
        except ValueError:
            index = None
        (moved if is_int(index) and index in trials else kept).append(line)
    return kept, moved


def _lines(file: Path) -> list[str]:
    """A log's lines (none if it is missing); one that cannot be read is a RunError naming it."""
    try:
        return read_text(file).splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"{file}: cannot read it: {exc}") from None
