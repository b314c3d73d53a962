"""``timeline.jsonl``: when each training of a trial was handed to the workers and when, where
and how long it ran — the report's timeline of the workers, and ``hpsearch watch``'s trials
in flight. Two kinds of line, appended by the driver:

    {"trial": 12, "round": 1, "dispatched": 1765050000.1}
    {"trial": 12, "round": 1, "worker": "host:4242", "started": 1765050000.2,
     "seconds": 3.2, "epochs": 9, "status": "ok"}

Times are unix seconds. It says how a search ran, not what it found: nothing is derived from
it, it is never synced, and a line that is not one of these is skipped when read (the file
may be hand-edited or cut short; the timeline then has a gap, the run is unharmed).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hpsearch.files import NotRegularFile, append_line, open_append, open_regular
from hpsearch.record import STATUSES, TrialRecord, is_int, is_number

LIMIT = 256 * 1024 * 1024  # bytes read at most: a timeline is a picture, not a record


@dataclass(frozen=True)
class Span:
    """One training of a trial: on ``worker`` from ``started`` for ``seconds``."""

    trial: int
    round: int
    worker: str
    started: float
    seconds: float
    epochs: int | None
    status: str

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass(frozen=True)
class Timeline:
    """What timeline.jsonl says: the trainings that came back, and those handed out
    (``dispatched``: trial → unix time of its latest hand-out) that have not yet."""

    spans: list[Span]
    in_flight: dict[int, float]  # in the order handed out
    skipped: int = 0  # lines that were not timeline lines
    found: bool = True  # False: the run keeps no timeline (or it could not be read)


class TimelineLog:
    """The driver's appending end of ``timeline.jsonl``."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "timeline.jsonl"
        self._file: IO[str] | None = None

    def dispatched(self, trial: int, round_: int) -> None:
        self._write({"trial": trial, "round": round_, "dispatched": round(time.time(), 3)})

    def returned(self, record: TrialRecord) -> None:
        """A training came back from its worker (one that says when it started)."""
        if record.started_at is None:
            return
        self._write(
            {
                "trial": record.trial,
                "round": record.round,
                "worker": record.worker or "?",
                "started": round(record.started_at, 3),
                "seconds": record.seconds or 0.0,
                "epochs": record.epochs,
                "status": record.status,
            }
        )

    def _write(self, line: dict[str, Any]) -> None:
        # A timeline that cannot be written (a full disk) loses its picture, never a trial:
        # the trials' own writes say so.
        with contextlib.suppress(OSError):
            if self._file is None:
                self._file = open_append(self.path)
            append_line(self._file, json.dumps(line))

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


def read_timeline(run_dir: Path, tail: int | None = None) -> Timeline:
    """``run_dir``'s timeline (empty without one); never raises for what the file holds.
    ``tail``: only its last so many bytes (what is in flight now, read often)."""
    try:
        with open_regular(run_dir / "timeline.jsonl") as f:
            if tail is not None:
                f.seek(max(0, os.fstat(f.fileno()).st_size - tail))
            text = f.read(LIMIT if tail is None else tail).decode("utf-8", "replace")
    except (OSError, NotRegularFile):
        return Timeline([], {}, found=False)
    spans: list[Span] = []
    in_flight: dict[int, float] = {}
    skipped = 0
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            skipped += 1
            continue
        span = _span(item)
        if span is not None:
            spans.append(span)
            in_flight.pop(span.trial, None)
        elif _dispatch(item):
            in_flight[item["trial"]] = float(item["dispatched"])
        else:
            skipped += 1
    return Timeline(spans, in_flight, skipped)


def _dispatch(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and is_int(item.get("trial"))
        and item["trial"] >= 0
        and is_number(item.get("dispatched"))
        and "worker" not in item
    )


def _span(item: Any) -> Span | None:
    if not isinstance(item, dict) or not is_int(item.get("trial")) or item["trial"] < 0:
        return None
    worker, started, seconds = item.get("worker"), item.get("started"), item.get("seconds")
    epochs, status, round_ = item.get("epochs"), item.get("status"), item.get("round", 0)
    if not (isinstance(worker, str) and is_number(started) and is_number(seconds)):
        return None
    assert started is not None and seconds is not None
    if seconds < 0 or not math.isfinite(started + seconds) or status not in STATUSES:
        return None
    if not (epochs is None or is_int(epochs)) or not (is_int(round_) and round_ >= 0):
        return None
    return Span(item["trial"], round_, worker[:200], float(started), float(seconds), epochs, status)
