"""Several goals at once (issue 26): ``search.metrics`` and ``search.constraints`` in a config,
their one-line errors, and the ranking they make — the Pareto front, feasible trials first."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsearch.goals import Constraint, ParetoGoal, goal_of
from hpsearch.record import TrialRecord

from .helpers import invoke, one_line_error, run_json

SEVERAL = {"metrics": {"val_accuracy": "maximize", "parameters": "minimize"}}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("parameters <= 100000", ("parameters", "<=", 100000.0)),
        ("  seconds<30 ", ("seconds", "<", 30.0)),
        ("val_accuracy >= 0.9", ("val_accuracy", ">=", 0.9)),
        ("loss > -1e-3", ("loss", ">", -0.001)),
        ("parameters <= 100_000", ("parameters", "<=", 100000.0)),
    ],
)
def test_a_constraint_is_a_metric_an_operator_and_a_number(text, parsed):
    c = Constraint.parse(text)
    assert (c.metric, c.op, c.bound) == parsed
    assert Constraint.parse(str(c)) == c


@pytest.mark.parametrize(
    "text",
    ["parameters =< 5", "parameters <= x", "__import__('os') < 1", "a <= 1 or b", "<= 5", "", 3],
)
def test_anything_else_is_refused_and_never_evaluated(text):
    with pytest.raises(ValueError, match="METRIC OP NUMBER"):
        Constraint.parse(text)


@pytest.mark.parametrize(
    ("search", "fragments"),
    [
        ({"metrics": {"val_accuracy": "maximize"}}, ["search.metrics", "two or more"]),
        ({"metrics": {"val_accuracy": "up", "val_loss": "minimize"}}, ["maximize or minimize"]),
        ({**SEVERAL, "metric": "val_loss"}, ["search.metric", "either search.metrics"]),
        ({"metrics": {"val_accuracy": "maximize", "size": "minimize"}}, ["search.metrics", "size"]),
        (
            {"metrics": {"val_accuracy": "maximize", "parameters": "maximize"}},
            ["worst parameters first", "parameters: minimize"],
        ),
        ({"constraints": ["parameters =< 5"]}, ["search.constraints", "METRIC OP NUMBER"]),
        ({"constraints": ["a < 1", "b <"]}, ["item 2", "'b <'"]),
        ({"constraints": {"a": 1}}, ["search.constraints", "a list"]),
        ({"constraints": ["paramters <= 100"]}, ["search.constraints", "no metric 'paramters'"]),
    ],
)
def test_bad_goals_are_one_line_naming_file_and_key(make_config, search, fragments):
    config = make_config("goals", search=search)
    result = invoke("validate", str(config))
    one_line_error(result, "goals.yaml", *fragments)


def _record(trial, acc, size, status="ok", seconds=1.0):
    metrics = {} if status == "failed" else {"val_accuracy": acc, "parameters": size}
    return TrialRecord(trial, {}, 0, status, metrics, epochs=4, seconds=seconds)


GOAL = goal_of((("val_accuracy", "maximize"), ("parameters", "minimize")))


def test_the_front_comes_first_then_the_next_fronts_failures_last():
    records = [
        _record(0, 0.90, 500),  # front (smallest)
        _record(1, 0.95, 900),  # front
        _record(2, 0.97, 2000),  # front (most accurate)
        _record(3, 0.91, 950),  # dominated by 1
        _record(4, 0.0, 0, status="failed"),
        _record(5, 0.80, 2500),  # dominated by everything
    ]
    ranked = GOAL.rank(records)
    assert [r.trial for r in ranked] == [2, 0, 1, 3, 5, 4]
    assert GOAL.best(records).trial == 2  # the front's best on the first metric
    assert {r.trial for r in GOAL.front(records)} == {0, 1, 2}
    assert GOAL.fronts(ranked) == [1, 1, 1, 2, 3, None]


def test_the_ranking_is_the_same_whatever_order_the_trials_come_in():
    points = {1: (0.0, 10), 2: (0.9, 2), 3: (0.9, 2), 4: (0.5, 1), 5: (1.0, 0)}
    records = [_record(t, 1 - a, s) for t, (a, s) in points.items()]
    once = [r.trial for r in GOAL.rank(records)]
    assert [r.trial for r in GOAL.rank(reversed(records))] == once
    assert [r.trial for r in GOAL.rank(GOAL.rank(records))] == once  # idempotent
    assert once.index(2) < once.index(3)  # identical points: by trial number


def test_constraints_put_infeasible_trials_after_feasible_ones_by_how_far():
    goal = goal_of(
        (("val_accuracy", "maximize"), ("parameters", "minimize")),
        ("parameters <= 1000", "seconds < 10"),
    )
    records = [
        _record(0, 0.97, 2000),  # 100 % over
        _record(1, 0.90, 900),
        _record(2, 0.99, 1100),  # 10 % over
        _record(3, 0.95, 950, seconds=10.0),  # at a strict bound: infeasible, barely
    ]
    assert [r.trial for r in goal.rank(records)] == [1, 3, 2, 0]
    assert [goal.feasible(r) for r in records] == [False, True, False, False]
    assert goal.best(records).trial == 1
    assert goal.best([records[0], records[2]]) is None  # none feasible: no best to show


def test_one_metric_and_constraints_rank_by_the_metric_among_feasible_trials():
    goal = goal_of((("val_accuracy", "maximize"),), ("parameters <= 1000",))
    records = [_record(0, 0.97, 2000), _record(1, 0.90, 900), _record(2, 0.92, 1000)]
    assert [r.trial for r in goal.rank(records)] == [2, 1, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=25))
def test_the_front_is_exactly_the_trials_no_other_beats_on_every_metric(pairs):
    records = [_record(i, a / 4, s) for i, (a, s) in enumerate(pairs)]

    def beats(x, y):
        return x[0] >= y[0] and x[1] <= y[1] and x != y

    front = {
        i
        for i, p in enumerate(pairs)
        if not any(beats(q, p) for j, q in enumerate(pairs) if j != i)
    }
    assert {r.trial for r in GOAL.front(records)} == front
    ranked = GOAL.rank(records)
    assert {r.trial for r in ranked[: len(front)]} == front  # the front first
    assert isinstance(GOAL, ParetoGoal)


@pytest.mark.slow
def test_a_search_of_accuracy_against_size_writes_its_front(make_config):
    config = make_config("front", search={**SEVERAL, "trials": 8})
    out = run_json("run", str(config))
    run_dir = Path(out["run_dir"])
    rows = list(csv.DictReader(io.StringIO((run_dir / "leaderboard.csv").read_text())))
    assert list(rows[0])[:8] == [
        "rank", "trial", "round", "status", "pareto_rank", "feasible", "val_accuracy", "parameters",
    ]  # fmt: skip
    front = [r for r in rows if r["pareto_rank"] == "1"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [p["trial"] for p in summary["pareto_front"]] == [int(r["trial"]) for r in front]
    assert all(float(r["parameters"]) > 0 for r in rows)
    best = (run_dir / "best.yaml").read_text()
    assert f"The Pareto front of this search: {len(front)} trials" in best
    # What a user reads: show, its JSON, list, the report and its Markdown, --fail-under.
    shown = invoke("show", str(run_dir)).stdout
    assert f"Pareto front: {len(front)} trial" in shown and " front " in shown
    assert "maximize val_accuracy, minimize parameters; started" in shown
    doc = json.loads(invoke("show", str(run_dir), "--json").stdout)
    assert [p["trial"] for p in doc["pareto_front"]] == [int(r["trial"]) for r in front]
    assert f"(front of {len(front)})" in invoke("list", "--runs-dir", str(run_dir.parent)).stdout
    invoke("report", str(run_dir))
    page = (run_dir / "report.html").read_text()
    assert "<h2>Pareto front</h2>" in page and 'class="front-line"' in page
    assert "hypervolume of the front after each trial" in page
    assert "Pareto front: " in invoke("report", str(run_dir), "--markdown").stdout
    best_acc = max(float(r["val_accuracy"]) for r in rows)
    smallest = min(float(r["parameters"]) for r in rows)
    impossible = [
        "--fail-under",
        f"val_accuracy={best_acc}",
        "--fail-under",
        f"parameters={smallest - 1}",
    ]
    result = invoke("resume", str(run_dir), "--quiet", *impossible)
    assert result.exit_code == 1 and "no trial has val_accuracy >= " in result.stderr
    result = invoke("resume", str(run_dir), "--quiet", "--fail-under", f"val_accuracy={best_acc}")
    assert result.exit_code == 0, result.output
    typo = invoke("resume", str(run_dir), "--quiet", "--fail-under", "val_acuracy=0.5")
    one_line_error(typo, "--fail-under", "val_acuracy is not a metric of this search")
    # One metric as before: no pareto columns, no parameters reported.
    plain = run_json("run", str(make_config("plain", search={"trials": 2})))
    head = (Path(plain["run_dir"]) / "leaderboard.csv").read_text().splitlines()[0]
    assert "pareto_rank" not in head and "parameters" not in head


TWO = """
import math, time


def f(params, seed, budget=None, checkpoint_dir=None):
    time.sleep(0.02)
    x, w = params["x"], params["width"]
    epochs = budget or 9
    return {"loss": (x - 0.3) ** 2 + 1 / w + 1 / epochs, "size": w * (1 + x)}
"""


def _two_goals(tmp_path: Path, make_config, **sections) -> Path:
    (tmp_path / "two.py").write_text(TWO)
    base = {
        "objective": {"python": "two:f", "workdir": str(tmp_path)},
        "space": {
            "x": {"scale": "linear", "min": 0.0, "max": 1.0},
            "width": {"scale": "log", "min": 1, "max": 100},
        },
        "search": {"metrics": {"loss": "minimize", "size": "minimize"}},
    }
    return make_config("two", base=base, **sections)


def _front(run) -> list[tuple]:
    return [(r.trial, r.round, json.dumps(r.params, sort_keys=True)) for r in run.pareto_front()]


@pytest.mark.slow
def test_the_same_front_for_any_jobs_and_backend_and_after_kill_9(tmp_path, make_config):
    import hpsearch

    from .helpers import kill_9_at_round

    path = _two_goals(tmp_path, make_config, search={"budget": 12})
    reference = hpsearch.run(path, runs_dir=tmp_path / "reference", quiet=True)
    assert len(reference.trials) == 12 and _front(reference)
    variants = [("threading", 2)]  # and the reference's processes; every backend: reliability
    for backend, jobs in variants:
        other = hpsearch.run(
            path, runs_dir=tmp_path / backend, backend=backend, jobs=jobs, quiet=True
        )
        assert _front(other) == _front(reference), backend
    kill_9_at_round(path, tmp_path, 3)
    assert (
        invoke("resume", "latest", "--runs-dir", str(tmp_path / "runs"), "--quiet").exit_code == 0
    )
    resumed = hpsearch.load_run("latest", tmp_path / "runs")
    assert _front(resumed) == _front(reference)
    assert (resumed.path / "leaderboard.csv").read_text().split("\n")[0].count("pareto_rank") == 1


@pytest.mark.slow
def test_early_stopping_ranks_each_rung_by_its_front(tmp_path, make_config):
    import hpsearch

    path = _two_goals(
        tmp_path,
        make_config,
        search={"trials": 9},
        early_stop={"method": "halving", "min_epochs": 1, "eta": 3, "max_epochs": 9},
    )
    one = hpsearch.run(path, runs_dir=tmp_path / "a", backend="sequential", quiet=True)
    two = hpsearch.run(path, runs_dir=tmp_path / "b", jobs=2, quiet=True)
    assert _front(one) == _front(two)
    stopped = [r for r in one.trials if r.status == "stopped"]
    assert len(stopped) == 8  # 9 → 3 → 1
    # Each rung kept its front: the 3 promoted after the first rung are its best by front
    # and crowding, as ParetoGoal ranks them.
    goal = one.config.search.goal
    first = [record for epochs, record in one.trained_epochs() if epochs == 1]
    promoted = {record.trial for epochs, record in one.trained_epochs() if epochs == 3}
    assert promoted == {r.trial for r in goal.rank(first)[:3]}
