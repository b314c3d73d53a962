"""summary.json: what a run is (kind, status, counts, best, …), checked field by field when
read back (it may have been edited by hand); the marks that make a directory a run, and
making one whole or not at all."""

from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hpsearch.errors import RunError
from hpsearch.files import SMALL_FILE, NotRegularFile, TooLarge, loads, read_text
from hpsearch.record import is_int, is_number, kind_of
from hpsearch.version import __version__

KINDS = ("search", "panda", "retest")
STATUSES = ("running", "complete", "interrupted")
MARKER = ".hpsearch-run"  # written by every run: only such a directory is read or written as one
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def new_run_id(name: str) -> str:
    """``<name>-<UTC timestamp>-<6 random hex digits>``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{name}-{stamp}-{secrets.token_hex(3)}"


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
    if "run_id" in best and not (isinstance(best["run_id"], str) and RUN_ID.match(best["run_id"])):
        return f"field '{field}.run_id': expected a run id, got {best['run_id']!r:.40}"
    if "round" in best and not (is_int(best["round"]) and best["round"] >= 0):
        return f"field '{field}.round': expected a round number, got {kind_of(best['round'])}"
    return None


_SUMMARY_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "run_id": (lambda v: isinstance(v, str) and bool(RUN_ID.match(v)), "a run id"),
    "name": (lambda v: isinstance(v, str), "a string"),
    "kind": (lambda v: v in KINDS, "search, panda or retest"),
    "parent": (
        lambda v: v is None or (isinstance(v, str) and bool(RUN_ID.match(v))),
        "a run id or null",
    ),
    "round": (lambda v: is_int(v) and v >= 0, "a round number"),
    "rounds_left": (lambda v: is_int(v) and v >= 0, "a number of rounds"),
    "continues": (lambda v: isinstance(v, bool), "true or false"),
    "status": (lambda v: v in STATUSES, "running, complete or interrupted"),
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
    "rounds": (lambda v: isinstance(v, list), "a list of rounds"),
    "converted_to": (lambda v: isinstance(v, str) and bool(RUN_ID.match(v)), "a run id"),
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
        summary = loads(read_text(path / "summary.json", SMALL_FILE))
    except (OSError, ValueError, NotRegularFile, TooLarge):
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


def make_run_dir(runs_dir: Path | str, name: str, fill: Callable[[Path, str], None]) -> Path:
    """A new run directory ``runs_dir/<name>-<time>-<random>/``, whole or not at all: ``fill``
    (given the hidden staging directory and the run id) writes its files, then it is renamed
    into place, so a full disk or a kill leaves no half-made run behind."""
    runs_dir = Path(os.path.abspath(runs_dir))
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(
            f"{runs_dir}: cannot create the runs directory: {exc.strerror or exc}"
        ) from None
    for _ in range(100):  # the random suffix makes a clash unlikely; mkdir makes it safe
        run_id = new_run_id(name)
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
            fill(staging, run_id)
            os.rename(staging, path)  # fails if a run of that id appeared meanwhile
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if path.exists():
                continue
            raise RunError(
                f"{runs_dir}: cannot create a run directory: {exc.strerror or exc}"
            ) from None
        except BaseException:  # fill's own error (the lock), or a signal: nothing half-made
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return path
    raise RunError(f"{runs_dir}: could not find a free run id")  # pragma: no cover


_WRITTEN = ("trials.jsonl", "rungs.jsonl", "curves.jsonl", "rounds.jsonl", "summary.json")


def wall_time_so_far(run_dir: Path, summary: Mapping[str, Any], since: Any) -> float | None:
    """The wall time of a run still marked running (its driver alive or killed) as of the
    last write to its files: what the summary last counted (``wall_time``, at ``finished``),
    plus the time from then, or from when its driver started (``since``, the lock's), to
    that write. None if its times cannot be read."""

    def moment(text: Any) -> float | None:
        try:
            at = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            return None
        return at.timestamp() if at is not None and at.tzinfo is not None else None

    stale = summary.get("wall_time")
    counted = float(stale) if isinstance(stale, (int, float)) and is_number(stale) else 0.0
    anchors = [moment(summary.get("finished") if counted else summary.get("started"))]
    anchors.append(moment(since))
    known = [a for a in anchors if a is not None]
    writes = []
    for name in _WRITTEN:
        try:
            writes.append(os.stat(run_dir / name, follow_symlinks=False).st_mtime)
        except OSError:
            continue
    if not known or not writes:
        return None
    return round(counted + max(0.0, max(writes) - max(known)), 3)
