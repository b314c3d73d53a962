"""Options from the command line (issue 23): ``--set`` on run, validate and sample; a required
``budget=`` and ``--early-stop none``; ``--devices`` for CUDA; a budget too small for its
space."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpsearch import yamlio

from .helpers import invoke, one_line_error, run_json, trial_records

# -- --set key=value ------------------------------------------------------------------------------


@pytest.mark.slow
def test_set_changes_what_a_run_stores_and_trains(make_config, tmp_path):
    path = make_config()
    doc = run_json(
        "run", str(path), "--set", "model.epochs=2", "--set", "search.trials=2",
        "--set", "search.metric=val_loss", "--backend", "sequential",
    )  # fmt: skip
    stored, _ = yamlio.load((Path(doc["run_dir"]) / "config.yaml").read_text(), "config.yaml")
    assert stored["model"]["epochs"] == 2
    assert stored["search"]["metric"] == "val_loss"
    assert stored["search"]["direction"] == "minimize"
    records = trial_records(doc["run_dir"])
    assert len(records) == 2 and {r["epochs"] for r in records} == {2}
    assert yamlio.load(path.read_text(), "f")[0]["model"]["epochs"] == 4  # the file is unchanged


def test_a_bad_set_is_one_line_and_no_run(make_config, tmp_path):
    path = make_config()
    for setting, fragments in [
        ("model.epoch=20", ["--set model.epoch=20", "unknown hyperparameter 'epoch'", "'epochs'"]),
        ("model.epochs=zero", ["--set model.epochs=zero", "got 'zero'"]),
        ("modle.epochs=2", ["--set modle.epochs=2", "unknown key 'modle'", "'model'"]),
        ("model.epochs", ["--set", "expected key=value, got 'model.epochs'"]),
        ("model..epochs=2", ["--set model..epochs=2", "dotted key"]),
        ("model.epochs.x=2", ["--set model.epochs.x=2", "model.epochs is 4, not a mapping"]),
        ("space.learning_rate.min=0", ["--set space.learning_rate.min=0", "must be > 0"]),
        ("model.epochs=[1", ["--set model.epochs", "YAML"]),
    ]:
        print(one_line_error(invoke("sample", str(path), "--set", setting), *fragments))
    for command in ("run", "validate"):
        one_line_error(invoke(command, str(path), "--set", "model.epoch=20"), "--set model.epoch")
    assert not (tmp_path / "runs").exists()


def test_validate_and_sample_honour_set(make_config):
    path = make_config()
    result = invoke("validate", str(path), "--set", "search.trials=7", "--set", "seed=11")
    assert result.exit_code == 0, result.output
    assert "search: 7 trials" in result.stdout and "seed 11" in result.stdout
    result = invoke(
        "sample", str(path), "--set", "space.learning_rate.max=0.002", "--set", "search.trials=5",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["trials"]) == 5
    assert all(t["params"]["learning_rate"] <= 0.002 for t in doc["trials"])
