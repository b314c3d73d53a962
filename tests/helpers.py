"""Shared test helpers: base configs for the ``make_config`` fixture (conftest.py), running
the CLI, and reading what a run wrote."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hpsearch.cli import app

# -- base configs: plain data, written by the make_config fixture ------------------------------

QUICKSTART: dict[str, Any] = {
    "name": "quickstart",
    "seed": 0,
    "data": {"source": "spirals", "classes": 4, "samples": 2000, "noise": 0.2, "val_fraction": 0.2},
    "model": {"layers": 2, "epochs": 30, "optimizer": "adam"},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-4, "max": 1.0},
        "beta1": {"scale": "one_minus_log", "min": 0.9, "max": 0.999},
        "hidden_units": {"scale": "linear", "min": 16, "max": 128, "type": "int"},
        "batch_size": {"choice": [32, 64, 128, 256]},
    },
    "search": {"trials": 40, "metric": "val_accuracy", "direction": "maximize"},
    "zoom": {"top": 5, "margin": 0.25, "trials": 20, "rounds": 0},
    "run": {"jobs": -1, "backend": "loky", "runs_dir": "runs"},
}

# A small, quick search with the built-in trainer: make_config's default base.
SMALL: dict[str, Any] = {
    "name": "small",
    "seed": 3,
    "data": {"source": "spirals", "classes": 3, "samples": 300, "noise": 0.2},
    "model": {"layers": 1, "epochs": 4, "optimizer": "adam"},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "beta1": {"scale": "one_minus_log", "min": 0.8, "max": 0.99},
        "hidden_units": {"scale": "log", "min": 8, "max": 32},
    },
    "search": {"trials": 6},
}

# Shorter still, with a choice parameter and zoom rounds of 4 trials: the reports' run.
TRAINER: dict[str, Any] = {
    "name": "small",
    "data": {"source": "spirals", "classes": 3, "samples": 300},
    "model": {"layers": 1, "epochs": 3},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "beta1": {"scale": "one_minus_log", "min": 0.8, "max": 0.99},
        "batch_size": {"choice": [32, 64]},
    },
    "search": {"trials": 8},
    "zoom": {"trials": 4},
}


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()
"""Given for a section or a key of one, ``merged`` (and so ``make_config``) leaves it out."""


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of the config ``base`` with ``changes``: a mapping given for a section is
    merged into it key by key (each key's value replaced whole), anything else replaces the
    section, and ``DROP`` removes a section or a key."""
    doc = copy.deepcopy(dict(base))
    for section, value in changes.items():
        if value is DROP:
            doc.pop(section, None)
        elif isinstance(value, Mapping):
            keys = doc[section] if isinstance(doc.get(section), dict) else {}
            for key, item in value.items():
                if item is DROP:
                    keys.pop(key, None)
                else:
                    keys[key] = copy.deepcopy(item)
            doc[section] = keys
        else:
            doc[section] = copy.deepcopy(value)
    return doc


ZOOMY = merged(TRAINER, {"name": "zoomy", "search": {"trials": 6}})


# -- the command line ----------------------------------------------------------------------------


def spawn_cli(args: list[str], cwd: Path, env: Mapping[str, str] | None = None):
    """``python -m hpsearch ARGS`` in a session of its own (so a test can signal its whole
    group), unbuffered, stdout and stderr piped as text."""
    import os
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "hpsearch", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def invoke(*args: str):
    """Run ``hpsearch ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_json(*args: str, code: int = 0) -> dict:
    """``hpsearch ARGS --json --quiet``, which must exit ``code``; the JSON it printed."""
    result = invoke(*args, "--json", "--quiet")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def one_line_error(result, *fragments: str, code: int = 2) -> str:
    """The command failed with ``code`` and one ``error:`` line on stderr holding every
    fragment, and no traceback; returns that line."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# -- what a run wrote ---------------------------------------------------------------------------


def trial_records(run_dir: Path | str) -> list[dict]:
    """The trial records in a run's trials.jsonl, in the order they were written."""
    text = (Path(run_dir) / "trials.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def leaderboard(run_dir: Path | str) -> str:
    """A run's leaderboard.csv."""
    return (Path(run_dir) / "leaderboard.csv").read_text()


def reference_leaderboard(config: Path, runs_dir: Path) -> str:
    """The leaderboard of an uninterrupted run of ``config`` into ``runs_dir``."""
    doc = run_json("run", str(config), "--runs-dir", str(runs_dir))
    return leaderboard(doc["run_dir"])


def kill_9_at_round(config: Path, cwd: Path, round_: int) -> None:
    """``hpsearch run CONFIG`` in a process of its own, killed with SIGKILL (workers and
    all) once round ``round_`` has written a trial to ``cwd/runs``."""
    import os
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(config), "--quiet"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert wait_for_round(cwd / "runs", round_) is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_round(runs: Path, round_: int, limit: float = 60):
    """The run directory whose round ``round_`` has written a trial, once it has, or None."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for run in runs.glob("*"):
            try:
                lines = (run / "trials.jsonl").read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    if json.loads(line).get("round") == round_:
                        return run
                except ValueError:
                    continue
        time.sleep(0.01)
    return None


def assert_no_workers_left(pid: int) -> None:
    """No process of the session ``pid`` leads (a run's worker processes) is still alive."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) == pid and fields[0] != "Z":  # session id
                    alive.append(entry.name)
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"worker processes left behind: {alive}")


# A small successive-halving search of the built-in trainer (12 trials, rungs of 1, 3, 9 epochs).
# Six quick trials of the built-in trainer on two workers: the Dask and cluster tests' search.
DASK_SMALL = {
    "name": "daskrun",
    "data": {"source": "spirals", "classes": 3, "samples": 300},
    "model": {"layers": 1, "epochs": 3},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "hidden_units": {"scale": "log", "min": 8, "max": 32},
    },
    "search": {"trials": 6},
    "run": {"jobs": 2},
}

HALVING = {
    "name": "halving",
    "seed": 5,
    "data": {"source": "spirals", "classes": 3, "samples": 300},
    "model": {"layers": 1, "epochs": 9, "optimizer": "adam"},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0},
        "hidden_units": {"scale": "log", "min": 8, "max": 32},
    },
    "search": {"trials": 12},
    "early_stop": {"method": "halving", "min_epochs": 1, "eta": 3},
    "run": {"jobs": 2},
}
