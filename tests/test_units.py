"""Direct tests of the pieces a search is made of: the rung scheduler, the session, the lock
and growing. Each drives the piece through its own interface, without the command line."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch.config import parse_config
from hpsearch.errors import ConfigError, RunError
from hpsearch.events import (
    Notice,
    RoundFinished,
    RoundStarted,
    SearchFinished,
    SearchStarted,
    TrialFinished,
)
from hpsearch.growing import check_growable, grown, retry_statuses
from hpsearch.history import History
from hpsearch.lock import RunLock
from hpsearch.record import TrialRecord
from hpsearch.rounds import Round, first_round
from hpsearch.sampling import WAIT, Trial
from hpsearch.scheduling import FullTraining, RungScheduler, scheduler_for
from hpsearch.search import start_search
from hpsearch.session import SearchSession

SPACE_DOC = {"x": {"scale": "linear", "min": 0.0, "max": 1.0}}


def config(**sections):
    doc = {
        "objective": {"python": "m:f"},
        "space": SPACE_DOC,
        "search": {"trials": 9, "metric": "loss", "direction": "minimize"},
    }
    for key, value in sections.items():
        doc[key] = {**doc.get(key, {}), **value}
    return parse_config(doc)


# -- the rung scheduler ---------------------------------------------------------------------------

HALVING = {"method": "halving", "min_epochs": 1, "eta": 3, "max_epochs": 9}


def loss_of(trial: int, epochs: int) -> float:
    """A fixed learning curve per trial: the lower the trial's x-like key, the better."""
    return ((trial * 7) % 9) / (1 + epochs)


def drive(scheduler, order_seed: int | None) -> list[TrialRecord]:
    """Run a scheduler to the end with a fake pool of 3 workers that finishes trainings in an
    order shuffled by ``order_seed`` (None: in the order they were handed out)."""
    rng = random.Random(order_seed)
    jobs, running, finals = scheduler.jobs(), [], []
    exhausted = False
    while True:
        while len(running) < 3 and not exhausted:
            job = next(jobs, None)
            if job is None:
                exhausted = True
            elif job is WAIT:
                break
            else:
                running.append(job)
        if not running:
            if exhausted:
                return finals
            continue
        pick = running.pop(rng.randrange(len(running)) if order_seed is not None else 0)
        record = TrialRecord(
            pick.index,
            pick.params,
            pick.seed,
            "ok",
            {"loss": loss_of(pick.index, pick.budget)},
            epochs=pick.budget,
            round=pick.round,
        )
        result, decided = scheduler.accept(record)
        assert result is not None and result.record.trial == pick.index
        finals += decided


def test_the_rung_scheduler_decides_the_same_whatever_the_order_results_arrive_in():
    cfg = config(early_stop=HALVING)
    round_ = first_round(cfg.space, cfg.seed, 9, "random", "")

    def draw(i: int) -> Trial:
        return round_.draw(cfg.space, i)

    outcomes = set()
    for order in (None, 1, 2, 3):
        scheduler = RungScheduler(cfg, round_, draw, lambda i: None, [])
        finals = drive(scheduler, order)
        outcomes.add(tuple(sorted((r.trial, r.status, r.epochs) for r in finals)))
    (finals,) = outcomes  # one outcome for every arrival order
    assert len(finals) == 9
    assert [r for r in finals if r[1] == "ok"] == [(0, "ok", 9)]  # trial 0 has the best curve
    assert sum(r[1] == "stopped" for r in finals) == 8


def test_the_rung_scheduler_resumes_from_the_results_on_disk():
    cfg = config(early_stop=HALVING)
    round_ = first_round(cfg.space, cfg.seed, 9, "random", "")
    draw = lambda i: round_.draw(cfg.space, i)  # noqa: E731
    whole = RungScheduler(cfg, round_, draw, lambda i: None, [])
    seen = []
    original_accept = whole.accept

    def keep(record):
        result, decided = original_accept(record)
        seen.append(result)
        return result, decided

    whole.accept = keep  # type: ignore[method-assign]
    expected = sorted((r.trial, r.status) for r in drive(whole, 5))
    # Killed after 10 rung trainings: a new scheduler rebuilt from those goes on alike.
    again = RungScheduler(cfg, round_, draw, lambda i: None, seen[:10])
    rest = drive(again, 6)
    assert sorted((r.trial, r.status) for r in again.finals + rest) == expected
    assert again.count > 0


def test_full_training_draws_each_missing_trial_in_index_order():
    cfg = config()
    round_ = first_round(cfg.space, cfg.seed, 5, "random", "")
    scheduler = scheduler_for(
        cfg, round_, iter([1, 3, 4]), 3, lambda i: round_.draw(cfg.space, i), lambda i: None, []
    )
    assert isinstance(scheduler, FullTraining) and scheduler.count == 3
    assert [t.index for t in scheduler.jobs()] == [1, 3, 4]
    record = TrialRecord(1, {"x": 0.5}, 0, "ok", {"loss": 1.0})
    assert scheduler.accept(record) == (None, [record])


# -- the session ----------------------------------------------------------------------------------


@pytest.fixture
def objective_dir(tmp_path, monkeypatch):
    (tmp_path / "quad.py").write_text("def f(params, seed):\n    return (params['x'] - 0.3) ** 2\n")
    return tmp_path


def session_config(tmp_path: Path, **zoom):
    return parse_config(
        {
            "objective": {"python": "quad:f", "workdir": str(tmp_path)},
            "space": SPACE_DOC,
            "search": {"trials": 4, "metric": "loss", "direction": "minimize"},
            "zoom": {"trials": 3, **zoom},
            "run": {"backend": "sequential", "runs_dir": str(tmp_path / "runs")},
        }
    )


def test_the_session_tells_its_rounds_in_order(objective_dir):
    events = []
    search = start_search(session_config(objective_dir, rounds=2))
    outcome = SearchSession(search).run(events.append)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SearchStarted" and kinds[-1] == "SearchFinished"
    started = [e for e in events if isinstance(e, RoundStarted)]
    assert [(s.round.number, s.new, s.to_go) for s in started] == [
        (0, False, 4),
        (1, True, 3),
        (2, True, 3),
    ]
    # Each round's trials come between its start and its end, numbered on from the last.
    trials = [(e.round, e.record.trial) for e in events if isinstance(e, TrialFinished)]
    assert [t for _, t in trials] == list(range(10))
    assert [r for r, _ in trials] == [0] * 4 + [1] * 3 + [2] * 3
    finished = [e.round for e in events if isinstance(e, RoundFinished)]
    assert finished == [0, 1, 2]
    assert isinstance(events[0], SearchStarted) and events[0].total == 10
    assert isinstance(events[-1], SearchFinished) and outcome.status == "complete"
    assert outcome.summary["best"]["trial"] == outcome.ranked[0].trial
    assert search.lock is None  # released at the end


def test_a_strategy_with_nothing_left_to_zoom_ends_the_search_with_a_notice(objective_dir):
    (objective_dir / "quad.py").write_text("def f(params, seed):\n    return float('nan')\n")
    events = []
    outcome = SearchSession(start_search(session_config(objective_dir, rounds=2))).run(
        events.append
    )
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert "no ok trial to zoom on: no more rounds" in notices
    assert outcome.status == "complete" and len(outcome.rounds) == 1


def test_a_ctrl_c_in_the_subscriber_leaves_a_resumable_search(objective_dir):
    from hpsearch.search import resume_search

    def stop(event):
        if isinstance(event, TrialFinished) and event.record.trial == 5:
            raise KeyboardInterrupt

    search = start_search(session_config(objective_dir, rounds=2))
    outcome = SearchSession(search).run(stop)
    assert outcome.status == "interrupted" and isinstance(outcome.stopped, KeyboardInterrupt)
    resumed = resume_search(search.store).search
    assert [resumed.history.to_go(r) for r in resumed.history.rounds] == [0, 1]
    done = SearchSession(resumed).run()
    assert done.status == "complete" and len(done.ranked) == 10


# -- the lock -------------------------------------------------------------------------------------


def test_one_driver_per_run_and_a_dead_ones_lock_is_taken_over(tmp_path):
    held = RunLock(tmp_path).acquire()
    with pytest.raises(RunError, match=f"in use by another hpsearch \\(pid {os.getpid()}"):
        RunLock(tmp_path).acquire()
    assert not RunLock.driver_gone(tmp_path)  # its driver is this process, alive
    held.release()
    again = RunLock(tmp_path).acquire()  # free again
    again.release()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    (tmp_path / ".lock").write_text(
        json.dumps({"pid": pid, "host": socket.gethostname(), "token": f"{pid}x0123456789ab"})
    )
    assert RunLock.driver_gone(tmp_path)  # a killed driver: show/list say "stopped"
    RunLock(tmp_path).acquire().release()  # and its lock is no obstacle


def test_a_lock_that_is_a_link_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("not a lock\n")
    (tmp_path / ".lock").symlink_to(target)
    with pytest.raises(RunError, match="cannot lock the run"):
        RunLock(tmp_path).acquire()
    assert target.read_text() == "not a lock\n"


# -- growing --------------------------------------------------------------------------------------


def history_of(trials: int, done: int, rounds: int = 1) -> History:
    cfg = config()
    history = History(cfg, [first_round(cfg.space, 0, trials, "random", "")])
    for r in range(1, rounds):
        history.add_round(Round(r, history.next_index, 2, r, history.rounds[0].region))
    for i in range(done):
        owner = history.round_of(i)
        history.add(TrialRecord(i, {"x": 0.5}, 0, "ok", {"loss": 1.0}, round=owner.number))
    return history


def test_growing_changes_only_the_newest_round_and_never_drops_a_trial_that_ran():
    history = history_of(6, 6, rounds=3)  # rounds of 6, 2, 2: trials 0-9
    for i in range(6, 8):
        history.add(TrialRecord(i, {"x": 0.5}, 0, "ok", {"loss": 1.0}, round=1))
    last = grown(history, 15, "RUN")
    assert last is not None and (last.number, last.first, last.trials) == (2, 8, 7)
    assert last.grown_from == 2
    assert grown(history, 10, "RUN") is None  # as many as it has: nothing to do
    trimmed = grown(history, 9, "RUN")  # the newest round's unrun end
    assert trimmed is not None and trimmed.trials == 1
    with pytest.raises(ConfigError, match="give at least 9"):
        grown(history, 8, "RUN")  # round 2 starts at trial 8
    with pytest.raises(ConfigError, match="positive integer"):
        grown(history, 0, "RUN")


def test_what_may_be_grown_or_retried():
    assert retry_statuses("failed, timeout") == ("failed", "timeout")
    assert retry_statuses("all") == ("diverged", "failed", "timeout")
    for bad, message in (("ok", "need no retry"), ("stopped", "stopped again"), ("x", "unknown")):
        with pytest.raises(ConfigError, match=message):
            retry_statuses(bad)
    with pytest.raises(RunError, match="budget"):
        check_growable(config(search={"budget": 20, "trials": 4}), "RUN", "--trials")
    with pytest.raises(RunError, match="early stopping"):
        check_growable(config(early_stop=HALVING), "RUN", "--retry")
    check_growable(config(), "RUN", "--trials")  # a plain search may grow
