"""Growing a run (``resume --trials N``) and healing one (``resume --retry STATUSES``): both
exact, since trial i depends only on (seed, i); nothing already computed is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hpsearch

from .helpers import DROP, TRAINER, invoke, leaderboard, merged, one_line_error, run_json

FLAKY = '''
import os
from pathlib import Path


def objective(params, seed):
    """Fails the first time it sees a trial whose x is above 0.5 (a passing fault)."""
    marker = Path(os.environ["FLAKY_DIR"]) / f"seen-{params['x']!r}"
    first = not marker.exists()
    marker.touch()
    if first and params["x"] > 0.5:
        raise MemoryError("out of memory")
    return {"loss": (params["x"] - 0.3) ** 2 + 0.01 * params["k"]}
'''


def _trials(run_dir: Path | str) -> list[dict]:
    """trials.jsonl without times, by trial index (the last record of each)."""
    records = {}
    for line in (Path(run_dir) / "trials.jsonl").read_text().splitlines():
        record = json.loads(line)
        record.pop("seconds", None)
        records[record["trial"]] = record
    return [records[i] for i in sorted(records)]


def _files(run_dir: Path) -> dict[str, str]:
    return {
        p.name: p.read_text()
        for p in sorted(run_dir.iterdir())
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def flaky(tmp_path, make_config, monkeypatch):
    """A config of the flaky Python objective: it fails on a trial's first attempt only."""
    (tmp_path / "flaky.py").write_text(FLAKY)
    (tmp_path / "seen").mkdir()
    monkeypatch.setenv("FLAKY_DIR", str(tmp_path / "seen"))

    def make(**sections):
        base = {
            "name": "flaky",
            "seed": 5,
            "objective": {"python": "flaky:objective", "workdir": str(tmp_path)},
            "space": {
                "x": {"scale": "linear", "min": 0.0, "max": 1.0},
                "k": {"scale": "linear", "min": 1, "max": 4, "type": "int"},
            },
            "search": {"trials": 12, "metric": "loss", "direction": "minimize"},
            "run": {"backend": "sequential"},
        }
        return make_config(base=merged(base, sections))

    return make


@pytest.mark.slow
def test_a_grown_run_equals_a_run_started_with_that_many_trials(make_config, tmp_path):
    small = make_config("six", base=merged(TRAINER, {"search": {"trials": 6}}))
    grown = run_json("run", str(small))["run_dir"]
    doc = run_json("resume", grown, "--trials", "10")
    assert doc["run_dir"] == grown and doc["status"] == "complete"
    reference = run_json(
        "run", str(make_config("ten", base=merged(TRAINER, {"search": {"trials": 10}})))
    )
    assert _trials(grown) == _trials(reference["run_dir"])
    assert leaderboard(grown) == leaderboard(reference["run_dir"])
    summary = json.loads((Path(grown) / "summary.json").read_text())
    assert summary["trials_planned"] == 10 and summary["extended"][0]["from"] == 6
    shown = invoke("show", grown)
    assert "10 of 10 trials" in shown.stdout and "grown from 6 trials" in shown.stdout
    # Growing again to the same size runs nothing and changes no trial.
    before = _trials(grown)
    assert run_json("resume", grown, "--trials", "10")["trials_done"] == 10
    assert _trials(grown) == before
    # The API does the same.
    assert len(hpsearch.resume(grown, trials=12).trials) == 12


@pytest.mark.slow
def test_growing_a_search_grows_its_newest_round(make_config, tmp_path):
    def search(trials: int) -> str:
        config = make_config(f"z{trials}", base=merged(TRAINER, {"zoom": {"trials": trials}}))
        return run_json("run", str(config), "--rounds", "1")["run_dir"]

    small, large = search(3), search(6)  # 8 coarse trials, then 3 or 6
    doc = run_json("resume", small, "--trials", "14")
    assert doc["trials_done"] == 14 and [r["trials"] for r in doc["rounds"]] == [8, 6]
    assert _trials(small) == _trials(large)
    assert leaderboard(small) == leaderboard(large)
    # Fewer than the trials already run (up to trial 13) is refused, and nothing changes.
    before = _files(Path(small))
    one_line_error(invoke("resume", small, "--trials", "10"), "--trials", "give at least 14")
    assert _files(Path(small)) == before


@pytest.mark.slow
def test_growing_is_one_write_and_a_kill_after_it_is_finished_on_resume(make_config):
    from hpsearch.store import RunStore

    config = make_config("six", base=merged(TRAINER, {"search": {"trials": 6}}))
    run_dir = Path(run_json("run", str(config))["run_dir"])
    store = RunStore.open(run_dir)
    (first,) = store.load_rounds(store.config().space)
    store.append_round(first.grown(9))  # killed right after: the summary still says 6
    doc = run_json("resume", str(run_dir))
    assert doc["trials_done"] == 9 and doc["trials_planned"] == 9
    reference = make_config("nine", base=merged(TRAINER, {"search": {"trials": 9}}))
    assert _trials(run_dir) == _trials(run_json("run", str(reference))["run_dir"])


def test_retrying_failed_trials_heals_the_run_and_keeps_the_failed_attempts(flaky):
    config = flaky()
    doc = run_json("run", str(config))
    run_dir = Path(doc["run_dir"])
    failed = [r for r in _trials(run_dir) if r["status"] == "failed"]
    assert failed and all("out of memory" in r["error"] for r in failed)
    result = invoke("resume", str(run_dir), "--retry", "failed")
    assert result.exit_code == 0, result.output
    assert f"retrying {len(failed)} trials" in result.output
    assert [a["trial"] for a in hpsearch.load_run(run_dir).attempts()] == [
        r["trial"] for r in failed
    ]
    healed = _trials(run_dir)
    assert [r["status"] for r in healed] == ["ok"] * 12
    # The same seeds and values as the failed attempts, which are all still on disk.
    attempts = [json.loads(line) for line in (run_dir / "attempts.jsonl").read_text().splitlines()]
    assert [a["trial"] for a in attempts] == [r["trial"] for r in failed]
    for attempt, before in zip(attempts, failed, strict=True):
        assert attempt["status"] == "failed" and attempt["seed"] == before["seed"]
        assert attempt["params"] == healed[attempt["trial"]]["params"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["retried"] == {"trials": len(failed), "attempts": len(failed)}
    assert summary["counts"]["ok"] == 12
    assert f"{len(failed)} trials retried" in invoke("show", str(run_dir)).stdout
    # A run where nothing failed has the same trials and leaderboard.
    clean = Path(run_json("run", str(flaky(name="clean")))["run_dir"])
    assert _trials(clean) == healed and leaderboard(clean) == leaderboard(run_dir)
    # Nothing left to retry: said, and nothing changes.
    again = invoke("resume", str(run_dir), "--retry", "failed,timeout")
    assert again.exit_code == 0 and "no failed or timeout trials to retry" in again.output
    assert _trials(run_dir) == healed


def test_a_retry_killed_mid_move_keeps_each_attempt_once(flaky, monkeypatch):
    from hpsearch.errors import StorageError
    from hpsearch.store import RunStore
    from hpsearch.store import attempts as store_module

    run_dir = Path(run_json("run", str(flaky()))["run_dir"])
    failed = {r["trial"] for r in _trials(run_dir) if r["status"] == "failed"}
    before = (run_dir / "trials.jsonl").read_text()
    real = store_module.atomic_write

    def dies_on_trials(path, text):  # the kill: after the attempts were synced
        if Path(path).name == "trials.jsonl":
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(store_module, "atomic_write", dies_on_trials)
    with pytest.raises(StorageError):
        RunStore.open(run_dir).set_aside(failed)
    monkeypatch.setattr(store_module, "atomic_write", real)
    assert (run_dir / "trials.jsonl").read_text() == before
    assert (run_dir / "attempts.pending").exists()
    assert invoke("resume", str(run_dir), "--retry", "failed").exit_code == 0
    attempts = (run_dir / "attempts.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["trial"] for line in attempts) == sorted(failed)
    assert not (run_dir / "attempts.pending").exists()
    assert all(r["status"] == "ok" for r in _trials(run_dir))


def test_a_trial_that_fails_alike_twice_keeps_both_attempts(python_failing):
    result = invoke("run", str(python_failing), "--json", "--quiet")
    assert result.exit_code == 1  # every trial failed
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    failed = [r["trial"] for r in _trials(run_dir) if r["status"] == "failed"]
    for _ in range(2):
        assert invoke("resume", str(run_dir), "--retry", "failed").exit_code == 1
    attempts = (run_dir / "attempts.jsonl").read_text().splitlines()
    assert len(attempts) == 2 * len(failed)
    assert (
        f"{len(failed)} trials retried ({2 * len(failed)} earlier attempts"
        in invoke("show", str(run_dir)).stdout
    )


@pytest.fixture
def python_failing(tmp_path, make_config):
    """Every trial fails the same way, in no time: identical records attempt after attempt."""
    (tmp_path / "always.py").write_text(
        "def objective(params, seed):\n    raise RuntimeError('always')\n"
    )
    return make_config(
        "always",
        base={
            "objective": {"python": "always:objective", "workdir": str(tmp_path)},
            "space": {"x": {"scale": "linear", "min": 0.0, "max": 1.0}},
            "search": {"trials": 4, "metric": "loss", "direction": "minimize"},
            "run": {"backend": "sequential"},
        },
    )


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--retry", "bogus"], ["--retry", "unknown status 'bogus'", "failed"]),
        (["--retry", "stopped"], ["--retry", "early stopping"]),
        (["--retry", ","], ["--retry", "got nothing"]),
        (["--trials", "3"], ["--trials", "below the trials", "at least 12"]),
        (["--trials", "0"], ["--trials"]),
    ],
)
def test_bad_growing_and_healing_options_change_nothing(flaky, args, fragments):
    run_dir = Path(run_json("run", str(flaky()))["run_dir"])
    before = _files(run_dir)
    one_line_error(invoke("resume", str(run_dir), *args), *fragments)
    assert _files(run_dir) == before


@pytest.mark.slow
def test_growing_a_budget_or_early_stopping_search_is_refused(flaky, make_config):
    budget = run_json("run", str(flaky(search={"trials": DROP, "budget": 12})))["run_dir"]
    halving = make_config(
        "halving", base=merged(TRAINER, {"early_stop": {"method": "halving", "min_epochs": 1}})
    )
    stopped = run_json("run", str(halving))["run_dir"]
    for run_dir, fragment in ((budget, "search with a budget"), (stopped, "early stopping")):
        before = _files(Path(run_dir))
        for flag in (["--trials", "40"], ["--retry", "failed"]):
            one_line_error(invoke("resume", run_dir, *flag), fragment, flag[0])
        assert _files(Path(run_dir)) == before


@pytest.mark.slow
def test_a_complete_run_being_grown_is_no_longer_marked_complete(make_config):
    config = make_config("six", base=merged(TRAINER, {"search": {"trials": 6}}))
    run_dir = Path(run_json("run", str(config))["run_dir"])
    session = hpsearch.start_resume(run_dir, trials=9)
    # Before the first new trial: a look meanwhile (or after a kill -9) must not say complete.
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "running"
    outcome = session.run()
    assert outcome.summary["status"] == "complete" and outcome.summary["trials_done"] == 9


@pytest.mark.slow
@pytest.mark.parametrize("extended", [5, {"a": 1}, ["x"], [{"from": "?", "to": None}]])
def test_a_hand_edited_extended_field_never_stops_a_resume(make_config, extended):
    config = make_config("six", base=merged(TRAINER, {"search": {"trials": 6}}))
    run_dir = Path(run_json("run", str(config))["run_dir"])
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "extended": extended}))
    assert run_json("resume", str(run_dir))["trials_done"] == 6
    assert run_json("resume", str(run_dir), "--trials", "7")["trials_done"] == 7


def test_an_unreadable_attempts_file_is_history_not_a_failure(flaky):
    run_dir = Path(run_json("run", str(flaky()))["run_dir"])
    (run_dir / "attempts.jsonl").write_bytes(b"\xff\xfe not text")
    doc = run_json("resume", str(run_dir), "--trials", "14")
    assert doc["status"] == "complete" and doc["trials_done"] == 14
    # Adding to it is refused before anything runs.
    before = (run_dir / "trials.jsonl").read_text()
    one_line_error(invoke("resume", str(run_dir), "--retry", "failed"), "attempts.jsonl")
    assert (run_dir / "trials.jsonl").read_text() == before


def test_retrying_ok_trials_is_explained(flaky):
    run_dir = Path(run_json("run", str(flaky()))["run_dir"])
    one_line_error(invoke("resume", str(run_dir), "--retry", "ok"), "'ok' trials need no retry")
