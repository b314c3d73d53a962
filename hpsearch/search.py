"""A search on disk, driven: its run directory (held under the lock), what it has done
(``History``), the objective its trials run and the strategy that chooses its rounds.

``start_search`` makes the run directory with its first round; ``resume_search`` reopens one
(same config, a torn line repaired, grown or healed on request). ``Search.open_round`` writes
a new round to the run before any of its trials; ``Search.run_round`` runs a round's missing
trials and yields each record once it is on disk; ``Search.finish`` writes the results. The
whole loop over rounds, with its events and interruptions, is ``hpsearch.session``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpsearch.config import Config
from hpsearch.errors import ConfigError, RunError
from hpsearch.halving import NotInRung
from hpsearch.history import History
from hpsearch.leaderboard import results_of
from hpsearch.lock import RunLock
from hpsearch.objectives import Objective, build_objective, misses_metric
from hpsearch.record import TrialRecord
from hpsearch.rounds import Round
from hpsearch.rungs import RungResult
from hpsearch.runner import trials_on
from hpsearch.sampling import Trial
from hpsearch.scheduling import scheduler_for
from hpsearch.store import RunStore, read_history
from hpsearch.store.timeline import TimelineLog
from hpsearch.strategies import Proposal, Strategy, strategy_for

METRIC_CHECK = 5  # trials that all miss the metric before a search stops


class MetricMissing(ConfigError):
    """The objective does not report the config's metric: every trial would fail."""


@dataclass
class Search:
    config: Config
    store: RunStore
    history: History
    objective: Objective
    strategy: Strategy
    lock: RunLock | None = None  # held from start (or resume) to finish
    previous_wall_time: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    retried: list[int] = field(default_factory=list)  # trials set aside to run again
    scheduler: Any = None  # the current round's trial scheduler, for its progress
    timeline: TimelineLog | None = None  # when and where each training ran
    deadline: Any = None  # hpsearch.timebudget.Deadline: no trial handed out after it
    summary_extra: dict[str, Any] = field(default_factory=dict)  # the session's notes

    @property
    def run_id(self) -> str:
        return self.store.run_id

    def draw(self, index: int) -> Trial:
        """Trial ``index`` of the search, drawn in its round's region."""
        owner = self.history.round_of(index)
        assert owner is not None
        return owner.draw(self.config.space, index)

    def open_round(self, proposal: Proposal, origin: str = "plan") -> Round:
        """Turn a strategy's proposal into the search's next round, on disk before any of
        its trials."""
        new = Round(
            number=len(self.history.rounds),
            first=self.history.next_index,
            trials=proposal.trials,
            seed=proposal.seed,
            region=proposal.region,
            strategy=proposal.strategy,
            origin=origin,
            anchors=proposal.anchors,
            radius=proposal.radius,
            notes=dict(proposal.notes),
            summary=proposal.summary,
            points=proposal.points,
        )
        try:  # what reading it back would refuse is never written (a bad API value, say)
            Round.from_json(json.loads(json.dumps(new.to_json())), self.config.space)
        except (ValueError, TypeError) as problem:
            raise RunError(f"round {new.number}: {problem}") from None
        self.store.append_round(new)
        self.history.add_round(new)
        # A look meanwhile (or after a kill) must see a search with trials to go, not the
        # complete summary of the rounds before.
        planned = self.strategy.planned(self.history)
        summary = self.store.summary()
        self.store.write_summary(
            {**summary, "status": "running", "trials_planned": max(planned, self.history.planned)}
        )
        return new

    def rounds_to_come(self) -> bool:
        """Whether the search's own strategy still has rounds to run (a search interrupted
        before its plan was through)."""
        return self.strategy.planned(self.history) > self.history.planned

    def run_round(self, round_: Round, **where: Any) -> Iterator[TrialRecord | RungResult]:
        """Run the round's missing trials; yield each record once it is written. Trials are
        drawn as workers ask for them, so a million trials start at once. With early
        stopping, each rung training's result is yielded too, and a trial's record once it
        is final (stopped, failed or trained fully). ``where``: the command's flags for where
        trials run (``jobs``, ``backend``, ``scheduler``, ``cluster``, ``scheduler_file``)."""
        cfg = self.config
        given = {k: v for k, v in where.items() if v is not None}
        run = cfg.with_overrides(**given).run if given else cfg.run
        missing = self.history.missing(round_)
        to_go = self.history.to_go(round_)
        earlier = [
            r
            for r in self.store.rungs.load(repair=True, space=cfg.space)
            if r.record.round == round_.number
        ]
        try:
            trials = self.scheduler = scheduler_for(
                cfg,
                round_,
                missing,
                to_go,
                self.draw,
                lambda i: str(self.store.checkpoint_dir(i)),
                earlier,
            )
        except NotInRung as exc:
            raise RunError(
                f"{self.store.rungs.path}:{exc.result.line}: {exc}; delete that line"
            ) from None
        for final in getattr(trials, "finals", []):  # implied by rung results already on disk
            self._keep(final)
        if self.timeline is None:
            self.timeline = TimelineLog(self.store.path)
        stream = trials_on(
            run,
            self.objective,
            _dispatched(trials.jobs(), self.timeline, self.deadline),  # WAIT: the runner knows
            cfg.trial_timeout,
            trials.count,
        )
        # A metric the objective never reports fails every trial: stop once the first few
        # trials (by index, so whatever order they finish in) all missed it.
        watched = (
            set()
            if cfg.objective.is_builtin or any(r.ok for r in self.history.by_trial.values())
            else set(itertools.islice(self.history.missing(round_), METRIC_CHECK))
        )
        first: dict[int, TrialRecord] = {}
        try:
            for record in stream:
                self.timeline.returned(record)
                result, finals = trials.accept(record)
                if result is not None:
                    self.store.rungs.append(result.to_json())
                for final in finals:  # on disk before anyone hears of the rung
                    self._keep(final)
                if result is not None:
                    yield result
                if record.trial in watched and record.trial not in first:
                    first[record.trial] = record
                    seen = list(first.values())
                    if len(seen) == len(watched) and all(
                        misses_metric(r, cfg.search.metric) for r in seen
                    ):
                        raise MetricMissing(_missing_metric_message(cfg, seen))
                yield from finals
        finally:
            stream.close()  # stops the workers at once if the search stops early

    def _keep(self, record: TrialRecord) -> None:
        if record.trial in self.history.by_trial:  # on disk already (a rung line lost)
            return
        self.store.append(record)
        self.history.add(record)
        # A flag test, not the plan: this runs for every record of every search.
        if self.config.early_stop.on and not self.config.early_stop.keep_checkpoints:
            self.store.remove_checkpoints(record.trial)  # it will not train again

    def finish(self, status: str, release: bool = True) -> dict[str, Any]:
        """Flush the trials and write leaderboard, best.yaml and the summary of the whole
        search; release the run directory (unless ``release`` is false)."""
        try:
            self.store.close()
            if status == "complete" and not self.config.early_stop.keep_checkpoints:
                self.store.remove_checkpoints()
            records = self.history.records
            extra: dict[str, Any] = {
                "rounds": [info.to_json() for info in self.history.infos()],
                "trials_planned": self.strategy.planned(self.history),
                "strategy": self.strategy.name,
            }
            extra.update(self.summary_extra)
            attempts = self.store.attempts.load()
            if attempts:  # a retried run: how many trials ran again, how many tries were kept
                extra["retried"] = {
                    "trials": len({a["trial"] for a in attempts}),
                    "attempts": len(attempts),
                }
            if self.config.early_stop.on:  # what early stopping saved, for a CI job's JSON
                full = self.config.full_budget or 0
                extra["early_stop"] = {
                    "method": self.config.early_stop.method,
                    "stopped": sum(r.status == "stopped" for r in records),
                    "epochs": sum(r.epochs or 0 for r in records),
                    "epochs_full": len(records) * full,
                }
            wall = self.previous_wall_time + time.perf_counter() - self.started
            return self.store.write_results(
                results_of(self.config, records), status=status, wall_time=wall, extra=extra
            )
        finally:
            if release:
                self.release()

    def release(self) -> None:
        if self.timeline is not None:
            self.timeline.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _dispatched(jobs: Iterator[Any], timeline: TimelineLog, deadline: Any) -> Iterator[Trial]:
    for job in jobs:
        if deadline is not None and deadline.passed():
            return  # the time budget is spent: what runs finishes, nothing more starts
        if isinstance(job, Trial):
            timeline.dispatched(job.index, job.round)
        yield job


def _missing_metric_message(config: Config, first: list[TrialRecord]) -> str:
    metric = config.search.metric
    return (
        f"search.metric: the objective does not report '{metric}': its first {len(first)} "
        f"trials all failed for it ({first[0].error}); set search.metric to a name it "
        "reports, then start a new run"
    )


def start_search(
    config: Config, *, objective: Objective | None = None, warm_flag: str = "search.warm_start"
) -> Search:
    """Check the data, then create the run directory with the strategy's first round (and a
    warm start's trials; ``warm_flag`` names where the user gave it)."""
    from hpsearch.runner import require_run
    from hpsearch.warmstart import warm_records

    require_run(config.run)
    warm = warm_records(config, warm_flag) if config.search.warm_start else None
    objective = objective or build_objective(config)
    strategy = strategy_for(config)
    proposal = strategy.first()
    first = Round(
        0,
        0,
        proposal.trials,
        proposal.seed,
        proposal.region,
        proposal.strategy,
        summary=proposal.summary,
    )
    history = History(config, [first])
    history.prior = tuple(warm[1]) if warm else ()
    store = RunStore.create(
        config,
        config.run.runs_dir,
        first=first,
        planned=strategy.planned(history),
        locked=True,
        warm=warm,
    )
    return Search(config, store, history, objective, strategy, lock=store.lock)


@dataclass
class Resumed:
    search: Search
    torn: str | None  # a torn last line that was set aside
    grown_from: int | None = None  # the trials the search had before --trials grew it


def resume_search(
    store: RunStore,
    objective: Objective | None = None,
    *,
    trials: int | None = None,
    retry: Sequence[str] = (),
) -> Resumed:
    """Reopen a search: same config (refused if config.yaml was edited), same seeds.
    ``trials``: grow the search to that many trials in all, its newest round taking the new
    ones; ``retry``: run the trials of those statuses again (``hpsearch.growing``)."""
    from hpsearch import growing
    from hpsearch.store import now

    config = store.config()
    summary = store.summary()
    if store.kind != "search":
        what = "a re-test" if store.kind == "retest" else "a one-model (train) run"
        command = "hpsearch retest" if store.kind == "retest" else "hpsearch train"
        raise RunError(f"{store.path}: {what} cannot be resumed; run {command} again")
    _check_unchanged(store, config, summary)
    for flag, wanted in (("--trials", trials is not None), ("--retry", bool(retry))):
        if wanted:
            growing.check_growable(config, str(store.path), flag)
    lock = RunLock(store.path).acquire()  # before repairing: no other driver writes here
    try:
        store.attempts.recover()  # a retry killed mid-move: finished or undone, never doubled
        loaded = store.load_trials(repair=True, space=config.space)
        history = read_history(store, config, loaded.records, repair=True)
        objective = objective or build_objective(config)  # its errors come before any write
        strategy = strategy_for(config)
        grown_from = None
        if trials is not None and strategy.planned(history) > history.planned:
            raise RunError(
                f"{store.path}: --trials: its rounds are not all there yet "
                f"({strategy.planned(history)} trials planned); resume it first, then grow it"
            )
        if trials is not None:
            last = growing.grown(history, trials, store.run_id)
            if last is not None:
                grown_from = history.planned
                store.append_round(last)
                history.add_round(last)
                changes = summary.get("extended")
                kept = (
                    [e for e in changes if isinstance(e, dict)] if isinstance(changes, list) else []
                )
                summary = {
                    **summary,
                    "trials_planned": history.planned,
                    "extended": [*kept, {"from": grown_from, "to": history.planned, "at": now()}],
                }
                store.write_summary(summary)
        again = growing.to_retry(history.records, retry)
        if again:
            store.set_aside(again)
            history.forget(again)
        if history.unfinished() and summary.get("status") == "complete":
            # More to run: a look at it meanwhile (or after a kill) must not say complete.
            store.write_summary({**store.summary(), "status": "running"})
    except BaseException:
        lock.release()
        raise
    search = Search(
        config,
        store,
        history,
        objective,
        strategy,
        lock=lock,
        previous_wall_time=float(summary.get("wall_time") or 0.0),
        retried=sorted(again),
    )
    return Resumed(search, loaded.torn, grown_from)


def _check_unchanged(store: RunStore, config: Config, summary: Mapping[str, Any]) -> None:
    original = summary.get("config")
    current = config.to_dict(absolute_paths=True)
    if original is not None and _plain(original) != _plain(current):
        changes = "; ".join(_differences(original, current))
        raise RunError(
            f"{store.path / 'config.yaml'}: changed since the run started ({changes}); "
            "resuming would mix two searches. Start a new run with the new config."
        )


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data))


def _differences(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"{where} removed")
            elif key not in old:
                out.append(f"{where} added")
            else:
                out += _differences(old[key], new[key], where)
        return out
    return [] if _plain(old) == _plain(new) else [f"{path}: {old!r} -> {new!r}"]
