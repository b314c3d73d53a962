"""The Python API: everything the command line does, from ``import hpsearch``; a run made
through it is the run the command line makes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import hpsearch
from hpsearch.events import (
    Notice,
    RoundFinished,
    RoundStarted,
    SearchFinished,
    SearchStarted,
    TrialFinished,
)

from .helpers import invoke


@pytest.fixture
def small(make_config):
    """``small(**sections) -> Path``: the small search (SMALL) with zoom rounds of 4 trials."""

    def make(**sections) -> Path:
        return make_config(**{"zoom": {"trials": 4}, **sections})

    return make


def without_times(run_dir: Path) -> dict[str, object]:
    """A run's files as they must agree between two identical runs: trials without their
    durations, the leaderboard, best.yaml, and the summary without times and ids."""
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    for t in trials:
        t.pop("seconds")
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("run_id", "parent", "started", "finished", "wall_time"):
        summary.pop(key, None)
    return {
        "trials": sorted(trials, key=lambda t: t["trial"]),
        "leaderboard": (run_dir / "leaderboard.csv").read_text(),
        "best": (run_dir / "best.yaml").read_text(),
        "config": (run_dir / "config.yaml").read_text(),
        "summary": summary,
    }


@pytest.mark.slow
def test_a_run_through_the_api_is_the_run_the_cli_makes(small):
    path = small()
    result = invoke("run", str(path), "--rounds", "1", "--jobs", "2", "--json", "--quiet")
    assert result.exit_code == 0, result.output
    by_cli = Path(json.loads(result.stdout)["run_dir"])
    by_api = hpsearch.run(path, rounds=1, jobs=2)
    assert by_api.path != by_cli
    assert without_times(by_api.path) == without_times(by_cli)
    assert [r.number for r in by_api.history.rounds] == [0, 1]  # one search, one directory
    assert len(list(path.parent.joinpath("runs").iterdir())) == 2


def test_a_run_answers_what_show_and_list_show(tmp_path, small):
    run = hpsearch.run(small(), jobs=1)
    assert run.status == "complete" and run.kind == "search" and len(run.trials) == 6
    assert all(isinstance(t, hpsearch.TrialRecord) for t in run.trials)
    best = run.best
    assert best is not None and best.value("val_accuracy") == max(
        t.metrics["val_accuracy"] for t in run.trials
    )
    assert run.summary["best"]["trial"] == best.trial
    rows = run.leaderboard(as_frame=False)
    assert rows[0]["trial"] == best.trial and rows[0]["rank"] == 1
    csv_header = (run.path / "leaderboard.csv").read_text().splitlines()[0]
    assert list(rows[0]) == csv_header.split(",")
    assert set(run.curves()) == {t.trial for t in run.trials}
    assert [r.run_id for r in hpsearch.list_runs(tmp_path / "runs")] == [run.run_id]
    again = hpsearch.load_run(run.run_id, tmp_path / "runs")
    assert again.trials == run.trials
    assert hpsearch.load_run("latest", tmp_path / "runs").path == run.path
    report = run.importance()
    assert {p.name for p in report.params} == {"learning_rate", "beta1", "hidden_units"}


@pytest.mark.slow
def test_a_leaderboard_as_a_data_frame(small):
    pandas = pytest.importorskip("pandas")
    run = hpsearch.run(small(search={"trials": 2}), jobs=1)
    frame = run.leaderboard()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 2
    assert list(frame.columns) == list(run.leaderboard(as_frame=False)[0])


@pytest.mark.slow
def test_zoom_retest_and_train_through_the_api(tmp_path, small):
    path = small()
    coarse = hpsearch.run(path, jobs=1)
    plan = hpsearch.plan_zoom(coarse, top=2, trials=3)
    assert plan.round == 1 and len(plan.anchors) == 2
    written = plan.write(tmp_path / "zoomed.yaml")
    assert hpsearch.load_config(written).search.trials == 3
    zoomed = hpsearch.zoom(coarse, top=2, trials=3, jobs=1)
    assert zoomed.path == coarse.path and len(zoomed.trials) == len(coarse.trials) + 3
    assert [info.round for info in zoomed.rounds()] == [0, 1]
    assert zoomed.rounds()[1].origin == "zoom" and zoomed.rounds()[1].anchors == tuple(
        a.trial for a in plan.anchors
    )

    retested = hpsearch.retest(coarse, top=2, seeds=2, jobs=1)
    assert retested.kind == "retest" and len(retested.trials) == 4
    verdict = retested.summary["retest"]
    assert verdict["of"] == coarse.run_id and len(verdict["winners"]) == 2

    epochs = []
    one = hpsearch.train(
        path,
        settings={"learning_rate": 0.01},
        from_run=coarse,
        report=lambda epoch, **metrics: epochs.append(epoch),
    )
    assert one.kind == "panda" and epochs == [1, 2, 3, 4]
    assert one.trials[0].params["learning_rate"] == 0.01
    assert one.trials[0].params["beta1"] == coarse.best.params["beta1"]
    other = hpsearch.run(path, jobs=1, seed=9)
    compared = hpsearch.compare([zoomed, other])
    assert [c.best_column()["run_id"] for c in compared] == [zoomed.run_id, other.run_id]


def test_events_come_in_order_and_carry_what_is_on_disk(tmp_path, small):
    events = []
    run = hpsearch.run(small(), rounds=1, jobs=1, on_event=events.append)
    kinds = [type(e) for e in events]
    assert kinds[0] is SearchStarted and kinds[-1] is SearchFinished
    starts = [e for e in events if isinstance(e, RoundStarted)]
    assert [s.round.number for s in starts] == [0, 1]
    assert starts[0].previous is None and starts[1].previous == starts[0].round
    assert starts[1].round.region.space != starts[0].round.region.space  # narrowed
    assert {s.run_id for s in starts} == {run.run_id}
    assert events[0].total == 6 + 4
    trials = [e for e in events if isinstance(e, TrialFinished)]
    assert len(trials) == 10
    for event in trials:  # each record was on disk before its event
        assert event.record in hpsearch.load_run(event.run_id, tmp_path / "runs").trials
    assert sum(isinstance(e, RoundFinished) for e in events) == 2
    outcome = events[-1].outcome
    assert outcome.status == "complete" and outcome.run_dir == run.path
    assert [r.round for r in outcome.rounds] == [0, 1]
    assert not any(isinstance(e, Notice) and e.warning for e in events)


def test_bad_input_raises_the_cli_message(tmp_path, small):
    path = small()
    with pytest.raises(hpsearch.ConfigError, match="--jobs: must be -1"):
        hpsearch.run(path, jobs=0)
    with pytest.raises(hpsearch.ConfigError, match="--scheduler: applies to the dask backend"):
        hpsearch.run(path, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(hpsearch.RunError, match="no run 'nope'"):
        hpsearch.load_run("nope", tmp_path / "runs")
    with pytest.raises(TypeError, match="trails"):
        hpsearch.run(path, trails=3)  # type: ignore[call-arg]  # misspelt: never ignored
    with pytest.raises(TypeError, match="sedes"):
        hpsearch.retest(path, sedes=3)  # type: ignore[call-arg]
    assert not (tmp_path / "runs").exists()


def test_ctrl_c_keeps_the_trials_and_resume_finishes(tmp_path, small):
    path = small()
    seen = []

    def stop_after_two(event):
        if isinstance(event, TrialFinished):
            seen.append(event)
            if len(seen) == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hpsearch.run(path, backend="sequential", on_event=stop_after_two)
    (stopped,) = hpsearch.list_runs(tmp_path / "runs")
    assert stopped.status == "interrupted" and len(stopped.trials) == 2
    finished = hpsearch.resume(stopped, backend="sequential")
    assert finished.status == "complete" and len(finished.trials) == 6


def test_the_api_works_from_a_thread(small):
    """Signals reach only the main thread: a search run from another one does without them."""
    path = small()
    found = {}
    thread = threading.Thread(target=lambda: found.update(run=hpsearch.run(path, jobs=1)))
    thread.start()
    thread.join(timeout=120)
    assert found["run"].status == "complete"


def test_check_and_sample_are_validate_and_sample(small):
    path = small()
    config, objective = hpsearch.check(path)
    assert objective.dataset.classes == 3
    trials = hpsearch.sample(path, 50)
    assert [t.index for t in trials] == list(range(50))
    assert hpsearch.sample(config, 3, seed=9) != trials[:3]
    result = invoke("sample", str(path), "-n", "50", "--json")
    assert [t["params"] for t in json.loads(result.stdout)["trials"]] == [t.params for t in trials]


def test_every_name_the_package_offers_resolves():
    for name in hpsearch.__all__:
        assert getattr(hpsearch, name) is not None, name
    with pytest.raises(AttributeError):
        hpsearch.no_such_thing  # noqa: B018
