"""A run on disk: ``runs/<run-id>/``, one directory per search (or re-test, or one model).

- ``config.yaml``   the resolved config the search started with.
- ``rounds.jsonl``  one line per round (its region, trials, seed), written before its first
                    trial; a round grown by ``resume --trials`` is written again, whole.
- ``trials.jsonl``  one line per finished trial, appended with one write and flushed as it
                    arrives (fsync at least every second and at the end).
- ``curves.jsonl``  per-epoch curves, one line per trial.
- ``rungs.jsonl``, ``checkpoints/``  early stopping (``hpsearch.store.rungs``).
- ``attempts.jsonl``  earlier records of retried trials (``hpsearch.store.attempts``).
- ``warm.jsonl``    another run's trials a warm start gave the model (``hpsearch.warmstart``).
- ``leaderboard.csv``, ``best.yaml``, ``summary.json``  whole files, written atomically,
                    derived from the logs above.

Only the driver writes here (``hpsearch.lock``); workers return plain records. Everything a
run knows is read back from the logs, defensively: a hand-edited line is a one-line
``RunError`` naming the file, line and field.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hpsearch import yamlio
from hpsearch.config import Config, load_config
from hpsearch.errors import RunError, StorageError
from hpsearch.files import (
    SMALL_FILE,
    BadLine,
    NotRegularFile,
    append_line,
    atomic_write,
    clean_json,
    loads,
    open_append,
    read_log,
    read_text,
    repair_log,
)
from hpsearch.lock import RunLock
from hpsearch.record import RecordProblem, TrialRecord
from hpsearch.rounds import Round, check_sequence
from hpsearch.store.attempts import Attempts
from hpsearch.store.rungs import RungLog
from hpsearch.store.summary import (
    KINDS,
    MARKER,
    is_run_dir,
    make_run_dir,
    now,
    run_kind,
    summary_problem,
    versions,
)
from hpsearch.version import __version__

if TYPE_CHECKING:
    from hpsearch.leaderboard import Results
    from hpsearch.space import Space

_FSYNC_EVERY = 1.0  # seconds


@dataclass
class LoadedTrials:
    records: list[TrialRecord]
    torn: str | None = None  # a last line cut off by a killed process, set aside


@dataclass
class RunStore:
    """One run directory. Create with ``RunStore.create``, open with ``RunStore.open``."""

    path: Path
    _trials: IO[str] | None = field(default=None, repr=False)
    _curves: IO[str] | None = field(default=None, repr=False)
    _last_sync: float = field(default=0.0, repr=False)
    rungs: RungLog = field(init=False, repr=False)
    attempts: Attempts = field(init=False, repr=False)
    lock: RunLock | None = field(default=None, repr=False)  # held since ``create(locked=True)``

    def __post_init__(self) -> None:
        self.rungs = RungLog(self.path)
        self.attempts = Attempts(self.path)

    # -- creating and opening --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        config: Config,
        runs_dir: Path | str,
        *,
        kind: str = "search",
        parent: str | None = None,
        first: Round | None = None,
        planned: int | None = None,
        locked: bool = False,
        warm: tuple[str, Sequence[TrialRecord]] | None = None,
    ) -> RunStore:
        """Make ``runs_dir/<run-id>/`` with its marker, the resolved config, its first round
        (``first``) and a ``running`` summary. The directory appears whole or not at all: it
        is filled under a hidden name and renamed, so a full disk or a kill leaves nothing.
        ``parent``: the run a re-test re-tests. ``locked``: its lock is taken first, inside
        the hidden directory, so the run appears locked by this driver or not at all (a
        full disk at the lock leaves no empty ``running`` run). ``warm``: a warm start's run
        and trials."""
        assert kind in KINDS
        resolved = config.to_dict(absolute_paths=True)
        summary = {
            "name": config.name,
            "kind": kind,
            "parent": parent,
            "status": "running",
            "started": now(),
            "trials_planned": planned if planned is not None else config.search.trials,
            "metric": config.search.metric,
            "direction": config.search.direction,
            "config": resolved,
            "versions": versions(),
            **({"warm_start": {"run": warm[0], "trials": len(warm[1])}} if warm else {}),
        }

        held: list[RunLock] = []

        def fill(staging: Path, run_id: str) -> None:
            if locked:
                held.append(RunLock(staging).acquire())
            marker = {"hpsearch": __version__, "run_id": run_id, "kind": kind}
            (staging / MARKER).write_text(json.dumps(marker) + "\n")
            atomic_write(staging / "config.yaml", yamlio.dump(resolved))
            if first is not None:
                atomic_write(staging / "rounds.jsonl", json.dumps(first.to_json()) + "\n")
            if warm is not None:
                text = "".join(json.dumps(clean_json(r.to_json())) + "\n" for r in warm[1])
                atomic_write(staging / "warm.jsonl", text)
            cls(staging).write_summary({"run_id": run_id, **summary})

        try:
            store = cls(make_run_dir(runs_dir, config.name, fill))
        except BaseException:
            for lock in held:
                lock.release()
            raise
        for lock in held[:-1]:  # taken in a directory whose name was taken meanwhile
            lock.release()
        if held:
            store.lock = held[-1]
            store.lock.path = store.path / ".lock"  # the same file, renamed with its directory
        return store

    @classmethod
    def open(cls, path: Path | str) -> RunStore:
        """A run directory made by hpsearch; anything else is a RunError (so a command never
        writes its files into a directory that is not a run)."""
        path = Path(os.path.abspath(path))
        if not is_run_dir(path):
            raise RunError(
                f"{path}: not a run directory (hpsearch marks each run with a {MARKER} file)"
            )
        return cls(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    def config(self) -> Config:
        file = self.path / "config.yaml"
        return load_config(file, text=_config_text(file))

    def summary(self) -> dict[str, Any]:
        """summary.json, checked field by field (it may have been edited by hand)."""
        file = self.path / "summary.json"
        try:
            summary = loads(read_text(file, SMALL_FILE))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise RunError(f"{file}: cannot read it: {exc}") from None
        problem = summary_problem(summary)
        if problem:
            raise RunError(f"{file}: {problem}; fix or restore that field")
        return summary

    @property
    def kind(self) -> str:
        """search, panda (one model) or retest."""
        return run_kind(self.summary())

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        atomic_write(self.path / "summary.json", json.dumps(clean_json(summary), indent=2) + "\n")

    def write_file(self, name: str, text: str) -> None:
        """A whole file of the run, written atomically."""
        atomic_write(self.path / name, text)

    # -- rounds ------------------------------------------------------------------------------

    @property
    def has_rounds(self) -> bool:
        """Whether the run keeps a rounds log (runs made by hpsearch 0.1 have none)."""
        return (self.path / "rounds.jsonl").exists()

    def append_round(self, round_: Round) -> None:
        """Record a round (before its first trial) or a round grown to more trials: one line,
        flushed and synced (a round is the commitment its trials are drawn from)."""
        try:
            with open_append(self.path / "rounds.jsonl") as f:
                append_line(f, json.dumps(clean_json(round_.to_json())))
                os.fsync(f.fileno())
        except OSError as exc:
            raise StorageError(
                f"{self.path}: cannot write round {round_.number}: {exc.strerror or exc}"
            ) from None

    def load_rounds(self, root: Space, repair: bool = False) -> list[Round]:
        """The rounds, in order; a round written again (grown) counts as its last line. A
        torn last line (its round never started: it is written before any trial) is dropped,
        and with ``repair`` cut from the file."""
        file = self.path / "rounds.jsonl"
        read = read_log(
            file,
            lambda item: Round.from_json(item, root),
            what="round",
            fix="fix or delete that line",
        )
        if repair:
            repair_log(file, read)
        rounds: dict[int, Round] = {}
        for number, found in read.items:
            if found.number > len(rounds) or (found.number < len(rounds) - 1):
                raise RunError(
                    f"{file}:{number}: round {found.number} out of order (after round "
                    f"{len(rounds) - 1}); fix or delete that line"
                )
            rounds[found.number] = found
        ordered = [rounds[k] for k in sorted(rounds)]
        problem = check_sequence(ordered)
        if problem:
            raise RunError(f"{file}: {problem}; fix the file")
        return ordered

    # -- appending trials ------------------------------------------------------------------

    def append(self, record: TrialRecord) -> None:
        """Append one finished trial (and its curve): a single write of one line, flushed at
        once. A failed write (a full disk) raises StorageError; a line it cut short is repaired
        on resume."""
        try:
            if self._trials is None or self._curves is None:
                self._trials = open_append(self.path / "trials.jsonl")
                self._curves = open_append(self.path / "curves.jsonl")
            if record.curves:
                line = json.dumps({"trial": record.trial, **clean_json(record.curves)})
                append_line(self._curves, line)
            append_line(self._trials, json.dumps(clean_json(record.to_json())))
            moment = time.monotonic()
            if moment - self._last_sync >= _FSYNC_EVERY:
                self.sync()
                self._last_sync = moment
        except OSError as exc:
            self._abandon()
            raise StorageError(
                f"{exc.filename or self.path}: cannot write a trial: {exc.strerror or exc}; "
                "the trials written before it are kept"
            ) from None

    def _abandon(self) -> None:
        """Drop the append handles after a failed write, without raising again."""
        for f in (self._trials, self._curves):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        self._trials = self._curves = None
        self.rungs.abandon()

    def sync(self) -> None:
        self.rungs.sync()  # rung results before the final records they lead to
        for f in (self._trials, self._curves):
            if f is not None:
                os.fsync(f.fileno())

    def close(self) -> None:
        self.rungs.close()
        if self._trials is not None and self._curves is not None:
            self.sync()
            for f in (self._trials, self._curves):
                f.close()
        self._trials = self._curves = None

    # -- reading trials ---------------------------------------------------------------------

    def load_trials(self, repair: bool = False, space: Space | None = None) -> LoadedTrials:
        """The recorded trials, last record per index. A torn last line (the process was
        killed mid-write) is set aside; with ``repair`` it is cut from the file and kept in
        ``trials.jsonl.torn``. A bad line elsewhere, or a record with a field of the wrong
        type (or, given ``space``, a value outside it), is a RunError naming file, line and
        field."""
        file = self.path / "trials.jsonl"

        def parse(item: dict[str, Any]) -> TrialRecord:
            if not isinstance(item.get("trial"), int):
                raise BadLine("field 'trial': expected a trial number")
            try:
                return TrialRecord.from_json(item, space)
            except RecordProblem as problem:
                raise BadLine(str(problem)) from None

        read = read_log(
            file,
            parse,
            what="trial record",
            fix="fix or delete that line (and resume to run that trial again)",
        )
        if repair:
            repair_log(file, read, keep_torn=file.with_name("trials.jsonl.torn"))
            self._repair_curves()
        records = {record.trial: record for _, record in read.items}
        return LoadedTrials(sorted(records.values(), key=lambda r: r.trial), read.torn)

    def _repair_curves(self) -> None:
        """Cut a torn last line of curves.jsonl, so the next append starts a fresh line."""
        file = self.path / "curves.jsonl"
        try:
            text = read_text(file)
        except (FileNotFoundError, UnicodeDecodeError):
            return
        if text and not text.endswith("\n"):
            last = text.rsplit("\n", 1)[-1]
            try:
                loads(last)
                atomic_write(file, text + "\n")
            except ValueError:
                atomic_write(file, text[: len(text) - len(last)])

    def load_curves(self) -> dict[int, dict[str, Any]]:
        file = self.path / "curves.jsonl"
        curves: dict[int, dict[str, Any]] = {}
        try:
            text = read_text(file)
        except (OSError, UnicodeDecodeError, NotRegularFile):  # curves are a convenience
            return curves
        for line in text.splitlines():
            try:
                item = loads(line)
                curves[item.pop("trial")] = item
            except (ValueError, KeyError, AttributeError, TypeError):
                continue  # curves are a convenience; a torn line loses one curve, not the run
        return curves

    # -- early stopping and retries ------------------------------------------------------------

    def checkpoint_dir(self, trial: int) -> Path:
        return self.rungs.checkpoint_dir(trial)

    def remove_checkpoints(self, trial: int | None = None) -> None:
        self.rungs.remove_checkpoints(trial)

    def set_aside(self, trials: set[int]) -> None:
        """Move the records of ``trials`` to attempts.jsonl (``Attempts.set_aside``)."""
        self.close()
        self.attempts.set_aside(trials)

    # -- results ------------------------------------------------------------------------------

    def write_results(
        self,
        results: Results,
        *,
        status: str,
        wall_time: float,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Leaderboard, best.yaml and the final summary; returns the summary."""
        self.write_file("leaderboard.csv", results.leaderboard_csv)
        if results.best_yaml is not None:
            self.write_file("best.yaml", results.best_yaml)
        summary = {**self.summary(), "status": status, "finished": now()}
        summary |= {"wall_time": round(wall_time, 3), **results.fields, **(extra or {})}
        self.write_summary(summary)
        return summary


def _config_text(file: Path) -> str:
    """A run's config.yaml, read like every run file (never hanging on a FIFO)."""
    try:
        return read_text(file, SMALL_FILE).removeprefix("\ufeff")
    except FileNotFoundError:
        raise RunError(f"{file}: missing; restore the run's config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"{file}: cannot read it: {exc}") from None
