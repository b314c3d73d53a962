"""Seeing the results: show, list, compare, plot, importance; panda mode; re-testing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import TRAINER, invoke, run_json

SYNTHETIC = """
import random

def strong_x(params, seed):
    # Depends strongly on x, hardly on y, not at all on z.
    return {"score": -(params["x"] - 0.3) ** 2 + 0.001 * params["y"]}

def noisy(params, seed):
    # Pure luck: the same value for every configuration, plus a seed's noise.
    return {"score": 0.5 + random.Random(seed).gauss(0, 0.1)}
"""


SYNTHETIC_SEARCH = {
    "space": {
        "x": {"scale": "linear", "min": 0.0, "max": 1.0},
        "y": {"scale": "linear", "min": 0.0, "max": 1.0},
        "z": {"scale": "log", "min": 1.0e-3, "max": 1.0},
    },
    "search": {"metric": "score", "direction": "maximize"},
    "run": {"backend": "sequential"},
}


@pytest.fixture
def synthetic_run(tmp_path, make_config):
    """``synthetic_run(function, trials) -> dict``: a search of x, y, z with a function of
    SYNTHETIC; its JSON."""
    (tmp_path / "synthetic.py").write_text(SYNTHETIC)

    def run(function: str, trials: int) -> dict:
        path = make_config(
            function,
            base=SYNTHETIC_SEARCH,
            objective={"python": f"synthetic:{function}"},
            search={"trials": trials},
        )
        return run_json("run", str(path))

    return run


def test_show_prints_summary_top_trials_and_json(trainer_run):
    doc = trainer_run()
    result = invoke("show", doc["run_dir"], "--top", "3")
    assert result.exit_code == 0
    assert f"run {doc['run_id']}: complete, 8 of 8 trials (8 ok)" in result.stdout
    assert "top 3 of 8 trials" in result.stdout
    data = json.loads(invoke("show", doc["run_dir"], "--json", "--top", "3").stdout)
    assert data["summary"]["run_id"] == doc["run_id"] and len(data["top"]) == 3
    values = [r["metrics"]["val_accuracy"] for r in data["top"]]
    assert values == sorted(values, reverse=True)
    assert data["failures"] == []


@pytest.mark.slow
def test_show_tells_each_round(trainer_run):
    doc = trainer_run("--rounds", "1")
    data = json.loads(invoke("show", doc["run_dir"], "--json").stdout)
    assert [r["round"] for r in data["rounds"]] == [0, 1]
    assert data["rounds"][0]["ranges"]["learning_rate"] == "1.0e-03–1.0e-01"
    notes = data["rounds"][1]["notes"]
    assert notes["learning_rate"].endswith("of the range, around the top 2")
    table = invoke("show", doc["run_dir"]).stdout
    assert "round  trials  space" in table and "zoom inside the search's region" in table
    text = invoke("show", doc["run_dir"], "--rounds").stdout
    assert "round 0 (zoom, trials 0-7): the whole space, then 1 zoom round" in text
    assert "round 1 (zoom, trials 8-11): zoom inside" in text
    assert invoke("show", doc["run_dir"], "--lineage").stdout == text  # 0.1's flag still works


@pytest.mark.slow
def test_show_groups_failures_by_reason(make_config):
    path = make_config(
        base=TRAINER,
        model={"optimizer": "gd", "batch_norm": False},
        space={"learning_rate": {"scale": "log", "min": 1.0e3, "max": 1.0e5}},
    )
    doc = json.loads(invoke("run", str(path), "--json", "--quiet").stdout)
    data = json.loads(invoke("show", doc["run_dir"], "--json").stdout)
    assert data["failures"] and data["failures"][0]["status"] == "diverged"
    assert sum(f["count"] for f in data["failures"]) == 8


@pytest.mark.slow
def test_list_and_compare(tmp_path, trainer_run):
    first = trainer_run()
    second = trainer_run("--seed", "5")
    runs = str(tmp_path / "runs")
    listed = json.loads(invoke("list", "--runs-dir", runs, "--json").stdout)["runs"]
    assert [r["run_id"] for r in listed] == [second["run_id"], first["run_id"]]
    assert listed[0]["ok"] == 8 and listed[0]["best"] == second["best"]["value"]
    assert second["run_id"] in invoke("list", "--runs-dir", runs).stdout
    compared = json.loads(invoke("compare", first["run_dir"], second["run_dir"], "--json").stdout)[
        "runs"
    ]
    assert [c["value"] for c in compared] == [first["best"]["value"], second["best"]["value"]]
    assert compared[0]["params"]["learning_rate"] == first["best"]["params"]["learning_rate"]
    table = invoke("compare", first["run_dir"], second["run_dir"]).stdout
    assert "learning_rate" in table and "beta2" not in table  # shared defaults left out


@pytest.mark.parametrize(
    "command",
    [["show"], ["compare", "nope"], ["importance"], ["plot"], ["retest"], ["zoom"], ["resume"]],
)
def test_an_unknown_run_is_exit_2(tmp_path, command):
    result = invoke(*command, "nope", "--runs-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "no run 'nope'" in result.stderr and result.stderr.count("\n") == 1


def test_importance_ranks_the_parameter_that_matters_first(synthetic_run):
    doc = synthetic_run("strong_x", trials=60)
    data = json.loads(invoke("importance", doc["run_dir"], "--json").stdout)
    names = [p["name"] for p in data["params"]]
    assert names[0] == "x"
    shares = {p["name"]: p["share"] for p in data["params"]}
    assert shares["x"] > 0.5 and shares["z"] < 0.1
    assert data["caution"] is None
    few = synthetic_run("strong_x", trials=12)
    data = json.loads(invoke("importance", few["run_dir"], "--json").stdout)
    assert "only 12 ok trials" in data["caution"]
    assert "x" in invoke("importance", few["run_dir"]).stdout


@pytest.mark.slow
def test_plot_writes_a_png_with_a_panel_per_parameter(tmp_path, trainer_run):
    pytest.importorskip("matplotlib")
    doc = trainer_run()
    out = tmp_path / "plot.png"
    result = invoke("plot", doc["run_dir"], "--out", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    from hpsearch.config import load_config
    from hpsearch.plot import plot_run
    from hpsearch.store import RunStore

    store = RunStore.open(doc["run_dir"])
    import matplotlib.pyplot as plt

    seen = []
    original = plt.subplots

    def spy(*args, **kwargs):
        fig, axes = original(*args, **kwargs)
        seen.append(axes)
        return fig, axes

    plt.subplots = spy
    try:
        plot_run(
            load_config(store.path / "config.yaml"),
            store.load_trials().records,
            store.load_curves(),
            tmp_path / "again.png",
        )
    finally:
        plt.subplots = original
    visible = [ax for row in seen[0] for ax in row if ax.get_visible()]
    labels = [ax.get_xlabel() for ax in visible]
    assert labels[:2] == ["learning_rate (log)", "beta1 (one_minus_log)"]
    assert labels[2:] == ["batch_size (choice)", "epoch"]  # a strip per value; the curves
    beta_ticks = [t.get_text() for t in visible[1].get_xticklabels()]
    assert beta_ticks == ["0.80", "0.900", "0.990"]


def test_plot_without_matplotlib_is_one_line(trainer_run, monkeypatch):
    doc = trainer_run()
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = invoke("plot", doc["run_dir"])
    assert result.exit_code == 2
    assert result.stderr == "error: plotting needs matplotlib: pip install 'hpsearch[plot]'\n"


@pytest.mark.slow
def test_plot_and_show_work_on_a_custom_objective_run(tmp_path, synthetic_run):
    pytest.importorskip("matplotlib")
    doc = synthetic_run("strong_x", trials=10)
    assert invoke("plot", doc["run_dir"], "--out", str(tmp_path / "p.png")).exit_code == 0
    assert invoke("show", doc["run_dir"]).exit_code == 0


# -- panda ---------------------------------------------------------------------------------------


def test_train_one_model_with_overrides_saved_as_a_run(make_config):
    path = make_config(base=TRAINER)
    result = invoke(
        "train", str(path), "--set", "learning_rate=3e-2", "--set", "epochs=4", "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["trials_done"] == 1 and doc["status"] == "complete"
    assert doc["panda"]["values"]["learning_rate"] == 0.03
    assert doc["panda"]["chosen"]["beta1"] == "middle of its range"
    assert "epoch 4/4" in result.stderr  # the curve, one line per epoch in a log
    curves = (Path(doc["run_dir"]) / "curves.jsonl").read_text()
    assert json.loads(curves)["epoch"] == [1, 2, 3, 4]
    assert invoke("show", doc["run_dir"]).exit_code == 0
    bad = invoke("train", str(path), "--set", "learnig_rate=1")
    assert bad.exit_code == 2 and "did you mean 'learning_rate'" in bad.stderr


def test_train_from_a_run_takes_its_best(make_config, trainer_run):
    doc = trainer_run()
    path = make_config(base=TRAINER)  # the config trainer_run ran
    result = invoke("train", str(path), "--from", doc["run_dir"], "--json", "--quiet")
    assert result.exit_code == 0, result.output
    panda = json.loads(result.stdout)["panda"]
    assert panda["values"]["learning_rate"] == doc["best"]["params"]["learning_rate"]
    assert set(panda["chosen"].values()) == {"--from"}


@pytest.mark.slow
def test_ctrl_c_stops_training_and_keeps_what_was_learned(tmp_path, make_config):
    path = make_config(base=TRAINER, model={"epochs": 100000}, data={"samples": 3000})
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "train", str(path)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("epoch 3/"):
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    run_dir = next((tmp_path / "runs").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["counts"]["ok"] == 1
    record = json.loads((run_dir / "trials.jsonl").read_text())
    assert record["epochs"] >= 3 and "val_accuracy" in record["metrics"]


# -- re-testing -----------------------------------------------------------------------------------


def test_retest_reports_the_spread_and_flags_a_lucky_winner(synthetic_run):
    doc = synthetic_run("noisy", trials=20)
    result = invoke("retest", doc["run_dir"], "--top", "3", "--seeds", "6", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    verdict = data["retest"]
    assert verdict["of"] == doc["run_id"] and data["parent"] == doc["run_id"]
    winners = verdict["winners"]
    assert [w["rank"] for w in winners] == [1, 2, 3]
    assert all(len(w["values"]) == 6 and w["std"] > 0.02 for w in winners)
    assert winners[0]["lucky"]  # the best of 20 pure-noise draws does not come back
    assert "luck" in result.stderr
    assert data["counts"]["ok"] == 18


def test_retest_of_a_steady_objective_holds(synthetic_run):
    doc = synthetic_run("strong_x", trials=20)
    data = json.loads(
        invoke("retest", doc["run_dir"], "--top", "3", "--seeds", "3", "--json").stdout
    )
    assert data["retest"]["ranking_holds"]
    assert not any(w["lucky"] for w in data["retest"]["winners"])


@pytest.mark.slow
def test_retest_on_fresh_data(trainer_run):
    doc = trainer_run()
    result = invoke(
        "retest",
        doc["run_dir"],
        "--top",
        "2",
        "--seeds",
        "2",
        "--data-seed",
        "9",
        "--json",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["retest"]["data"]["seed"] == 9


def test_importance_does_not_depend_on_the_order_trials_finished_in():
    """Ties (integer and choice values, equal metrics) get average ranks, and the records are
    put in a fixed order first: any permutation gives the same report, and Spearman's ρ is
    scipy's."""
    import random

    from hpsearch.analysis import importance
    from hpsearch.space import SCALES, ChoiceParam, NumericParam, Space

    space = Space(
        (
            NumericParam("units", SCALES["linear"], 1, 6, integer=True),
            ChoiceParam("opt", ("a", "b", "c")),
        )
    )
    from hpsearch.record import TrialRecord

    rng = random.Random(4)
    records = []
    for i in range(40):
        params = {"units": rng.randint(1, 6), "opt": rng.choice("abc")}
        acc = round(params["units"] / 6 + rng.random() / 5, 1)
        records.append(TrialRecord(i, params, 0, "ok", {"acc": acc}))
    reference = importance(space, records, "acc")
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert importance(space, shuffled, "acc") == reference
    scipy = pytest.importorskip("scipy.stats")
    units = [space["units"].to_unit(r.params["units"]) for r in records]
    rho = scipy.spearmanr(units, [r.metrics["acc"] for r in records]).statistic
    assert next(p for p in reference.params if p.name == "units").spearman == pytest.approx(rho)


def test_compare_needs_two_runs(synthetic_run):
    doc = synthetic_run("strong_x", trials=5)
    result = invoke("compare", doc["run_dir"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "give two or more runs to compare, got 1" in result.stderr


def test_no_ok_trial_is_exit_1_for_every_command_that_needs_one(tmp_path, make_config):
    (tmp_path / "bad.py").write_text("def f(params, seed):\n    raise ValueError('no')\n")
    path = make_config(
        "bad",
        base={
            "objective": {"python": "bad:f"},
            "space": {"x": {"scale": "linear", "min": 0, "max": 1}},
            "search": {"trials": 3, "metric": "loss", "direction": "minimize"},
            "run": {"jobs": 1},
        },
    )
    run = invoke("run", str(path), "--json", "--quiet")
    assert run.exit_code == 1 and "every trial failed" in run.stderr
    run_dir = json.loads(run.stdout)["run_dir"]
    for args in (
        ["zoom", run_dir],
        ["retest", run_dir],
        ["importance", run_dir],
        ["train", str(path), "--from", run_dir],
    ):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("error: ") and "no ok trial" in result.stderr
        assert result.stderr.count("\n") == 1
