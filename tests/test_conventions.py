"""A new user's friction: help text, --quiet, flags that do nothing, one rule for "no ok trial",
a metric the objective never reports, hints, `latest`, shell completion, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch.backends import BACKENDS

from .helpers import DROP, invoke, run_json

ROOT = Path(__file__).resolve().parent.parent
X = "def f(params, seed):\n    return params['x']\n"


@pytest.fixture
def own(tmp_path, make_config):
    """``own(body, metric="loss", trials=8, **sections)``: a config searching x with ``f`` of
    the module ``body`` (written next to it)."""

    def make(body: str, metric: str = "loss", trials: int = 8, **sections) -> Path:
        (tmp_path / "mod.py").write_text(body)
        base = {
            "objective": {"python": "mod:f"},
            "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
            "search": {"trials": trials, "metric": metric, "direction": "minimize"},
            "run": {"jobs": 2},
        }
        return make_config("own", base=base, **sections)

    return make


@pytest.mark.slow
def test_flags_have_no_type_in_help_and_every_backend_is_named():
    for command in ("run", "resume", "zoom", "show", "retest"):
        text = subprocess.run(
            [sys.executable, "-m", "hpsearch", command, "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "80"},
        ).stdout
        assert "<bool>" not in text and "--json" in text
        assert "--json <" not in text and "--quiet <" not in text
    run_help = invoke("run", "--help").stdout
    for word in ("dask", "--scheduler", "--rounds", "processes", "sequential", "threading"):
        assert word in run_help
    for backend in BACKENDS:
        assert backend in run_help or backend == "loky", backend  # loky: processes' old name


def test_the_readme_command_table_names_every_run_option():
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `hpsearch run CONFIG"))
    for option in ("--rounds", "--scheduler", "dask", "processes", "--fail-under", "--quiet"):
        assert option in row, option


@pytest.mark.slow
def test_quiet_prints_the_best_and_the_run_only(own):
    path = own(X)
    quiet = invoke("run", str(path), "--quiet")
    assert quiet.exit_code == 0
    lines = quiet.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["best", "best config", "run"]
    both = invoke("run", str(path), "--quiet", "--json")
    assert json.loads(both.stdout)["status"] == "complete"
    # stderr holds nothing but warnings (this objective returns a bare number: said once)
    assert both.stderr.splitlines() == [
        "warning: the objective returns a bare number; it is taken as 'loss'"
    ]


def test_scheduler_without_the_dask_backend_is_an_error(tmp_path, own):
    path = own(X)
    result = invoke("run", str(path), "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "--scheduler: applies to the dask backend only" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_metric_the_objective_never_reports_stops_after_five_trials(tmp_path, own):
    path = own("def f(params, seed):\n    return {'loss': params['x']}\n", "acc", trials=2000)
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 2, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: search.metric: the objective does not report 'acc'")
    assert "keys: loss" in line and "resume" not in line
    run_dir = next((tmp_path / "runs").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["trials_done"] < 1000


@pytest.mark.slow
def test_a_metric_missing_in_some_trials_only_does_not_stop_the_search(own):
    body = (
        "def f(params, seed):\n"
        "    return {'acc': params['x']} if params['x'] > 0.5 else {'loss': 1.0}\n"
    )
    path = own(body, "acc", trials=30)
    result = invoke("run", str(path), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["trials_done"] == 30


@pytest.mark.parametrize(
    ("entry", "hinted"),
    [
        ("beta1: {scale: linear, min: 0.9, max: 0.999}", True),
        ("bn_momentum: {scale: log, min: 0.5, max: 0.99}", True),
        ("beta2: {scale: one_minus_log, min: 0.9, max: 0.9999}", False),
        ("learning_rate: {scale: log, min: 1.0e-4, max: 1.0}", False),
        ("dropout: {scale: linear, min: 0.0, max: 0.5}", False),
    ],
)
def test_a_beta_on_a_linear_or_log_scale_gets_a_hint(tmp_path, entry, hinted):
    path = tmp_path / "b.yaml"
    path.write_text(
        'objective: {python: "m:f"}\n'
        f"space:\n  {entry}\n"
        "search: {metric: loss, direction: minimize}\n"
    )
    (tmp_path / "m.py").write_text("def f(params, seed):\n    return 0.0\n")
    result = invoke("validate", str(path))
    assert result.exit_code == 0
    assert ("one_minus_log spreads them evenly" in result.stderr) is hinted
    if hinted:
        assert result.stderr.startswith(f"{path}:3: space.")


@pytest.mark.slow
def test_latest_for_zoom_retest_and_train_from_means_the_newest_search(tmp_path, make_config):
    config = make_config(
        "q",
        base={
            "data": {"source": "spirals", "classes": 3, "samples": 300},
            "model": {"layers": 1, "epochs": 3},
            "space": {"learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1}},
            "search": {"trials": 4},
        },
    )
    search = json.loads(invoke("run", str(config), "--json", "--quiet").stdout)
    panda = invoke("train", str(config), "--from", "latest", "--json", "--quiet")
    assert panda.exit_code == 0, panda.output
    assert "--from" in invoke("show", json.loads(panda.stdout)["run_dir"]).stdout
    again = invoke("train", str(config), "--from", "latest", "--json", "--quiet")
    shown = invoke("show", json.loads(again.stdout)["run_dir"], "--json")
    summary = json.loads(shown.stdout)["summary"]
    assert summary["panda"]["chosen"]["learning_rate"] == "--from"
    assert summary["panda"]["values"]["learning_rate"] == search["best"]["params"]["learning_rate"]
    runs = str(tmp_path / "runs")
    retested = run_json("retest", "latest", "--runs-dir", runs, "--top", "1", "--seeds", "2")
    assert retested["retest"]["of"] == search["run_id"]
    zoomed = json.loads(invoke("zoom", "latest", "--runs-dir", runs, "--json", "--quiet").stdout)
    assert zoomed["run_id"] == search["run_id"]  # not the newer panda runs, nor the re-test
    assert [r["origin"] for r in zoomed["rounds"]] == ["plan", "zoom"]


def test_shell_completion_is_offered():
    text = invoke("--help").stdout
    assert "--install-completion" in text and "--show-completion" in text


@pytest.mark.slow
def test_runs_dir_from_the_environment(tmp_path, own, monkeypatch):
    path = own(X, run={"runs_dir": DROP})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HPSEARCH_RUNS_DIR", str(tmp_path / "elsewhere"))
    doc = json.loads(invoke("run", str(path), "--json", "--quiet").stdout)
    assert Path(doc["run_dir"]).parent == tmp_path / "elsewhere"
    assert doc["run_id"] in invoke("list").stdout
    assert invoke("show", "latest").exit_code == 0


def test_the_wheel_has_py_typed_and_a_license():
    assert (ROOT / "hpsearch" / "py.typed").exists()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject and 'license-files = ["LICENSE"]' in pyproject


def test_the_readme_points_at_nothing_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../" not in readme


def test_a_retest_on_other_data_judges_by_rank_only():
    from hpsearch.analysis import retest_summary
    from hpsearch.record import TrialRecord
    from hpsearch.results import Goal

    def ok(trial: int, value: float) -> TrialRecord:
        return TrialRecord(trial, {}, 0, "ok", {"acc": value})

    candidates = [ok(0, 0.95), ok(1, 0.94)]
    # Other data is harder for everyone: every score drops far below the original.
    results = {
        0: [ok(j, v) for j, v in enumerate((0.70, 0.71, 0.72))],
        1: [ok(j, v) for j, v in enumerate((0.60, 0.61, 0.62))],
    }
    goal = Goal.of("acc", "maximize")
    rows, holds = retest_summary(candidates, results, goal, same_data=False)
    assert holds and not any(r.lucky for r in rows)
    rows, _ = retest_summary(candidates, results, goal, same_data=True)
    assert rows[0].lucky  # the same scores on the same data would be luck
    results[0], results[1] = results[1], results[0]
    rows, holds = retest_summary(candidates, results, goal, same_data=False)
    assert not holds and rows[0].lucky and not rows[1].lucky


def test_train_runs_with_one_blas_thread(make_config, monkeypatch):
    import threadpoolctl

    import hpsearch.trainer as trainer

    seen = []
    real = trainer.train

    def spy(*args, **kwargs):
        seen.extend(
            i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "train", spy)
    config = make_config(
        "t",
        base={
            "data": {"source": "spirals", "classes": 3, "samples": 200},
            "model": {"layers": 1, "epochs": 2},
            "space": {"learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1}},
        },
    )
    result = invoke("train", str(config), "--quiet")
    assert result.exit_code == 0, result.output
    assert seen and set(seen) == {1}
