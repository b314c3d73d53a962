"""A run in progress, looked at from outside: ``snapshot(run)`` → ``Snapshot``, and
``watch(run)``, the snapshots of a run as it changes until it ends (``hpsearch watch``).

Only reads: never the lock, never a write or a repair. The logs are read as every reader
reads them (a torn last line set aside, a hand-edited line one ``RunError``); the status is
the summary's, corrected by what the lock file says of the driver: ``stopped`` when a run
still marked running has lost its driver (killed), ``running`` when an interrupted run has a
live driver again (``hpsearch resume`` writes the summary only after a round). Works on any
backend, Dask included: everything comes from the run directory.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hpsearch import procs
from hpsearch.config import Config
from hpsearch.errors import UserError
from hpsearch.lock import RunLock
from hpsearch.record import TrialRecord, is_int, is_number
from hpsearch.results import counts
from hpsearch.rundirs import resolve_run
from hpsearch.runs import Run
from hpsearch.store import RunStore
from hpsearch.store.summary import wall_time_so_far
from hpsearch.store.timeline import read_timeline

TIMELINE = "timeline.jsonl"
# What the driver writes as a run goes on: a change to any of them is worth a new look.
_WRITTEN = ("summary.json", "rounds.jsonl", "trials.jsonl", "rungs.jsonl", "curves.jsonl")
_TIMELINE_TAIL = 4 * 2**20  # bytes: the trainings in flight are among the latest lines


@dataclass(frozen=True)
class RoundNow:
    """The round in progress (the first with trials to go; the last once all are done)."""

    number: int
    summary: str
    done: int
    planned: int


@dataclass(frozen=True)
class RungCount:
    """Early stopping: how many of a rung's trials have reported (``of``: its plan's)."""

    bracket: int
    rung: int
    epochs: int
    reported: int
    of: int


@dataclass(frozen=True)
class Snapshot:
    """A run as it stands. Two snapshots are equal when nothing a user would see changed
    but the clock (``elapsed``, ``as_of``)."""

    run_id: str
    path: Path = field(compare=False)
    config: Config = field(compare=False, repr=False)
    kind: str
    status: str  # running, stopped (its driver is gone), complete, interrupted
    done: int
    planned: int | None
    counts: dict[str, int]
    round: RoundNow | None
    rounds: int
    best: TrialRecord | None
    top: tuple[TrialRecord, ...]  # the best few ok trials, best first
    rungs: tuple[RungCount, ...] | None  # None: no early stopping
    in_flight: tuple[int, ...] | None  # None: the run keeps no timeline
    # What .lock says of the driver (pid, host, since) and its state: alive, gone or
    # unknown (no lock yet, or a driver on another machine).
    driver: dict[str, Any]
    elapsed: float | None = field(default=None, compare=False)  # wall time at ``as_of``
    as_of: float = field(default=0.0, compare=False)  # a unix time
    # Trials finished per minute: as ``watch`` saw them finish, else over the run's wall time
    # (None for a run going on again after a resume: its wall time lacks a killed driver's).
    rate: float | None = field(default=None, compare=False)
    problem: str | None = None  # the run could not be read again: this is the last look

    @property
    def ended(self) -> str | None:
        """How the run ended (complete, interrupted, stopped), or None while it runs."""
        return None if self.status == "running" else self.status

    def elapsed_now(self, now: float | None = None) -> float | None:
        """Wall time so far: a running run's goes on from its last look."""
        if self.elapsed is None or self.status != "running":
            return self.elapsed
        return self.elapsed + max(0.0, (time.time() if now is None else now) - self.as_of)

    def to_json(self) -> dict[str, Any]:
        """The snapshot as plain JSON data (``hpsearch watch --json``'s lines)."""
        config, rate, elapsed = self.config, self.rate, self.elapsed_now()
        return {
            "run_id": self.run_id,
            "run_dir": str(self.path),
            "kind": self.kind,
            "status": self.status,
            "ended": self.ended,
            "metric": config.search.metric,
            "direction": config.search.direction,
            "trials_done": self.done,
            "trials_planned": self.planned,
            "counts": self.counts,
            "round": dataclasses.asdict(self.round) if self.round is not None else None,
            "rounds": self.rounds,
            "best": _brief(self.best, config.search.metric),
            "top": [_brief(r, config.search.metric) for r in self.top],
            "rungs": [dataclasses.asdict(r) for r in self.rungs] if self.rungs else None,
            "in_flight": list(self.in_flight) if self.in_flight is not None else None,
            "driver": self.driver,
            "elapsed": None if elapsed is None else round(elapsed, 3),
            "trials_per_minute": None if rate is None else round(rate, 3),
            "problem": self.problem,
        }


def _brief(record: TrialRecord | None, metric: str) -> dict[str, Any] | None:
    if record is None:
        return None
    line = record.to_json()
    keys = ("trial", "round", "status", "params", "epochs", "seconds")
    return {"value": record.metrics.get(metric), **{k: line[k] for k in keys}}


def snapshot(run: str | Path | Run, runs_dir: Path | str | None = None, top: int = 5) -> Snapshot:
    """The run as it stands now, read from its directory (``run``: a ``Run``, a run
    directory, an id or prefix under ``runs_dir``, or ``latest``); ``top``: how many of the
    best trials it keeps. A run that cannot be read is a one-line ``RunError``."""
    path = _path(run, runs_dir)
    found = _look(path, top)
    if found.status == "stopped" and _file_status(path) != "running":
        found = _look(path, top)  # it finished between the two reads: look again
    return found


def watch(
    run: str | Path | Run,
    runs_dir: Path | str | None = None,
    *,
    interval: float = 1.0,
    top: int = 5,
) -> Iterator[Snapshot]:
    """The run's snapshot now, then a new one each time something changed (its files, its
    driver), looked for every ``interval`` seconds, until the run ends: the last snapshot
    has ``ended`` set. A run over already: one snapshot. Read-only, like ``snapshot``.

    Once the first look has succeeded, a run that cannot be read for a moment is not an
    error while a driver may still make it so: the last snapshot comes again, its
    ``problem`` saying why, until it can (with no driver left, the ``RunError``)."""
    path = _path(run, runs_dir)
    seen = _signature(path)
    last = snapshot(path, top=top)
    start = (time.time(), last.done)  # the rate as seen from here, once trials finish
    took = 0.0
    yield last
    while last.ended is None:
        time.sleep(max(interval, took))  # a huge run's look costs at most half a core
        now = _signature(path)
        if now == seen:
            continue
        seen = now
        began = time.time()
        try:
            found = snapshot(path, top=top)
        except UserError as exc:
            state = _driver_state(RunLock.holder(path))
            if not (state == "alive" or (state == "unknown" and _file_status(path) == "running")):
                raise  # nothing will make it readable again
            found = dataclasses.replace(last, problem=str(exc))
        took = time.time() - began
        spent, more = time.time() - start[0], found.done - start[1]
        if found.ended is None and more > 0 and spent >= 1:
            found = dataclasses.replace(found, rate=more / spent * 60)
        if found != last:
            yield found
        last = found


def in_flight(run_dir: Path, since: float | None = None) -> list[int] | None:
    """The trials whose training the driver handed out and has not had back, from
    ``timeline.jsonl`` (a line ``{"trial", "round", "dispatched"}`` when a training is handed
    to the backend, a line with ``seconds``/``status`` when it comes back; a trial may train
    several times under early stopping); None when the run keeps no timeline. Trainings
    handed out before ``since`` (an earlier driver's, killed) are left out. A line that is
    not what it should be is skipped: the timeline is a convenience, like the curves."""
    timeline = read_timeline(run_dir, tail=_TIMELINE_TAIL)
    if not timeline.found:
        return None
    return [t for t, at in timeline.in_flight.items() if since is None or at >= since]


# -- reading -----------------------------------------------------------------------------------


def _path(run: str | Path | Run, runs_dir: Path | str | None) -> Path:
    """The run's directory, found as every command finds it (a converted 0.1 round: the
    run it became; a 0.1 search: its newest round)."""
    if isinstance(run, Run):
        return run.path
    return Run(resolve_run(str(run), runs_dir or "runs")).path


def _look(path: Path, top: int) -> Snapshot:
    store = RunStore.open(path)
    raw = store.summary()
    holder = RunLock.holder(path)
    driver = _driver_state(holder)
    status = _status(raw, holder, driver)
    run = Run(store)
    records = run.trials  # read and checked: a bad line is the RunError
    history = run.history
    summary = run.summary
    planned = summary.get("trials_planned")
    if status == "running" and raw.get("status") != "running":  # resumed: plan again
        planned = _planned(run, planned)
    current = next(iter(history.unfinished()), history.rounds[-1] if history.rounds else None)
    round_ = None
    if current is not None:
        done = sum(1 for r in records if current.first <= r.trial < current.stop)
        round_ = RoundNow(current.number, current.summary, done, current.trials)
    since = _moment(holder.get("since"))
    wall = summary.get("wall_time")  # a run marked running: as of its last write
    if status == "running" and raw.get("status") != "running":  # resumed: the same, anew
        wall = wall_time_so_far(path, raw, holder.get("since"))
    elapsed = float(wall) if isinstance(wall, (int, float)) and is_number(wall) else None
    ranked = [r for r in history.ranked() if r.ok]
    whole = _whole(status, raw, since)
    return Snapshot(
        run_id=run.run_id,
        path=run.path,
        config=run.config,
        kind=run.kind,
        status=status,
        done=len(records),
        planned=planned if is_int(planned) else None,
        counts={k: n for k, n in counts(records).items() if n},
        round=round_,
        rounds=len(history.rounds),
        best=run.config.search.goal.best(ranked),
        top=tuple(ranked[:top]),
        rungs=_rungs(run, current) if current is not None else None,
        in_flight=_in_flight(path, since) if status == "running" else None,
        driver={**{k: holder[k] for k in ("pid", "host", "since") if k in holder}, "state": driver},
        elapsed=elapsed,
        as_of=max(_last_write(path), since or 0.0) if status == "running" else time.time(),
        rate=len(records) / elapsed * 60 if whole and elapsed and records else None,
    )


def _whole(status: str, raw: dict[str, Any], since: float | None) -> bool:
    """Whether the run's wall time covers its trials on disk: a run over, or one going on
    with the driver that started it (not a resume, whose wall time lacks a killed driver's)."""
    if status != "running":
        return True
    started = _moment(raw.get("started"))
    return since is not None and started is not None and abs(since - started) < 5


def _in_flight(path: Path, since: float | None) -> tuple[int, ...] | None:
    found = in_flight(path, since)
    return None if found is None else tuple(found)


def _rungs(run: Run, current: Any) -> tuple[RungCount, ...] | None:
    """Each rung of the round's plan: how many of its trials reported (a trial counted
    once per rung, a training run again after a kill too)."""
    plan = run.config.rung_plan(current.trials, current.first)
    if plan is None:
        return None
    seen: dict[tuple[int, int], set[int]] = {}
    for result in run.rung_results():
        if current.first <= result.record.trial < current.stop:
            seen.setdefault((result.bracket, result.rung), set()).add(result.record.trial)
    return tuple(
        RungCount(b.number, k, rung.epochs, len(seen.get((b.number, k), ())), rung.trials)
        for b in plan.brackets
        for k, rung in enumerate(b.rungs)
    )


def _planned(run: Run, fallback: Any) -> Any:
    """The trials a search plans in all, from its rounds so far."""
    if run.kind != "search":
        return fallback
    from hpsearch.strategies import strategy_for

    try:
        return strategy_for(run.config).planned(run.history)
    except UserError:
        return fallback


def _status(raw: dict[str, Any], holder: dict[str, Any], driver: str) -> str:
    status = str(raw.get("status") or "running")  # summary.json lost: as if running
    if status == "running":
        return "stopped" if driver == "gone" else status
    finished, since = _moment(raw.get("finished")), _moment(holder.get("since"))
    if driver == "alive" and since is not None and (finished is None or since > finished):
        return "running"  # a driver took the run up again after it ended (resume)
    return status


def _driver_state(holder: dict[str, Any]) -> str:
    """alive, gone, or unknown (no lock file yet, or a driver on another host)."""
    import socket

    pid = procs.driver_of(str(holder.get("token") or ""))
    if pid is None or holder.get("host") != socket.gethostname():
        return "unknown"
    return "alive" if procs.alive(pid) else "gone"


def _file_status(path: Path) -> Any:
    try:
        return RunStore(path).summary().get("status", "running")
    except UserError:
        return None


def _moment(text: Any) -> float | None:
    try:
        at = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return at.timestamp() if at is not None and at.tzinfo is not None else None


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns)


def _signature(path: Path) -> tuple[Any, ...]:
    """What changes when the run does: its files' sizes and times, and its driver's state."""
    files = [_stat(path / name) for name in (*_WRITTEN, TIMELINE, ".lock")]
    return (*files, _driver_state(RunLock.holder(path)))


def _last_write(path: Path) -> float:
    times = [s[1] / 1e9 for s in (_stat(path / name) for name in _WRITTEN) if s is not None]
    return max(times, default=time.time())
