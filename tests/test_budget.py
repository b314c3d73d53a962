"""A search budget: exactly N evaluations over the coarse run and its zoom rounds, the same
trials however it runs; and the laws of the zoom step that spends it."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import hpsearch
from hpsearch.budget import schedule
from hpsearch.config import parse_config
from hpsearch.narrowing import zoom_step
from hpsearch.record import TrialRecord

from .helpers import invoke, one_line_error
from .objectives import Bowl
from .test_zoom import PARAMS, SPACE

BOWL = {
    "name": "bowl",
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-5, "max": 1.0},
        "beta1": {"scale": "one_minus_log", "min": 0.5, "max": 0.9999},
        "hidden_units": {"scale": "linear", "min": 8, "max": 256, "type": "int"},
    },
    "search": {"budget": 23},
    "run": {"backend": "sequential"},
}


@given(st.integers(1, 2000))
def test_a_schedule_adds_up_to_its_budget(budget):
    plan = schedule(budget)
    assert plan.coarse + sum(plan.rounds) == budget
    assert plan.coarse >= 1 and all(n >= 1 for n in plan.rounds)
    assert max(plan.rounds, default=0) - min(plan.rounds, default=0) <= 1


def _trials(run) -> list[tuple]:
    return [
        (
            r.summary["round"],
            t.trial,
            json.dumps(t.params, sort_keys=True),
            t.metrics["val_accuracy"],
        )
        for r in run.lineage
        for t in r.trials
    ]


def test_a_budget_runs_exactly_that_many_trials_the_same_way_everywhere(make_config, tmp_path):
    path = make_config(base=BOWL)
    runs = [
        hpsearch.run(path, objective=Bowl(), **args)
        for args in ({}, {"backend": "processes", "jobs": 2}, {"backend": "threading", "jobs": 2})
    ]
    assert sum(len(r.trials) for r in runs[0].lineage) == 23
    plan = schedule(23)
    assert [len(r.trials) for r in runs[0].lineage] == [plan.coarse, *plan.rounds]
    assert _trials(runs[0]) == _trials(runs[1]) == _trials(runs[2])


def test_a_budget_search_resumes_to_the_same_trials(make_config, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    doc = {
        **BOWL,
        "objective": {"python": "slowbowl:f"},
        "search": {"budget": 20, "metric": "loss", "direction": "minimize"},
    }
    (tmp_path / "slowbowl.py").write_text(
        "import math, time\n"
        "def f(params, seed):\n"
        "    time.sleep(0.05)\n"
        "    lr, units = params['learning_rate'], params['hidden_units']\n"
        "    return (math.log10(lr) + 2) ** 2 + units / 1000\n"
    )
    path = tmp_path / "b.yaml"
    path.write_text(json.dumps({**doc, "run": {"runs_dir": str(tmp_path / "runs")}}))
    reference = hpsearch.run(path, runs_dir=tmp_path / "reference")
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(path), "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((tmp_path / "runs").glob("*"))) < 4:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    result = invoke("resume", "latest", "--runs-dir", str(tmp_path / "runs"), "--quiet")
    assert result.exit_code == 0, result.output
    resumed = hpsearch.load_run("latest", tmp_path / "runs")

    def trials(run) -> list[tuple]:
        return [
            (r.summary["round"], t.trial, json.dumps(t.params, sort_keys=True))
            for r in run.lineage
            for t in r.trials
        ]

    assert trials(resumed) == trials(reference)
    assert sum(len(r.trials) for r in resumed.lineage) == 20


def test_validate_shows_the_schedule(make_config):
    result = invoke("validate", str(make_config(base=BOWL, search={"budget": 60})))
    assert result.exit_code == 0, result.output
    assert "budget: 60 evaluations: 12 coarse, then 15 zoom rounds of 3 or 4" in result.stdout


def test_budget_conflicts_are_one_line_errors(make_config, tmp_path):
    path = make_config(base=BOWL)
    one_line_error(
        invoke("run", str(path), "--budget", "30", "--trials", "5"), "--trials", "--budget"
    )
    one_line_error(invoke("run", str(path), "--rounds", "2"), "--rounds", "budget")
    one_line_error(invoke("run", str(path), "--budget", "0"), "--budget", "positive integer")
    bad = make_config("both", base=BOWL, search={"budget": 30, "trials": 12})
    one_line_error(invoke("validate", str(bad)), "search.trials", "search.budget 30")
    assert not (tmp_path / "runs").exists()


# -- the zoom step's laws ----------------------------------------------------------------------


def _config(space_doc: dict):
    return parse_config(
        {
            "objective": {"python": "m:f"},
            "space": space_doc,
            "search": {"metric": "value", "direction": "minimize", "trials": 4},
        }
    )


ROOT = _config(SPACE.to_dict())


@st.composite
def lineages(draw):
    """A lineage of up to 5 rounds whose trials are points of each round's space."""
    import dataclasses

    rounds = []
    config = ROOT
    index = 0
    for round_ in range(draw(st.integers(1, 5))):
        records = []
        for _ in range(draw(st.integers(0, 4))):
            units = draw(
                st.lists(st.floats(0, 1), min_size=len(config.space), max_size=len(config.space))
            )
            params = config.space.from_unit(units) if len(config.space) else {}
            value = draw(st.floats(-10, 10))
            records.append(TrialRecord(index, params, 0, "ok", {"value": value}))
            index += 1
        rounds.append((config, records))
        step = zoom_step(rounds, round_ + 1)
        if step is None or not len(step.config.space):
            break
        config = dataclasses.replace(step.config)
    return rounds


@settings(max_examples=150)
@given(lineages())
def test_the_zoom_step_keeps_the_best_and_stays_inside_the_first_space(lineage):
    step = zoom_step(lineage, len(lineage))
    everything = [r for _, records in lineage for r in records]
    if not everything:
        assert step is None
        return
    assert step is not None
    best = min(everything, key=lambda r: (r.metrics["value"], r.trial))
    config = next(c for c, records in lineage if best in records)
    whole = {**{n: config.model[n] for n in SPACE.names if n in config.model}, **best.params}
    new = step.config
    for p in PARAMS:
        value = whole[p.name]
        q = new.space.get(p.name)
        if q is None:  # narrowed to one value: fixed, to the best's
            assert new.model[p.name] == value
            continue
        assert q.contains(value), (p.name, value, q)
        if isinstance(p, type(PARAMS[-1])):  # a choice: a subset of the original choices
            assert set(q.choices) <= set(p.choices)
        else:
            assert p.low <= q.low < q.high <= p.high
            assert q.integer == p.integer
            if p.integer:
                assert isinstance(q.low, int) and isinstance(q.high, int)
    assert 0 < step.radius <= ROOT.zoom.margin  # the radius before each parameter's stretch


def test_a_budget_in_the_file_and_trials_from_elsewhere_never_make_an_unreadable_run(
    make_config, tmp_path
):
    path = make_config(base={**BOWL, "run": {"backend": "sequential"}})
    one_line_error(invoke("run", str(path), "--trials", "5"), "--trials", "search.budget = 23")
    bad = make_config("zoomed", base=BOWL, zoom={"rounds": 3})
    one_line_error(invoke("validate", str(bad)), "zoom.rounds", "search.budget 23")
    assert not (tmp_path / "runs").exists()
    run = hpsearch.run(path, objective=Bowl())
    coarse = run.lineage[0]
    # Every run's config.yaml reads back; best.yaml re-trains the winner, no budget.
    for r in run.lineage:
        assert hpsearch.load_run(r.path).config is not None
    best = hpsearch.load_config(coarse.path / "best.yaml")
    assert best.search.budget is None and best.zoom.rounds == 0
    retest = hpsearch.retest(coarse, top=1, seeds=2)
    assert len(retest.trials) == 2 and retest.config.search.budget is None


def test_a_budget_is_spent_when_rounds_fix_every_parameter(tmp_path):
    # One choice and a narrow integer: round 1 fixes the choice (top 1) and soon the integer;
    # later rounds are cut from the first space again, so the budget is spent in full.
    (tmp_path / "tiny.py").write_text(
        "def f(params, seed):\n    return params['x'] * params['n']\n"
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(
        json.dumps(
            {
                "objective": {"python": "tiny:f"},
                "space": {
                    "x": {"choice": [1, 2, 3]},
                    "n": {"scale": "linear", "min": 8, "max": 10, "type": "int"},
                },
                "search": {"budget": 30, "metric": "loss", "direction": "minimize"},
                "run": {"backend": "sequential", "runs_dir": str(tmp_path / "runs")},
            }
        )
    )
    run = hpsearch.run(path)
    assert sum(len(r.trials) for r in run.lineage) == 30
