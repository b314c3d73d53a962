"""A wall-clock budget (``--time-budget``, ``search.time_budget``): no trial starts after it,
those running finish within a grace period or are stopped as an interruption; the run is
complete, says what is left, and ``resume`` goes on to the same trials as a run without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpsearch.timebudget import parse_duration, spoken

from .helpers import invoke, one_line_error, run_json

SLOW = """
import time


def f(params, seed):
    time.sleep(0.4)
    return {"loss": (params["x"] - 0.3) ** 2}
"""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("45m", 2700), ("2h30m", 9000), ("1.5h", 5400), (" 1h 5s ", 3605), (3, 3)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(spoken(parse_duration(text))) == seconds


@pytest.mark.parametrize("text", ["", "10x", "1h1h", "m5", "0s", -3, "nan", True, "5 minutes"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def _config(tmp_path: Path, make_config, trials: int = 10, high: float = 1.0) -> Path:
    (tmp_path / "slow.py").write_text(SLOW)
    return make_config(
        "tb",
        base={
            "objective": {"python": "slow:f", "workdir": str(tmp_path)},
            "space": {"x": {"scale": "linear", "min": 0.0, "max": high}},
            "search": {"trials": trials, "metric": "loss", "direction": "minimize"},
            "run": {"jobs": 2},
        },
    )


def _trials(run_dir: str) -> list[tuple]:
    lines = (Path(run_dir) / "trials.jsonl").read_text().splitlines()
    return sorted((r["trial"], r["params"]["x"], r["status"]) for r in map(json.loads, lines))


@pytest.mark.slow
def test_no_trial_starts_after_the_budget_and_resume_goes_on_to_the_same_trials(
    tmp_path, make_config
):
    config = _config(tmp_path, make_config)
    cut = run_json("run", str(config), "--time-budget", "1.5s")
    summary = cut
    assert summary["status"] == "complete" and 1 <= summary["trials_done"] < 10
    assert summary["time_budget"] == {
        "seconds": 1.5, "reached": True, "trials_to_go": 10 - summary["trials_done"]
    }  # fmt: skip
    assert "its time budget (1.5s) was spent" in invoke("show", cut["run_dir"]).stdout
    assert "time budget, " in invoke("list", "--runs-dir", str(tmp_path / "runs")).stdout
    resumed = run_json("resume", cut["run_dir"], "--time-budget", "1m")
    assert resumed["trials_done"] == 10
    assert resumed["time_budget"] == {"seconds": 60.0, "reached": False}
    whole = run_json("run", str(config))["run_dir"]
    assert _trials(cut["run_dir"]) == _trials(whole)  # trial i is the same trial


@pytest.mark.slow
def test_a_trial_still_running_after_the_grace_is_stopped_as_an_interruption(tmp_path, make_config):
    config = _config(tmp_path, make_config, trials=4, high=1.0)
    (tmp_path / "slow.py").write_text("import time\ndef f(params, seed):\n    time.sleep(30)\n")
    result = invoke("run", str(config), "--time-budget", "1s", "--quiet")
    assert result.exit_code == 143, result.output  # SIGTERM after 1 s + 1 s of grace
    assert "hpsearch resume" in result.output


def test_a_bad_budget_is_one_line_before_anything_runs(tmp_path, make_config):
    config = _config(tmp_path, make_config)
    one_line_error(invoke("run", str(config), "--time-budget", "10x"), "--time-budget", "90s")
    bad = make_config("bad", search={"time_budget": "0s"})
    one_line_error(invoke("validate", str(bad)), "search.time_budget", "more than 0")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_the_slurm_script_starts_a_search_then_carries_it_on(tmp_path, make_config):
    import os
    import subprocess
    import sys

    config = _config(tmp_path, make_config)
    script = Path(__file__).resolve().parent.parent / "examples" / "slurm" / "search.sbatch"
    env = {**os.environ, "HPSEARCH_CONFIG": str(config), "SLURM_SUBMIT_DIR": str(tmp_path)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("SLURM_JOB_ID", None)  # no scontrol here: the requeue is not asked for
    first = subprocess.run(
        ["bash", str(script)], env={**env, "HPSEARCH_TIME_BUDGET": "1s"}, capture_output=True
    )
    assert first.returncode == 0, first.stderr  # no run to resume: one is started
    done = json.loads(
        invoke("show", "latest", "--runs-dir", str(tmp_path / "runs"), "--json").stdout
    )
    assert done["summary"]["time_budget"]["reached"] and done["summary"]["trials_done"] < 10
    second = subprocess.run(
        ["bash", str(script)], env={**env, "HPSEARCH_TIME_BUDGET": "1m"}, capture_output=True
    )
    assert second.returncode == 0, second.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()  # one search, carried on
    assert len((run_dir / "trials.jsonl").read_text().splitlines()) == 10
