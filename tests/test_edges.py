"""Edge cases found in review: each was a traceback, a hang or a wrong answer once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import DROP, TRAINER, invoke, one_line_error

MODULE = """
import sys, time

def chatty(params, seed):
    print("epoch 1 loss 0.3")
    return {"loss": params["x"]}

def stubborn(params, seed):
    try:
        time.sleep(5)
    except Exception:
        pass
    return {"loss": params["x"]}

def needs_report(params, seed, report):
    report(1, loss=params["x"])
    return {"loss": params["x"]}
"""


OWN = {
    "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
    "search": {"trials": 3, "metric": "loss", "direction": "minimize"},
    "run": {"jobs": 2},
}


@pytest.fixture
def own(tmp_path, make_config):
    """``own(function, trials=3, **objective)``: a config searching x with ``mod:function``
    (MODULE, written next to it)."""
    (tmp_path / "mod.py").write_text(MODULE)

    def make(function: str, trials: int = 3, **objective) -> Path:
        objective = {"python": f"mod:{function}", **objective}
        return make_config(function, base=OWN, objective=objective, search={"trials": trials})

    return make


@pytest.mark.parametrize("backend", ["processes", "sequential"])
def test_an_objective_that_prints_keeps_json_output_clean(own, backend):
    result = invoke("run", str(own("chatty")), "--json", "--quiet", "--backend", backend)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["ok"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["processes", "threading"])
def test_a_timeout_cannot_be_swallowed_or_overrun(own, backend):
    path = own("stubborn", trials=2, timeout=0.5)
    doc = json.loads(invoke("run", str(path), "--json", "--quiet", "--backend", backend).stdout)
    assert doc["counts"]["timeout"] == 2, doc


@pytest.mark.slow
def test_a_required_report_argument_is_accepted(own):
    result = invoke("run", str(own("needs_report")), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["ok"] == 3


def test_sys_exit_while_importing_an_objective_is_exit_2(tmp_path, own):
    path = own("chatty")
    (tmp_path / "mod.py").write_text("import sys\nsys.exit('bye')\n")
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "SystemExit: bye" in result.stderr


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_one_line(own, monkeypatch):
    pytest.importorskip("distributed")
    import hpsearch.dask_runner

    monkeypatch.setattr(hpsearch.dask_runner, "CONNECT_TIMEOUT", "1s")  # 10 s for a real one
    path = own("chatty")
    result = invoke(
        "run", str(path), "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1", "--quiet"
    )
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_train_from_another_run_keeps_this_configs_fixed_settings(make_config, trainer_run):
    doc = trainer_run()  # epochs: 3
    path = make_config("longer", base=TRAINER, model={"epochs": 5})
    result = invoke("train", str(path), "--from", doc["run_dir"], "--json", "--quiet")
    assert result.exit_code == 0, result.output
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    record = json.loads((run_dir / "trials.jsonl").read_text())
    assert record["epochs"] == 5


def test_train_set_of_the_wrong_type_is_exit_2(own):
    path = own("chatty")
    for setting in ("x=abc", "x=true"):
        result = invoke("train", str(path), "--set", setting)
        assert result.exit_code == 2 and "--set x: must be a number" in result.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("l2=nan", "--set l2: must be a finite number, got nan"),  # fixed in the config
        ("learning_rate=inf", "--set learning_rate: must be a finite number, got inf"),  # searched
        ("l2=-1", "--set l2: must be >= 0 (l2 lies in [0, inf)), got -1.0"),
        ("l2=abc", "--set l2: must be a number, got 'abc' (a string)"),
    ],
)
def test_a_bad_set_is_named_as_written_whether_fixed_or_searched(make_config, setting, message):
    result = invoke("train", str(make_config(model={"l2": 0.0})), "--set", setting)
    assert one_line_error(result, message) == f"error: {message}"


@pytest.mark.slow
def test_a_zoom_margin_that_is_not_a_finite_number_is_one_line(trainer_run):
    doc = trainer_run()
    nan = invoke("zoom", doc["run_dir"], "--margin", "nan")  # a usage error: one line from main()
    assert nan.exit_code == 2 and "'--margin': must be a finite number, got nan" in nan.output
    one_line_error(invoke("zoom", doc["run_dir"], "--margin", "-1"), "--margin: must be >= 0")


@pytest.mark.slow
def test_a_summary_of_the_wrong_shape(tmp_path, trainer_run):
    doc = trainer_run()
    (Path(doc["run_dir"]) / "summary.json").write_text("[1, 2]")
    runs = str(tmp_path / "runs")
    assert invoke("list", "--runs-dir", runs).exit_code == 0
    shown = invoke("show", doc["run_dir"])
    assert shown.exit_code == 2 and "not a run summary" in shown.stderr


@pytest.mark.slow
def test_plot_out_must_be_a_png(tmp_path, trainer_run):
    pytest.importorskip("matplotlib")
    doc = trainer_run()
    result = invoke("plot", doc["run_dir"], "--out", str(tmp_path / "x.txt"))
    assert result.exit_code == 2 and "ending in .png" in result.stderr
    result = invoke("plot", doc["run_dir"], "--out", str(tmp_path))
    assert result.exit_code == 0 and (tmp_path / f"{doc['run_id']}.png").exists()


@pytest.mark.slow
def test_retest_warns_about_a_short_top_and_zoom_refuses_a_retest(trainer_run):
    doc = trainer_run()
    result = invoke("retest", doc["run_dir"], "--top", "20", "--seeds", "2", "--json", "--quiet")
    assert result.exit_code == 0
    assert "only 8 ok trials, fewer than --top 20" in result.stderr
    retest_dir = json.loads(result.stdout)["run_dir"]
    zoomed = invoke("zoom", retest_dir)
    assert zoomed.exit_code == 2 and "re-test is not a search" in zoomed.stderr
    assert "a re-test of" in invoke("show", retest_dir).stdout


def test_literal_braces_in_a_command_say_how_to_write_them(own):
    path = own("chatty", python=DROP, command='echo {\\"loss\\": 1} {x}')
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "literal braces" in result.stderr
