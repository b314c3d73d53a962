"""A run on disk: ``runs/<run-id>/`` with its config, trials, curves, leaderboard and summary.

- ``config.yaml``   the resolved config; ``hpsearch run`` on it reproduces the run.
- ``trials.jsonl``  one line per finished trial, appended with one write and flushed as it
                    arrives (fsync at least every second and at the end).
- ``curves.jsonl``  per-epoch curves, one line per trial.
- ``leaderboard.csv``, ``best.yaml``, ``summary.json``  whole files, written atomically.

Only the parent process writes here; workers return plain records.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch import __version__, yamlio
from hpsearch.config import Config, load_config
from hpsearch.errors import RunError, StorageError
from hpsearch.record import RecordProblem, TrialRecord, is_int, is_number, kind_of

if TYPE_CHECKING:
    from hpsearch.results import Results
    from hpsearch.space import Space

KINDS = ("search", "panda", "retest")
MARKER = ".hpsearch-run"  # written by every run: only such a directory is read or written as one
_FSYNC_EVERY = 1.0  # seconds
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _write_line(f: Any, line: str) -> None:
    """One record: one write call and a flush (the place tests make the disk full)."""
    f.write(line + "\n")
    f.flush()


def new_run_id(name: str) -> str:
    """``<name>-<UTC timestamp>-<6 random hex digits>``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{name}-{stamp}-{secrets.token_hex(3)}"


def atomic_write(path: Path, text: str) -> None:
    """Write a whole file so that readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clean_json(value: Any) -> Any:
    """Plain JSON data: NaN and ±inf become None, tuples lists, numpy scalars Python ones."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return clean_json(value.item())
    return value


@dataclass
class LoadedTrials:
    records: list[TrialRecord]
    torn: str | None = None  # a last line cut off by a killed process, set aside


@dataclass
class RunStore:
    """One run directory. Create with ``RunStore.create``, open with ``RunStore.open``."""

    path: Path
    _trials: Any = field(default=None, repr=False)
    _curves: Any = field(default=None, repr=False)
    _rungs: Any = field(default=None, repr=False)
    _last_sync: float = field(default=0.0, repr=False)

    # -- creating and opening --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        config: Config,
        runs_dir: Path | str,
        parent: str | None = None,
        round_: int = 0,
        *,
        kind: str = "search",
        rounds_left: int = 0,
        continues: bool = False,
    ) -> RunStore:
        """Make ``runs_dir/<run-id>/`` with its marker, the resolved config and a ``running``
        summary. The directory appears whole or not at all: it is filled under a hidden name
        and renamed, so a full disk or a kill leaves no half-made run behind.

        ``rounds_left``: zoom rounds still to run after this one (``--rounds``);
        ``continues``: this run is the next round of its parent's ``--rounds`` search, so
        resuming the parent continues here."""
        assert kind in KINDS
        runs_dir = Path(os.path.abspath(runs_dir))
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(
                f"{runs_dir}: cannot create the runs directory: {exc.strerror or exc}"
            ) from None
        resolved = config.to_dict(absolute_paths=True)
        for _ in range(100):  # the random suffix makes a clash unlikely; mkdir makes it safe
            run_id = new_run_id(config.name)
            path, staging = runs_dir / run_id, runs_dir / f".creating-{run_id}"
            if path.exists():
                continue
            try:
                staging.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise RunError(
                    f"{runs_dir}: cannot create a run directory: {exc.strerror or exc}"
                ) from None
            try:
                store = cls(staging)
                (staging / MARKER).write_text(
                    json.dumps({"hpsearch": __version__, "run_id": run_id, "kind": kind}) + "\n"
                )
                atomic_write(staging / "config.yaml", yamlio.dump(resolved))
                store.write_summary(
                    {
                        "run_id": run_id,
                        "name": config.name,
                        "kind": kind,
                        "parent": parent,
                        "round": round_,
                        "rounds_left": rounds_left,
                        "continues": continues,
                        "status": "running",
                        "started": now(),
                        "trials_planned": config.search.trials,
                        "metric": config.search.metric,
                        "direction": config.search.direction,
                        "config": resolved,
                        "versions": versions(),
                    }
                )
                os.rename(staging, path)  # fails if a run of that id appeared meanwhile
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                if path.exists():
                    continue
                raise RunError(
                    f"{runs_dir}: cannot create a run directory: {exc.strerror or exc}"
                ) from None
            return cls(path)
        raise RunError(f"{runs_dir}: could not find a free run id")  # pragma: no cover

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
        return load_config(self.path / "config.yaml")

    def summary(self) -> dict[str, Any]:
        """summary.json, checked field by field (it may have been edited by hand)."""
        file = self.path / "summary.json"
        try:
            summary = json.loads(file.read_text(encoding="utf-8"))
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

    # -- appending trials ------------------------------------------------------------------

    def append(self, record: TrialRecord) -> None:
        """Append one finished trial (and its curve): a single write of one line, flushed at
        once. A failed write (a full disk) raises StorageError; a line it cut short is repaired
        on resume."""
        try:
            if self._trials is None:
                self._trials = open(self.path / "trials.jsonl", "a", encoding="utf-8")  # noqa: SIM115
                self._curves = open(self.path / "curves.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            if record.curves:
                line = json.dumps({"trial": record.trial, **clean_json(record.curves)})
                _write_line(self._curves, line)
            _write_line(self._trials, json.dumps(clean_json(record.to_json())))
            now = time.monotonic()
            if now - self._last_sync >= _FSYNC_EVERY:
                self.sync()
                self._last_sync = now
        except OSError as exc:
            self._abandon()
            raise StorageError(
                f"{self.path}: cannot write a trial: {exc.strerror or exc}; "
                "the trials written before it are kept"
            ) from None

    def _abandon(self) -> None:
        """Drop the append handles after a failed write, without raising again."""
        for f in (self._trials, self._curves, self._rungs):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        self._trials = self._curves = self._rungs = None

    def sync(self) -> None:
        for f in (self._rungs, self._trials, self._curves):  # rung results before finals
            if f is not None:
                os.fsync(f.fileno())

    def close(self) -> None:
        if self._rungs is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._rungs.fileno())
            with contextlib.suppress(OSError):
                self._rungs.close()
            self._rungs = None
        if self._trials is not None:
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
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadedTrials([])
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{file}: cannot read it: {exc}") from None
        lines = text.split("\n")
        records: dict[int, TrialRecord] = {}
        torn = None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            last = number == len(lines)  # no newline after it: a write that did not finish
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or not isinstance(record.get("trial"), int):
                    raise ValueError("not a trial record")
            except ValueError as exc:
                if last:
                    torn = line
                    break
                raise RunError(
                    f"{file}:{number}: corrupt trial record ({exc}); fix or delete "
                    "that line and resume"
                ) from None
            try:
                records[record["trial"]] = TrialRecord.from_json(record, space)
            except RecordProblem as problem:
                raise RunError(
                    f"{file}:{number}: {problem}; fix or delete that line (and resume to "
                    "run that trial again)"
                ) from None
        if repair:
            try:
                if torn is not None:
                    with open(file.with_name("trials.jsonl.torn"), "a", encoding="utf-8") as f:
                        f.write(torn + "\n")
                    atomic_write(file, text[: len(text) - len(torn)])
                elif text and not text.endswith("\n"):  # whole, but unterminated: end it
                    atomic_write(file, text + "\n")
                self._repair_curves()
            except OSError as exc:
                raise StorageError(
                    f"{file}: cannot repair its cut-off last line: {exc.strerror or exc}; "
                    "nothing was changed"
                ) from None
        return LoadedTrials(sorted(records.values(), key=lambda r: r.trial), torn)

    def _repair_curves(self) -> None:
        """Cut a torn last line of curves.jsonl, so the next append starts a fresh line."""
        file = self.path / "curves.jsonl"
        try:
            text = file.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return
        if text and not text.endswith("\n"):
            last = text.rsplit("\n", 1)[-1]
            try:
                json.loads(last)
                atomic_write(file, text + "\n")
            except ValueError:
                atomic_write(file, text[: len(text) - len(last)])

    def load_curves(self) -> dict[int, dict[str, Any]]:
        file = self.path / "curves.jsonl"
        curves: dict[int, dict[str, Any]] = {}
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # missing or unreadable: curves are a convenience
            return curves
        for line in text.splitlines():
            try:
                item = json.loads(line)
                curves[item.pop("trial")] = item
            except (ValueError, KeyError, AttributeError, TypeError):
                continue  # curves are a convenience; a torn line loses one curve, not the run
        return curves

    # -- growing: more trials ------------------------------------------------------------------

    def extend(self, config: Config, before: int) -> None:
        """Record that the run now plans ``config.search.trials`` trials (``before``: what it
        planned until now): the summary first (the change appended to ``extended``), then
        config.yaml. A kill between the two leaves a config.yaml that differs from the summary
        only in search.trials, which ``pending_extension`` recognises and resume completes."""
        summary = self.summary()
        earlier = summary.get("extended")  # hand-edited into anything: started afresh
        history = [e for e in earlier if isinstance(e, dict)] if isinstance(earlier, list) else []
        history.append({"from": before, "to": config.search.trials, "at": now()})
        self.write_summary(
            {
                **summary,
                "trials_planned": config.search.trials,
                "config": config.to_dict(absolute_paths=True),
                "extended": history,
            }
        )
        self.write_config(config)

    def write_config(self, config: Config) -> None:
        atomic_write(self.path / "config.yaml", yamlio.dump(config.to_dict(absolute_paths=True)))

    def pending_extension(self, on_disk: Mapping[str, Any]) -> bool:
        """Whether config.yaml (``on_disk``, resolved) is the summary's config before its last
        extension: ``extend`` was killed between its two writes."""
        summary = self.summary()
        history = summary.get("extended")
        original = summary.get("config")
        if not isinstance(history, list) or not history:  # absent, or edited into anything
            return False
        if not isinstance(history[-1], dict) or not isinstance(original, dict):
            return False
        search = on_disk.get("search") if isinstance(on_disk, dict) else None
        if not isinstance(search, dict) or search.get("trials") != history[-1].get("from"):
            return False
        patched = {**on_disk, "search": {**search, "trials": history[-1].get("to")}}
        return json.loads(json.dumps(patched)) == json.loads(json.dumps(original))

    # -- retried trials: earlier attempts ------------------------------------------------------

    def set_aside(self, trials: set[int]) -> None:
        """Move every record of ``trials`` (with its curve) from trials.jsonl to
        attempts.jsonl, so they run again on resume and nothing is lost. A marker
        (``attempts.pending``: the records moved, and attempts.jsonl's length before) is
        written first, then the attempts are appended and synced, then trials.jsonl is
        rewritten, then the marker goes; ``recover_set_aside`` finishes or undoes a move that
        a kill interrupted, so an attempt is kept exactly once."""
        self.recover_set_aside()
        file, curves_file = self.path / "trials.jsonl", self.path / "curves.jsonl"
        try:
            lines = file.read_text(encoding="utf-8").splitlines() if file.exists() else []
            curve_lines = (
                curves_file.read_text(encoding="utf-8").splitlines() if curves_file.exists() else []
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{file}: cannot read it: {exc}") from None
        self._attempt_lines()  # an attempts.jsonl that cannot be read is refused before any write
        kept, moved = _split_by_trial(lines, trials)
        kept_curves, moved_curves = _split_by_trial(curve_lines, trials)
        curve_of = {}
        for line in moved_curves:
            item = json.loads(line)
            curve_of[item.pop("trial")] = item
        attempts = self.path / "attempts.jsonl"
        try:
            before = attempts.stat().st_size if attempts.exists() else 0
            atomic_write(self._pending, json.dumps({"size": before, "moved": moved}) + "\n")
            with open(attempts, "a", encoding="utf-8") as f:
                for line in moved:
                    item = json.loads(line)
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

    def recover_set_aside(self) -> None:
        """After a kill inside ``set_aside``: if trials.jsonl still holds the records being
        moved, the move did not happen (attempts.jsonl is cut back to its length before);
        otherwise it did (only the marker is left to remove)."""
        try:
            pending = json.loads(self._pending.read_text(encoding="utf-8"))
            size, moved = int(pending["size"]), list(pending["moved"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError):
            return  # a marker that cannot be read: leave the files as they are
        file = self.path / "trials.jsonl"
        try:
            present = set(file.read_text(encoding="utf-8").splitlines()) if file.exists() else set()
            if moved and all(line in present for line in moved):
                attempts = self.path / "attempts.jsonl"
                if attempts.exists() and attempts.stat().st_size > size:
                    with open(attempts, "r+b") as f:
                        f.truncate(size)
                        os.fsync(f.fileno())
            self._pending.unlink()
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(
                f"{self._pending}: cannot finish an interrupted retry: {exc}"
            ) from None

    def _attempt_lines(self) -> list[str]:
        try:
            text = (self.path / "attempts.jsonl").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{self.path / 'attempts.jsonl'}: cannot read it: {exc}") from None
        return [line for line in text.splitlines() if line.strip()]

    def load_attempts(self) -> list[dict[str, Any]]:
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
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and is_int(item.get("trial")):
                attempts.append(item)
        return attempts

    # -- early stopping: rung results and checkpoints ------------------------------------------

    def append_rung(self, line: Mapping[str, Any]) -> None:
        """Append one rung training's result to rungs.jsonl, flushed at once (written before
        any decision it leads to, so a resume takes the same decisions)."""
        try:
            if self._rungs is None:
                self._rungs = open(self.path / "rungs.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            _write_line(self._rungs, json.dumps(line))
        except OSError as exc:
            self._abandon()
            raise StorageError(
                f"{self.path}: cannot write a rung result: {exc.strerror or exc}; "
                "the results written before it are kept"
            ) from None

    def load_rungs(self, repair: bool = False, space: Space | None = None) -> list[Any]:
        """The rung results on disk (``hpsearch.halving.RungResult``), in the order written.
        A torn last line is set aside (cut, with ``repair``); a bad line elsewhere is a
        RunError naming file and line."""
        from hpsearch.halving import RungResult

        file = self.path / "rungs.jsonl"
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{file}: cannot read it: {exc}") from None
        lines = text.split("\n")
        results = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("not a rung result")
                bracket, rung = item.pop("bracket", None), item.pop("rung", None)
                curves = item.pop("curves", None)
                if not (is_int(bracket) and is_int(rung)) or bracket < 0 or rung < 0:
                    raise ValueError("field 'bracket' or 'rung': expected an integer")
                record = TrialRecord.from_json(item, space)
                if curves is not None and not isinstance(curves, dict):
                    curves = None
                results.append(RungResult(bracket, rung, replace(record, curves=curves)))
            except (ValueError, RecordProblem) as exc:
                if number == len(lines):  # no newline after it: a write that did not finish
                    if repair:
                        try:
                            atomic_write(file, text[: len(text) - len(line)])
                        except OSError as err:
                            raise StorageError(
                                f"{file}: cannot repair its cut-off last line: "
                                f"{err.strerror or err}"
                            ) from None
                    break
                raise RunError(
                    f"{file}:{number}: corrupt rung result ({exc}); fix or delete that line "
                    "and resume"
                ) from None
        return results

    def checkpoint_dir(self, trial: int) -> Path:
        """Where trial ``trial`` keeps what it needs to continue (made when first asked)."""
        path = self.path / "checkpoints" / f"trial-{trial:06d}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def remove_checkpoints(self, trial: int | None = None) -> None:
        """Drop one trial's checkpoint (it is final) or all of them (the run is complete)."""
        root = self.path / "checkpoints"
        target = root if trial is None else root / f"trial-{trial:06d}"
        shutil.rmtree(target, ignore_errors=True)

    # -- results ------------------------------------------------------------------------------

    def write_file(self, name: str, text: str) -> None:
        """A whole file of the run, written atomically (best.yaml of a lineage, say)."""
        atomic_write(self.path / name, text)

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
        # A resumed round recomputes its lineage: drop what the previous attempt wrote.
        previous = {k: v for k, v in self.summary().items() if not k.startswith("lineage")}
        summary = {
            **previous,
            "status": status,
            "finished": now(),
            "wall_time": round(wall_time, 3),
            **results.fields,
            **(extra or {}),
        }
        self.write_summary(summary)
        return summary


def _split_by_trial(lines: list[str], trials: set[int]) -> tuple[list[str], list[str]]:
    """Lines of JSON records: those of other trials, those of ``trials`` (blank and unreadable
    lines are kept where they are: load_trials reports them)."""
    kept, moved = [], []
    for line in lines:
        try:
            item = json.loads(line)
            index = item.get("trial") if isinstance(item, dict) else None
        except ValueError:
            index = None
        (moved if is_int(index) and index in trials else kept).append(line)
    return kept, moved


def _check_best(best: Any, field: str) -> str | None:
    if best is None:
        return None
    if not isinstance(best, dict):
        return f"field '{field}': expected an object or null, got {kind_of(best)}"
    if not is_int(best.get("trial")):
        return f"field '{field}.trial': expected a trial number, got {kind_of(best.get('trial'))}"
    if best.get("value") is not None and not is_number(best["value"]):
        return f"field '{field}.value': expected a number, got {kind_of(best.get('value'))}"
    if not isinstance(best.get("params", {}), dict):
        return f"field '{field}.params': expected an object, got {kind_of(best.get('params'))}"
    if "run_id" in best and not (isinstance(best["run_id"], str) and _RUN_ID.match(best["run_id"])):
        return f"field '{field}.run_id': expected a run id, got {best['run_id']!r:.40}"
    return None


_SUMMARY_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "run_id": (lambda v: isinstance(v, str), "a string"),
    "name": (lambda v: isinstance(v, str), "a string"),
    "kind": (lambda v: v in KINDS, "search, panda or retest"),
    "parent": (
        lambda v: v is None or (isinstance(v, str) and bool(_RUN_ID.match(v))),
        "a run id or null",
    ),
    "round": (lambda v: is_int(v) and v >= 0, "a round number"),
    "rounds_left": (lambda v: is_int(v) and v >= 0, "a number of rounds"),
    "continues": (lambda v: isinstance(v, bool), "true or false"),
    "status": (lambda v: isinstance(v, str), "a string"),
    "started": (lambda v: isinstance(v, str), "a time stamp"),
    "finished": (lambda v: isinstance(v, str), "a time stamp"),
    "trials_planned": (lambda v: is_int(v), "an integer"),
    "trials_done": (lambda v: is_int(v), "an integer"),
    "metric": (lambda v: isinstance(v, str), "a metric name"),
    "direction": (lambda v: v in ("maximize", "minimize"), "maximize or minimize"),
    "wall_time": (lambda v: v is None or is_number(v), "a number of seconds"),
    "counts": (
        lambda v: isinstance(v, dict) and all(is_int(n) for n in v.values()),
        "an object of counts",
    ),
    "lineage": (lambda v: isinstance(v, list), "a list"),
    "retest": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "panda": (
        lambda v: (
            v is None
            or (
                isinstance(v, dict)
                and isinstance(v.get("values"), dict)
                and isinstance(v.get("chosen", {}), dict)
            )
        ),
        "an object with values",
    ),
    "config": (lambda v: isinstance(v, dict), "an object"),
    "versions": (lambda v: isinstance(v, dict), "an object"),
}


def summary_problem(summary: Any) -> str | None:
    """What is wrong with a summary.json's content, or None."""
    if not isinstance(summary, dict):
        return f"not a run summary (expected a JSON object, got {kind_of(summary)})"
    for key, (check, expected) in _SUMMARY_TYPES.items():
        if key in summary and not check(summary[key]):
            return f"field '{key}': expected {expected}, got {kind_of(summary[key])}"
    return _check_best(summary.get("best"), "best") or _check_best(
        summary.get("lineage_best"), "lineage_best"
    )


def run_kind(summary: Mapping[str, Any]) -> str:
    """A run's kind; runs made before summaries named it are told by their keys."""
    if summary.get("kind") in KINDS:
        return summary["kind"]
    if summary.get("retest"):
        return "retest"
    return "panda" if summary.get("panda") else "search"


def is_run_dir(path: Path) -> bool:
    """A directory hpsearch made: it holds the run marker, or (runs made before the marker)
    a config.yaml and a summary.json that names its hpsearch version. Unreadable: False."""
    try:
        if (path / MARKER).is_file():
            return True
        if not (path / "config.yaml").is_file():
            return False
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(summary, dict)
        and isinstance(summary.get("versions"), dict)
        and "hpsearch" in summary["versions"]
        and isinstance(summary.get("run_id"), str)
    )


def versions() -> dict[str, str]:
    import numpy

    return {
        "hpsearch": __version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def now() -> str:
    # Microseconds: `latest` must tell apart runs started in the same second (zoom rounds).
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
