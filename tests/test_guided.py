"""Model-guided rounds (issue 24): a model of the trials so far picks each round's trials
among random candidates of its region; the picks are written with the round, every choice
value stays reachable, and a warm start gives the model another run's trials."""

from __future__ import annotations

import json
import shutil

import pytest

import hpsearch
from hpsearch.guidance import Model
from hpsearch.record import TrialRecord
from hpsearch.results import Goal
from hpsearch.space import ChoiceParam, NumericParam, Space
from hpsearch.surrogate import GaussianProcess, normal_scores

from .helpers import DROP, invoke, one_line_error, run_json
from .objectives import Bowl
from .test_budget import BOWL

CHOICE = """
import math
def f(params, seed):
    # 'a' is good everywhere; 'c' is best, but only near x = 0.8: a coarse round rarely
    # sees it there, so its best trial uses 'a' or 'b'.
    x, opt = params['x'], params['opt']
    if opt == 'c':
        return ((x - 0.8) / 0.02) ** 2
    return {'a': 0.3, 'b': 0.5}[opt] + (x - 0.5) ** 2
"""


BOWL_FN = """
import math
def f(params, seed):
    d = math.log10(params['learning_rate'] / 1e-2) ** 2
    d += math.log10((1 - params['beta1']) / 0.1) ** 2
    d += ((params['hidden_units'] - 64) / 50) ** 2
    return {'val_accuracy': 1.0 - d, 'val_loss': d}
"""


def _bowl_file(make_config, tmp_path, name: str = "cli", **sections):
    (tmp_path / "bowlfn.py").write_text(BOWL_FN)
    objective = {"python": "bowlfn:f", "workdir": str(tmp_path)}
    return make_config(name, base={**BOWL, "objective": objective}, **sections)


def _rounds(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "rounds.jsonl").read_text().splitlines()]


def test_a_models_picks_are_written_with_the_round_and_are_its_trials(make_config):
    run = hpsearch.run(make_config(base=BOWL), objective=Bowl(), quiet=True)
    rounds = _rounds(run.path)
    assert "points" not in rounds[0]  # the coarse round is drawn at random
    by_trial = {t.trial: t for t in run.trials}
    for line in rounds[1:]:
        assert len(line["points"]) == line["trials"]
        for k, point in enumerate(line["points"]):
            assert by_trial[line["first"] + k].params == point
        assert "picked by a model of" in line["summary"]
    shown = invoke("show", str(run.path)).stdout
    assert "picked by a model" in shown.replace("\n", " ")


def test_guide_random_keeps_the_plain_coarse_to_fine(make_config):
    path = make_config(base=BOWL, search={"guide": "random"})
    run = hpsearch.run(path, objective=Bowl(), quiet=True)
    assert all("points" not in line for line in _rounds(run.path))
    assert "guide: random" in (run.path / "config.yaml").read_text()
    # The default is not written: a config of an older hpsearch reads back the same.
    default = hpsearch.run(make_config(base=BOWL), objective=Bowl(), quiet=True)
    assert "guide:" not in (default.path / "config.yaml").read_text()
    bad = make_config("bad", base=BOWL, search={"guide": "gp"})
    one_line_error(invoke("validate", str(bad)), "search.guide", "unknown guide 'gp'")


@pytest.mark.slow
def test_a_choice_value_the_coarse_best_lacks_is_still_drawn_later(make_config, tmp_path):
    (tmp_path / "choice.py").write_text(CHOICE)
    drawn = []
    for seed in (0, 1, 2):
        path = make_config(
            base={
                "name": "choice",
                "seed": seed,
                "objective": {"python": "choice:f", "workdir": str(tmp_path)},
                "space": {
                    "opt": {"choice": ["a", "b", "c"]},
                    "x": {"scale": "linear", "min": 0.0, "max": 1.0},
                },
                "search": {"budget": 60, "metric": "loss", "direction": "minimize"},
                "run": {"backend": "sequential"},
            }
        )
        run = hpsearch.run(path, quiet=True)
        coarse = [t for t in run.trials if t.round == 0]
        leader = min(coarse, key=lambda t: t.metrics["loss"]).params["opt"]
        later = {t.params["opt"] for t in run.trials if t.round > 0}
        assert leader != "c" and later == {"a", "b", "c"}, (seed, leader, later)
        drawn.append(sum(t.params["opt"] == "c" for t in run.trials if t.round > 0))
    assert min(drawn) >= 3, drawn


def test_the_model_ranks_like_the_search_and_prefers_what_scored_well():
    space = Space((NumericParam("x", _linear(), 0.0, 1.0), ChoiceParam("o", ("p", "q"))))
    records = [
        TrialRecord(i, {"x": x, "o": o}, 0, "ok", {"loss": (x - 0.3) ** 2 + (o == "q")})
        for i, (x, o) in enumerate(
            [(0.1, "p"), (0.3, "p"), (0.5, "p"), (0.9, "p"), (0.2, "q"), (0.7, "q")]
        )
    ]
    records.append(TrialRecord(6, {"x": 0.31, "o": "p"}, 0, "failed", {}, error="boom"))
    model = Model.of(space, records, Goal.of("loss", "minimize"))
    assert model is not None
    assert model.predicted_best(Goal.of("loss", "minimize"))[0].params["o"] == "p"
    assert Model.of(space, records[:2], Goal.of("loss", "minimize")) is None  # too few


def test_normal_scores_are_ranks_and_ties_share_them():
    scores = normal_scores([3.0, 1.0, 2.0, 2.0])
    assert scores[0] > scores[2] == scores[3] > scores[1]
    assert abs(float(scores.sum())) < 1e-9


def test_a_gaussian_process_fits_a_smooth_function_and_knows_where_it_has_not_looked():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((40, 2))
    y = np.sin(6 * x[:, 0])
    gp = GaussianProcess.fit(x, (y - y.mean()) / y.std())
    mean, sd = gp.predict(np.array([[0.25, 0.5], [0.25, 5.0]]))
    assert abs(mean[0] * y.std() + y.mean() - np.sin(1.5)) < 0.1
    assert sd[1] > 5 * sd[0]  # far from every point: unsure
    assert gp.lengths[1] > 3 * gp.lengths[0]  # the second coordinate does not matter


def _linear():
    from hpsearch.space import Scale

    return Scale()


# -- warm start ------------------------------------------------------------------------------


def test_a_warm_start_gives_the_model_another_runs_trials(make_config, tmp_path):
    first = hpsearch.run(
        _bowl_file(make_config, tmp_path, "first", search={"budget": DROP, "trials": 12}),
        quiet=True,
    )
    path = _bowl_file(make_config, tmp_path, "warm")
    run = hpsearch.run(path, warm_start=first, quiet=True)
    assert len(run.trials) == 23  # the warm trials are not this search's
    warm = (run.path / "warm.jsonl").read_text().splitlines()
    assert len(warm) == 12
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["warm_start"] == {"run": first.run_id, "trials": 12}
    assert "and 12 of a warm start" in _rounds(run.path)[1]["summary"]
    shown = invoke("show", str(run.path)).stdout
    assert f"its model started from 12 trials of {first.run_id}" in shown
    # The same search again: the same trials; and resumed with RUN gone, still the same.
    again = hpsearch.run(path, warm_start=first.path, quiet=True)
    assert [t.params for t in again.trials] == [t.params for t in run.trials]
    shutil.rmtree(first.path)
    cut = tmp_path / "cut"
    shutil.copytree(run.path, cut)
    lines = (cut / "trials.jsonl").read_text().splitlines()
    (cut / "trials.jsonl").write_text("\n".join(lines[:8]) + "\n")
    resumed = hpsearch.resume(cut, quiet=True)
    assert [t.params for t in resumed.trials] == [t.params for t in run.trials]


def test_a_warm_start_from_an_incompatible_run_is_one_line(make_config, tmp_path):
    other = hpsearch.run(
        make_config("other", base={**BOWL, "search": {"trials": 4, "metric": "val_loss"}}),
        objective=Bowl(),
        quiet=True,
    )
    path = _bowl_file(make_config, tmp_path)
    runs = tmp_path / "runs"
    before = sorted(p.name for p in runs.iterdir())
    result = invoke("run", str(path), "--warm-start", str(other.path))
    one_line_error(result, "--warm-start", "ranks by val_loss (minimize)", "val_accuracy")
    one_line_error(invoke("run", str(path), "--warm-start", "nope"), "--warm-start", "'nope'")
    narrow = _bowl_file(
        make_config,
        tmp_path,
        "narrow",
        space={"hidden_units": {"scale": "linear", "min": 300, "max": 400, "type": "int"}},
    )
    one_line_error(
        invoke(
            "run",
            str(narrow),
            "--warm-start",
            str(other.path),
            "--set",
            "search.metric=val_loss",
            "--set",
            "search.direction=minimize",
        ),
        "--warm-start",
        "none of its 4 trials",
        "hidden_units",
    )
    assert sorted(p.name for p in runs.iterdir()) == before  # nothing written


def test_a_hand_edited_warm_or_rounds_line_is_one_line(make_config, tmp_path):
    first = hpsearch.run(
        make_config(base={**BOWL, "search": {"trials": 6}}), objective=Bowl(), quiet=True
    )
    run = hpsearch.run(make_config("w", base=BOWL), objective=Bowl(), warm_start=first, quiet=True)
    warm = run.path / "warm.jsonl"
    lines = warm.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["params"]["learning_rate"] = 50.0
    warm.write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
    one_line_error(invoke("resume", str(run.path)), "warm.jsonl:2", "learning_rate")
    shutil.copy(run.path / "rounds.jsonl", tmp_path / "rounds.keep")
    rounds = _rounds(run.path)
    rounds[2]["points"][0]["learning_rate"] = 2.0
    (run.path / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds))
    result = invoke("show", str(run.path))
    one_line_error(result, "rounds.jsonl:3", "points[0]", code=result.exit_code)


def test_run_json_names_a_warm_start(make_config, tmp_path):
    first = hpsearch.run(
        make_config(base={**BOWL, "search": {"trials": 5}}), objective=Bowl(), quiet=True
    )
    doc = run_json(
        "run",
        str(_bowl_file(make_config, tmp_path)),
        "--warm-start",
        first.run_id,
        "--runs-dir",
        str(first.path.parent),
        "--json",
    )
    assert doc["counts"]["ok"] == 23


# -- early stopping inside a budget ----------------------------------------------------------

HALVING_BUDGET = {
    "name": "esbudget",
    "data": {"source": "spirals", "classes": 3, "samples": 300},
    "model": {"layers": 1, "epochs": 9},
    "space": {
        "learning_rate": {"scale": "log", "min": 1.0e-3, "max": 1.0e-1},
        "hidden_units": {"scale": "log", "min": 8, "max": 32, "type": "int"},
    },
    "search": {"budget": 30},
    "early_stop": {"method": "halving", "min_epochs": 1, "eta": 3},
    "run": {"backend": "sequential"},
}


def test_a_budgets_rounds_are_large_enough_for_their_rungs(make_config):
    # Rungs of 1, 3 and 9 epochs halve 9 trials down to one: every round has at least 9,
    # so each round's rungs decide among 9 or more, not among 3.
    path = make_config(base=HALVING_BUDGET)
    shown = invoke("validate", str(path)).stdout
    assert "budget: 30 evaluations: 9 coarse, then 2 zoom rounds of 10 or 11" in shown
    run = hpsearch.run(path, quiet=True)
    sizes = [info.trials for info in run.rounds()]
    assert sizes == [9, 11, 10] and len(run.trials) == 30
    for number in range(3):
        records = [t for t in run.trials if t.round == number]
        assert sum(t.status == "ok" for t in records) == 1  # one trained fully per round
        assert sum(t.epochs for t in records) <= 2.5 * 9 + len(records)
    assert all("points" in line for line in _rounds(run.path)[1:])  # stopped trials count
    # Without early stopping the same budget keeps the schedule of 15 small rounds.
    plain = make_config("plain", base=HALVING_BUDGET, early_stop=DROP)
    assert "6 coarse, then 15 zoom rounds" in invoke("validate", str(plain)).stdout


def test_a_run_made_with_small_rounds_under_early_stopping_still_reads(make_config):
    # hpsearch 0.2 wrote a budget with early stopping on the plain schedule (12 coarse, 15
    # rounds): its config.yaml still reads, and keeps that schedule.
    from hpsearch.config import load_config
    from hpsearch.schedule import of_config

    path = make_config(
        "old", base=HALVING_BUDGET, search={"budget": 60, "trials": 12}, zoom={"rounds": 15}
    )
    config = load_config(path)
    assert of_config(config).coarse == 12 and len(of_config(config).rounds) == 15
    mixed = make_config(
        "mixed", base=HALVING_BUDGET, search={"budget": 60, "trials": 12}, zoom={"rounds": 7}
    )
    one_line_error(invoke("validate", str(mixed)), "zoom.rounds", "sets zoom.rounds itself (5)")


@pytest.mark.slow
def test_a_model_of_many_trials_keeps_a_subset_and_still_names_this_searchs_best():
    space = Space((NumericParam("x", _linear(), 0.0, 1.0),))
    goal = Goal.of("loss", "minimize")
    records = [
        TrialRecord(i, {"x": (i * 0.618) % 1.0}, 0, "ok", {"loss": ((i * 0.618) % 1.0 - 0.7) ** 2})
        for i in range(400)
    ]
    prior = [TrialRecord(i, {"x": 0.1}, 0, "ok", {"loss": 5.0}) for i in range(50)]
    model = Model.of(space, records, goal, prior)
    assert model is not None and len(model.gp.x) == 300  # conditioned on a subset
    best = model.predicted_best(goal, 3)
    assert all(abs(r.params["x"] - 0.7) < 0.02 for r in best)
    assert all(r in records for r in best)  # never a warm-start trial


def test_the_report_shades_only_rounds_narrower_than_the_space(make_config):
    # A guided budget's rounds are the whole space: shading each would grey every chart.
    budget = hpsearch.run(make_config(base=BOWL), objective=Bowl(), quiet=True)
    assert 'class="band"' not in budget.report().read_text()
    zoom = dict(BOWL, search={"trials": 8}, zoom={"rounds": 1, "trials": 4})
    zoomed = hpsearch.run(make_config("zoomed", base=zoom), objective=Bowl(), quiet=True)
    assert 'class="band"' in zoomed.report().read_text()


def test_the_report_draws_the_optimisation_history(make_config):
    run = hpsearch.run(make_config(base=BOWL), objective=Bowl(), quiet=True)
    page = run.report().read_text()
    assert "<h2>Optimisation history</h2>" in page and 'class="best-line"' in page
    assert page.count('class="rung"') >= len(run.rounds()) - 1  # each new round marked
