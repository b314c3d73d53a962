"""`hpsearch run` and `resume`: parallel trials, the runs directory, faults, interruption."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hpsearch
from hpsearch.config import load_config
from hpsearch.store import RunStore

from .helpers import (
    DROP,
    assert_no_workers_left,
    invoke,
    leaderboard,
    reference_leaderboard,
    run_json,
    spawn_cli,
)
from .objectives import Faulty


def records_by_trial(run_dir: Path) -> dict[int, tuple]:
    out = {}
    for line in (run_dir / "trials.jsonl").read_text().splitlines():
        r = json.loads(line)
        out[r["trial"]] = (r["params"], r["metrics"], r["status"], r["seed"], r["epochs"])
    return out


@pytest.mark.slow
def test_run_writes_the_runs_directory(make_config):
    doc = run_json("run", str(make_config()))
    run_dir = Path(doc["run_dir"])
    assert {p.name for p in run_dir.iterdir()} >= {
        "config.yaml",
        "trials.jsonl",
        "curves.jsonl",
        "leaderboard.csv",
        "best.yaml",
        "summary.json",
    }
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["counts"]["ok"] == 6
    assert {k: v for k, v in summary.items() if k != "config"} == {
        k: v for k, v in doc.items() if k != "run_dir"
    }
    assert set(summary["versions"]) == {"hpsearch", "numpy", "python"}
    rows = list(csv.DictReader((run_dir / "leaderboard.csv").open()))
    values = [float(r["val_accuracy"]) for r in rows]
    assert values == sorted(values, reverse=True)
    assert rows[0]["trial"] == str(summary["best"]["trial"])
    assert {"learning_rate", "beta1", "hidden_units"} <= set(rows[0])
    curves = [json.loads(line) for line in (run_dir / "curves.jsonl").read_text().splitlines()]
    assert len(curves) == 6 and len(curves[0]["val_accuracy"]) == 4
    # The resolved config reproduces the run; best.yaml is a ready-to-run config.
    again = run_json("run", str(run_dir / "config.yaml"))
    assert records_by_trial(Path(again["run_dir"])) == records_by_trial(run_dir)
    best = load_config(run_dir / "best.yaml")
    assert len(best.space) == 0
    assert best.model["learning_rate"] == summary["best"]["params"]["learning_rate"]


@pytest.mark.slow
def test_results_do_not_depend_on_workers_or_backend(make_config):
    runs = {}
    for args in (
        ["--jobs", "1"],
        ["--jobs", "2"],
        ["--backend", "sequential"],
        ["--backend", "threading", "--jobs", "2"],
    ):
        doc = run_json("run", str(make_config()), *args)
        runs[" ".join(args)] = records_by_trial(Path(doc["run_dir"]))
    first = next(iter(runs.values()))
    assert len(first) == 6
    for name, records in runs.items():
        assert records == first, name


def test_two_runs_in_the_same_second_get_different_ids(tmp_path, make_config):
    config = load_config(make_config())
    stores = [RunStore.create(config, tmp_path / "runs") for _ in range(20)]
    assert len({s.run_id for s in stores}) == 20


# For the Faulty objective: hidden_units picks its fault.
FAULTY = {"search": {"trials": 30}, "run": {"trial_timeout": 0.3}}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["processes", "sequential"])
def test_faults_are_recorded_and_the_search_goes_on(make_config, backend):
    # Sequential runs trials in this process: a trial that kills it (14) would kill the test.
    choices = (10, 11, 12, 13, 14, 15) if backend == "processes" else (10, 11, 12, 13, 15)
    path = make_config("faulty", base=FAULTY, space={"hidden_units": {"choice": list(choices)}})
    run = hpsearch.run(path, objective=Faulty(), backend=backend, jobs=2)
    records = {r.trial: r for r in run.trials}
    assert len(records) == 30
    by_kind = {}
    for r in records.values():
        by_kind.setdefault(r.params["hidden_units"] - 10, set()).add(r.status)
    assert by_kind[0] == {"ok"} and by_kind[5] == {"ok"}
    assert by_kind[1] == {"failed"}
    assert by_kind[2] == {"diverged"}
    assert by_kind[3] == {"timeout"}
    failed = [r for r in records.values() if r.params["hidden_units"] == 11]
    assert "ValueError: bad things happen" in failed[0].error
    if backend == "processes":
        assert by_kind[4] == {"failed"}
        killed = [r for r in records.values() if r.params["hidden_units"] == 14]
        assert all("worker process died" in r.error for r in killed)
    assert run.summary["counts"]["failed"] >= 1
    assert run.best.params["hidden_units"] == run.summary["best"]["params"]["hidden_units"] == 15


@pytest.mark.slow
def test_exit_codes_and_fail_under(tmp_path, make_config):
    path = make_config(search={"trials": 3})
    assert invoke("run", str(path), "--quiet").exit_code == 0
    assert invoke("run", str(path), "--quiet", "--fail-under", "1.01").exit_code == 1
    assert invoke("run", str(path), "--quiet", "--fail-under", "0.1").exit_code == 0
    assert invoke("run", str(path), "--jobs", "0").exit_code == 2
    assert invoke("run", str(path), "--trials", "0").exit_code == 2
    assert invoke("run", str(path), "--backend", "lokky").exit_code == 2
    assert invoke("run", str(tmp_path / "missing.yaml")).exit_code == 2


def test_every_trial_failing_exits_1(make_config):
    path = make_config(
        search={"trials": 2},
        model={"learning_rate": 1.0e4, "batch_norm": False, "optimizer": "gd"},
        space={"learning_rate": DROP},
    )
    result = invoke("run", str(path), "--quiet")
    assert result.exit_code == 1
    assert "every trial failed" in result.stderr


def test_plain_lines_when_not_a_terminal(make_config):
    result = invoke("run", str(make_config(search={"trials": 3})))
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == ["[1/3", "[2/3", "[3/3"]
    assert all(" ok val_accuracy=" in line for line in lines)
    assert "\x1b[" not in result.stdout  # no terminal escapes in a log
    assert "best config:" in result.stdout


# -- interruption and resume -------------------------------------------------------------------


def _spawn(args: list[str], cwd: Path) -> subprocess.Popen:
    return spawn_cli(args, cwd)


def _wait_for_trials(runs: Path, count: int, process: subprocess.Popen, limit: float = 60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        files = list(runs.glob("*/trials.jsonl"))
        if files and len(files[0].read_text().splitlines()) >= count:
            return files[0].parent
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the run did not get going")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigint", "sigterm", "sigkill"])
def test_interrupted_run_resumes_to_the_same_leaderboard(tmp_path, make_config, how):
    path = make_config(search={"trials": 24}, model={"epochs": 60})
    reference = reference_leaderboard(path, tmp_path / "reference")

    process = _spawn(["run", str(path), "--jobs", "2"], tmp_path)
    run_dir = _wait_for_trials(tmp_path / "runs", 3, process)
    signum = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}[how]
    os.killpg(process.pid, signum) if how == "sigkill" else process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    done = len((run_dir / "trials.jsonl").read_text().splitlines())
    if how == "sigkill":
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 128 + signum, err  # 130 for Ctrl-C, 143 for SIGTERM
        assert "Traceback" not in err and "Exception in thread" not in err, err
        assert f"hpsearch resume {os.path.relpath(run_dir, tmp_path)}" in out
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"
        assert_no_workers_left(process.pid)
    assert done < 24

    result = invoke("resume", str(run_dir), "--quiet")
    assert result.exit_code == 0, result.stderr
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "complete"
    assert leaderboard(run_dir) == reference


@pytest.mark.slow
def test_a_torn_last_line_is_set_aside_and_rerun(tmp_path, make_config):
    path = make_config(search={"trials": 5})
    reference = reference_leaderboard(path, tmp_path / "reference")
    doc = run_json("run", str(path))
    run_dir = Path(doc["run_dir"])
    lines = (run_dir / "trials.jsonl").read_text().splitlines()
    (run_dir / "trials.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])
    result = invoke("resume", str(run_dir), "--quiet")
    assert result.exit_code == 0
    assert "last line was cut off" in result.stderr
    assert (run_dir / "trials.jsonl.torn").read_text() == lines[3][:25] + "\n"
    assert leaderboard(run_dir) == reference


def test_a_corrupt_line_in_the_middle_is_a_clear_error(make_config):
    doc = run_json("run", str(make_config(search={"trials": 4})))
    run_dir = Path(doc["run_dir"])
    lines = (run_dir / "trials.jsonl").read_text().splitlines()
    lines[1] = "{not json"
    (run_dir / "trials.jsonl").write_text("\n".join(lines) + "\n")
    result = invoke("resume", str(run_dir))
    assert result.exit_code == 2
    assert f"{run_dir / 'trials.jsonl'}:2: corrupt trial record" in result.stderr


def test_resume_refuses_a_changed_config(make_config):
    doc = run_json("run", str(make_config(search={"trials": 3})))
    run_dir = Path(doc["run_dir"])
    config = (run_dir / "config.yaml").read_text()
    (run_dir / "config.yaml").write_text(config.replace("epochs: 4", "epochs: 5"))
    result = invoke("resume", str(run_dir))
    assert result.exit_code == 2
    assert "model.epochs: 4 -> 5" in result.stderr


def test_run_refs_latest_and_id(tmp_path, make_config):
    doc = run_json("run", str(make_config(search={"trials": 2})))
    run_dir = Path(doc["run_dir"])
    runs = str(tmp_path / "runs")
    assert invoke("resume", "latest", "--runs-dir", runs, "--quiet").exit_code == 0
    assert invoke("resume", run_dir.name, "--runs-dir", runs, "--quiet").exit_code == 0
    missing = invoke("resume", "nope", "--runs-dir", runs)
    assert missing.exit_code == 2 and "no run 'nope'" in missing.stderr


@pytest.mark.slow
def test_a_whole_unterminated_last_line_is_ended_before_resuming(tmp_path, make_config):
    path = make_config(search={"trials": 5})
    reference = reference_leaderboard(path, tmp_path / "reference")
    doc = run_json("run", str(path))
    run_dir = Path(doc["run_dir"])
    lines = (run_dir / "trials.jsonl").read_text().splitlines()
    (run_dir / "trials.jsonl").write_text("\n".join(lines[:3]))  # no newline after line 3
    curves = (run_dir / "curves.jsonl").read_text().splitlines()
    (run_dir / "curves.jsonl").write_text("\n".join(curves[:3]) + "\n" + curves[3][:20])
    assert invoke("resume", str(run_dir), "--quiet").exit_code == 0
    assert leaderboard(run_dir) == reference
    assert invoke("resume", str(run_dir), "--quiet").exit_code == 0  # reads back cleanly
    for line in (run_dir / "curves.jsonl").read_text().splitlines():
        json.loads(line)


def test_best_yaml_retests_with_fresh_seeds_and_no_rounds(make_config):
    path = make_config(search={"trials": 3}, zoom={"rounds": 2, "trials": 2})
    doc = run_json("run", str(path), "--rounds", "0")
    best = load_config(Path(doc["run_dir"]) / "best.yaml")
    original = load_config(path)
    assert best.zoom.rounds == 0 and best.seed != original.seed
    assert best.data_seed == original.data_seed


@pytest.mark.slow
def test_usage_errors_are_one_line_from_the_command(tmp_path):
    for args in (
        ["run", "x.yaml", "--backend", "foo"],
        ["sample", "x.yaml", "-n", "0"],
        ["run", "x.yaml", "--fail-under", "nan"],
        ["nosuch"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "hpsearch", *args], capture_output=True, text=True, cwd=tmp_path
        )
        assert out.returncode == 2, args
        assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1, out.stderr
