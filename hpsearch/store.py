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
import csv
import io
import json
import math
import os
import platform
import re
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hpsearch import __version__, yamlio
from hpsearch.config import Config, load_config
from hpsearch.errors import UserError
from hpsearch.space import Space

STATUSES = ("ok", "diverged", "failed", "timeout")
KINDS = ("search", "panda", "retest")
MARKER = ".hpsearch-run"  # written by every run: only such a directory is read or written as one
_FSYNC_EVERY = 1.0  # seconds
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RunError(UserError):
    """A run directory that cannot be used: missing, unreadable, corrupt."""


class StorageError(RunError):
    """Writing a run failed (a full disk, a vanished directory): the run stops, and what was
    already written stays readable and resumable."""


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
    records: list[dict[str, Any]]
    torn: str | None = None  # a last line cut off by a killed process, set aside


@dataclass
class RunStore:
    """One run directory. Create with ``RunStore.create``, open with ``RunStore.open``."""

    path: Path
    _trials: Any = field(default=None, repr=False)
    _curves: Any = field(default=None, repr=False)
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
                        "started": _now(),
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

    def append(self, record: Mapping[str, Any], curves: Mapping[str, Any] | None = None) -> None:
        """Append one finished trial: a single write of one line, flushed at once. A failed
        write (a full disk) raises StorageError; a line it cut short is repaired on resume."""
        try:
            if self._trials is None:
                self._trials = open(self.path / "trials.jsonl", "a", encoding="utf-8")  # noqa: SIM115
                self._curves = open(self.path / "curves.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            if curves:
                line = json.dumps({"trial": record["trial"], **clean_json(curves)})
                _write_line(self._curves, line)
            _write_line(self._trials, json.dumps(clean_json(record)))
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
        for f in (self._trials, self._curves):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        self._trials = self._curves = None

    def sync(self) -> None:
        for f in (self._trials, self._curves):
            if f is not None:
                os.fsync(f.fileno())

    def close(self) -> None:
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
        records: dict[int, dict[str, Any]] = {}
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
            problem = record_problem(record, space)
            if problem:
                raise RunError(
                    f"{file}:{number}: {problem}; fix or delete that line (and resume to "
                    "run that trial again)"
                )
            records[record["trial"]] = record
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
        return LoadedTrials(sorted(records.values(), key=lambda r: r["trial"]), torn)

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
        if not file.exists():
            return curves
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
                curves[item.pop("trial")] = item
            except (ValueError, KeyError, AttributeError, TypeError):
                continue  # curves are a convenience; a torn line loses one curve, not the run
        return curves

    # -- results ------------------------------------------------------------------------------

    def write_results(
        self,
        config: Config,
        records: list[dict[str, Any]],
        *,
        status: str,
        wall_time: float,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Leaderboard, best.yaml and the final summary; returns the summary."""
        ranked = rank(records, config.search.metric, config.search.direction)
        atomic_write(self.path / "leaderboard.csv", leaderboard_csv(ranked, config))
        best = best_ok(ranked)
        if best is not None:
            atomic_write(self.path / "best.yaml", best_config_yaml(config, best))
        # A resumed round recomputes its lineage: drop what the previous attempt wrote.
        previous = {k: v for k, v in self.summary().items() if not k.startswith("lineage")}
        summary = {
            **previous,
            "status": status,
            "finished": _now(),
            "wall_time": round(wall_time, 3),
            **_result_fields(config, records),
            **(extra or {}),
        }
        self.write_summary(summary)
        return summary


    def current_summary(
        self, config: Config | None = None, records: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The summary as things stand. One still marked ``running`` (summary.json is written
        when a run starts and when it ends) gets its counts and best from the trials on disk,
        and is ``stopped`` once the driver that ran it is gone: killed, it can be resumed."""
        summary = self.summary()
        if summary.get("status") != "running":
            return summary
        try:
            config = config or self.config()
            if records is None:
                records = self.load_trials().records
        except UserError:
            return summary
        summary = {**summary, **_result_fields(config, records)}
        if RunLock.driver_gone(self.path):
            summary["status"] = "stopped"
        return summary


def _result_fields(config: Config, records: list[dict[str, Any]]) -> dict[str, Any]:
    best = best_ok(rank(records, config.search.metric, config.search.direction))
    return {
        "trials_done": len(records),
        "counts": {s: sum(r["status"] == s for r in records) for s in STATUSES},
        "best": None
        if best is None
        else {
            "trial": best["trial"],
            "value": best["metrics"].get(config.search.metric),
            "params": best["params"],
            "seed": best["seed"],
        },
    }


class RunLock:
    """One driver per run directory: an exclusive ``flock`` on ``.lock`` while a command
    runs trials into it. The file names the holder, for the message a second driver gets; a
    lock left by a driver that was killed is taken over, and anything that driver's workers
    still run is ended first (its token, ``hpsearch.procs``)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / ".lock"
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        import fcntl
        import socket

        from hpsearch import procs

        try:
            # Never through a link: a .lock pointing elsewhere must not get written into.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise RunError(
                f"{self.path}: cannot lock the run: {exc.strerror or exc} (remove that file if "
                "it is not hpsearch's)"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RunError(f"{self.path}: not a regular file; remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunError(
                f"{self.path.parent}: in use by another hpsearch ({_describe(holder)}); wait for "
                "it to finish, or stop it, then try again"
            ) from None
        except OSError:  # a file system without locks (some network mounts): go on unlocked
            pass
        old = _read_holder(fd)
        host = socket.gethostname()
        token = str(old.get("token") or "")
        pid = procs.driver_of(token)  # the token names its driver: no other can be hit
        if old.get("host") == host and pid not in (None, os.getpid()) and not procs.alive(pid):
            procs.kill_tagged([token])  # what a killed driver's workers still run
        holder = {
            "pid": os.getpid(),
            "host": host,
            "token": procs.driver_token(),
            "since": _now(),
            "command": " ".join(["hpsearch", *sys.argv[1:]])[:300],
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise RunError(f"{self.path}: cannot write it: {exc.strerror or exc}") from None
        self.fd = fd
        return self

    @staticmethod
    def driver_gone(run_dir: Path) -> bool:
        """The driver that last held this run's lock is known to be dead (it ran here and its
        process is gone). Read without locking, so a driver starting meanwhile is never
        refused because of a look."""
        import socket

        from hpsearch import procs

        try:
            fd = os.open(run_dir / ".lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            holder = _read_holder(fd)
        finally:
            os.close(fd)
        pid = procs.driver_of(str(holder.get("token") or ""))
        return holder.get("host") == socket.gethostname() and pid is not None and (
            not procs.alive(pid)
        )

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file releases the lock
            self.fd = None


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8", errors="replace") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: Mapping[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    parts = [f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"]
    if holder.get("command"):
        parts.append(f"'{str(holder['command'])[:120]}'")
    if holder.get("since"):
        parts.append(f"since {str(holder['since'])[:19].replace('T', ' ')} UTC")
    return ", ".join(parts)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A number a float can hold (no 10**400, NaN or infinity from a hand-edited file)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if _is_number(value) else type(value).__name__
    )


def record_problem(record: Mapping[str, Any], space: Space | None = None) -> str | None:
    """What is wrong with a trial record read from disk, or None."""

    def bad(field: str, expected: str) -> str:
        return f"field '{field}': expected {expected}, got {_kind_of(record.get(field))}"

    if not _is_int(record.get("trial")) or record["trial"] < 0:
        return bad("trial", "a trial number")
    if not isinstance(record.get("params"), dict):
        return bad("params", "an object of parameter values")
    if record.get("status") not in STATUSES:
        got = repr(record.get("status"))[:40]
        return f"field 'status': expected one of {', '.join(STATUSES)}, got {got}"
    metrics = record.get("metrics")
    if not isinstance(metrics, dict) or not all(
        v is None or _is_number(v) for v in metrics.values()
    ):
        return bad("metrics", "an object of numbers")
    for name, check, expected in (
        ("seed", _is_int, "an integer"),
        ("epochs", _is_int, "an integer"),
        ("seconds", _is_number, "a number"),
        ("error", lambda v: isinstance(v, str), "a string"),
    ):
        if record.get(name) is not None and not check(record[name]):
            return bad(name, f"{expected} or null")
    if space is not None:
        for p in space:
            if p.name not in record["params"]:
                return f"field 'params': no value for '{p.name}'"
            if not p.contains(record["params"][p.name]):
                return (
                    f"field 'params.{p.name}': {record['params'][p.name]!r:.40} is not in "
                    f"the run's space ({p.describe()})"
                )
    return None


def _check_best(best: Any, field: str) -> str | None:
    if best is None:
        return None
    if not isinstance(best, dict):
        return f"field '{field}': expected an object or null, got {_kind_of(best)}"
    if not _is_int(best.get("trial")):
        return f"field '{field}.trial': expected a trial number, got {_kind_of(best.get('trial'))}"
    if best.get("value") is not None and not _is_number(best["value"]):
        return f"field '{field}.value': expected a number, got {_kind_of(best.get('value'))}"
    if not isinstance(best.get("params", {}), dict):
        return f"field '{field}.params': expected an object, got {_kind_of(best.get('params'))}"
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
    "round": (lambda v: _is_int(v) and v >= 0, "a round number"),
    "rounds_left": (lambda v: _is_int(v) and v >= 0, "a number of rounds"),
    "continues": (lambda v: isinstance(v, bool), "true or false"),
    "status": (lambda v: isinstance(v, str), "a string"),
    "started": (lambda v: isinstance(v, str), "a time stamp"),
    "finished": (lambda v: isinstance(v, str), "a time stamp"),
    "trials_planned": (lambda v: _is_int(v), "an integer"),
    "trials_done": (lambda v: _is_int(v), "an integer"),
    "metric": (lambda v: isinstance(v, str), "a metric name"),
    "direction": (lambda v: v in ("maximize", "minimize"), "maximize or minimize"),
    "wall_time": (lambda v: v is None or _is_number(v), "a number of seconds"),
    "counts": (
        lambda v: isinstance(v, dict) and all(_is_int(n) for n in v.values()),
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
        return f"not a run summary (expected a JSON object, got {_kind_of(summary)})"
    for key, (check, expected) in _SUMMARY_TYPES.items():
        if key in summary and not check(summary[key]):
            return f"field '{key}': expected {expected}, got {_kind_of(summary[key])}"
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


def rank(records: Iterable[Mapping[str, Any]], metric: str, direction: str) -> list[dict]:
    """Best first by ``metric`` in ``direction``; trials without it (failures) last, by index."""
    sign = -1.0 if direction == "maximize" else 1.0

    def key(r: Mapping[str, Any]) -> tuple:
        value = r.get("metrics", {}).get(metric) if r.get("status") == "ok" else None
        if value is None:
            return (1, 0.0, r["trial"])
        return (0, sign * value, r["trial"])

    return [dict(r) for r in sorted(records, key=key)]


def best_ok(ranked: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first of ``rank``'s output when it is an ``ok`` trial, else None."""
    return ranked[0] if ranked and ranked[0]["status"] == "ok" else None


def leaderboard_csv(ranked: list[Mapping[str, Any]], config: Config) -> str:
    metric = config.search.metric
    # The search metric first, then every other metric the trials reported.
    seen: dict[str, None] = {}
    for r in ranked:
        for key in r.get("metrics") or {}:
            seen.setdefault(key, None)
    metric_columns = [metric, *[m for m in seen if m != metric]]
    names = config.space.names
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # No wall-clock column: a resumed run's leaderboard is identical to an uninterrupted one's.
    writer.writerow(
        unique_headers(
            [("rank", ""), ("trial", ""), ("status", "")]
            + [(m, "metric") for m in metric_columns]
            + [(n, "param") for n in names]
            + [("seed", ""), ("epochs", ""), ("error", "")]
        )
    )
    for position, r in enumerate(ranked, start=1):
        metrics = r.get("metrics") or {}
        writer.writerow(
            [
                position,
                r["trial"],
                r["status"],
                *[_cell(metrics.get(m)) for m in metric_columns],
                *[_cell(r["params"].get(n)) for n in names],
                r.get("seed"),
                r.get("epochs"),
                r.get("error") or "",
            ]
        )
    return out.getvalue()


def unique_headers(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Column names, each once: a name already taken (a parameter called ``epochs``, a
    metric called like a parameter) gets its role added, ``epochs (param)``."""
    out: list[str] = []
    for name, role in columns:
        header = name
        if header in out:
            header = f"{name} ({role or 'hpsearch'})"
        while header in out:
            header += "'"
        out.append(header)
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def best_config_yaml(config: Config, best: Mapping[str, Any]) -> str:
    """The config with the winner's values fixed under ``model`` and nothing left to search:
    ``hpsearch run best.yaml`` re-trains the winner with fresh seeds."""
    import numpy as np

    resolved = config.to_dict(absolute_paths=True)
    resolved["model"] = {**resolved["model"], **best["params"]}
    resolved["space"] = {}
    resolved["zoom"] = {**resolved["zoom"], "rounds": 0}
    # A seed of its own, so no re-test trial repeats the winner's (possibly lucky) seed; the
    # data keeps the run's seed.
    resolved["seed"] = int(np.random.SeedSequence([best["seed"], 7]).generate_state(1)[0])
    if config.objective.is_builtin:
        resolved["data"] = {**resolved["data"], "seed": config.data_seed}
    header = (
        f"# Best trial {best['trial']} of this run: "
        f"{config.search.metric} = {best['metrics'].get(config.search.metric)}\n"
        f"# Its training seed was {best['seed']}. Running this file re-trains these "
        "settings with fresh seeds.\n"
    )
    return header + yamlio.dump(resolved)


def versions() -> dict[str, str]:
    import numpy

    return {
        "hpsearch": __version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def _now() -> str:
    # Microseconds: `latest` must tell apart runs started in the same second (zoom rounds).
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def resolve_run(ref: str, runs_dir: Path | str = "runs", *, search_only: bool = False) -> RunStore:
    """A run named by path, by id (or a unique prefix of one) under ``runs_dir``, or
    ``latest``: the newest run, or with ``search_only`` the newest search (panda runs and
    re-tests skipped)."""
    candidate = Path(ref)
    if ref != "latest" and is_run_dir(candidate):
        return RunStore.open(candidate)
    runs_dir = Path(runs_dir)
    if ref == "latest":
        runs = list_runs(runs_dir)
        if search_only:
            runs = [r for r in runs if _kind_or_search(r) == "search"]
        if not runs:
            what = "searches" if search_only else "runs"
            raise RunError(f"{runs_dir}: no {what} yet")
        return runs[0]
    if "/" not in ref and ref not in (".", "..") and is_run_dir(runs_dir / ref):
        return RunStore.open(runs_dir / ref)
    matches = (
        [r for r in list_runs(runs_dir) if r.run_id.startswith(ref)]
        if ref and "/" not in ref and not ref.startswith(".")
        else []
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RunError(
            f"'{ref}' matches {len(matches)} runs in {runs_dir}: "
            + ", ".join(m.run_id for m in matches[:5])
        )
    if candidate.is_dir():
        raise RunError(
            f"{ref}: not a run directory (hpsearch marks each run with a {MARKER} file); "
            "name a run directory, a run id or 'latest'"
        )
    raise RunError(
        f"no run '{ref}': not a run directory, nor a run id in {runs_dir} (another "
        "runs directory: --runs-dir DIR)"
    )


def _kind_or_search(store: RunStore) -> str:
    try:
        return store.kind
    except RunError:
        return "search"


def list_runs(runs_dir: Path | str, problems: list[str] | None = None) -> list[RunStore]:
    """Runs under ``runs_dir``, newest first (by start time, then name). A directory that
    cannot be read is skipped (and named in ``problems``)."""
    runs_dir = Path(os.path.abspath(runs_dir))
    if not runs_dir.is_dir():
        return []
    try:
        entries = sorted(runs_dir.iterdir())
    except OSError as exc:
        raise RunError(
            f"{runs_dir}: cannot read the runs directory: {exc.strerror or exc}"
        ) from None
    stores = []
    for entry in entries:
        if entry.name.startswith("."):
            continue  # a run being created, or not a run
        if is_run_dir(entry):
            stores.append(RunStore(entry))
        elif problems is not None:
            try:
                entry.is_dir() and list(entry.iterdir())
            except OSError as exc:
                problems.append(f"{entry}: cannot read it: {exc.strerror or exc}")

    def started(store: RunStore) -> str:
        try:
            return str(store.summary().get("started") or "")
        except RunError:
            return ""

    return sorted(stores, key=lambda s: (started(s), s.run_id), reverse=True)


def lineage(store: RunStore) -> list[RunStore]:
    """The run and its ancestors (``parent`` in summary.json), root first. A parent that is
    no longer in the runs directory ends the chain."""
    chain = [store]
    seen = {store.run_id}
    while True:
        parent = chain[-1].summary().get("parent")
        if not parent or parent in seen:
            break
        path = chain[-1].path.parent / parent
        if not is_run_dir(path):
            break
        chain.append(RunStore(path))
        seen.add(parent)
    return chain[::-1]


def continuation(store: RunStore) -> RunStore | None:
    """The next round of ``store``'s ``--rounds`` search, if it was started (the newest, if
    an earlier resume started more than one)."""
    children = []
    for other in list_runs(store.path.parent):
        try:
            summary = other.summary()
        except RunError:
            continue
        if summary.get("parent") == store.run_id and summary.get("continues"):
            children.append(other)
    return children[0] if children else None
