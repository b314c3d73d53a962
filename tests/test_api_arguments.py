"""The Python API's arguments: each checked before anything is written, by the rule the
command line's flag obeys, with its one-line message; NumPy numbers taken as Python's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpsearch

RUN_KEYWORDS = (
    "config, trials, budget, rounds, jobs, seed, name, backend, scheduler, scheduler_file, "
    "cluster, runs_dir, "
    "early_stop, min_epochs, eta, max_epochs, keep_checkpoints, devices, devices_raw, per_device, "
    "warm_start, metrics, constraints, time_budget, objective, on_event, quiet, progress"
)

# (what is called with a config file's path, the exception, its message exactly)
REFUSED: list[tuple[str, Callable[[Path], Any], type[Exception], str]] = [
    (
        "keep_checkpoints=1",
        lambda cfg: hpsearch.run(cfg, early_stop="halving", keep_checkpoints=1),
        hpsearch.ConfigError,
        "--keep-checkpoints: must be true or false, got 1",
    ),
    (
        "rounds=1.5",
        lambda cfg: hpsearch.run(cfg, rounds=1.5),
        hpsearch.ConfigError,
        "--rounds: must be an integer, got 1.5",
    ),
    (
        "rounds='2'",
        lambda cfg: hpsearch.run(cfg, rounds="2"),
        hpsearch.ConfigError,
        "--rounds: must be an integer, got '2' (a string; write the number without quotes)",
    ),
    (
        "run(123)",
        lambda cfg: hpsearch.run(123),
        hpsearch.ConfigError,
        "config: must be a config file (a path) or an hpsearch.Config, got 123",
    ),
    (
        "trials=True",
        lambda cfg: hpsearch.run(cfg, trials=True),
        hpsearch.ConfigError,
        "--trials: must be a positive integer, got true",
    ),
    (
        "runs_dir=7",
        lambda cfg: hpsearch.run(cfg, runs_dir=7),
        hpsearch.ConfigError,
        "--runs-dir: must be a directory path, got 7",
    ),
    (
        "on_event='x'",
        lambda cfg: hpsearch.run(cfg, on_event="x"),
        hpsearch.ConfigError,
        "on_event: must be a function, called with each event, got 'x' (a string)",
    ),
    (
        "objective=5",
        lambda cfg: hpsearch.run(cfg, objective=5),
        hpsearch.ConfigError,
        "objective: must be an hpsearch.objectives.Objective (called with params and seed, "
        "with fixed, dataset and prepare()), got 5",
    ),
    (
        "objective=a bare function",
        lambda cfg: hpsearch.run(cfg, objective=len),
        hpsearch.ConfigError,
        "objective: must be an hpsearch.objectives.Objective (called with params and seed, "
        "with fixed, dataset and prepare()), got <built-in function len>",
    ),
    (
        "unknown keyword",
        lambda cfg: hpsearch.run(cfg, trails=3),
        TypeError,
        f"hpsearch.run(): unknown keyword 'trails' (did you mean 'trials'?); it takes: "
        f"{RUN_KEYWORDS}",
    ),
    (
        "resume retry=5",
        lambda cfg: hpsearch.resume("nope", runs_dir=cfg.parent / "runs", retry=5),
        hpsearch.ConfigError,
        "--retry: must be statuses such as 'failed,timeout' (or a list of them), got 5",
    ),
    (
        "zoom top='x'",
        lambda cfg: hpsearch.zoom("nope", runs_dir=cfg.parent / "runs", top="x"),
        hpsearch.ConfigError,
        "--top: must be an integer, got 'x' (a string)",
    ),
    (
        "zoom run=None",
        lambda cfg: hpsearch.zoom(None),
        hpsearch.ConfigError,
        "run: must be a run directory, a run id or 'latest', or an hpsearch.Run, got "
        "nothing (null)",
    ),
    (
        "sample(cfg, '3')",
        lambda cfg: hpsearch.sample(cfg, "3"),
        hpsearch.ConfigError,
        "--trials: must be a positive integer, got '3' (a string; write the number without quotes)",
    ),
    (
        "retest seeds=1",
        lambda cfg: hpsearch.retest("nope", runs_dir=cfg.parent / "runs", seeds=1),
        hpsearch.ConfigError,
        "--seeds: must be >= 2, got 1",
    ),
    (
        "train settings=[]",
        lambda cfg: hpsearch.train(cfg, settings=["learning_rate=0.1"]),
        hpsearch.ConfigError,
        "settings: must be a mapping of parameter names to values, got a list",
    ),
    (
        "devices cuda:0",
        lambda cfg: hpsearch.run(cfg, devices="cuda:0"),
        hpsearch.ConfigError,
        "--devices: 'cuda:0' is not a CUDA device index; write 0,1 (or GPU-/MIG- UUIDs), or pass "
        "--devices-raw to hand the values over as they are",
    ),
    (
        "devices_raw alone",
        lambda cfg: hpsearch.run(cfg, devices_raw=True),
        hpsearch.ConfigError,
        "--devices-raw: applies to --devices only: give --devices LIST too",
    ),
    (
        "init(123)",
        lambda cfg: hpsearch.init(123),
        hpsearch.ConfigError,
        "path: must be a file path, got 123",
    ),
    (
        "init data=5",
        lambda cfg: hpsearch.init(cfg.parent / "start.yaml", data=5),
        hpsearch.ConfigError,
        "--data: must be a data source: spirals, blobs, digits or a .npz file, got 5",
    ),
    (
        "init tier=True",
        lambda cfg: hpsearch.init(cfg.parent / "start.yaml", tier=True),
        hpsearch.ConfigError,
        "--tier: must be 1, 2 or 3, got true",
    ),
    (
        "init bogus=1",
        lambda cfg: hpsearch.init(bogus=1),
        TypeError,
        "hpsearch.init(): unknown keyword 'bogus'; it takes: path, tier, data",
    ),
    (
        "too many positional",
        lambda cfg: hpsearch.sample(cfg, 3, 4, 5),
        TypeError,
        "hpsearch.sample(): too many positional arguments",
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_bad_argument_is_refused_with_one_line_before_anything_is_written(
    make_config, tmp_path, call, kind, message
):
    with pytest.raises(kind) as caught:
        call(make_config())
    assert isinstance(caught.value, hpsearch.UserError)  # the CLI's one line, exit code 2
    assert str(caught.value) == message
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_numpy_integers_and_floats_are_taken_where_numbers_are(make_config):
    path = make_config()
    run = hpsearch.run(
        path, trials=np.int64(3), jobs=np.int64(1), seed=np.int32(5), backend="sequential"
    )
    assert len(run.trials) == 3 and run.config.seed == 5
    assert "trials: 3" in (run.path / "config.yaml").read_text()  # written as a plain number
    zoomed = hpsearch.zoom(run, top=np.int64(2), margin=np.float64(0.1), trials=np.int16(2))
    assert len(zoomed.trials) == 5
    assert [t.index for t in hpsearch.sample(path, np.int64(2), seed=np.uint8(1))] == [0, 1]
