"""``backend: joblib``: trials through ``joblib.Parallel`` on any of joblib's backends, the
same trials and results as hpsearch's own pool, early stopping's waits included; its settings
checked like every key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import TRAINER, invoke, merged, one_line_error, run_json


def _records(run_dir: str) -> list[dict]:
    lines = (Path(run_dir) / "trials.jsonl").read_text().splitlines()
    return sorted(
        ({k: v for k, v in json.loads(x).items() if k != "seconds"} for x in lines),
        key=lambda r: r["trial"],
    )


@pytest.mark.slow
def test_joblib_threads_and_early_stopping_give_the_pools_records(make_config):
    halving = make_config(
        "halving",
        base=merged(TRAINER, {"search": {"trials": 9}, "model": {"epochs": 9}}),
        early_stop={"method": "halving", "min_epochs": 1, "eta": 3},
    )
    pool = run_json("run", str(halving), "--jobs", "2")["run_dir"]
    threads = run_json(
        "run", str(halving), "--jobs", "2",
        "--set", "run.backend=joblib", "--set", "run.joblib_backend=threading",
    )["run_dir"]  # fmt: skip
    assert _records(threads) == _records(pool)  # rungs waited on, promotions the same


@pytest.mark.parametrize(
    ("settings", "fragments"),
    [
        (["run.joblib_backend=loky"], ["run.joblib_backend", "applies to backend joblib only"]),
        (["run.backend=joblib", "run.joblib_backend=no such"], ["joblib backend name"]),
        (["run.backend=joblib", "run.devices=[0, 1]"], ["run.devices", "processes, threading"]),
    ],
)
def test_joblib_settings_are_checked_like_every_key(make_config, settings, fragments):
    config = make_config("jb")
    args = [a for s in settings for a in ("--set", s)]
    one_line_error(invoke("validate", str(config), *args), *fragments)


def test_an_unknown_joblib_backend_is_one_line_before_any_trial(make_config):
    config = make_config("jb", run={"backend": "joblib", "joblib_backend": "nosuch"})
    result = invoke("run", str(config), "--quiet")
    one_line_error(result, "run.joblib_backend", "nosuch", "loky")
    assert not (config.parent / "runs").exists()  # nothing written
