"""How numbers read (issue 23): a tiny metric keeps its digits everywhere, `list` gives every
best the same precision, a killed run shows its real wall time and its planned trials."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hpsearch.record import format_metric

from .helpers import invoke, trial_records

OBJECTIVE = """\
def tiny(params, seed):
    return {"loss": params["x"] * 1e-6}


def plain(params, seed):
    return {"loss": params["x"]}
"""


def write_config(tmp_path: Path, name: str, function: str, trials: int = 4) -> Path:
    (tmp_path / "objective.py").write_text(OBJECTIVE)
    config = {
        "name": name,
        "objective": {"python": f"objective:{function}"},
        "space": {"x": {"scale": "linear", "min": 1.0, "max": 2.0}},
        "search": {"trials": trials, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "sequential", "jobs": 1, "runs_dir": str(tmp_path / "runs")},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-6, "1.0e-06"),
        (-1.234567e-7, "-1.235e-07"),
        (4.99e-5, "4.99e-05"),
        (5e-5, "0.0001"),
        (0.0, "0.0000"),
        (0.95, "0.9500"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_a_metric_reads_with_its_digits(value, text):
    assert format_metric(value) == text


def test_a_tiny_metric_is_never_shown_as_zero(tmp_path):
    path = write_config(tmp_path, "tiny", "tiny")
    ran = invoke("run", str(path))
    assert ran.exit_code == 0, ran.output
    run_dir = json.loads(invoke("list", "--runs-dir", str(tmp_path / "runs"), "--json").stdout)[
        "runs"
    ][0]["path"]
    best = min(r["metrics"]["loss"] for r in trial_records(run_dir))
    shown = format_metric(best)
    assert "e-06" in shown
    outputs = {
        "run": ran.stdout,
        "show": invoke("show", run_dir).stdout,
        "list": invoke("list", "--runs-dir", str(tmp_path / "runs")).stdout,
        "compare": invoke("compare", run_dir, run_dir).stdout,
        "markdown": invoke("report", run_dir, "--markdown").stdout,
    }
    for command, out in outputs.items():
        assert shown in out, command
        assert "0.0000" not in out, command
    first = format_metric(trial_records(run_dir)[0]["metrics"]["loss"])
    assert f"loss: {first}" in invoke("show", run_dir, "--trial", "0").stdout


def test_list_gives_every_best_the_same_precision(tmp_path):
    for name in ("a", "b"):
        invoke("run", str(write_config(tmp_path, name, "plain", trials=2)), "--quiet")
    runs = sorted((tmp_path / "runs").iterdir())
    # One best with trailing zeros, one without: both with four decimals.
    for run_dir, value in zip(runs, (0.95, 0.9312), strict=True):
        lines = (run_dir / "trials.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        for record in records:
            record["metrics"]["loss"] = value + record["trial"]
        (run_dir / "trials.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        summary = json.loads((run_dir / "summary.json").read_text())
        summary["best"]["value"] = value
        (run_dir / "summary.json").write_text(json.dumps(summary))
    out = invoke("list", "--runs-dir", str(tmp_path / "runs")).stdout
    assert "0.9500" in out and "0.9312" in out


def test_a_killed_run_shows_its_real_wall_time_and_planned_trials(tmp_path):
    invoke("run", str(write_config(tmp_path, "killed", "plain", trials=5)), "--quiet")
    run_dir = next((tmp_path / "runs").iterdir())
    trials = run_dir / "trials.jsonl"
    trials.write_text("".join(trials.read_text().splitlines(keepends=True)[:3]))
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("wall_time", "finished", "best", "counts"):
        summary.pop(key, None)
    summary["status"] = "running"  # as the driver left it when it was killed
    (run_dir / "summary.json").write_text(json.dumps(summary))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    started = datetime.fromisoformat(summary["started"])
    holder = {
        "pid": pid,
        "host": socket.gethostname(),
        "token": f"{pid}x0123456789ab",
        "since": summary["started"],
    }
    (run_dir / ".lock").write_text(json.dumps(holder))
    last = (started + timedelta(seconds=42.5)).timestamp()
    for name in ("trials.jsonl", "summary.json", "rounds.jsonl", "curves.jsonl"):
        if (run_dir / name).exists():
            os.utime(run_dir / name, (last, last))
    shown = json.loads(invoke("show", str(run_dir), "--json").stdout)["summary"]
    assert shown["status"] == "stopped"
    assert shown["wall_time"] == pytest.approx(42.5, abs=0.01)
    assert "wall time 42.5 s" in invoke("show", str(run_dir)).stdout
    listed = invoke("list", "--runs-dir", str(tmp_path / "runs")).stdout
    assert "stopped, 3 of 5" in listed
