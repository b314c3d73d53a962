"""One run of a search: config → trials → runner → records on disk → ranked results.

``Search.run()`` is a generator of finished trial records; every record is on disk when it is
yielded. A whole search, its zoom rounds included, is driven by ``hpsearch.session``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpsearch.config import Config
from hpsearch.errors import ConfigError, RunError
from hpsearch.halving import Halving, RungResult
from hpsearch.lock import RunLock
from hpsearch.objectives import Objective, build_objective, misses_metric
from hpsearch.record import TrialRecord
from hpsearch.results import results_of
from hpsearch.rungs import RungPlan
from hpsearch.runner import run_trials
from hpsearch.sampling import Trial, sample_trial
from hpsearch.store import RunStore

METRIC_CHECK = 5  # trials that all miss the metric before a search stops


class MetricMissing(ConfigError):
    """The objective does not report the config's metric: every trial would fail."""


@dataclass
class Search:
    config: Config
    store: RunStore
    objective: Objective | None  # None for an earlier round read back (not run again)
    records: list[TrialRecord] = field(default_factory=list)
    round: int = 0  # 0 for a coarse run, n for the n-th zoom round
    previous_wall_time: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    lock: RunLock | None = None  # held from start (or resume) to finish
    halving: Halving | None = None  # early stopping: the rung plan's state, once running
    retried: list[int] = field(default_factory=list)  # trials set aside to run again

    def __post_init__(self) -> None:
        self._final = {r.trial for r in self.records}  # trials with their final record

    @property
    def run_id(self) -> str:
        return self.store.run_id

    @property
    def missing(self) -> list[int]:
        done = {r.trial for r in self.records}
        return [i for i in range(self.config.search.trials) if i not in done]

    def ranked(self) -> list[TrialRecord]:
        return self.config.search.goal.rank(self.records)

    def run(
        self, jobs: int | None = None, backend: str | None = None, scheduler: str | None = None
    ) -> Iterator[TrialRecord | RungResult]:
        """Run the missing trials; yield each record once it is written. Trials are
        sampled as workers ask for them, so a million trials start at once. With early
        stopping, each rung training's result is yielded too (a ``RungResult``), and a
        trial's record once it is final (stopped, failed or trained fully)."""
        assert self.objective is not None
        plan = self.config.rung_plan()
        missing = self.missing
        halving = None
        if plan is None:
            trials: Iterator[Trial | object] = (
                sample_trial(self.config.space, self.config.seed, i) for i in missing
            )
            count = len(missing)
        else:
            halving = self.halving = self._halving(plan)
            trials = halving.jobs()
            count = plan.jobs if halving.queue else 0  # at most; none: all final already
        stream = run_trials(
            self.objective,
            trials,
            count=count,
            backend=backend or self.config.run.backend,
            jobs=jobs if jobs is not None else self.config.run.jobs,
            timeout=self.config.trial_timeout,
            scheduler=scheduler or self.config.run.scheduler,
            devices=self.config.run.devices,
            per_device=self.config.run.per_device,
        )
        metric = self.config.search.metric
        # A metric the objective never reports fails every trial: stop once the first few
        # trials (by index, so whatever order they finish in) all missed it.
        watched = (
            set()
            if self.config.objective.is_builtin or any(r.ok for r in self.records)
            else set(missing[:METRIC_CHECK])
        )
        first: dict[int, TrialRecord] = {}
        try:
            for record in stream:
                finals = [record]
                result = None
                if halving is not None:
                    result, finals = halving.accept(record)
                    self.store.append_rung(result.to_json())
                for final in finals:  # on disk before anyone hears of the rung
                    self._keep(final)
                if result is not None:
                    yield result
                if record.trial in watched and record.trial not in first:
                    first[record.trial] = record
                    seen = list(first.values())
                    if len(seen) == len(watched) and all(misses_metric(r, metric) for r in seen):
                        raise MetricMissing(_missing_metric_message(self.config, seen))
                yield from finals
        finally:
            stream.close()  # stops the workers at once if the search stops early

    def _keep(self, record: TrialRecord) -> None:
        if record.trial in self._final:  # already on disk (a rung line lost to a power cut)
            return
        self.store.append(record)
        self.records.append(record)
        self._final.add(record.trial)
        # A flag test, not the plan: this runs for every record of every search.
        if self.config.early_stop.on and not self.config.early_stop.keep_checkpoints:
            self.store.remove_checkpoints(record.trial)  # it will not train again

    def _halving(self, plan: RungPlan) -> Halving:
        """The rung plan's state, from the rung results on disk; a final record they imply
        but the trials file lacks (the driver was killed in between) is written now."""
        cfg = self.config
        halving = Halving(
            plan,
            cfg.search.goal,
            lambda i: sample_trial(cfg.space, cfg.seed, i),
            lambda i: str(self.store.checkpoint_dir(i)),
        )
        for final in halving.restore(self.store.load_rungs(repair=True, space=cfg.space)):
            self._keep(final)
        return halving

    def finish(
        self, status: str, extra: Mapping[str, Any] | None = None, release: bool = True
    ) -> dict[str, Any]:
        """Flush the trials and write leaderboard, best.yaml and the summary; release the
        run directory (unless ``release`` is false: the next round is yet to be started from
        it, and the lineage written into it)."""
        try:
            self.store.close()
            if status == "complete" and not self.config.early_stop.keep_checkpoints:
                self.store.remove_checkpoints()
            wall = self.previous_wall_time + time.perf_counter() - self.started
            attempts = self.store.load_attempts()
            if attempts:  # a retried run: how many trials ran again, how many tries were kept
                extra = {
                    **(extra or {}),
                    "retried": {
                        "trials": len({a["trial"] for a in attempts}),
                        "attempts": len(attempts),
                    },
                }
            plan = self.config.rung_plan()
            if plan is not None:  # what early stopping saved, for a CI job reading the JSON
                extra = {
                    **(extra or {}),
                    "early_stop": {
                        "method": plan.method,
                        "stopped": sum(r.status == "stopped" for r in self.records),
                        "epochs": sum(r.epochs or 0 for r in self.records),
                        "epochs_full": plan.epochs_full(),
                    },
                }
            return self.store.write_results(
                results_of(self.config, self.records), status=status, wall_time=wall, extra=extra
            )
        finally:
            if release:
                self.release()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _missing_metric_message(config: Config, first: list[TrialRecord]) -> str:
    metric = config.search.metric
    return (
        f"search.metric: the objective does not report '{metric}': its first {len(first)} "
        f"trials all failed for it ({first[0].error}); set search.metric to a name it "
        "reports, then start a new run"
    )


def start_search(
    config: Config,
    *,
    parent: str | None = None,
    round_: int = 0,
    objective: Objective | None = None,
    rounds_left: int = 0,
    continues: bool = False,
) -> Search:
    """Check the data, then create the run directory. ``rounds_left``: zoom rounds to run
    after this one (written down at once, so a resume after a kill still runs them);
    ``continues``: this run is the next round of its parent's ``--rounds`` search."""
    from hpsearch.runner import require_backend

    require_backend(config.run.backend)
    objective = objective or build_objective(config)
    store = RunStore.create(
        config,
        config.run.runs_dir,
        parent=parent,
        round_=round_,
        rounds_left=rounds_left,
        continues=continues,
    )
    return Search(config, store, objective, round=round_, lock=RunLock(store.path).acquire())


@dataclass
class Resumed:
    search: Search
    torn: str | None  # a torn last line that was set aside


def resume_search(
    store: RunStore,
    objective: Objective | None = None,
    *,
    trials: int | None = None,
    retry: Sequence[str] = (),
    root: Config | None = None,
) -> Resumed:
    """Reopen a run: same config (refused if config.yaml was edited), same seeds. ``trials``:
    grow (or trim the unrun end of) the run to that many trials; ``retry``: run the trials of
    those statuses again (``hpsearch.growing``); ``root``: the first run's config of its
    lineage, for those checks."""
    from hpsearch import growing

    config = store.config()
    summary = store.summary()
    if store.kind != "search":
        what = "a re-test" if store.kind == "retest" else "a one-model (train) run"
        again = "hpsearch retest" if store.kind == "retest" else "hpsearch train"
        raise RunError(f"{store.path}: {what} cannot be resumed; run {again} again")
    original = summary.get("config")
    current = config.to_dict(absolute_paths=True)
    finish_extension = original is not None and store.pending_extension(current)
    if original is not None and _plain(original) != _plain(current) and not finish_extension:
        changes = "; ".join(_differences(original, current))
        raise RunError(
            f"{store.path / 'config.yaml'}: changed since the run started ({changes}); "
            "resuming would mix two searches. Start a new run with the new config."
        )
    for flag, wanted in (("--trials", trials is not None), ("--retry", bool(retry))):
        if wanted:
            growing.check_growable(config, root or config, str(store.path), flag)
    lock = RunLock(store.path).acquire()  # before repairing: no other driver writes here
    try:
        store.recover_set_aside()  # a retry killed mid-move: finished or undone, never doubled
        if finish_extension:  # killed between the two writes of an extension: complete it
            planned = int(summary["config"]["search"]["trials"])
            config = dataclasses.replace(
                config, search=dataclasses.replace(config.search, trials=planned)
            )
            store.write_config(config)
        loaded = store.load_trials(repair=True, space=config.space)
        records = loaded.records
        objective = objective or build_objective(config)  # its errors come before any write
        grown = growing.grown(config, records, trials, store.run_id) if trials is not None else None
        again = growing.to_retry(records, retry)
        if grown is not None and grown.search.trials != config.search.trials:
            store.extend(grown, config.search.trials)
            config = grown
        if again:
            store.set_aside(again)
            records = [r for r in records if r.trial not in again]
        if len(records) < config.search.trials and summary.get("status") == "complete":
            # More to run: a look at it meanwhile (or after a kill) must not say complete.
            store.write_summary({**store.summary(), "status": "running"})
    except BaseException:
        lock.release()
        raise
    search = Search(
        config,
        store,
        objective,
        records=records,
        round=int(summary.get("round") or 0),
        previous_wall_time=float(summary.get("wall_time") or 0.0),
        lock=lock,
        retried=sorted(again),
    )
    return Resumed(search, loaded.torn)


def read_back(store: RunStore) -> Search:
    """An earlier round of a lineage, read back: its trials are anchors and count towards the
    lineage's best; it is not run again."""
    config = store.config()
    return Search(
        config,
        store,
        objective=None,
        records=store.load_trials(space=config.space).records,
        round=int(store.summary().get("round") or 0),
    )


def next_round(searches: list[Search]) -> Search | None:
    """The zoom round after the last of ``searches``, or None when no trial is ok or nothing
    is left to search. The anchors come from every round so far, so the best of earlier
    rounds keep the region where they are."""
    from hpsearch.narrowing import zoom_step

    current = searches[-1]
    if not len(searches[0].config.space):
        return None  # nothing to narrow (zoom rounds narrow the first run's space)
    round_ = current.round + 1
    lineage = [(s.config, s.records) for s in searches]
    step = zoom_step(lineage, round_, trials=budgeted_trials(searches[0], round_))
    if step is None:
        return None
    rounds_left = max(int(current.store.summary().get("rounds_left") or 0) - 1, 0)
    assert current.objective is not None
    return start_search(
        step.config,
        parent=current.run_id,
        round_=round_,
        objective=current.objective.with_fixed(step.fixed),  # same data, more fixed
        rounds_left=rounds_left,
        continues=True,
    )


def budgeted_trials(root: Search, round_: int) -> int | None:
    """The trials of round ``round_`` of a search with a budget (from its coarse run's
    config: the rounds after it have none of their own), else None."""
    from hpsearch.budget import schedule

    budget = root.config.search.budget
    if budget is None or root.round != 0:
        return None
    plan = schedule(budget)
    return plan.trials_of(round_) if round_ <= len(plan.rounds) else None


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
