"""Device slots: ``run.devices`` × ``run.per_device`` workers, each trial told its device, never
more than ``per_device`` trials on one device at once (no GPU needed to check that)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import hpsearch

from .helpers import invoke, one_line_error, run_json

RECORDER = """
import json, os, sys, time
started = time.time()
time.sleep(0.15)
with open(os.environ["DEVICE_LOG"], "a") as f:
    f.write(json.dumps({
        "device": os.environ.get("HPSEARCH_DEVICE"),
        "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "argument": sys.argv[-1],
        "start": started,
        "end": time.time(),
    }) + "\\n")
print(json.dumps({"loss": float(os.environ["HPSEARCH_TRIAL"])}))
"""

PYTHON = """
import time


def objective(params, seed, device):
    time.sleep(0.05)  # long enough for both workers to take trials
    return {"loss": params["x"], "device_a": float(device == "a")}
"""


def _config(make_config, tmp_path, **run):
    (tmp_path / "recorder.py").write_text(RECORDER)
    return make_config(
        "gpus",
        base={
            "objective": {"command": "python recorder.py --gpu {device}"},
            "space": {"x": {"scale": "linear", "min": 0, "max": 1}},
            "search": {"trials": 8, "metric": "loss", "direction": "minimize"},
            "run": {"devices": ["a", "b"], "per_device": 2},
        },
        run=run,
    )


def _most_at_once(rows: list[dict], device: str) -> int:
    events = sorted(
        [(r["start"], 1) for r in rows if r["device"] == device]
        + [(r["end"], -1) for r in rows if r["device"] == device]
    )
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


BACKENDS = ["processes", "threading"] + (
    ["dask"] if importlib.util.find_spec("distributed") is not None else []
)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_no_device_runs_more_than_per_device_trials_at_once(
    make_config, tmp_path, monkeypatch, backend
):
    log = tmp_path / "devices.jsonl"
    monkeypatch.setenv("DEVICE_LOG", str(log))
    doc = run_json("run", str(_config(make_config, tmp_path)), "--backend", backend)
    assert doc["counts"]["ok"] == 8
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 8
    for row in rows:  # told its device three ways, all the same
        assert row["device"] in ("a", "b")
        assert row["cuda"] == row["device"] and row["argument"] == row["device"]
    assert {r["device"] for r in rows} == {"a", "b"}
    for device in ("a", "b"):
        assert _most_at_once(rows, device) <= 2
    # Four workers, each busy: some trials did overlap on a device.
    assert max(_most_at_once(rows, d) for d in ("a", "b")) == 2


@pytest.mark.slow
def test_a_python_objective_gets_device_and_results_do_not_depend_on_it(
    make_config, tmp_path, monkeypatch
):
    (tmp_path / "ondevice.py").write_text(PYTHON)
    base = {
        "objective": {"python": "ondevice:objective", "workdir": str(tmp_path)},
        "space": {"x": {"scale": "linear", "min": 0, "max": 1}},
        "search": {"trials": 12, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "threading", "devices": ["a", "b"]},
    }
    run = hpsearch.run(make_config("py", base=base))
    seen = {t.metrics["device_a"] for t in run.trials}
    assert seen == {0.0, 1.0}  # both devices were used, and each trial was told one
    # The device is not part of a trial's record: the same trials with other workers.
    again = hpsearch.run(make_config("py", base=base), jobs=1)
    assert [t.params for t in again.trials] == [t.params for t in run.trials]


@pytest.mark.parametrize(
    ("run", "args", "fragments"),
    [
        ({"devices": []}, [], ["run.devices", "at least one device"]),
        ({"per_device": 0}, [], ["run.per_device", "positive integer"]),
        ({"devices": ["a", "a"]}, [], ["run.devices", "listed twice"]),
        ({"devices": [{"gpu": 0}]}, [], ["run.devices", "a name or a number"]),
        ({"jobs": 5}, [], ["run.jobs", "at most the 4 device slots"]),
        ({}, ["--jobs", "9"], ["--jobs", "at most the 4 device slots"]),
        ({}, ["--per-device", "0"], ["--per-device"]),
        ({"devices": None, "per_device": 3}, [], ["run.per_device", "with run.devices only"]),
    ],
)
def test_bad_device_settings_are_one_line(make_config, tmp_path, run, args, fragments):
    from .helpers import DROP

    run = {k: (DROP if v is None else v) for k, v in run.items()}
    path = _config(make_config, tmp_path, **run)
    result = invoke("run", str(path), *args)
    one_line_error(result, *fragments)
    assert not (tmp_path / "runs").exists()


def test_a_device_placeholder_needs_devices(make_config, tmp_path):
    from .helpers import DROP

    path = _config(make_config, tmp_path, devices=DROP, per_device=DROP)
    one_line_error(invoke("run", str(path)), "{device} needs devices")
    assert not (tmp_path / "runs").exists()
    assert "devices: a, b" in invoke("validate", str(_config(make_config, tmp_path))).stdout


@pytest.mark.slow
def test_devices_flag_overrides_the_file(make_config, tmp_path, monkeypatch):
    log = tmp_path / "devices.jsonl"
    monkeypatch.setenv("DEVICE_LOG", str(log))
    path = _config(make_config, tmp_path)
    run_json("run", str(path), "--devices", "7", "--per-device", "1", "--trials", "3")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert {r["device"] for r in rows} == {"7"} and _most_at_once(rows, "7") == 1
    config = Path(tmp_path / "runs").glob("*/config.yaml")
    assert "devices: ['7']" in next(config).read_text()


@pytest.mark.slow
def test_retest_and_train_run_on_the_devices(make_config, tmp_path):
    (tmp_path / "ondevice.py").write_text(PYTHON)
    base = {
        "objective": {"python": "ondevice:objective", "workdir": str(tmp_path)},
        "space": {"x": {"scale": "linear", "min": 0, "max": 1}},
        "search": {"trials": 4, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "threading", "devices": ["a", "b"]},
    }
    path = make_config("py", base=base)
    run_dir = run_json("run", str(path))["run_dir"]
    retest = run_json("retest", run_dir, "--top", "2", "--seeds", "2")
    assert retest["counts"]["ok"] == 4
    trained = run_json("train", str(path), "--from", run_dir)
    assert trained["counts"]["ok"] == 1


@pytest.mark.slow
def test_devices_from_the_command_line_can_make_the_files_jobs_fit(
    make_config, tmp_path, monkeypatch
):
    path = _config(make_config, tmp_path, jobs=4, per_device=1)
    one_line_error(invoke("validate", str(path)), "gpus.yaml", "run.jobs", "at most the 2")
    monkeypatch.setenv("DEVICE_LOG", str(tmp_path / "devices.jsonl"))
    result = invoke("run", str(path), "--devices", "0,1,2,3", "--trials", "2", "--quiet")
    assert result.exit_code == 0, result.output
