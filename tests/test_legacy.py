"""Runs written by hpsearch 0.1 (tests/fixtures/runs-0.1, made by tests/fixtures/
make_v01_runs.py with that release): a search of several directories reads as one search,
and resumes as one run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

import hpsearch
from hpsearch.sampling import sample_trial

from .helpers import invoke, run_json

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "runs-0.1"


@pytest.fixture
def runs(tmp_path) -> Path:
    """A copy of the 0.1 runs, with the paths they name pointed at the copy."""
    target = tmp_path / "runs"
    shutil.copytree(FIXTURE, target)
    for path in target.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yaml", ".jsonl"):
            text = path.read_text().replace("@RUNS@", str(target)).replace("@DIR@", str(tmp_path))
            path.write_text(text)
    return target


def ids(runs: Path, prefix: str) -> list[str]:
    """The run ids of one 0.1 search, round 0 first."""
    found = [p for p in runs.iterdir() if p.name.startswith(prefix)]
    return [
        p.name
        for p in sorted(
            found, key=lambda p: json.loads((p / "summary.json").read_text())["started"]
        )
    ]


@pytest.mark.slow
def test_list_shows_each_search_once(runs):
    rows = json.loads(invoke("list", "--runs-dir", str(runs), "--json").stdout)["runs"]
    by_name = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    assert sorted(by_name) == ["budget", "plain", "rounds", "stopped"]
    (rounds,) = by_name["rounds"]
    assert rounds["rounds"] == 4 and rounds["trials"] == 6 + 4 + 4 + 3
    (budget,) = by_name["budget"]
    assert budget["rounds"] == 7 and budget["trials"] == 8
    assert sorted(r["kind"] for r in by_name["plain"]) == ["retest", "search"]
    text = invoke("list", "--runs-dir", str(runs)).stdout
    assert text.count("rounds-") == 1 and text.count("budget-") == 1


@pytest.mark.slow
def test_show_and_report_read_a_search_of_several_directories_as_one(runs):
    rounds = ids(runs, "rounds")
    for member in rounds:  # any of its directories names the whole search
        doc = json.loads(invoke("show", member, "--runs-dir", str(runs), "--json").stdout)
        assert doc["summary"]["trials_done"] == 17 and len(doc["rounds"]) == 4
    run = hpsearch.load_run(rounds[0], runs)
    assert [r.trial for r in run.trials] == list(range(17))
    assert [info.trials for info in run.rounds()] == [6, 4, 4, 3]
    assert [info.origin for info in run.rounds()] == ["plan", "plan", "plan", "zoom"]
    every = [
        json.loads(line)
        for member in rounds
        for line in (runs / member / "trials.jsonl").read_text().splitlines()
    ]
    best = max(r["metrics"]["val_accuracy"] for r in every if r["status"] == "ok")
    assert run.best.value("val_accuracy") == best
    # the values a round fixed are in its trials' params: each is a point of the whole space
    assert all(set(t.params) == set(run.config.space.names) for t in run.trials)
    shown = invoke("show", rounds[-1], "--runs-dir", str(runs)).stdout
    assert "written by hpsearch 0.1" in shown and "round  trials  space" in shown
    assert invoke("report", rounds[1], "--runs-dir", str(runs)).exit_code == 0
    assert "<h2>Rounds</h2>" in (runs / rounds[-1] / "report.html").read_text()
    assert invoke("importance", rounds[0], "--runs-dir", str(runs)).exit_code == 0
    assert not list(runs.glob("*/rounds.jsonl"))  # reading wrote nothing


@pytest.mark.slow
def test_resuming_a_stopped_search_converts_it_once_and_finishes_it(runs):
    old = ids(runs, "stopped")
    before = hpsearch.load_run(old[1], runs)
    kept = [t for t in before.trials]  # 6 of round 0, 2 of round 1
    assert [t.round for t in kept] == [0] * 6 + [1] * 2
    result = invoke("resume", old[0], "--runs-dir", str(runs), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    assert "converted the hpsearch 0.1 search" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "complete" and doc["run_id"] not in old
    assert [r["trials"] for r in doc["rounds"]] == [6, 4, 4]
    run = hpsearch.load_run(doc["run_dir"])
    assert run.trials[:8] == kept  # nothing computed is lost or changed
    # round 1's missing trials are drawn as 0.1 drew them: its region, its seed, index - first
    zoom = run.history.rounds[1]
    for t in run.trials[8:10]:
        drawn = sample_trial(zoom.region.space, zoom.seed, t.trial - zoom.first)
        assert {**drawn.params, **zoom.region.fixed} == dict(t.params)
        assert t.seed == drawn.seed
    for name in old:  # the old directories are left, marked; named, they mean the new run
        summary = json.loads((runs / name / "summary.json").read_text())
        assert summary["converted_to"] == doc["run_id"]
        assert hpsearch.load_run(name, runs).path == Path(doc["run_dir"])
    names = [
        r["run_id"]
        for r in json.loads(invoke("list", "--runs-dir", str(runs), "--json").stdout)["runs"]
    ]
    assert doc["run_id"] in names and not set(old) & set(names)
    again = invoke("resume", old[1], "--runs-dir", str(runs), "--json", "--quiet")
    assert json.loads(again.stdout)["run_id"] == doc["run_id"]  # converted once


def test_zoom_of_a_0_1_search_adds_its_round_to_the_converted_run(runs):
    rounds = ids(runs, "rounds")
    doc = run_json("zoom", rounds[-1], "--runs-dir", str(runs), "-n", "2")
    assert [r["trials"] for r in doc["rounds"]] == [6, 4, 4, 3, 2]
    assert doc["run_id"] not in rounds


def test_a_budget_search_draws_what_0_1_drew(runs, tmp_path):
    """The budget's optimiser without its model is unchanged: the same config gives the same
    trials, the same values and metrics, as hpsearch 0.1 did (now in one directory)."""
    budget = ids(runs, "budget")
    old = hpsearch.load_run(budget[0], runs)
    config = hpsearch.load_config(runs / budget[0] / "config.yaml")
    # 0.1's optimiser drew every trial at random in its regions: search.guide random.
    config = dataclasses.replace(config, search=dataclasses.replace(config.search, guide="random"))
    new = hpsearch.run(config, runs_dir=tmp_path / "new")
    assert [(t.trial, t.round, dict(t.params), t.seed) for t in new.trials] == [
        (t.trial, t.round, dict(t.params), t.seed) for t in old.trials
    ]
    assert [t.metrics for t in new.trials] == [t.metrics for t in old.trials]
    assert [r.region for r in new.history.rounds] == [r.region for r in old.history.rounds]
