"""Debugging a failing objective (issue 23): the traceback kept, where it failed in the
user's own code, ``show --trial`` / ``--failures``, the reason of an all-failed run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpsearch import exits

from .helpers import invoke, leaderboard, trial_records

OBJECTIVE = """\
import json


def parse(text):
    return json.loads(text)  # line 5: the deepest frame in the user's code


def train(params, seed):
    if params["x"] > 100:
        raise RuntimeError("x" * 100_000)
    return parse("{not json")  # line 11
"""


def write_failing(tmp_path: Path, trials: int = 3, high: float = 1.0) -> Path:
    """A config whose Python objective fails in the standard library's json module."""
    (tmp_path / "objective.py").write_text(OBJECTIVE)
    config = {
        "name": "failing",
        "objective": {"python": "objective:train"},
        "space": {"x": {"scale": "linear", "min": 0.0, "max": high}},
        "search": {"trials": trials, "metric": "accuracy", "direction": "maximize"},
        "run": {"backend": "sequential", "jobs": 1, "runs_dir": str(tmp_path / "runs")},
    }
    path = tmp_path / "failing.yaml"
    path.write_text(json.dumps(config))
    return path


def only_run(tmp_path: Path) -> Path:
    return next((tmp_path / "runs").iterdir())


def test_a_failed_trial_keeps_its_traceback_and_names_the_users_frame(tmp_path):
    result = invoke("run", str(write_failing(tmp_path)), "--quiet")
    assert result.exit_code == exits.NO_RESULT
    run_dir = only_run(tmp_path)
    records = trial_records(run_dir)
    assert len(records) == 3
    for record in records:
        assert record["status"] == "failed"
        assert record["error"].startswith("JSONDecodeError: ")
        assert record["error"].endswith("(at objective.py:5 in parse)"), record["error"]
        kept = record["traceback"]
        assert kept.startswith("Traceback (most recent call last):")
        assert 'objective.py", line 11, in train' in kept.splitlines()[1]  # hpsearch's left out
        assert "decoder.py" in kept  # the frames below the user's code too
    assert "Traceback" not in leaderboard(run_dir)  # the CSV stays one line per trial


def test_a_huge_traceback_is_capped_keeping_its_head_and_tail(tmp_path):
    invoke("run", str(write_failing(tmp_path, trials=2, high=1000.0)), "--quiet")
    huge = [r for r in trial_records(only_run(tmp_path)) if r["error"].startswith("Runtime")]
    assert huge
    kept = huge[0]["traceback"]
    assert len(kept.encode()) <= 20_000
    assert kept.startswith("Traceback (most recent call last):")
    assert kept.rstrip().endswith("x" * 50)
    assert "characters left out" in kept
    # The one-line reason is shortened too (the leaderboard and tables show it whole), and
    # still says where it was raised.
    reason = huge[0]["error"]
    assert len(reason) <= 2_000 and "characters left out" in reason
    assert reason.startswith("RuntimeError: xxx") and reason.endswith("in train)")
    assert max(map(len, leaderboard(only_run(tmp_path)).splitlines())) < 2_200


def test_an_all_failed_run_says_its_most_common_reason_even_when_quiet(tmp_path):
    path = write_failing(tmp_path)
    for flags in (["--quiet"], ["--quiet", "--json"]):
        result = invoke("run", str(path), *flags)
        assert result.exit_code == exits.NO_RESULT
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: every trial failed: 3 × JSONDecodeError: ")
        assert lines[0].endswith("(at objective.py:5 in parse)"), lines[0]


def test_show_prints_one_trial_with_its_traceback(tmp_path):
    invoke("run", str(write_failing(tmp_path)), "--quiet")
    run_dir = only_run(tmp_path)
    result = invoke("show", str(run_dir), "--trial", "1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "trial 1" in out and "failed" in out and "x = " in out and "round 0" in out
    assert "reason: JSONDecodeError" in out
    assert 'objective.py", line 11, in train' in out
    as_json = json.loads(invoke("show", str(run_dir), "--trial", "1", "--json").stdout)
    assert as_json["trial"]["trial"] == 1 and "Traceback" in as_json["trial"]["traceback"]
    missing = invoke("show", str(run_dir), "--trial", "7")
    assert missing.exit_code == exits.USAGE
    assert missing.stderr.startswith("error: ") and "trial 7" in missing.stderr


def test_show_failures_prints_each_reason_once_with_its_traceback(tmp_path):
    invoke("run", str(write_failing(tmp_path)), "--quiet")
    result = invoke("show", str(only_run(tmp_path)), "--failures")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("3 failed: JSONDecodeError") == 1
    assert "trials 0, 1, 2" in out
    assert out.count("Traceback (most recent call last):") == 1  # identical: shown once


@pytest.mark.parametrize("frames", ["site-packages", "hpsearch"])
def test_the_users_frame_skips_libraries_and_hpsearch(frames):
    import hpsearch
    from hpsearch.objectives.base import users_frame

    package = Path(hpsearch.__file__).parent

    def frame(filename: str, line: int, name: str):
        import traceback

        return traceback.FrameSummary(filename, line, name)

    stack = [
        frame(str(package / "objectives" / "base.py"), 200, "trial_outcome"),
        frame("/home/me/project/objective.py", 23, "train"),
        frame(f"/venv/lib/python3.12/{frames}/sklearn/validation.py", 458, "check"),
    ]
    if frames == "hpsearch":
        stack[-1] = frame(str(package / "trainer" / "train.py"), 9, "fit")
    assert users_frame(stack) == "objective.py:23 in train"
    assert users_frame(stack[2:]) == f"{Path(stack[2].filename).name}:{stack[2].lineno} in " + (
        stack[2].name
    )


def test_a_failed_commands_stderr_is_kept_as_its_traceback(tmp_path):
    (tmp_path / "train.py").write_text(
        "import sys\nprint('loading', file=sys.stderr)\nraise ValueError('bad data')\n"
    )
    config = json.loads(write_failing(tmp_path, trials=1).read_text())
    config["objective"] = {"command": "python train.py"}
    (tmp_path / "failing.yaml").write_text(json.dumps(config))
    invoke("run", str(tmp_path / "failing.yaml"), "--quiet")
    (record,) = trial_records(only_run(tmp_path))
    assert record["error"].startswith("exit code 1: ")
    assert record["traceback"].startswith("loading\nTraceback (most recent call last):")
    assert record["traceback"].rstrip().endswith("ValueError: bad data")


BARE = """\
def bare(params, seed):
    return params["x"]


def named(params, seed):
    return {"accuracy": params["x"]}


def reported(params, seed, report=None):
    report(1, accuracy=params["x"])
    return params["x"]
"""


@pytest.mark.parametrize(
    ("function", "warned"), [("bare", True), ("named", False), ("reported", False)]
)
def test_a_bare_number_under_a_metric_never_reported_is_said_once(tmp_path, function, warned):
    (tmp_path / "bare.py").write_text(BARE)
    config = json.loads(write_failing(tmp_path, trials=4).read_text())
    config["objective"] = {"python": f"bare:{function}"}
    (tmp_path / "failing.yaml").write_text(json.dumps(config))
    result = invoke("run", str(tmp_path / "failing.yaml"), "--quiet", "--json")
    assert result.exit_code == 0, result.output
    said = "warning: the objective returns a bare number; it is taken as 'accuracy'"
    assert result.stderr.count(said) == (1 if warned else 0), result.stderr
    assert result.stderr.count("bare number") == (1 if warned else 0)


def test_a_failed_commands_python_traceback_gives_its_reason_and_the_users_frame(tmp_path):
    """A command that dies of a Python exception: its one-line reason is the exception and the
    deepest frame of the user's code, as for a Python objective, not the tail of stderr."""
    (tmp_path / "train.py").write_text(
        "import json\n\n\ndef main():\n    return json.loads('{bad')\n\n\nmain()\n"
    )
    config = json.loads(write_failing(tmp_path, trials=2).read_text())
    config["objective"] = {"command": "python train.py"}
    (tmp_path / "failing.yaml").write_text(json.dumps(config))
    result = invoke("run", str(tmp_path / "failing.yaml"), "--quiet")
    records = trial_records(only_run(tmp_path))
    assert [r["error"] for r in records] == [
        "exit code 1: JSONDecodeError: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1) (at train.py:5 in main)"
    ] * 2
    assert "decoder.py" in records[0]["traceback"]  # the whole stderr is still kept
    assert "every trial failed: 2 × exit code 1: JSONDecodeError" in result.stderr


def test_show_trial_of_a_stopped_trial_shows_its_metric(make_config):
    """A trial early stopping ended has its metric at the epoch it stopped: show --trial says
    it, as the leaderboard does, never ``-``."""
    from .helpers import run_json

    path = make_config(
        search={"trials": 6},
        early_stop={"method": "halving", "min_epochs": 1, "eta": 3},
        run={"backend": "sequential", "jobs": 1},
    )
    run_dir = run_json("run", str(path))["run_dir"]
    stopped = next(r for r in trial_records(run_dir) if r["status"] == "stopped")
    result = invoke("show", run_dir, "--trial", str(stopped["trial"]))
    assert result.exit_code == 0, result.output
    value = stopped["metrics"]["val_accuracy"]
    assert f"val_accuracy: {value:.4f} after {stopped['epochs']} epochs" in result.stdout
