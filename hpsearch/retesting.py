"""Re-testing a run's winners: the same settings with fresh seeds (or on other data), to tell
a good setting from a lucky draw. Saved as a run of its own, linked to the one it re-tests."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsearch import interrupts
from hpsearch.analysis import Retested, retest_summary
from hpsearch.config import Config
from hpsearch.data.sources import BUILT_IN, DataConfig
from hpsearch.errors import NoOkTrial, UserError
from hpsearch.events import Notice, Subscriber, TrialFinished, ignore
from hpsearch.leaderboard import results_of
from hpsearch.record import TrialRecord
from hpsearch.sampling import Trial, retest_seed
from hpsearch.store import RunStore


@dataclass
class RetestPlan:
    """What a re-test will run, checked, before anything is written."""

    of: Any  # the search re-tested (hpsearch.runs.Run)
    original: Config
    config: Config  # the re-test's: the winners' settings, maybe other data
    winners: list[TrialRecord]  # best first
    seeds: int
    data_source: str | None
    data_seed: int | None
    notices: list[Notice] = field(default_factory=list)

    @property
    def trials(self) -> list[Trial]:
        return [
            Trial(k * self.seeds + j, dict(w.params), retest_seed(w.seed or 0, j))
            for k, w in enumerate(self.winners)
            for j in range(self.seeds)
        ]

    @property
    def other_data(self) -> bool:
        return self.data_source is not None or self.data_seed is not None

    def run(self, subscriber: Subscriber | None = None) -> RetestOutcome:
        """Run the re-test (``run_retest``)."""
        return run_retest(self, subscriber)


@dataclass
class RetestOutcome:
    status: str  # complete | interrupted
    run_dir: Path
    summary: dict[str, Any]
    rows: list[Retested]
    holds: bool  # the original ranking holds
    stopped: BaseException | None = None
    error: UserError | None = None


def plan_retest(
    source: Any,
    *,
    top: int = 3,
    seeds: int = 5,
    data_source: str | None = None,
    data_seed: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
) -> RetestPlan:
    """Check what a re-test of ``source``'s best ``top`` trials (over every round of the
    search) with ``seeds`` fresh seeds each would run (``data_source`` / ``data_seed``: on
    other built-in data, or a fresh draw)."""
    config = source.config
    if top < 1 or seeds < 2:
        raise UserError(f"a re-test needs top >= 1 and seeds >= 2, got top={top}, seeds={seeds}")
    winners = config.search.goal.top(source.trials, top)
    if not winners:
        raise NoOkTrial(f"{source.path}: no ok trial to re-test")
    notices = []
    if len(winners) < top:
        notices.append(
            Notice(
                f"warning: only {len(winners)} ok trials, fewer than --top {top}: re-testing those",
                warning=True,
            )
        )
    new = config
    if data_source is not None or data_seed is not None:
        if not config.objective.is_builtin:
            raise UserError(
                "--data-source and --data-seed apply to the built-in trainer; "
                "a Python or command objective loads its own data"
            )
        if data_source is not None and data_source not in BUILT_IN:
            raise UserError(
                f"--data-source: expected spirals, blobs or digits, got '{data_source}'"
            )
        data = config.data if data_source is None else DataConfig(source=data_source)
        if data_source == "digits":
            data = DataConfig("digits", None, None, None, None, 0.2)
        seed = data_seed if data_seed is not None else config.data_seed
        new = dataclasses.replace(config, data=dataclasses.replace(data, seed=seed))
    new = dataclasses.replace(
        new,
        search=dataclasses.replace(new.search, budget=None),
        zoom=dataclasses.replace(new.zoom, rounds=0),
    )
    new = new.with_overrides(
        trials=len(winners) * seeds, runs_dir=str(source.path.parent), jobs=jobs, backend=backend
    )
    return RetestPlan(source, config, new, winners, seeds, data_source, data_seed, notices)


def run_retest(plan: RetestPlan, subscriber: Subscriber | None = None) -> RetestOutcome:
    """Train every winner with its fresh seeds, in parallel; the verdict per winner."""
    from hpsearch.objectives import build_objective
    from hpsearch.runner import require_run, shutdown_workers, trials_on

    emit = subscriber or ignore
    new = plan.config
    require_run(new.run)
    objective = build_objective(new)
    store = RunStore.create(new, new.run.runs_dir, parent=plan.of.run_id, kind="retest")
    trials = plan.trials
    owner = {t.index: plan.winners[t.index // plan.seeds].trial for t in trials}
    results: dict[int, list[TrialRecord]] = {}
    started = time.perf_counter()
    status, stopped, error = "complete", None, None
    try:
        with interrupts.stop_on_signals():
            for notice in plan.notices:
                emit(notice)
            emit(
                Notice(
                    f"re-testing the top {len(plan.winners)} of {plan.of.run_id} with "
                    f"{plan.seeds} fresh seeds each ({len(trials)} trainings)"
                )
            )
            for record in trials_on(new.run, objective, trials, new.trial_timeout):
                store.append(record)
                results.setdefault(owner[record.trial], []).append(record)
                emit(TrialFinished(record, 0, store.run_id))
    except KeyboardInterrupt as exc:
        status, stopped = "interrupted", exc
    except UserError as exc:  # a full disk: stop, keep what is on disk
        status, error = "interrupted", exc
    finally:
        shutdown_workers()
        with contextlib.suppress(OSError, UserError):
            store.close()
    goal = plan.original.search.goal
    if error is not None:
        return RetestOutcome(status, store.path, {"status": status}, [], False, stopped, error)
    rows, holds = retest_summary(plan.winners, results, goal, same_data=plan.data_source is None)
    verdict = {
        "of": plan.of.run_id,
        "seeds": plan.seeds,
        "ranking_holds": holds,
        "data": new.to_dict()["data"] if plan.other_data else None,
        "winners": [dict(r.__dict__) for r in rows],
    }
    everything = [r for recs in results.values() for r in recs]
    final = store.write_results(
        results_of(new, everything),
        status=status,
        wall_time=time.perf_counter() - started,
        extra={"retest": verdict},
    )
    return RetestOutcome(status, store.path, final, rows, holds, stopped)
