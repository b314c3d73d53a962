"""Early stopping (successive halving, Hyperband): the rung plan, decisions that do not
depend on workers, backends or interruptions, checkpoints that continue exactly, and the
budget handed to Python and command objectives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import hpsearch
from hpsearch.rungs import make_plan

from .helpers import HALVING, invoke, leaderboard, one_line_error, run_json, spawn_cli

# A Python objective that sleeps a little per epoch and continues from its checkpoint_dir:
# its loss depends only on (params, epoch), and it writes down every epoch it trains.
SLOW_OBJECTIVE = """
import json, os, time

def train(params, seed, budget=None, checkpoint_dir=None, report=None):
    lr = params["lr"]
    start = 0
    state = os.path.join(checkpoint_dir, "epoch.json")
    if os.path.exists(state):
        with open(state) as f:
            start = json.load(f)["epoch"]
    for epoch in range(start + 1, budget + 1):
        time.sleep(float(os.environ.get("SLOW_EPOCH", "0.02")))
        with open(os.path.join(os.path.dirname(__file__), "epochs.log"), "a") as log:
            log.write(f"{seed} {epoch}\\n")
        report(epoch, loss=loss(lr, epoch))
    with open(state + ".tmp", "w") as f:
        json.dump({"epoch": budget}, f)
    os.replace(state + ".tmp", state)
    return {"loss": loss(lr, budget)}

def loss(lr, epoch):
    # Fast learners look good early; the best after 9 epochs has lr near 0.3.
    return (lr - 0.3) ** 2 + 1.0 / (1.0 + 10 * lr * epoch)

def report_only(params, seed, report):
    for epoch in range(1, 10):
        report(epoch, loss=loss(params["lr"], epoch))
    return {"loss": loss(params["lr"], 9)}

def budget_only(params, seed, budget):
    return {"loss": loss(params["lr"], budget)}

def neither(params, seed):
    return 0.0
"""


def _python_config(tmp_path: Path, function: str = "train", **changes) -> Path:
    (tmp_path / "slow.py").write_text(SLOW_OBJECTIVE)
    doc = {
        "name": "slow",
        "seed": 1,
        "objective": {"python": f"slow:{function}"},
        "space": {"lr": {"scale": "log", "min": 0.01, "max": 1.0}},
        "search": {"trials": 12, "metric": "loss", "direction": "minimize"},
        "early_stop": {"method": "halving", "min_epochs": 1, "eta": 3, "max_epochs": 9},
        "run": {"jobs": 2, "runs_dir": str(tmp_path / "runs")},
        **changes,
    }
    path = tmp_path / "slow.yaml"
    path.write_text(json.dumps(doc))
    return path


def _lines(run_dir: Path, name: str, drop: tuple[str, ...] = ("seconds",)) -> list[dict]:
    """A run file's JSON lines without times (and ``drop``), in a fixed order."""
    out = []
    for line in (Path(run_dir) / name).read_text().splitlines():
        item = json.loads(line)
        for key in drop:
            item.pop(key, None)
        out.append(item)
    return sorted(out, key=lambda item: (item["trial"], item.get("rung", 0)))


def _same_run(a: Path, b: Path, curves: bool = True) -> None:
    assert _lines(a, "trials.jsonl") == _lines(b, "trials.jsonl")
    # A Python objective that finds its checkpoint already at the budget (the driver was
    # killed after it saved, before its result arrived) reports no epochs: no curve.
    drop = ("seconds",) if curves else ("seconds", "curves")
    assert _lines(a, "rungs.jsonl", drop) == _lines(b, "rungs.jsonl", drop)
    assert leaderboard(a) == leaderboard(b)


# -- the plan -----------------------------------------------------------------------------------


def test_hyperband_plan_matches_the_papers_table():
    # Li et al. 2018, Table 1: R = 81, eta = 3; n_i trials trained r_i epochs in each bracket.
    paper = [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    plan = make_plan("hyperband", 143, 1, 81, 3)
    assert [[(r.trials, r.epochs) for r in b.rungs] for b in plan.brackets] == paper
    assert [b.first for b in plan.brackets] == [0, 81, 115, 130, 138]


def test_halving_plan_keeps_a_third_per_rung_and_ends_at_the_full_budget():
    plan = make_plan("halving", 40, 3, 30, 3)
    assert [(r.trials, r.epochs) for r in plan.brackets[0].rungs] == [(40, 3), (13, 9), (4, 30)]
    assert plan.epochs_continuing() == 40 * 3 + 13 * 6 + 4 * 21
    assert plan.epochs_full() == 40 * 30
    # A few trials still get one trained fully.
    assert [r.trials for r in make_plan("halving", 2, 1, 81, 3).brackets[0].rungs] == [2] + [1] * 4


def test_validate_and_sample_show_the_rung_plan(make_config):
    path = make_config(base=HALVING)
    for command in ("validate", "sample"):
        result = invoke(command, str(path))
        assert result.exit_code == 0, result.output
        assert "successive halving, eta 3, 1 to 9 epochs" in result.stdout
        assert "12×1, 4×3, 1×9" in result.stdout
        assert "epochs: 26 of the 108 of training all fully (24 %)" in result.stdout


# -- results -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_halving_stops_trials_and_ranks_full_budget_trials_first(make_config):
    doc = run_json("run", str(make_config(base=HALVING)))
    run_dir = Path(doc["run_dir"])
    assert doc["counts"]["ok"] == 1 and doc["counts"]["stopped"] == 11
    assert doc["early_stop"] == {
        "method": "halving",
        "stopped": 11,
        "epochs": 26,
        "epochs_full": 108,
    }
    rows = leaderboard(run_dir).splitlines()
    header = rows[0].split(",")
    epochs = [int(r.split(",")[header.index("epochs")]) for r in rows[1:]]
    assert epochs[0] == 9 and epochs[1:4] == [3, 3, 3] and set(epochs[4:]) == {1}
    statuses = [r.split(",")[header.index("status")] for r in rows[1:]]
    assert statuses == ["ok"] + ["stopped"] * 11
    assert doc["best"]["trial"] == int(rows[1].split(",")[1])
    assert not (run_dir / "checkpoints").exists()  # removed once the run is complete
    show = invoke("show", str(run_dir))
    assert show.exit_code == 0 and "11 stopped" in show.stdout


@pytest.mark.slow
def test_a_continued_trial_has_the_curve_of_one_trained_in_one_go(make_config, tmp_path):
    doc = run_json("run", str(make_config(base=HALVING)), "--keep-checkpoints")
    run_dir = Path(doc["run_dir"])
    curves = {
        json.loads(line)["trial"]: json.loads(line)
        for line in (run_dir / "curves.jsonl").read_text().splitlines()
    }
    best = doc["best"]
    assert (run_dir / "checkpoints").is_dir()  # kept when asked
    from hpsearch.config import load_config
    from hpsearch.data import load_dataset
    from hpsearch.trainer import train

    config = load_config(run_dir / "config.yaml")
    data = load_dataset(config.data, config.data_seed, config.base_dir)
    whole = train({**config.resolved_model(), **best["params"]}, data, best["seed"])
    assert curves[best["trial"]]["val_loss"] == whole.curves["val_loss"]
    assert curves[best["trial"]]["epoch"] == list(range(1, 10))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop", "gd"])
def test_checkpointed_training_equals_training_in_one_go(dtype, optimizer, monkeypatch):
    from hpsearch.data import load_dataset
    from hpsearch.data.sources import DataConfig
    from hpsearch.trainer import train

    train_module = sys.modules["hpsearch.trainer.train"]  # the module, not the function

    data = load_dataset(DataConfig("spirals", classes=3, samples=300), 0)
    params = {"epochs": 7, "optimizer": optimizer, "dtype": dtype, "lr_decay": 0.5}
    whole = train(params, data, 11)
    epochs_run = []
    one_epoch = train_module.run_epoch
    monkeypatch.setattr(
        train_module, "run_epoch", lambda *a, **k: epochs_run.append(1) or one_epoch(*a, **k)
    )
    with tempfile.TemporaryDirectory() as directory:
        for budget in (1, 3, 7):
            part = train(params, data, 11, budget=budget, checkpoint_dir=directory)
            assert part.epochs == budget
    assert part.curves == whole.curves and part.metrics == whole.metrics
    assert len(epochs_run) == 7  # continued each time, never trained again


def test_a_half_written_or_foreign_checkpoint_is_never_loaded():
    from hpsearch.data import load_dataset
    from hpsearch.data.sources import DataConfig
    from hpsearch.trainer import train
    from hpsearch.trainer.checkpoint import FILE

    data = load_dataset(DataConfig("spirals", classes=3, samples=300), 0)
    params = {"epochs": 4}
    whole = train(params, data, 2)
    with tempfile.TemporaryDirectory() as directory:
        train(params, data, 2, budget=2, checkpoint_dir=directory)
        saved = (Path(directory) / FILE).read_bytes()
        (Path(directory) / FILE).write_bytes(saved[: len(saved) // 2])  # cut short
        again = train(params, data, 2, budget=4, checkpoint_dir=directory)
        assert again.curves == whole.curves  # trained again from scratch
        train({**params, "learning_rate": 0.5}, data, 2, budget=2, checkpoint_dir=directory)
        other = train(params, data, 2, budget=4, checkpoint_dir=directory)
        assert other.curves == whole.curves  # another trial's checkpoint: ignored
        import dataclasses

        edited = dataclasses.replace(data, x_train=data.x_train + 0.5)  # same shape
        train(params, data, 2, budget=2, checkpoint_dir=directory)
        fresh = train(params, edited, 2, budget=4, checkpoint_dir=directory)
        assert fresh.curves == train(params, edited, 2).curves  # other data: ignored


# -- reproducible whatever runs it ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("method", ["halving", "hyperband"])
def test_the_same_trials_for_every_worker_count_and_backend(make_config, tmp_path, method):
    path = make_config(base=HALVING, early_stop={"method": method})
    runs = []
    for args in (
        ["--jobs", "1"],
        ["--jobs", "2"],
        ["--backend", "sequential"],
        ["--backend", "threading", "--jobs", "2"],
    ):
        runs.append(Path(run_json("run", str(path), *args)["run_dir"]))
    for other in runs[1:]:
        _same_run(runs[0], other)


def _wait_for_rungs(runs: Path, count: int, process: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        files = list(runs.glob("*/rungs.jsonl"))
        if files and len(files[0].read_text().splitlines()) >= count:
            return files[0].parent
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError("the run did not get going")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "after"),
    [("sigkill", 3), ("sigkill", 12), ("sigkill", 14), ("sigint", 7)],
    ids=["kill-mid-rung-1", "kill-between-rungs", "kill-mid-rung-2", "ctrl-c-mid-rung-1"],
)
def test_interrupted_anywhere_resume_gives_the_same_run(tmp_path, how, after):
    path = _python_config(tmp_path)
    reference = Path(
        run_json("run", str(path), "--runs-dir", str(tmp_path / "reference"))["run_dir"]
    )
    process = spawn_cli(["run", str(path)], tmp_path, {"SLOW_EPOCH": "0.05"})
    run_dir = _wait_for_rungs(tmp_path / "runs", after, process)
    if how == "sigkill":
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    result = invoke("resume", str(run_dir), "--quiet")
    assert result.exit_code == 0, result.output
    _same_run(reference, run_dir, curves=False)
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "complete"


@pytest.mark.slow
def test_a_torn_rung_line_is_cut_and_its_training_run_again(tmp_path):
    path = _python_config(tmp_path)
    run_dir = Path(run_json("run", str(path))["run_dir"])
    reference = {name: _lines(run_dir, name) for name in ("trials.jsonl", "rungs.jsonl")}
    rungs = (run_dir / "rungs.jsonl").read_text().splitlines()
    (run_dir / "rungs.jsonl").write_text("\n".join(rungs[:13]) + "\n" + rungs[13][:30])
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    kept = [t for t in trials if t["status"] == "stopped" and "after 1 epochs" in t["error"]]
    (run_dir / "trials.jsonl").write_text("".join(json.dumps(t) + "\n" for t in kept))
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    result = invoke("resume", str(run_dir), "--quiet")
    assert result.exit_code == 0, result.output
    assert {name: _lines(run_dir, name) for name in reference} == reference


# -- objectives and the budget -----------------------------------------------------------------


@pytest.mark.slow
def test_a_python_objective_continues_from_its_checkpoint_dir(tmp_path):
    doc = run_json("run", str(_python_config(tmp_path)), "--jobs", "1")
    assert doc["counts"] == {**doc["counts"], "ok": 1, "stopped": 11}
    trained = (tmp_path / "epochs.log").read_text().splitlines()
    # 12 trials × 1 epoch, 4 × 2 more, 1 × 6 more: no epoch trained twice.
    assert len(trained) == 12 + 4 * 2 + 6 == len(set(trained))
    run_dir = Path(doc["run_dir"])
    curves = [json.loads(line) for line in (run_dir / "curves.jsonl").read_text().splitlines()]
    best = next(c for c in curves if c["trial"] == doc["best"]["trial"])
    assert best["epoch"] == list(range(1, 10))  # the rungs' reports joined into one curve


@pytest.mark.slow
@pytest.mark.parametrize("function", ["report_only", "budget_only"])
def test_objectives_without_checkpoints_train_again_to_the_larger_budget(tmp_path, function):
    reference = run_json("run", str(_python_config(tmp_path)))
    doc = run_json("run", str(_python_config(tmp_path, function)))
    assert doc["best"]["trial"] == reference["best"]["trial"]
    assert doc["best"]["value"] == pytest.approx(reference["best"]["value"])
    assert _lines(doc["run_dir"], "trials.jsonl") == _lines(reference["run_dir"], "trials.jsonl")


def test_an_objective_with_no_way_to_stop_early_is_refused(tmp_path):
    result = invoke("run", str(_python_config(tmp_path, "neither")))
    one_line_error(result, "slow:neither", "takes neither budget= nor report=")
    assert not (tmp_path / "runs").exists()


COMMAND_OBJECTIVE = """
import json, os, sys
budget = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ["HPSEARCH_BUDGET"])
lr = float(sys.argv[1])
assert os.path.isdir(os.environ["HPSEARCH_CHECKPOINT_DIR"])
for epoch in range(1, (9 if os.environ.get("IGNORE") else budget) + 1):
    print(json.dumps({"epoch": epoch, "loss": (lr - 0.3) ** 2 + 1.0 / (1.0 + 10 * lr * epoch)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        "{python} cmd.py {lr} {budget}",
        "{python} cmd.py {lr}",
        "IGNORE=1 {python} cmd.py {lr}",
    ],
    ids=["placeholder", "environment", "ignores-the-budget"],
)
def test_command_objectives_get_the_budget(tmp_path, command):
    reference = run_json("run", str(_python_config(tmp_path)))
    (tmp_path / "cmd.py").write_text(COMMAND_OBJECTIVE)
    path = _python_config(
        tmp_path, objective={"command": command.replace("{python}", sys.executable)}
    )
    doc = run_json("run", str(path))
    assert doc["best"]["trial"] == reference["best"]["trial"]
    ranks = [(r["trial"], r["status"], r["epochs"]) for r in _lines(doc["run_dir"], "trials.jsonl")]
    assert ranks == [
        (r["trial"], r["status"], r["epochs"]) for r in _lines(reference["run_dir"], "trials.jsonl")
    ]


@pytest.mark.slow
def test_the_python_api_runs_early_stopping(make_config):
    run = hpsearch.run(make_config(base=HALVING), early_stop="hyperband")
    counts = run.summary["counts"]
    assert counts["ok"] >= 1 and counts["stopped"] >= 1
    assert run.best.epochs == 9


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("early_stop", "fragments"),
    [
        ({"method": "halving", "eta": 1}, ["early_stop.eta", "must be >= 2, got 1"]),
        (
            {"method": "halving", "min_epochs": 10},
            ["early_stop.min_epochs", "at most the epochs of full training", "= 9, got 10"],
        ),
        ({"method": "halvng"}, ["early_stop.method", "did you mean 'halving'"]),
        ({"min_epochs": 2}, ["early_stop.method", "required: halving or hyperband"]),
        ({"method": "halving", "max_epochs": 20}, ["early_stop.max_epochs", "model.epochs"]),
    ],
)
def test_bad_early_stopping_settings_are_one_line_errors(
    make_config, tmp_path, early_stop, fragments
):
    path = make_config(base={**HALVING, "early_stop": early_stop})
    for command in ("validate", "run"):
        one_line_error(invoke(command, str(path)), *fragments)
    assert not (tmp_path / "runs").exists()


def test_bad_early_stopping_flags_are_one_line_errors(make_config, tmp_path):
    path = make_config(base={**HALVING, "early_stop": {}})
    one_line_error(
        invoke("run", str(path), "--early-stop", "halving", "--eta", "1"), "--eta", ">= 2"
    )
    one_line_error(
        invoke("run", str(path), "--early-stop", "halving", "--min-epochs", "12"),
        "--min-epochs",
        "model.epochs = 9",
    )
    one_line_error(invoke("run", str(path), "--early-stop", "sometimes"), "--early-stop")
    assert not (tmp_path / "runs").exists()


def test_a_custom_objective_needs_its_full_budget(tmp_path):
    path = _python_config(tmp_path, early_stop={"method": "halving"})
    one_line_error(invoke("run", str(path)), "early_stop.max_epochs", "required for a python")


def test_budget_placeholder_without_early_stopping_is_given_the_full_epochs(tmp_path):
    """Issue 23: a command that takes {budget} runs without early stopping, trained fully;
    without a number of epochs to give it, one line says what to set."""
    path = _python_config(tmp_path, objective={"command": "echo {budget}"}, early_stop=None)
    one_line_error(
        invoke("validate", str(path)),
        "{budget} needs the epochs of full training",
        "early_stop.max_epochs (or model.epochs)",
    )
    (tmp_path / "echo_budget.py").write_text(
        "import sys\nprint('loss=' + str(1 / int(sys.argv[1])))\n"
    )
    command = f"{sys.executable} echo_budget.py {{budget}}"
    path = _python_config(
        tmp_path,
        objective={"command": command},
        early_stop=None,
        model={"epochs": 8},
        search={"trials": 2, "metric": "loss", "direction": "minimize"},
    )
    doc = run_json("run", str(path))
    assert doc["counts"]["ok"] == 2 and doc["best"]["value"] == 0.125


def test_the_rung_plan_is_the_same_numbers_as_numpy_floor():
    # eta-th of each rung, at least one: floor(n / eta^k) as in the paper.
    plan = make_plan("halving", 100, 1, 16, 2)
    assert [r.trials for r in plan.brackets[0].rungs] == [
        max(1, int(np.floor(100 / 2**k))) for k in range(5)
    ]


def test_readme_plan_figures_are_the_quickstarts():
    from hpsearch.config import load_config

    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "configs" / "quickstart.yaml").with_overrides(early_stop="halving")
    plan = config.rung_plan()
    assert plan is not None
    rungs = ", ".join(f"{r.trials}×{r.epochs}" for r in plan.brackets[0].rungs[:-1])
    last = plan.brackets[0].rungs[-1]
    text = (
        f"rungs of {rungs} and {last.trials}×{last.epochs} epochs, "
        f"{plan.epochs_continuing()} epochs instead of {plan.epochs_full():,}"
    )
    assert text in (root / "README.md").read_text().replace("\n  ", " ")


@pytest.mark.slow
def test_zoom_rounds_are_halvings_and_retest_trains_fully(make_config, tmp_path):
    doc = run_json("run", str(make_config(base=HALVING)), "--rounds", "1")
    last = Path(doc["run_dir"])
    summary = json.loads((last / "summary.json").read_text())
    assert len(summary["rounds"]) == 2 and summary["counts"]["stopped"] > 0
    rungs = [json.loads(line) for line in (last / "rungs.jsonl").read_text().splitlines()]
    # Each round ran its own halving over its own trials: rung 0 holds every trial of both.
    firsts = [r for r in rungs if r["rung"] == 0]
    assert sorted(r["trial"] for r in firsts) == list(range(len(firsts)))
    assert {r["round"] for r in firsts} == {0, 1}
    # The round narrowed around a fully trained trial of the coarse round.
    zoom = hpsearch.load_run(last).history.rounds[1]
    anchor = hpsearch.load_run(last).history.by_trial[zoom.anchors[0]]
    assert anchor.round == 0 and anchor.status == "ok"
    retest = run_json("retest", str(last), "--top", "1", "--seeds", "2")
    records = [json.loads(line) for line in (Path(retest["run_dir"]) / "trials.jsonl").open()]
    assert {r["epochs"] for r in records} == {9} and {r["status"] for r in records} == {"ok"}


@pytest.mark.slow
def test_plain_output_says_how_each_rung_went(make_config):
    result = invoke("run", str(make_config(base=HALVING)))
    assert result.exit_code == 0, result.output
    assert "rung 1/3: 12/12 reported · 8 stopped · 12/108 epochs (11%)" in result.stdout
    assert "rung 3/3: 1/1 reported · 11 stopped · 26/108 epochs (24%)" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("function", ["budget_only", "train"])
def test_retest_trains_a_python_objective_to_its_full_budget(tmp_path, function):
    doc = run_json("run", str(_python_config(tmp_path, function)))
    retest = run_json("retest", doc["run_dir"], "--top", "1", "--seeds", "2")
    records = [json.loads(line) for line in (Path(retest["run_dir"]) / "trials.jsonl").open()]
    assert [(r["status"], r["epochs"]) for r in records] == [("ok", 9), ("ok", 9)]


@pytest.mark.slow
def test_an_api_objective_gets_the_budget_and_one_without_it_is_refused(make_config, tmp_path):
    from hpsearch import UserError

    from .objectives import Bowl, Budgeted

    run = hpsearch.run(make_config(base=HALVING), objective=Budgeted())
    assert sorted(r.epochs for r in run.trials) == [1] * 8 + [3] * 3 + [9]
    with pytest.raises(UserError, match="early stopping calls it with budget="):
        hpsearch.run(make_config(base=HALVING), objective=Bowl())


@pytest.mark.slow
def test_a_command_past_its_budget_without_the_metric_in_its_curve_is_one_line(tmp_path):
    (tmp_path / "late.py").write_text(
        "import json\n"
        "for epoch in range(1, 10):\n"
        "    print(json.dumps({'epoch': epoch, 'loss': 1.0 / epoch}))\n"
        "print(json.dumps({'accuracy': 0.5}))\n"
    )
    path = _python_config(
        tmp_path,
        objective={"command": f"{sys.executable} late.py {{lr}}"},
        search={"trials": 12, "metric": "accuracy", "direction": "maximize"},
    )
    result = invoke("run", str(path))
    one_line_error(result, "search.metric", "does not report 'accuracy'", "no 'accuracy' reported")


@pytest.mark.slow
def test_a_nan_at_the_budget_fails_the_trial_and_is_never_promoted(tmp_path):
    (tmp_path / "nan.py").write_text(
        "import json, sys\n"
        "lr = float(sys.argv[1])\n"
        "for epoch in range(1, 10):\n"
        "    loss = float('nan') if lr > 0.3 else (lr - 0.3) ** 2 + 1.0 / (1.0 + 10 * lr * epoch)\n"
        "    print(json.dumps({'epoch': epoch, 'loss': loss}))\n"
    )
    path = _python_config(tmp_path, objective={"command": f"{sys.executable} nan.py {{lr}}"})
    doc = run_json("run", str(path))
    records = _lines(doc["run_dir"], "trials.jsonl")
    high = [r for r in records if r["params"]["lr"] > 0.3]
    assert high and all(r["status"] == "failed" and "NaN" in r["error"] for r in high)
    assert all(r["epochs"] == 1 for r in high)  # failed in the first rung, never promoted
    assert doc["best"]["params"]["lr"] <= 0.3


FAST_THEN_GOOD = """
def train(params, seed, budget):
    # After one epoch only 'fast' tells trials apart; trained on, only 'good' does.
    return {"score": params["fast"] if budget < 3 else params["good"]}
"""


def _fast_then_good_run(tmp_path: Path, trials: int) -> str:
    (tmp_path / "fastgood.py").write_text(FAST_THEN_GOOD)
    doc = {
        "name": "fastgood",
        "seed": 3,
        "objective": {"python": "fastgood:train"},
        "space": {
            "fast": {"scale": "linear", "min": 0.0, "max": 1.0},
            "good": {"scale": "linear", "min": 0.0, "max": 1.0},
        },
        "search": {"trials": trials, "metric": "score", "direction": "maximize"},
        "early_stop": {"method": "halving", "min_epochs": 1, "eta": 3, "max_epochs": 9},
        "run": {"jobs": 1, "runs_dir": str(tmp_path / "runs")},
    }
    config = tmp_path / "fastgood.yaml"
    config.write_text(json.dumps(doc))
    return run_json("run", str(config))["run_dir"]


@pytest.mark.slow
def test_importance_is_measured_on_the_trials_trained_furthest(tmp_path):
    """Issue 23: importance of an early-stopping run was measured on the first rung, where it
    named what learns fastest; it is measured on the furthest rung with enough trials, and the
    HTML's share is the CLI's."""
    run_dir = _fast_then_good_run(tmp_path, trials=63)
    found = json.loads(invoke("importance", run_dir, "--json").stdout)
    assert found["params"][0]["name"] == "good"
    assert found["basis"].startswith("score after 3 of 9 epochs, where 21 trials trained")
    assert "7 trained further, too few to measure (at least 20 are needed)" in found["basis"]

    page = hpsearch.load_run(run_dir).report(tmp_path / "r.html").read_text()
    share = next(p for p in found["params"] if p["name"] == "good")["share"]
    assert f">{share:.0%}<" in page
    assert "after 3 of 9 epochs" in page


@pytest.mark.slow
def test_importance_says_when_only_the_first_rung_has_enough_trials(tmp_path):
    run_dir = _fast_then_good_run(tmp_path, trials=12)
    result = invoke("importance", run_dir)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "measured on: score after 1 of 9 epochs, where 12 trials trained" in text
    assert "first rung ranks what learns fastest in 1 epochs" in text
