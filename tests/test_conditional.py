"""Conditional parameters (``when:``): a parameter active only when others have given values,
absent from the trials where it is not; sampled, zoomed, analysed and shown as such."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpsearch
from hpsearch import yamlio
from hpsearch.config import load_config, parse_config
from hpsearch.sampling import sample_trial
from hpsearch.space import Space

from .helpers import invoke, leaderboard, merged, one_line_error, run_json

ROOT = Path(__file__).resolve().parent.parent

OPTIMIZERS = {
    "name": "cond",
    "data": {"source": "spirals", "classes": 3, "samples": 300},
    "model": {"epochs": 3},
    "space": {
        "optimizer": {"choice": ["momentum", "rmsprop", "adam"]},
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "momentum_beta": {
            "scale": "one_minus_log",
            "min": 0.8,
            "max": 0.99,
            "when": {"optimizer": "momentum"},
        },
        "adam_beta1": {
            "scale": "one_minus_log",
            "min": 0.8,
            "max": 0.99,
            "when": {"optimizer": ["adam"]},
        },
        "adam_beta2": {
            "scale": "one_minus_log",
            "min": 0.99,
            "max": 0.9999,
            "when": {"optimizer": "adam"},
        },
        "layers": {"scale": "linear", "min": 1, "max": 3, "type": "int"},
        "hidden_units_2": {
            "scale": "log",
            "min": 8,
            "max": 32,
            "type": "int",
            "when": {"layers": {"min": 2}},
        },
    },
    "search": {"trials": 12},
    "zoom": {"trials": 6},
    "run": {"backend": "sequential"},
}


def _config(doc=OPTIMIZERS):
    return parse_config(merged(doc, {}))


# -- sampling ------------------------------------------------------------------------------------


@st.composite
def conditional_spaces(draw):
    """A few choice / integer / real parameters, each later one maybe conditional on an
    earlier choice or integer parameter (so conditions chain)."""
    doc = {}
    for i in range(draw(st.integers(2, 6))):
        kind = draw(st.sampled_from(["choice", "int", "real"]))
        entry = (
            {"choice": ["a", "b", "c"][: draw(st.integers(2, 3))]}
            if kind == "choice"
            else {"scale": "linear", "min": 0, "max": 4, "type": "int"}
            if kind == "int"
            else {"scale": "log", "min": 1e-3, "max": 1.0}
        )
        parents = [n for n, e in doc.items() if "choice" in e or e.get("type") == "int"]
        if parents and draw(st.booleans()):
            parent = draw(st.sampled_from(parents))
            if "choice" in doc[parent]:
                entry["when"] = {parent: draw(st.sampled_from(doc[parent]["choice"]))}
            else:
                entry["when"] = {parent: {"min": draw(st.integers(0, 4))}}
        doc[f"p{i}"] = entry
    return doc


@settings(max_examples=50)
@given(conditional_spaces(), st.integers(0, 2**32 - 1), st.integers(0, 10**6))
def test_a_trial_draws_the_same_active_values_whatever_the_conditions(doc, seed, index):
    conditional = _space(doc)
    plain = _space({n: {k: v for k, v in e.items() if k != "when"} for n, e in doc.items()})
    every = sample_trial(plain, seed, index).params
    drawn = sample_trial(conditional, seed, index).params
    assert drawn == {n: v for n, v in every.items() if n in drawn}
    for name, entry in doc.items():  # active exactly when its condition (chain) holds
        active = True
        node = entry
        while "when" in node:
            ((parent, need),) = node["when"].items()
            value = every[parent]
            met = value == need if not isinstance(need, dict) else value >= need["min"]
            active = active and met
            node = doc[parent]
        assert (name in drawn) == active, (name, doc, drawn)


def _space(doc) -> Space:
    return parse_config(
        {
            "objective": {"python": "x:y"},
            "space": doc,
            "search": {"metric": "m", "direction": "minimize"},
        }
    ).space


@pytest.mark.slow
def test_an_active_parameter_keeps_its_distribution_and_the_condition_its_frequency():
    space = _config().space
    trials = [sample_trial(space, 7, i).params for i in range(3000)]
    momentum = [t for t in trials if t["optimizer"] == "momentum"]
    assert all(("momentum_beta" in t) == (t["optimizer"] == "momentum") for t in trials)
    assert all(("hidden_units_2" in t) == (t["layers"] >= 2) for t in trials)
    assert abs(len(momentum) / len(trials) - 1 / 3) < 0.03
    # Uniform in unit space among the trials where it is active: each tenth holds ~10 %.
    units = np.array([space["momentum_beta"].to_unit(t["momentum_beta"]) for t in momentum])
    shares = np.histogram(units, bins=10, range=(0, 1))[0] / len(units)
    assert np.all(np.abs(shares - 0.1) < 0.035), shares


# -- bad conditions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            {"adam_beta1": {"when": {"optimiser": "adam"}}},
            ["unknown hyperparameter 'optimiser'", "did you mean 'optimizer'"],
        ),
        (
            {"adam_beta1": {"when": {"optimizer": "sgd"}}},
            ["'sgd'", "is not a value of optimizer", "never hold"],
        ),
        ({"adam_beta1": {"when": {"learning_rate": 0.01}}}, ["'learning_rate' is a real number"]),
        ({"adam_beta1": {"when": {"adam_beta1": 0.9}}}, ["cannot depend on itself"]),
        ({"adam_beta1": {"when": {}}}, ["must name the parameters it depends on"]),
        ({"adam_beta1": {"when": {"optimizer": {"min": 1}}}}, ["is a choice: list the values"]),
        ({"hidden_units_2": {"when": {"layers": {"min": 5}}}}, ["can never hold", "1–3"]),
        ({"hidden_units_2": {"when": {"layers": {"min": 3, "max": 2}}}}, ["must be <= max"]),
        ({"hidden_units_2": {"when": {"layers": {"least": 2}}}}, ["unknown key 'least'"]),
        (
            {
                "layers": {"when": {"hidden_units_2": {"min": 9}}},
            },
            ["conditions form a cycle", "layers → hidden_units_2 → layers"],
        ),
        (
            {
                "optimizer": {"choice": ["momentum", "rmsprop", "adam", "gd"]},
                "layers": {"when": {"optimizer": "adam"}},
                "hidden_units_2": {"when": {"layers": {"min": 2}, "optimizer": "gd"}},
            },
            ["can never hold", "optimizer to be adam and gd"],
        ),
    ],
)
def test_a_bad_condition_is_one_line_naming_file_line_and_key(make_config, change, fragments):
    space = {name: dict(entry) for name, entry in OPTIMIZERS["space"].items()}
    for name, entry in change.items():
        space[name] = {**space[name], **entry} if "choice" not in entry else entry
    path = make_config("bad", base={**OPTIMIZERS, "space": space})
    result = invoke("validate", str(path))
    line = one_line_error(result, "bad.yaml:", *fragments)
    assert ": space." in line
    assert not (path.parent / "runs").exists()


def test_a_conditional_parameter_is_no_command_placeholder(make_config, tmp_path):
    doc = {
        "objective": {"command": "python -c pass --b {b}"},
        "space": {
            "a": {"choice": ["x", "y"]},
            "b": {"scale": "linear", "min": 0, "max": 1, "when": {"a": "x"}},
        },
        "search": {"metric": "m", "direction": "minimize"},
    }
    path = make_config("cmd", base=doc)
    one_line_error(invoke("validate", str(path)), "{b} is conditional", "HPSEARCH_PARAMS_FILE")


# -- a conditional run, end to end -------------------------------------------------------------


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    """A conditional search of two rounds, the second around the single best trial."""
    base = tmp_path_factory.mktemp("cond")
    path = base / "cond.yaml"
    doc = merged(OPTIMIZERS, {"run": {"runs_dir": str(base / "runs")}, "zoom": {"top": 1}})
    path.write_text(yamlio.dump(doc))
    return Path(run_json("run", str(path), "--rounds", "1")["run_dir"])


def test_a_conditional_run_writes_absent_values_as_absent(search):
    root = search
    trials = [json.loads(line) for line in (root / "trials.jsonl").read_text().splitlines()]
    assert any("momentum_beta" in t["params"] for t in trials)
    for t in trials:
        assert ("momentum_beta" in t["params"]) == (t["params"]["optimizer"] == "momentum")
        assert ("adam_beta2" in t["params"]) == (t["params"]["optimizer"] == "adam")
        assert ("hidden_units_2" in t["params"]) == (t["params"]["layers"] >= 2)
    rows = list(csv.DictReader(io.StringIO(leaderboard(root))))
    for row in rows:  # an empty cell where a parameter was inactive
        assert (row["momentum_beta"] == "") == (row["optimizer"] != "momentum")
    shown = invoke("show", str(root), "--top", "12").stdout
    assert " - " in shown  # absent values as '-'
    # The config read back (config.yaml) keeps the conditions.
    assert load_config(root / "config.yaml").space.conditions == _config().space.conditions


def test_zoom_narrows_a_conditional_parameter_from_the_trials_where_it_was_active(search):
    run = hpsearch.load_run(search)
    zoom = run.history.rounds[1]
    best = min(
        (t for t in run.trials if t.round == 0 and t.ok),
        key=lambda t: (-t.metrics["val_accuracy"], t.trial),
    ).params
    # The best trial's optimizer is fixed; the other optimizers' settings can no longer be
    # active, so they are gone (not fixed at a made-up value).
    assert zoom.region.fixed["optimizer"] == best["optimizer"]
    for name in ("momentum_beta", "adam_beta1", "adam_beta2"):
        mine = name.startswith(best["optimizer"])
        assert (name in zoom.region.space) == mine and name not in zoom.region.fixed
    if "adam_beta1" in zoom.region.space:
        assert not zoom.region.space.condition("adam_beta1")  # always true now
    for t in run.trials:  # every trial of the round is a point of the search's space
        if t.round == 1:
            assert t.params["optimizer"] == best["optimizer"]
    shown = invoke("show", str(search), "--rounds").stdout
    assert "inactive (its condition can no longer hold)" in shown


def test_importance_and_best_yaml_of_a_conditional_run(search, tmp_path):
    result = invoke("importance", str(search), "--json")
    assert result.exit_code == 0, result.output
    names = {p["name"] for p in json.loads(result.stdout)["params"]}
    assert {"momentum_beta", "hidden_units_2"} <= names
    best = yamlio.load((search / "best.yaml").read_text(), "best.yaml")[0]
    params = json.loads((search / "summary.json").read_text())["best"]["params"]
    for name in ("momentum_beta", "adam_beta1", "adam_beta2", "hidden_units_2"):
        assert (name in best["model"]) == (name in params)
    assert best["space"] == {}


@pytest.mark.slow
def test_plot_of_a_conditional_run(search, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cond.png"
    result = invoke("plot", str(search), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000


def test_a_value_where_its_condition_does_not_hold_is_a_bad_record(search, tmp_path):
    import shutil

    copy = tmp_path / search.name
    shutil.copytree(search, copy)
    lines = (copy / "trials.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["params"][
        "momentum_beta" if record["params"]["optimizer"] != "momentum" else "adam_beta1"
    ] = 0.9
    lines[0] = json.dumps(record)
    (copy / "trials.jsonl").write_text("\n".join(lines) + "\n")
    one_line_error(invoke("show", str(copy)), "trials.jsonl:1", "its condition does not hold")


@pytest.mark.slow
def test_the_conditional_quickstart_runs(tmp_path):
    result = invoke(
        "run",
        str(ROOT / "configs" / "conditional.yaml"),
        "--trials",
        "6",
        "--runs-dir",
        str(tmp_path),
        "--json",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert sum(counts.values()) == 6 and counts["ok"] >= 4


# -- the trainer's per-optimizer and per-layer settings -----------------------------------------


def test_an_optimizers_own_setting_is_its_general_one_under_another_name():
    from hpsearch.data import load_dataset
    from hpsearch.trainer import train

    cfg = _config()
    data = load_dataset(cfg.data, cfg.data_seed, cfg.base_dir)
    base = {"epochs": 2, "layers": 1, "hidden_units": 8}
    for general, own, optimizer in (
        ({"beta1": 0.8}, {"adam_beta1": 0.8}, "adam"),
        ({"beta2": 0.95}, {"adam_beta2": 0.95}, "adam"),
        ({"beta1": 0.7}, {"momentum_beta": 0.7}, "momentum"),
        ({"beta2": 0.9}, {"rmsprop_beta": 0.9}, "rmsprop"),
    ):
        a = train({**base, "optimizer": optimizer, **general}, data, 1)
        b = train({**base, "optimizer": optimizer, **own}, data, 1)
        c = train({**base, "optimizer": optimizer}, data, 1)
        assert a.curves == b.curves and a.curves != c.curves


def test_each_hidden_layer_takes_its_own_width():
    from hpsearch.trainer.model import MLP, Architecture

    arch = Architecture(inputs=2, classes=3, layers=3, hidden_units=16, widths=(5, 7))
    model = MLP(arch, np.random.default_rng(0), np.dtype("float64"))
    shapes = [layer.shape for layer in model.layers if hasattr(layer, "shape")]
    assert shapes == [(2, 5), (5, 7), (7, 16), (16, 3)]


def test_train_leaves_inactive_parameters_out_and_refuses_setting_one(search, tmp_path):
    root = search
    config = str(root / "config.yaml")
    best = json.loads((root / "summary.json").read_text())["best"]["params"]
    result = invoke("train", config, "--from", str(root), "--json", "--runs-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    (one,) = tmp_path.glob("*/trials.jsonl")
    params = json.loads(one.read_text().splitlines()[0])["params"]
    assert params == best  # the same values as the best trial, the inactive ones left out
    inactive = "adam_beta1" if best["optimizer"] != "adam" else "momentum_beta"
    one_line_error(
        invoke("train", config, "--from", str(root), "--set", f"{inactive}=0.9"),
        f"--set {inactive}",
        "inactive",
    )


def test_importance_does_not_measure_a_parameter_active_in_a_few_trials(make_config):
    one = Path(run_json("run", str(make_config("cond", base=OPTIMIZERS)))["run_dir"])
    result = invoke("importance", str(one), "--json")
    doc = json.loads(result.stdout)
    rare = next(p for p in doc["params"] if p["name"] == "momentum_beta")
    active = sum(
        "momentum_beta" in json.loads(line)["params"]
        for line in (one / "trials.jsonl").read_text().splitlines()
    )
    assert active < 10 and rare["share"] == 0.0
    assert "fewer than 10 ok trials: " in (doc["caution"] or "")
