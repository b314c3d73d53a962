"""Coarse to fine: narrowing laws (hypothesis), `hpsearch zoom`, `--rounds`, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hpsearch
from hpsearch.config import load_config
from hpsearch.narrowing import narrow
from hpsearch.space import SCALES, ChoiceParam, NumericParam, Space

from .helpers import ZOOMY, invoke, wait_for_round
from .objectives import OPTIMUM, Bowl

PARAMS = [
    NumericParam("lr", SCALES["log"], 1e-4, 1.0),
    NumericParam("beta", SCALES["one_minus_log"], 0.9, 0.999),
    NumericParam("x", SCALES["linear"], -3.0, 5.0),
    NumericParam("units", SCALES["log"], 16, 1024, integer=True),
    NumericParam("layers", SCALES["linear"], 1, 6, integer=True),
    ChoiceParam("batch", (32, 64, 128, 256)),
]
SPACE = Space(tuple(PARAMS))


@st.composite
def top_trials(draw):
    units = draw(
        st.lists(
            st.lists(st.floats(0, 1), min_size=len(PARAMS), max_size=len(PARAMS)),
            min_size=1,
            max_size=8,
        )
    )
    return [SPACE.from_unit(u) for u in units]


def bounds_of(zoomed, name):
    p = zoomed.space.get(name)
    if p is None:
        value = zoomed.fixed[name]
        return value, value
    return p.low, p.high


@given(top_trials(), st.floats(0, 2))
def test_zoomed_bounds_hold_the_top_trials_and_stay_inside_the_parent(top, margin):
    zoomed = narrow(SPACE, top, margin)
    for p in PARAMS:
        if isinstance(p, ChoiceParam):
            kept = zoomed.space.get(p.name)
            values = kept.choices if kept is not None else (zoomed.fixed[p.name],)
            assert set(values) == {t[p.name] for t in top}
            continue
        low, high = bounds_of(zoomed, p.name)
        assert p.low <= low <= high <= p.high
        assert all(low <= t[p.name] <= high for t in top)
        if p.integer:
            assert isinstance(low, int) and isinstance(high, int)


@given(top_trials())
def test_margin_zero_is_the_hull_of_the_top_trials_in_unit_space(top):
    zoomed = narrow(SPACE, top, 0.0)
    for p in PARAMS:
        if isinstance(p, ChoiceParam) or p.integer:
            continue
        low, high = bounds_of(zoomed, p.name)
        values = [t[p.name] for t in top]
        assert (low, high) == (min(values), max(values))


@given(top_trials(), st.floats(0, 1))
def test_a_zoomed_space_samples_valid_values(top, u):
    zoomed = narrow(SPACE, top, 0.35)
    for p in zoomed.space:
        value = p.from_unit(u)
        assert SPACE[p.name].contains(value)


def test_a_log_parameter_narrows_by_decades():
    p = NumericParam("lr", SCALES["log"], 1e-4, 1.0)
    zoomed = narrow(Space((p,)), [{"lr": 1e-3}, {"lr": 1e-2}], 0.5)
    q = zoomed.space["lr"]
    assert q.low == pytest.approx(10**-3.5) and q.high == pytest.approx(10**-1.5)


def test_coinciding_top_trials_widen_by_margin_times_the_parent():
    p = NumericParam("beta", SCALES["one_minus_log"], 0.9, 0.999)
    zoomed = narrow(Space((p,)), [{"beta": 0.99}], 0.25)
    q = zoomed.space["beta"]
    # 1 − β: 1e-2 widened by a quarter of the parent's two decades each way.
    assert 1 - q.high == pytest.approx(10**-2.5) and 1 - q.low == pytest.approx(10**-1.5)


# -- the command -------------------------------------------------------------------------------


def test_write_config_gives_an_ordinary_config_that_runs(tmp_path, make_config):
    first = json.loads(invoke("run", str(make_config(base=ZOOMY)), "--json", "--quiet").stdout)
    out = tmp_path / "zoomed.yaml"
    result = invoke("zoom", first["run_dir"], "--write-config", str(out))
    assert result.exit_code == 0, result.stderr
    assert "learning_rate: 1.0e-03–1.0e-01 -> " in result.stdout
    zoomed = load_config(out)
    parent = load_config(make_config(base=ZOOMY))
    assert zoomed.data_seed == parent.seed and zoomed.seed != parent.seed
    lr = zoomed.space.get("learning_rate")
    assert lr is not None and parent.space["learning_rate"].low <= lr.low < lr.high <= 0.1
    assert invoke("run", str(out), "--quiet").exit_code == 0
    assert len(list((tmp_path / "runs").glob("*/summary.json"))) == 2  # two runs: no zoom


def test_zoom_runs_a_new_run_naming_its_parent_and_round(tmp_path, make_config):
    first = json.loads(invoke("run", str(make_config(base=ZOOMY)), "--json", "--quiet").stdout)
    result = invoke(
        "zoom",
        first["run_id"],
        "--runs-dir",
        str(tmp_path / "runs"),
        "--json",
        "--quiet",
        "--trials",
        "3",
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["parent"] == first["run_id"] and doc["round"] == 1
    assert doc["counts"]["ok"] == 3
    again = invoke("zoom", doc["run_dir"], "--json", "--quiet", "--trials", "2")
    assert json.loads(again.stdout)["round"] == 2


def test_rounds_make_linked_runs_and_a_lineage_summary(tmp_path, make_config):
    result = invoke("run", str(make_config(base=ZOOMY)), "--rounds", "2", "--json", "--quiet")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 3
    summaries = {p.name: json.loads((p / "summary.json").read_text()) for p in runs}
    rounds = sorted((s["round"], s["parent"], name) for name, s in summaries.items())
    assert [r[0] for r in rounds] == [0, 1, 2]
    assert rounds[1][1] == rounds[0][2] and rounds[2][1] == rounds[1][2]
    assert [entry["round"] for entry in doc["lineage"]] == [0, 1, 2]
    assert [entry["trials"] for entry in doc["lineage"]] == [6, 4, 4]
    best = doc["lineage_best"]
    assert best["value"] == max(e["best"] for e in doc["lineage"])
    best_yaml = load_config(Path(doc["run_dir"]) / "best.yaml")
    assert best_yaml.model["learning_rate"] == best["params"]["learning_rate"]
    assert result.stderr == ""  # --json --quiet: the JSON and nothing else


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["--top", "0"], 2, "--top"),
        (["--margin", "-0.5"], 2, "--margin"),
        (["--top", "2", "--top-fraction", "0.5"], 2, "not both"),
        (["--top-fraction", "1.5"], 2, "(0, 1]"),
    ],
)
def test_bad_zoom_options_exit_2(make_config, args, code, text):
    first = json.loads(invoke("run", str(make_config(base=ZOOMY)), "--json", "--quiet").stdout)
    result = invoke("zoom", first["run_dir"], *args)
    assert result.exit_code == code
    assert text in result.output


def test_zoom_of_a_missing_run_or_a_run_without_ok_trials(tmp_path, make_config):
    missing = invoke("zoom", str(tmp_path / "nowhere"), "--runs-dir", str(tmp_path))
    assert missing.exit_code == 2 and "no run" in missing.stderr
    path = make_config(
        base=ZOOMY,
        model={"batch_norm": False, "optimizer": "gd"},
        space={"learning_rate": {"scale": "log", "min": 1.0e4, "max": 1.0e5}},
    )
    first = json.loads(invoke("run", str(path), "--json", "--quiet").stdout)
    assert first["counts"]["ok"] == 0
    result = invoke("zoom", first["run_dir"])
    assert result.exit_code == 1 and "no ok trial to zoom on" in result.stderr


def test_fewer_ok_trials_than_top_zooms_with_a_warning(tmp_path, make_config):
    first = json.loads(invoke("run", str(make_config(base=ZOOMY)), "--json", "--quiet").stdout)
    result = invoke(
        "zoom", first["run_dir"], "--top", "50", "--write-config", str(tmp_path / "z.yaml")
    )
    assert result.exit_code == 0
    assert "only 6 ok trials, fewer than --top 50" in result.stderr


# -- rounds on a known optimum -----------------------------------------------------------------


def test_each_round_keeps_the_optimum_and_the_best_never_gets_worse(make_config):
    path = make_config(
        "bowl",
        base={
            "space": {
                "learning_rate": {"scale": "log", "min": 1.0e-5, "max": 1.0},
                "beta1": {"scale": "one_minus_log", "min": 0.5, "max": 0.9999},
                "hidden_units": {"scale": "linear", "min": 8, "max": 256},
            },
            "search": {"trials": 30},
            "zoom": {"trials": 15},
            "run": {"backend": "sequential"},
        },
    )
    last = hpsearch.run(path, rounds=4, objective=Bowl())
    rounds = last.lineage
    assert [r.summary["round"] for r in rounds] == [0, 1, 2, 3, 4]
    for run in rounds:
        for p in run.config.space:
            assert p.contains(OPTIMUM[p.name]), (run.run_id, p)
    coarse = max(r.metrics["val_accuracy"] for r in rounds[0].trials)
    overall = max(r.metrics["val_accuracy"] for run in rounds for r in run.trials)
    assert overall > coarse
    assert last.summary["lineage_best"]["value"] == overall
    assert [info.best_so_far for info in last.rounds()][-1] == overall
    # Each round is a region of the first run's space around the best so far; it keeps its
    # size after a round that improved the best and shrinks (× 0.7) after one that did not.
    root = rounds[0].config.space["learning_rate"]
    for run in rounds[1:]:
        p = run.config.space["learning_rate"]
        assert root.low <= p.low < p.high <= root.high
    from hpsearch.narrowing import narrow, radius, shaped, width

    lineage = [(run.config, run.trials) for run in rounds]
    goal = rounds[0].config.search.goal
    for k in range(1, len(rounds)):
        expected = radius(lineage[:k], 0.35)
        so_far = goal.rank([r for _, rs in lineage[:k] for r in rs])
        pads = shaped(rounds[0].config.space, so_far, expected)
        assert all(0.5 * expected <= v <= 2 * expected for v in pads.values())
        p = rounds[k].config.space["learning_rate"]
        zoomed = narrow(rounds[0].config.space, [so_far[0].params], expected, True, pads)
        assert p == zoomed.space["learning_rate"], k
        assert width(p, root) <= 2 * pads.get("learning_rate", expected) + 1e-9


def test_an_interrupted_rounds_search_resumes_its_remaining_rounds(tmp_path, make_config):
    import os
    import signal
    import subprocess
    import sys

    path = make_config(base=ZOOMY, model={"epochs": 40}, zoom={"trials": 8})
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(path), "--rounds", "2", "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = tmp_path / "runs"
    round_one = wait_for_round(runs, 1)
    assert round_one is not None, process.communicate()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143  # SIGTERM: 128 + 15
    assert json.loads((round_one / "summary.json").read_text())["rounds_left"] == 1

    result = invoke("resume", str(round_one), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [e["round"] for e in doc["lineage"]] == [0, 1, 2]
    assert [e["trials"] for e in doc["lineage"]] == [6, 8, 8]
    assert doc["lineage_best"]["value"] == max(e["best"] for e in doc["lineage"])
    assert len(list(runs.iterdir())) == 3
    assert os.path.exists(Path(doc["run_dir"]) / "best.yaml")


def test_zoom_refuses_a_run_with_nothing_left_to_narrow(make_config):
    first = json.loads(invoke("run", str(make_config(base=ZOOMY)), "--json", "--quiet").stdout)
    best = Path(first["run_dir"]) / "best.yaml"
    again = json.loads(invoke("run", str(best), "--json", "--quiet", "--trials", "2").stdout)
    result = invoke("zoom", again["run_dir"])
    assert result.exit_code == 2 and "nothing to narrow" in result.stderr
