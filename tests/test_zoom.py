"""Coarse to fine: the laws of a zoom (hypothesis), `hpsearch zoom`, `--rounds`, one run per
search, and one best named everywhere."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpsearch
from hpsearch.config import load_config, parse_config
from hpsearch.history import History
from hpsearch.narrowing import KEEP_SPAN, zoom_region
from hpsearch.record import TrialRecord
from hpsearch.rounds import Region, first_round, width
from hpsearch.space import SCALES, ChoiceParam, NumericParam, Space
from hpsearch.strategies import Done, ZoomStrategy

from .helpers import ZOOMY, invoke, one_line_error, run_json
from .objectives import Bowl

PARAMS = [
    NumericParam("lr", SCALES["log"], 1e-4, 1.0),
    NumericParam("beta", SCALES["one_minus_log"], 0.9, 0.999),
    NumericParam("x", SCALES["linear"], -3.0, 5.0),
    NumericParam("units", SCALES["log"], 16, 1024, integer=True),
    NumericParam("layers", SCALES["linear"], 1, 6, integer=True),
    ChoiceParam("batch", (32, 64, 128, 256)),
]
SPACE = Space(tuple(PARAMS))
WHOLE = Region(SPACE, {})


@st.composite
def points(draw, space: Space = SPACE, least: int = 1):
    units = draw(
        st.lists(
            st.lists(st.floats(0, 1), min_size=len(space), max_size=len(space)),
            min_size=least,
            max_size=8,
        )
    )
    return [space.from_unit(u) for u in units]


def span(p: NumericParam, values: list) -> float:
    units = [p.to_unit(v) for v in values]
    return max(units) - min(units)


def inside(region: Region, parent: Region) -> bool:
    for p in parent.space:
        q = region.space.get(p.name)
        if q is None:
            if p.name in region.fixed:
                assert p.contains(region.fixed[p.name])
            continue
        if isinstance(p, ChoiceParam):
            assert isinstance(q, ChoiceParam) and set(q.choices) <= set(p.choices)
        else:
            assert isinstance(q, NumericParam) and p.low <= q.low < q.high <= p.high
    return True


@given(points(), st.floats(0, 0.49))
def test_a_zoom_lies_inside_its_parent_holds_its_anchors_and_narrows(anchors, margin):
    region, notes = zoom_region(WHOLE, anchors, margin, "the top K")
    assert inside(region, WHOLE) and set(notes) == set(SPACE.names)
    assert all(region.contains(a) for a in anchors)
    for p in PARAMS:
        q = region.space.get(p.name)
        if isinstance(p, ChoiceParam):
            kept = q.choices if q is not None else (region.fixed[p.name],)
            assert set(kept) == {a[p.name] for a in anchors}
            continue
        values = [a[p.name] for a in anchors]
        ends = p.integer and (min(values), max(values)) == (p.low, p.high)
        if span(p, values) >= KEEP_SPAN or ends:  # the anchors span it end to end
            assert q == p and "kept" in notes[p.name]
        elif q is not None:  # narrowed: strictly
            assert width(q, p) < 1, (p.name, notes[p.name])
            if p.integer:
                assert isinstance(q.low, int) and isinstance(q.high, int)
        else:
            assert region.fixed[p.name] in values or p.integer


@pytest.mark.slow
@given(points(), points(), st.floats(0, 0.49))
def test_zoom_after_zoom_never_widens(first, second, margin):
    one, _ = zoom_region(WHOLE, first, margin, "a")
    again = [a for a in second if one.contains(a)] or [
        {**a, **one.fixed} for a in first
    ]  # anchors of a zoom lie inside its parent
    two, _ = zoom_region(one, again, margin, "b")
    assert inside(two, one)
    assert two.share(SPACE) <= one.share(SPACE) + 1e-12


def test_a_log_parameter_narrows_by_decades():
    p = NumericParam("lr", SCALES["log"], 1e-4, 1.0)
    region, notes = zoom_region(Region(Space((p,))), [{"lr": 1e-3}, {"lr": 1e-2}], 0.25, "t")
    q = region.space["lr"]
    # The anchors span a quarter of the four decades; a quarter of the other three is padded
    # on each side.
    assert q.low == pytest.approx(10**-3.75) and q.high == pytest.approx(10**-1.25)
    assert notes["lr"] == "62% of the range, around t"


def test_where_a_zoom_cannot_narrow_it_says_why():
    p = NumericParam("x", SCALES["linear"], 0.0, 1.0)
    c = ChoiceParam("b", (1, 2))
    region, notes = zoom_region(
        Region(Space((p, c))), [{"x": 0.01, "b": 1}, {"x": 0.97, "b": 2}], 0.35, "the top 2"
    )
    assert region.space["x"] == p and notes["x"] == "kept: the top 2 span 96% of the range"
    assert notes["b"] == "kept: the top 2 use every value"


def test_a_margin_from_half_up_is_refused(make_config):
    one_line_error(
        invoke("validate", str(make_config(base=ZOOMY, zoom={"margin": 0.5}))),
        "zoom.margin",
        "must be < 0.5",
    )


# -- the strategy over a search's history --------------------------------------------------------

ROOT = parse_config(
    {
        "objective": {"python": "m:f"},
        "space": SPACE.to_dict(),
        "search": {"metric": "value", "direction": "minimize", "trials": 20},
        "zoom": {"top": 5, "trials": 10},
    }
)


@settings(max_examples=60)
@given(points(least=1), st.lists(st.floats(-10, 10), min_size=8, max_size=8), st.integers(1, 8))
def test_zooming_a_coarse_run_narrows_and_keeps_the_top_k_inside_the_parent(found, values, k):
    """Any coarse run: the zoom's region lies inside the parent's, holds the top K, and
    narrows at least one numeric parameter unless the top K span every range."""
    records = [
        TrialRecord(i, p, 0, "ok", {"value": v})
        for i, (p, v) in enumerate(zip(found, values[: len(found)], strict=True))
    ]
    history = History(ROOT, [first_round(SPACE, 0, len(records), "random", "")], records)
    proposal = ZoomStrategy(ROOT).propose(history, top=k)
    top = ROOT.search.goal.top(records, k)
    assert proposal.anchors == tuple(r.trial for r in top)
    assert inside(proposal.region, WHOLE)
    assert all(proposal.region.contains(r.params) for r in top)
    region = proposal.region.space
    narrowed = [p for p in PARAMS[:5] if p.name not in region or width(region[p.name], p) < 1]
    kept = [p for p in PARAMS[:5] if "kept" in proposal.notes[p.name]]
    assert narrowed or len(kept) == 5
    assert {p.name for p in narrowed} | {p.name for p in kept} == set(SPACE.names[:5])


def test_no_ok_trial_is_nothing_to_zoom_on():
    failed = [TrialRecord(0, SPACE.from_unit([0.5] * 6), 0, "failed", {})]
    history = History(ROOT, [first_round(SPACE, 0, 1, "random", "")], failed)
    with pytest.raises(Done, match="no ok trial"):
        ZoomStrategy(ROOT).propose(history)


# -- the commands ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_rounds_are_one_run_and_every_reader_names_the_same_best(tmp_path, make_config):
    doc = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "2")
    runs = tmp_path / "runs"
    assert [p.name for p in runs.iterdir()] == [doc["run_id"]]  # one directory
    run_dir = Path(doc["run_dir"])
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    assert sorted(t["trial"] for t in trials) == list(range(6 + 4 + 4))
    assert [sum(t["round"] == k for t in trials) for k in range(3)] == [6, 4, 4]
    best = max(
        (t for t in trials if t["status"] == "ok"),
        key=lambda t: (t["metrics"]["val_accuracy"], -t["trial"]),
    )
    assert doc["best"]["trial"] == best["trial"] and doc["best"]["round"] == best["round"]
    assert doc["counts"]["ok"] == len(trials) and doc["trials_done"] == 14
    assert [r["round"] for r in doc["rounds"]] == [0, 1, 2]
    rows = list(csv.DictReader(io.StringIO((run_dir / "leaderboard.csv").read_text())))
    assert rows[0]["trial"] == str(best["trial"]) and rows[0]["round"] == str(best["round"])
    shown = json.loads(invoke("show", doc["run_id"], "--runs-dir", str(runs), "--json").stdout)
    assert shown["summary"]["best"]["trial"] == best["trial"] == shown["top"][0]["trial"]
    (listed,) = json.loads(invoke("list", "--runs-dir", str(runs), "--json").stdout)["runs"]
    assert listed["best"] == best["metrics"]["val_accuracy"] and listed["rounds"] == 3
    header = (run_dir / "best.yaml").read_text().splitlines()[0]
    assert header.startswith(f"# Best trial {best['trial']} (round {best['round']})")
    assert (
        load_config(run_dir / "best.yaml").model["learning_rate"] == best["params"]["learning_rate"]
    )
    html = invoke("report", str(run_dir)).stdout
    assert "wrote" in html
    page = (run_dir / "report.html").read_text()
    assert f"(trial {best['trial']}, round {best['round']})" in page


def test_a_tie_between_rounds_goes_to_the_lower_trial_everywhere(tmp_path):
    (tmp_path / "flat.py").write_text("def f(params, seed):\n    return 1.0\n")
    path = tmp_path / "flat.yaml"
    path.write_text(
        json.dumps(
            {
                "objective": {"python": "flat:f"},
                "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
                "search": {"trials": 3, "metric": "loss", "direction": "minimize"},
                "zoom": {"trials": 2},
                "run": {"backend": "sequential", "runs_dir": str(tmp_path / "runs")},
            }
        )
    )
    doc = run_json("run", str(path), "--rounds", "2")
    assert doc["best"]["trial"] == 0
    run = hpsearch.load_run(doc["run_dir"])
    assert run.best.trial == 0 and run.ranked()[0].trial == 0
    assert run.leaderboard(as_frame=False)[0]["trial"] == 0
    assert "# Best trial 0 (round 0)" in (Path(doc["run_dir"]) / "best.yaml").read_text()
    markdown = invoke("report", doc["run_dir"], "--markdown").stdout
    assert "(trial 0, round 0)" in markdown


@pytest.mark.slow
def test_zoom_adds_a_round_to_the_same_run(tmp_path, make_config):
    first = run_json("run", str(make_config(base=ZOOMY)))
    runs = str(tmp_path / "runs")
    result = invoke("zoom", first["run_id"], "--runs-dir", runs, "--json", "--quiet", "-n", "3")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["run_dir"] == first["run_dir"] and doc["trials_done"] == 6 + 3
    assert [(r["round"], r["origin"]) for r in doc["rounds"]] == [(0, "plan"), (1, "zoom")]
    again = json.loads(invoke("zoom", doc["run_dir"], "--json", "--quiet", "-n", "2").stdout)
    assert [r["round"] for r in again["rounds"]] == [0, 1, 2]
    assert len(list((tmp_path / "runs").iterdir())) == 1
    run = hpsearch.load_run(doc["run_dir"])
    regions = [r.region for r in run.history.rounds]
    assert inside(regions[1], regions[0]) and inside(regions[2], regions[1])
    assert regions[2].share(run.config.space) <= regions[1].share(run.config.space)


def test_zoom_says_what_it_narrows_and_why(make_config):
    first = run_json("run", str(make_config(base=ZOOMY)))
    result = invoke("zoom", first["run_dir"], "--top", "3", "--write-config", "/dev/null")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("round 1: zoom inside the search's region around the top 3")
    lr = next(line for line in lines if line.startswith("  learning_rate:"))
    assert "1.0e-03–1.0e-01 -> " in lr and "% of the range, around the top 3)" in lr


@pytest.mark.slow
def test_write_config_gives_an_ordinary_config_that_runs(tmp_path, make_config):
    first = run_json("run", str(make_config(base=ZOOMY)))
    out = tmp_path / "zoomed.yaml"
    result = invoke("zoom", first["run_dir"], "--write-config", str(out))
    assert result.exit_code == 0, result.stderr
    zoomed = load_config(out)
    parent = load_config(make_config(base=ZOOMY))
    assert zoomed.data_seed == parent.seed and zoomed.seed != parent.seed
    lr = zoomed.space.get("learning_rate")
    assert lr is not None and parent.space["learning_rate"].low <= lr.low < lr.high <= 0.1
    assert zoomed.zoom.rounds == 0
    assert invoke("run", str(out), "--quiet").exit_code == 0
    assert len(list((tmp_path / "runs").iterdir())) == 2  # the search, and the new config's
    assert len(hpsearch.load_run(first["run_dir"]).trials) == 6  # nothing added to the search


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--top", "0"], "--top"),
        (["--margin", "-0.5"], "--margin"),
        (["--margin", "0.5"], "must be < 0.5"),
        (["--top", "2", "--top-fraction", "0.5"], "not both"),
        (["--top-fraction", "1.5"], "(0, 1]"),
    ],
)
def test_bad_zoom_options_exit_2(make_config, args, text):
    first = run_json("run", str(make_config(base=ZOOMY)))
    result = invoke("zoom", first["run_dir"], *args)
    assert result.exit_code == 2
    assert text in result.output


def test_zoom_of_a_missing_run_or_a_run_without_ok_trials(tmp_path, make_config):
    missing = invoke("zoom", str(tmp_path / "nowhere"), "--runs-dir", str(tmp_path))
    assert missing.exit_code == 2 and "no run" in missing.stderr
    path = make_config(
        base=ZOOMY,
        model={"batch_norm": False, "optimizer": "gd"},
        space={"learning_rate": {"scale": "log", "min": 1.0e4, "max": 1.0e5}},
    )
    first = run_json("run", str(path), code=1)
    assert first["counts"]["ok"] == 0
    result = invoke("zoom", first["run_dir"])
    assert result.exit_code == 1 and "no ok trial to zoom on" in result.stderr


def test_fewer_ok_trials_than_top_zooms_with_a_warning(tmp_path, make_config):
    first = run_json("run", str(make_config(base=ZOOMY)))
    result = invoke(
        "zoom", first["run_dir"], "--top", "50", "--write-config", str(tmp_path / "z.yaml")
    )
    assert result.exit_code == 0
    assert "only 6 ok trials in its newest region, fewer than --top 50" in result.stderr


def test_zoom_refuses_a_search_with_trials_still_to_run(tmp_path, make_config):
    first = run_json("run", str(make_config(base=ZOOMY)))
    run_dir = Path(first["run_dir"])
    lines = (run_dir / "trials.jsonl").read_text().splitlines()
    (run_dir / "trials.jsonl").write_text("\n".join(lines[:4]) + "\n")  # as if interrupted
    result = invoke("zoom", str(run_dir))
    assert result.exit_code == 2 and "finish it first: hpsearch resume" in result.stderr
    assert len((run_dir / "rounds.jsonl").read_text().splitlines()) == 1  # nothing added


@pytest.mark.slow
@pytest.mark.slow
def test_an_interrupted_rounds_search_resumes_its_remaining_rounds(tmp_path, make_config):
    import signal
    import subprocess
    import sys

    from .helpers import wait_for_round

    path = make_config(base=ZOOMY, model={"epochs": 40}, zoom={"trials": 8})
    process = subprocess.Popen(
        [sys.executable, "-m", "hpsearch", "run", str(path), "--rounds", "2", "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = tmp_path / "runs"
    run_dir = wait_for_round(runs, 1)
    assert run_dir is not None, process.communicate()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143  # SIGTERM: 128 + 15
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"
    result = invoke("resume", str(run_dir), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(e["round"], e["trials"]) for e in doc["rounds"]] == [(0, 6), (1, 8), (2, 8)]
    assert doc["best"]["value"] == max(e["best"] for e in doc["rounds"])
    assert len(list(runs.iterdir())) == 1 and (run_dir / "best.yaml").exists()


@pytest.mark.slow
def test_zoom_refuses_a_run_with_nothing_left_to_narrow(make_config):
    first = run_json("run", str(make_config(base=ZOOMY)))
    best = Path(first["run_dir"]) / "best.yaml"
    again = run_json("run", str(best), "--trials", "2")
    result = invoke("zoom", again["run_dir"])
    assert result.exit_code == 2 and "nothing to narrow" in result.stderr


# -- rounds on a known optimum -------------------------------------------------------------------


def test_rounds_close_in_on_the_optimum_of_a_bowl(make_config):
    path = make_config(
        "bowl",
        base={
            "space": {
                "learning_rate": {"scale": "log", "min": 1.0e-5, "max": 1.0},
                "beta1": {"scale": "one_minus_log", "min": 0.5, "max": 0.9999},
                "hidden_units": {"scale": "linear", "min": 8, "max": 256},
            },
            "search": {"trials": 30},
            "zoom": {"trials": 15, "top": 3},
            "run": {"backend": "sequential"},
        },
    )
    run = hpsearch.run(path, rounds=4, objective=Bowl())
    rounds = run.history.rounds
    assert [r.number for r in rounds] == [0, 1, 2, 3, 4]
    for before, after in itertools.pairwise(rounds):
        assert inside(after.region, before.region)
        assert after.region.share(run.config.space) < before.region.share(run.config.space)
    infos = run.rounds()
    coarse = infos[0].best
    assert infos[-1].best_so_far > coarse
    assert run.summary["best"]["value"] == infos[-1].best_so_far == run.best.value("val_accuracy")
    # each round is cut around the best trials inside the round before's region, from the
    # search as it stood: the same region again
    history = History(run.config, rounds[:2], [t for t in run.trials if t.round <= 1])
    again = ZoomStrategy(run.config).propose(history)
    assert again.region == rounds[2].region and again.anchors == rounds[2].anchors
