"""A search from start to finish: config → trials → runner → store → ranked results.

``Search.run()`` is a generator of finished trial records, so the caller (the CLI's display)
sees each one as it arrives; every record is already on disk when it is yielded.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpsearch.config import Config
from hpsearch.errors import ConfigError
from hpsearch.objective import (
    CommandObjective,
    Objective,
    PythonObjective,
    TrainerObjective,
    check_signature,
    load_function,
    misses_metric,
)
from hpsearch.runner import run_trials
from hpsearch.sampling import Trial, sample_trial
from hpsearch.store import RunError, RunLock, RunStore, best_ok, rank


def build_objective(config: Config) -> Objective:
    """What the config's trials run, checked before any trial starts (ConfigError, exit 2):
    the built-in trainer on its data (loaded here), or a Python function (imported here, its
    signature checked), or a command (its directory must exist)."""
    kind = config.objective.kind
    workdir = config.workdir
    if kind == "trainer":
        from hpsearch.data import load_dataset

        dataset = load_dataset(config.data, config.data_seed, config.base_dir)
        return TrainerObjective(dataset, config.resolved_model(), config.search.metric)
    if not workdir.is_dir():
        raise ConfigError(
            f"directory {workdir} does not exist", file=config.source, key="objective.workdir"
        )
    fixed = dict(config.model)
    if kind == "command":
        return CommandObjective(config.objective.command, str(workdir), fixed, config.search.metric)
    spec = config.objective.python
    try:
        function = load_function(spec, str(workdir))
    except (Exception, SystemExit) as exc:
        raise ConfigError(
            f"cannot load '{spec}' (from {workdir}): {type(exc).__name__}: {exc}",
            file=config.source,
            key="objective.python",
        ) from None
    problem = check_signature(function)
    if problem:
        raise ConfigError(f"'{spec}' {problem}", file=config.source, key="objective.python")
    return PythonObjective(spec, str(workdir), fixed, config.search.metric)


@dataclass
class Search:
    config: Config
    store: RunStore
    objective: Objective
    records: list[dict[str, Any]] = field(default_factory=list)
    round: int = 0  # 0 for a coarse run, n for the n-th zoom round
    previous_wall_time: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    lock: RunLock | None = None  # held from start (or resume) to finish

    @property
    def missing(self) -> list[int]:
        done = {r["trial"] for r in self.records}
        return [i for i in range(self.config.search.trials) if i not in done]

    def run(
        self, jobs: int | None = None, backend: str | None = None, scheduler: str | None = None
    ) -> Iterator[dict]:
        """Run the missing trials; yield each record once it is written. Trials are
        sampled as workers ask for them, so a million trials start at once."""
        missing = self.missing
        trials: Iterator[Trial] = (
            sample_trial(self.config.space, self.config.seed, i) for i in missing
        )
        stream = run_trials(
            self.objective,
            trials,
            count=len(missing),
            backend=backend or self.config.run.backend,
            jobs=jobs if jobs is not None else self.config.run.jobs,
            timeout=self.config.trial_timeout,
            scheduler=scheduler or self.config.run.scheduler,
        )
        metric = self.config.search.metric
        # A metric the objective never reports fails every trial: stop once the first few
        # trials (by index, so whatever order they finish in) all missed it.
        watched = (
            set()
            if self.config.objective.is_builtin or any(r["status"] == "ok" for r in self.records)
            else set(missing[:METRIC_CHECK])
        )
        first: list[dict] = []
        try:
            for record in stream:
                curves = record.pop("curves", None)
                self.store.append(record, curves)
                self.records.append(record)
                if record["trial"] in watched:
                    first.append(record)
                    if len(first) == len(watched) and all(misses_metric(r, metric) for r in first):
                        raise MetricMissing(_missing_metric_message(self.config, first))
                yield record
        finally:
            stream.close()  # stops the workers at once if the search stops early

    def ranked(self) -> list[dict[str, Any]]:
        return rank(self.records, self.config.search.metric, self.config.search.direction)

    def finish(
        self, status: str, extra: Mapping[str, Any] | None = None, release: bool = True
    ) -> dict[str, Any]:
        """Flush the trials and write leaderboard, best.yaml and the summary; release the
        run directory (unless ``release`` is false: the next round is yet to be started from
        it, and the lineage written into it)."""
        try:
            self.store.close()
            wall = self.previous_wall_time + time.perf_counter() - self.started
            return self.store.write_results(
                self.config, self.records, status=status, wall_time=wall, extra=extra
            )
        finally:
            if release:
                self.release()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


METRIC_CHECK = 5  # trials that all miss the metric before a search stops


class MetricMissing(ConfigError):
    """The objective does not report the config's metric: every trial would fail."""


def _missing_metric_message(config: Config, first: list[dict]) -> str:
    metric = config.search.metric
    return (
        f"search.metric: the objective does not report '{metric}': its first {len(first)} "
        f"trials all failed for it ({first[0]['error']}); set search.metric to a name it "
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


def resume_search(store: RunStore, objective: Objective | None = None) -> Resumed:
    """Reopen a run: same config (refused if config.yaml was edited), same seeds."""
    config = store.config()
    summary = store.summary()
    if store.kind != "search":
        what = "a re-test" if store.kind == "retest" else "a one-model (train) run"
        again = "hpsearch retest" if store.kind == "retest" else "hpsearch train"
        raise RunError(f"{store.path}: {what} cannot be resumed; run {again} again")
    original = summary.get("config")
    current = config.to_dict(absolute_paths=True)
    if original is not None and _plain(original) != _plain(current):
        changes = "; ".join(_differences(original, current))
        raise RunError(
            f"{store.path / 'config.yaml'}: changed since the run started ({changes}); "
            "resuming would mix two searches. Start a new run with the new config."
        )
    lock = RunLock(store.path).acquire()  # before repairing: no other driver writes here
    try:
        loaded = store.load_trials(repair=True, space=config.space)
        objective = objective or build_objective(config)
    except BaseException:
        lock.release()
        raise
    search = Search(
        config,
        store,
        objective,
        records=loaded.records,
        round=int(summary.get("round") or 0),
        previous_wall_time=float(summary.get("wall_time") or 0.0),
        lock=lock,
    )
    return Resumed(search, loaded.torn)


def _plain(data: Any) -> Any:
    import json

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


def start_next_round(searches: list[Search]) -> Search | None:
    """The zoom round after the last of ``searches``, or None when no trial is ok or nothing
    is left to search.

    The top trials come from every round so far, so the best of earlier rounds stay anchors.
    """
    from hpsearch.zoom import top_records, zoomed_config

    current = searches[-1]
    cfg = current.config
    if not len(cfg.space):
        return None  # nothing left to narrow
    records = [r for s in searches for r in s.records]
    top = top_records(records, cfg.search.metric, cfg.search.direction, cfg.zoom.top, None)
    if not top:
        return None
    round_ = current.round + 1
    new_cfg = zoomed_config(cfg, top, cfg.zoom.margin, cfg.zoom.trials, round_)
    rounds_left = max(int(current.store.summary().get("rounds_left") or 0) - 1, 0)
    objective = current.objective
    if isinstance(objective, TrainerObjective):  # same data, new fixed settings
        objective = TrainerObjective(objective.dataset, new_cfg.resolved_model(), objective.metric)
    elif isinstance(objective, (PythonObjective, CommandObjective)):
        objective = dataclasses.replace(objective, fixed=dict(new_cfg.model))
    return start_search(
        new_cfg,
        parent=current.store.run_id,
        round_=round_,
        objective=objective,
        rounds_left=rounds_left,
        continues=True,
    )


def finish_lineage(searches: list[Search], summary: dict[str, Any]) -> dict[str, Any]:
    """The best trial over all rounds, into the last run's best.yaml and summary
    (``lineage`` and ``lineage_best``). Returns the updated summary."""
    from hpsearch.store import atomic_write, best_config_yaml

    last = searches[-1]
    cfg = last.config
    tagged = [{**r, "run_id": s.store.run_id} for s in searches for r in s.records]
    ranked = rank(tagged, cfg.search.metric, cfg.search.direction)
    lineage = []
    for s in searches:
        own = s.ranked()
        lineage.append(
            {
                "round": s.round,
                "run_id": s.store.run_id,
                "trials": len(s.records),
                "space": s.config.space.to_dict(),
                "best": best_ok(own)["metrics"].get(cfg.search.metric) if best_ok(own) else None,
            }
        )
    summary = {**summary, "lineage": lineage}
    best = best_ok(ranked)
    if best is not None:
        atomic_write(last.store.path / "best.yaml", best_config_yaml(cfg, best))
        summary["lineage_best"] = {
            "run_id": best["run_id"],
            "trial": best["trial"],
            "value": best["metrics"].get(cfg.search.metric),
            "params": best["params"],
            "seed": best["seed"],
        }
    last.store.write_summary(summary)
    return summary


def ancestors(store: RunStore) -> list[Search]:
    """The earlier rounds of ``store``'s lineage, read back (their trials are anchors and
    count towards the lineage's best); they are not run again."""
    from hpsearch.store import lineage

    searches = []
    for run in lineage(store)[:-1]:
        summary = run.summary()
        searches.append(
            Search(
                run.config(),
                run,
                objective=None,
                records=run.load_trials(space=run.config().space).records,
                round=int(summary.get("round") or 0),
            )
        )
    return searches


def latest_round(store: RunStore) -> RunStore:
    """Where a ``--rounds`` search that went through ``store`` has got to: its newest round
    started (``store`` itself when it has no continuation)."""
    from hpsearch.store import continuation

    seen = {store.run_id}
    while True:
        following = continuation(store)
        if following is None or following.run_id in seen:
            return store
        seen.add(following.run_id)
        store = following
