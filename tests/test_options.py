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


def test_set_metric_against_the_files_direction_says_which_set_fixes_it(make_config):
    """The README's --set search.metric=val_loss on a file that maximizes val_accuracy: the
    line says what to add on the command line, where the file's direction cannot be left out."""
    path = make_config(search={"metric": "val_accuracy", "direction": "maximize"})
    line = one_line_error(invoke("validate", str(path), "--set", "search.metric=val_loss"))
    assert line.endswith("val_loss is to minimize (add --set search.direction=minimize)"), line
    settings = ["--set", "search.metric=val_loss", "--set", "search.direction=minimize"]
    assert invoke("validate", str(path), *settings).exit_code == 0


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


# -- an objective that requires budget=; --early-stop none ---------------------------------------

NEEDS_BUDGET = """
def train(params, seed, budget, checkpoint_dir=None):
    assert checkpoint_dir is None or isinstance(checkpoint_dir, str)
    return {"loss": params["x"], "budget": float(budget)}


def extra(params, seed, foo):
    return {"loss": params["x"]}


def keeps(params, seed, checkpoint_dir, budget=5):
    import os

    assert os.path.isdir(checkpoint_dir)
    return {"loss": params["x"], "budget": float(budget)}
"""


def _custom(tmp_path: Path, function: str = "train", **sections) -> Path:
    (tmp_path / "needs.py").write_text(NEEDS_BUDGET)
    doc = {
        "name": "needs",
        "objective": {"python": f"needs:{function}"},
        "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
        "search": {"trials": 3, "metric": "loss", "direction": "minimize"},
        "run": {"backend": "sequential", "runs_dir": str(tmp_path / "runs")},
        **sections,
    }
    path = tmp_path / "needs.yaml"
    path.write_text(yamlio.dump(doc))
    return path


def test_a_required_budget_is_given_the_full_epochs(tmp_path):
    doc = run_json("run", str(_custom(tmp_path, model={"epochs": 7})))
    records = trial_records(doc["run_dir"])
    assert [r["status"] for r in records] == ["ok"] * 3
    assert {r["metrics"]["budget"] for r in records} == {7.0}


def test_a_required_checkpoint_dir_is_given_one_and_the_full_epochs(tmp_path):
    """Found in review of issue 23: a function requiring only checkpoint_dir= was told to set
    model.epochs, which it had."""
    doc = run_json("run", str(_custom(tmp_path, "keeps", model={"epochs": 7})))
    records = trial_records(doc["run_dir"])
    assert [r["status"] for r in records] == ["ok"] * 3
    assert {r["metrics"]["budget"] for r in records} == {7.0}


def test_early_stop_none_switches_the_configs_early_stopping_off(tmp_path):
    early = {"method": "halving", "max_epochs": 9, "min_epochs": 1}
    search = {"trials": 9, "metric": "loss", "direction": "minimize"}
    path = _custom(tmp_path, early_stop=early, search=search)
    doc = run_json("run", str(path), "--early-stop", "none")
    run_dir = Path(doc["run_dir"])
    records = trial_records(run_dir)
    assert [r["status"] for r in records] == ["ok"] * 9  # none stopped early
    assert {r["metrics"]["budget"] for r in records} == {9.0}  # each to early_stop.max_epochs
    assert not (run_dir / "rungs.jsonl").exists()
    again = invoke("validate", str(run_dir / "config.yaml"))  # what the run stored reads back
    assert again.exit_code == 0, again.output
    assert "rung" not in again.stdout


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--early-stop", "none", "--min-epochs", "2"], "--min-epochs: "),
        (["--early-stop", "none", "--eta", "2"], "--eta: "),
        (["--min-epochs", "2"], "--min-epochs: "),  # a config without early stopping
    ],
)
def test_an_early_stopping_flag_without_early_stopping_is_refused(tmp_path, flags, said):
    """--min-epochs or --eta would do nothing with early stopping off: one line, no run."""
    early = {"method": "halving", "max_epochs": 9, "min_epochs": 1}
    sections = {"early_stop": early} if "none" in flags else {"model": {"epochs": 3}}
    path = _custom(tmp_path, **sections)
    one_line_error(invoke("run", str(path), *flags), said, "only with early stopping")
    assert not (tmp_path / "runs").exists()


def test_a_required_argument_hpsearch_cannot_fill_says_to_give_it_a_default(tmp_path):
    one_line_error(
        invoke("validate", str(_custom(tmp_path, "extra"))),
        "needs.py",
        "needs:extra",
        "(extra() at needs.py:7)",
        "argument 'foo' has no default",
        "give it a default",
    )
    one_line_error(
        invoke("run", str(_custom(tmp_path))),  # no model.epochs: no full budget to give
        "argument 'budget' has no default",
        "model.epochs",
        "give it a default",
    )
    assert not (tmp_path / "runs").exists()


# -- --devices for CUDA ---------------------------------------------------------------------------

ON_DEVICE = """
def train(params, seed, device):
    return {"loss": params["x"], "raw": float(device == "cuda:0")}
"""


def test_devices_must_be_cuda_indices_or_uuids_unless_raw(tmp_path):
    path = _custom(tmp_path, "train")
    (tmp_path / "needs.py").write_text(ON_DEVICE)
    for bad in ("cuda:0", "gpu0", "-1", "0,cuda:1"):
        one_line_error(
            invoke("run", str(path), "--devices", bad),
            "--devices: '",
            "is not a CUDA device index; write 0,1 (or GPU-/MIG- UUIDs)",
            "--devices-raw",
        )
    one_line_error(invoke("run", str(path), "--devices-raw"), "--devices-raw: applies to --devices")
    assert not (tmp_path / "runs").exists()
    uuid = "GPU-8c1b2a3d-0000-1111-2222-333344445555"
    doc = run_json("run", str(path), "--devices", f"0,{uuid},MIG-{uuid[4:]}")
    assert [r["status"] for r in trial_records(doc["run_dir"])] == ["ok"] * 3
    doc = run_json("run", str(path), "--devices", "cuda:0", "--devices-raw")
    assert {r["metrics"]["raw"] for r in trial_records(doc["run_dir"])} == {1.0}


# -- a budget too small for its space -------------------------------------------------------------

CHOICE = {"x": {"scale": "linear", "min": 0.0, "max": 1.0}, "c": {"choice": [1, 2, 3, 4, 5]}}


def test_a_budget_too_small_for_the_space_warns_once_with_the_smallest_sensible_one(tmp_path):
    from hpsearch.schedule import schedule

    assert schedule(23).coarse == 5 and schedule(22).coarse == 4  # 23: the smallest that sees 5
    result = invoke(
        "run", str(_custom(tmp_path, space=CHOICE, model={"epochs": 2})), "--budget", "6", "-q"
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: --budget 6 is small for this space (2 parameters, a choice of 5 values): the "
        "coarse round sees 1 trial; a budget of at least 23 lets it see 5 (every value of the "
        "choice)"
    ]


def test_validate_warns_of_a_small_budget_and_not_of_a_big_enough_one(tmp_path):
    search = {"metric": "loss", "direction": "minimize", "budget": 4}
    path = _custom(tmp_path, model={"epochs": 2}, search=search)
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning:") == 1
    assert (
        "warning: search.budget 4 is small for this space (1 parameter): the coarse round sees "
        "1 trial; a budget of at least 8 lets it see 2 (the parameters + 1)"
    ) in result.stderr
    assert "warning" not in invoke("validate", str(path), "--set", "search.budget=8").stderr


def test_the_api_warns_of_a_small_budget_as_the_command_line_does(tmp_path, capsys):
    """hpsearch.run(budget=6) says it once on stderr and tells on_event (a warning Notice)."""
    import hpsearch
    from hpsearch.events import Notice

    expected = (
        "warning: --budget 6 is small for this space (2 parameters, a choice of 5 values): the "
        "coarse round sees 1 trial; a budget of at least 23 lets it see 5 (every value of the "
        "choice)"
    )
    path = _custom(tmp_path, space=CHOICE, model={"epochs": 2})
    events: list = []
    hpsearch.run(path, budget=6, quiet=True, on_event=events.append)
    assert [e.text for e in events if isinstance(e, Notice) and e.warning] == [expected]
    capsys.readouterr()
    hpsearch.run(path, budget=6)
    assert capsys.readouterr().err.count(expected) == 1


def test_train_set_takes_run_s_dotted_keys_for_a_parameter(make_config):
    """Found in review of issue 23: ``run --set model.epochs=4`` but ``train --set epochs=4``;
    train takes both spellings."""
    from .helpers import TRAINER

    path = make_config(base=TRAINER)
    result = invoke(
        "train", str(path), "--set", "space.learning_rate=3e-2", "--set", "model.epochs=2",
        "--json", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["panda"]["values"]["learning_rate"] == 0.03
    assert [r["epochs"] for r in trial_records(doc["run_dir"])] == [2]
    bad = invoke("train", str(path), "--set", "search.trials=2")
    assert bad.exit_code == 2 and "search.trials" in bad.stderr
