"""Found in review of one search, one run (issue 22): each case failed before its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import hpsearch
from hpsearch.events import RoundStarted

from .helpers import ZOOMY, invoke, merged, one_line_error, run_json
from .test_legacy import FIXTURE, ids

pytestmark = pytest.mark.slow  # every case runs a search or two


def summary_of(run_dir: Path | str) -> dict:
    return json.loads((Path(run_dir) / "summary.json").read_text())


def test_a_zoom_marks_its_run_running_before_its_first_trial(make_config):
    first = hpsearch.run(make_config(base=ZOOMY), rounds=1)
    seen = {}

    def look(event):  # what a `show` at that moment (or after a kill -9) would read
        if isinstance(event, RoundStarted) and event.new:
            seen["status"] = summary_of(first.path)["status"]
            seen["planned"] = summary_of(first.path)["trials_planned"]
            seen["rounds"] = len(hpsearch.load_run(first.path).rounds())

    hpsearch.zoom(first, trials=3, on_event=look)
    assert seen == {"status": "running", "planned": 6 + 4 + 3, "rounds": 3}
    assert summary_of(first.path)["status"] == "complete"


def test_zooming_the_same_run_object_twice_runs_two_new_rounds(make_config):
    run = hpsearch.run(make_config(base=ZOOMY), rounds=1)
    hpsearch.zoom(run, trials=2)
    again = hpsearch.zoom(run, trials=2)  # `run` was read before the first zoom
    rounds = again.history.rounds
    assert [r.number for r in rounds] == [0, 1, 2, 3]
    assert rounds[2].seed != rounds[3].seed
    params = [dict(t.params) for t in again.trials]
    assert params[-2:] != params[-4:-2]  # not the round before's trials again


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"trials": 2.0}, "--trials: must be an integer"),
        ({"trials": "3"}, "--trials: must be an integer"),
        ({"top": 1.5}, "--top: must be an integer"),
        ({"top_fraction": "0.5"}, "--top-fraction: must be in (0, 1]"),
        ({"margin": 0.7}, "--margin: must be < 0.5"),
    ],
)
def test_bad_zoom_values_through_the_api_are_the_clis_one_line(make_config, options, fragment):
    run = hpsearch.run(make_config(base=ZOOMY))
    with pytest.raises(hpsearch.UserError, match=fragment.replace("(", r"\(").replace("]", r"\]")):
        hpsearch.zoom(run, **options)
    assert len((run.path / "rounds.jsonl").read_text().splitlines()) == 1  # nothing written
    hpsearch.zoom(run, trials=2)  # and the run is free and readable


def test_growing_a_search_whose_rounds_are_still_to_come_is_refused(make_config):
    doc = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "2")
    run_dir = Path(doc["run_dir"])
    rounds = (run_dir / "rounds.jsonl").read_text().splitlines()
    (run_dir / "rounds.jsonl").write_text(rounds[0] + "\n")  # killed before round 1
    trials = [t for t in (run_dir / "trials.jsonl").read_text().splitlines()]
    (run_dir / "trials.jsonl").write_text(
        "\n".join(t for t in trials if json.loads(t)["round"] == 0) + "\n"
    )
    before = (run_dir / "rounds.jsonl").read_text()
    one_line_error(invoke("resume", str(run_dir), "--trials", "9"), "--trials", "14 trials planned")
    one_line_error(invoke("zoom", str(run_dir), "-n", "2"), "finish it first: hpsearch resume")
    assert (run_dir / "rounds.jsonl").read_text() == before
    assert run_json("resume", str(run_dir))["trials_done"] == 14  # as planned


def test_a_search_too_large_to_ever_end_is_refused_at_once(make_config, tmp_path):
    path = make_config(base=ZOOMY)
    one_line_error(invoke("run", str(path), "--budget", "99999999999999999999"), "at most")
    one_line_error(invoke("run", str(path), "--trials", str(10**10)), "at most 1,000,000,000")
    assert not (tmp_path / "runs").exists()
    doc = run_json("run", str(path))
    log = Path(doc["run_dir"]) / "rounds.jsonl"
    line = json.loads(log.read_text())
    log.write_text(json.dumps({**line, "trials": 10**18}) + "\n")  # a hand edit
    one_line_error(invoke("show", doc["run_dir"]), "rounds.jsonl:1", "field 'trials'", str(10**18))


@pytest.mark.parametrize("damage", ["cut", "empty", "deleted"])
def test_a_damaged_rounds_log_is_named_and_the_trials_kept(make_config, damage):
    doc = run_json("run", str(make_config(base=ZOOMY)), "--rounds", "1")
    log = Path(doc["run_dir"]) / "rounds.jsonl"
    lines = log.read_text().splitlines()
    if damage == "cut":
        log.write_text(lines[0] + "\n")
    elif damage == "empty":
        log.write_text("")
    else:
        log.unlink()
    trials = (Path(doc["run_dir"]) / "trials.jsonl").read_text()
    line = one_line_error(invoke("show", doc["run_dir"]), "rounds.jsonl", "restore it")
    assert "trials are kept" in line
    assert (Path(doc["run_dir"]) / "trials.jsonl").read_text() == trials


@pytest.mark.parametrize("name", ["rounds.jsonl", "trials.jsonl", "summary.json"])
def test_json_nested_past_any_parser_is_one_line(make_config, tmp_path, name):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    target = Path(doc["run_dir"]) / name
    deep = "[" * 100_000
    if name == "summary.json":
        target.write_text(deep + "\n")
    else:  # a line in the middle: not a torn last line
        target.write_text(target.read_text() + deep + "\n" + '{"x": 1}\n')
    result = invoke("show", doc["run_dir"])
    one_line_error(result, name)
    listed = invoke("list", "--runs-dir", str(tmp_path / "runs"))
    assert listed.exit_code == 0 and "Traceback" not in listed.output


def test_a_0_1_search_without_its_first_round_is_one_line_and_converts_nothing(tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURE, runs)
    for path in runs.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yaml", ".jsonl"):
            path.write_text(path.read_text().replace("@RUNS@", str(runs)))
    rounds = ids(runs, "rounds")
    shutil.rmtree(runs / rounds[0])
    for command in (["show", rounds[-1]], ["zoom", rounds[-1], "-n", "2"], ["resume", rounds[1]]):
        one_line_error(invoke(*command, "--runs-dir", str(runs)), "first round", "restore")
    for name in rounds[1:]:
        assert "converted_to" not in summary_of(runs / name)
    shown = invoke("show", ids(runs, "budget")[-1], "--runs-dir", str(runs)).stdout
    assert "7 rounds (budget)" in shown


def test_zoom_says_nothing_before_a_refusal_and_its_round_once(make_config, tmp_path):
    first = run_json("run", str(make_config(base=ZOOMY)))
    lines = (Path(first["run_dir"]) / "trials.jsonl").read_text().splitlines()
    (Path(first["run_dir"]) / "trials.jsonl").write_text("\n".join(lines[:3]) + "\n")
    refused = invoke("zoom", first["run_dir"])
    assert refused.exit_code == 2 and refused.stdout == ""
    run_json("resume", first["run_dir"])
    ran = invoke("zoom", first["run_dir"], "-n", "2")
    assert ran.exit_code == 0 and ran.stdout.count("round 1: zoom inside") == 1
    quiet = invoke("zoom", first["run_dir"], "-n", "2", "--quiet")
    assert "round 2" not in quiet.stdout


def test_hand_edited_summaries_and_records_name_what_is_wrong(make_config):
    doc = run_json("run", str(make_config(base=ZOOMY)))
    run_dir = Path(doc["run_dir"])
    good = summary_of(run_dir)
    for key, value, fragment in (
        ("status", "weird", "field 'status': expected running, complete or interrupted"),
        ("run_id", "../../etc", "field 'run_id': expected a run id"),
    ):
        (run_dir / "summary.json").write_text(json.dumps({**good, key: value}))
        one_line_error(invoke("show", str(run_dir)), fragment)
    (run_dir / "summary.json").unlink()  # lost: the logs still tell the run
    shown = invoke("show", str(run_dir))
    assert shown.exit_code == 0 and "6 of 6 trials (6 ok)" in shown.stdout
    (run_dir / "summary.json").write_text(json.dumps(good))
    trials = run_dir / "trials.jsonl"
    lines = trials.read_text().splitlines()
    record = json.loads(lines[0])
    trials.write_text("\n".join([json.dumps({**record, "trial": -1}), *lines[1:]]) + "\n")
    one_line_error(invoke("show", str(run_dir)), "field 'trial': expected a trial number, got -1")
    record["metrics"]["val_loss"] = float("nan")
    trials.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    one_line_error(invoke("show", str(run_dir)), "field 'metrics.val_loss': expected a finite")


def test_a_condition_that_no_longer_holds_is_said_once_and_a_fixed_choice_counts(make_config):
    base = merged(
        ZOOMY,
        {
            "space": {
                "optimizer": {"choice": ["momentum", "adam"]},
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
                    "when": {"optimizer": "adam"},
                },
            },
            "zoom": {"top": 1},
        },
    )
    config = make_config("cond", base=base)
    result = invoke("run", str(config), "--rounds", "1")
    assert result.exit_code == 0, result.output
    gone = [line for line in result.stdout.splitlines() if "inactive (its condition" in line]
    assert len(gone) == 1 and gone[0].count("condition") == 1  # no "(kept: …)" after it
    run = hpsearch.load_run("latest", config.parent / "runs")
    zoom = run.history.rounds[1]
    assert zoom.region.fixed["optimizer"] in ("momentum", "adam")
    # optimizer fixed keeps 1 of its 2 values: half of that parameter, not none of it
    assert zoom.region.share(run.config.space) > 0.5 / len(run.config.space)
