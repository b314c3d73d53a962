"""A search budget: exactly N evaluations over the coarse run and its zoom rounds, the same
trials however it runs; and the laws of the zoom step that spends it."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpsearch
from hpsearch.config import parse_config
from hpsearch.history import History
from hpsearch.record import TrialRecord
from hpsearch.rounds import Region, Round, first_round
from hpsearch.schedule import schedule
from hpsearch.strategies import Done
from hpsearch.strategies.budget import START, BudgetStrategy

from .helpers import invoke, kill_9_at_round, one_line_error
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
        (t.round, t.trial, json.dumps(t.params, sort_keys=True), t.metrics["val_accuracy"])
        for t in run.trials
    ]


@pytest.mark.slow
def test_a_budget_runs_exactly_that_many_trials_the_same_way_everywhere(make_config, tmp_path):
    path = make_config(base=BOWL)
    runs = [
        hpsearch.run(path, objective=Bowl(), **args)
        for args in ({}, {"backend": "processes", "jobs": 2}, {"backend": "threading", "jobs": 2})
    ]
    assert len(runs[0].trials) == 23 and len({r.path for r in runs}) == 3
    plan = schedule(23)
    assert [info.trials for info in runs[0].rounds()] == [plan.coarse, *plan.rounds]
    assert _trials(runs[0]) == _trials(runs[1]) == _trials(runs[2])
    assert all(len(list(r.path.parent.iterdir())) == 3 for r in runs)  # one directory each


@pytest.mark.slow
def test_a_budget_search_resumes_to_the_same_trials(make_config, tmp_path):
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
    kill_9_at_round(path, tmp_path, 3)
    result = invoke("resume", "latest", "--runs-dir", str(tmp_path / "runs"), "--quiet")
    assert result.exit_code == 0, result.output
    resumed = hpsearch.load_run("latest", tmp_path / "runs")

    def trials(run) -> list[tuple]:
        return [(t.round, t.trial, json.dumps(t.params, sort_keys=True)) for t in run.trials]

    assert trials(resumed) == trials(reference)
    assert len(resumed.trials) == 20


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


# -- the budget's rounds: laws ---------------------------------------------------------------------


def _config(space_doc: dict):
    return parse_config(
        {
            "objective": {"python": "m:f"},
            "space": space_doc,
            "search": {"metric": "value", "direction": "minimize", "budget": 40},
        }
    )


ROOT = _config(SPACE.to_dict())
RANDOM = dataclasses.replace(ROOT, search=dataclasses.replace(ROOT.search, guide="random"))


@st.composite
def histories(draw):
    """A budget search's first rounds, each proposed by the strategy from the ones before,
    with trials drawn in each round's region."""
    strategy = BudgetStrategy(ROOT)
    first = strategy.first()
    history = History(ROOT, [first_round(SPACE, 0, first.trials, "budget", "")])
    for _ in range(draw(st.integers(1, 4))):
        round_ = history.rounds[-1]
        for i in round_.indices:
            if draw(st.booleans()):
                continue  # this trial failed: no record at all here, as if still to run
            trial = round_.draw(SPACE, i)
            value = draw(st.floats(-10, 10))
            record = TrialRecord(i, trial.params, 0, "ok", {"value": value}, round=round_.number)
            history.add(record)
        try:
            proposal = strategy.next(history)
        except Done:  # no ok trial yet
            break
        if proposal is None:
            break
        history.add_round(
            Round(
                len(history.rounds),
                history.next_index,
                proposal.trials,
                proposal.seed,
                proposal.region,
                "budget",
                anchors=proposal.anchors,
                radius=proposal.radius,
                summary=proposal.summary,
                points=proposal.points,
            )
        )
    return history


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(histories(), st.booleans())
def test_a_budget_round_holds_its_anchor_and_stays_inside_the_whole_space(history, guided):
    # Guided by the model, a round is cut around the trial the model rates best and takes
    # its points inside its region; without it, around the best value so far.
    strategy = BudgetStrategy(ROOT if guided else RANDOM)
    everything = history.records
    try:
        proposal = strategy.propose(history, 3)
    except Done:
        assert not everything
        return
    if guided and len(everything) >= 3:  # the whole space, its trials picked by the model
        assert proposal.region == Region(SPACE, {}) and proposal.radius is None
        assert len(proposal.points) == 3 and all(SPACE.active(p) == p for p in proposal.points)
        assert proposal.anchors[0] in {r.trial for r in everything}
        return
    else:
        best = min(everything, key=lambda r: (r.metrics["value"], r.trial))
        assert proposal.anchors[0] == best.trial and not proposal.points
    region = proposal.region
    assert region.contains(best.params)
    for p in PARAMS:
        q = region.space.get(p.name)
        if q is None:
            assert region.fixed[p.name] == best.params[p.name]
        elif isinstance(p, type(PARAMS[-1])):
            assert set(q.choices) <= set(p.choices)
        else:
            assert p.low <= q.low < q.high <= p.high and q.integer == p.integer
    assert 0 < proposal.radius <= START  # the radius before each parameter's stretch
    assert proposal.summary.startswith("region ")  # said in words: grows, shrinks, keeps


def test_a_budget_round_says_how_its_region_moved(make_config, tmp_path):
    run = hpsearch.run(make_config(base=BOWL), objective=Bowl())
    words = [info.summary for info in run.rounds()[1:]]
    pattern = re.compile(
        r"the whole space, around the model's best, trial \d+; \d+ picked by a model of "
        r"\d+ trials"
    )
    assert all(pattern.fullmatch(w) for w in words), words
    assert len({w.split("trial ")[1].split(";")[0] for w in words}) > 1  # its best moves
    run = hpsearch.run(
        make_config("plain", base=BOWL, search={"guide": "random"}), objective=Bowl()
    )
    words = [info.summary for info in run.rounds()[1:]]
    pattern = re.compile(
        r"region (grows to|shrinks to|keeps its size,) \d+% of the space, around "
        r"(the best, trial \d+|a new best, trial \d+|trial \d+: round \d+ found no better one"
        r"|trial \d+, at radius 0.35 again: it had collapsed)"
    )
    assert all(pattern.fullmatch(w) for w in words), words
    assert any("around a new best" in w for w in words)
    for before, after, w in zip(run.rounds(), run.rounds()[1:], words, strict=False):
        if "grows" in w:  # said whenever it happens: a region is never silently wider
            assert after.range_left > before.range_left
    shown = invoke("show", str(run.path)).stdout
    assert words[0][:40] in shown.replace("\n", " ")


@pytest.mark.slow
def test_a_budget_in_the_file_and_trials_from_elsewhere_never_make_an_unreadable_run(
    make_config, tmp_path
):
    path = make_config(base={**BOWL, "run": {"backend": "sequential"}})
    one_line_error(invoke("run", str(path), "--trials", "5"), "--trials", "search.budget = 23")
    bad = make_config("zoomed", base=BOWL, zoom={"rounds": 3})
    one_line_error(invoke("validate", str(bad)), "zoom.rounds", "search.budget 23")
    assert not (tmp_path / "runs").exists()
    run = hpsearch.run(path, objective=Bowl())
    # config.yaml reads back; best.yaml re-trains the winner, no budget.
    assert hpsearch.load_run(run.path).config.search.budget == 23
    best = hpsearch.load_config(run.path / "best.yaml")
    assert best.search.budget is None and best.zoom.rounds == 0
    assert best.model["learning_rate"] == run.best.params["learning_rate"]
    retest = hpsearch.retest(run, top=1, seeds=2)
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
    assert len(run.trials) == 30
