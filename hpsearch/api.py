"""The Python API: everything the command line does, as functions (``import hpsearch``).

Each command has a function that runs it and returns a ``Run`` (``run``, ``resume``,
``zoom``, ``retest``, ``train``), and below it the two steps the command line takes itself
(``start_run`` / ``plan_zoom`` / ... then ``.run(subscriber)``), so that a display can follow
the events. Every option is a typed keyword (a misspelt one is a TypeError before anything is
written). Bad input raises a ``UserError`` (``ConfigError``, ``RunError``, ...) whose message
is the CLI's one line. Ctrl-C keeps every finished trial, marks the run ``interrupted`` and
raises ``KeyboardInterrupt``; ``resume`` goes on from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsearch.config import Config, load_config
from hpsearch.errors import NoOkTrial, RunError, UserError
from hpsearch.events import Notice, SearchOutcome, Subscriber
from hpsearch.objectives import Objective
from hpsearch.panda import Panda, PandaOutcome
from hpsearch.paths import shown
from hpsearch.record import TrialRecord
from hpsearch.retesting import RetestOutcome, RetestPlan
from hpsearch.rounds import Round
from hpsearch.runs import Run, compare, list_runs, load_run, load_search  # noqa: F401 - the API
from hpsearch.sampling import Trial
from hpsearch.session import SearchSession
from hpsearch.store import RunStore
from hpsearch.strategies import Proposal

ConfigLike = str | Path | Config
RunLike = str | Path | Run


def _config(config: ConfigLike) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _finished(outcome: SearchOutcome | RetestOutcome | PandaOutcome) -> Run:
    """The run an API call made; what stopped it is raised once everything is on disk."""
    error = getattr(outcome, "error", None)
    if error is not None:
        raise error
    stopped = getattr(outcome, "stopped", None)
    if stopped is not None:
        raise stopped
    if outcome.status == "interrupted" and isinstance(outcome, PandaOutcome):
        raise KeyboardInterrupt
    return load_run(outcome.run_dir)


# -- checking and sampling -----------------------------------------------------------------


def check(config: ConfigLike) -> tuple[Config, Objective]:
    """``hpsearch validate``: the config, checked, and its objective, built (the data loaded,
    a Python function imported), as a run would before its first trial."""
    from hpsearch.objectives import build_objective

    cfg = _config(config).with_overrides()  # the checks a run makes once its flags are in
    return cfg, build_objective(cfg)


def hyperparameters() -> dict[str, Any]:
    """``hpsearch params``: the built-in trainer's hyperparameters by name (type, default,
    valid range, suggested scale, meaning)."""
    from hpsearch.trainer.registry import REGISTRY

    return dict(REGISTRY)


def sample(config: ConfigLike, n: int | None = None, seed: int | None = None) -> list[Trial]:
    """``hpsearch sample``: the first ``n`` trials (default ``search.trials``) a run would
    draw, without training them."""
    from hpsearch.sampling import sample_trials

    cfg = _config(config)
    return sample_trials(cfg.space, cfg.seed if seed is None else seed, n or cfg.search.trials)


# -- searching -------------------------------------------------------------------------------


def start_run(
    config: ConfigLike,
    *,
    trials: int | None = None,
    budget: int | None = None,
    rounds: int | None = None,
    jobs: int | None = None,
    seed: int | None = None,
    name: str | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    runs_dir: str | Path | None = None,
    early_stop: str | None = None,
    min_epochs: int | None = None,
    eta: int | None = None,
    max_epochs: int | None = None,
    keep_checkpoints: bool | None = None,
    devices: str | Sequence[Any] | None = None,
    per_device: int | None = None,
    objective: Objective | None = None,
) -> SearchSession:
    """A new search, ready to run: its run directory is made, no trial has started. The
    keywords are the command's flags (each checked as the file's key is); ``rounds``: zoom
    rounds after the coarse one (``zoom.rounds``); ``objective``: what the trials run instead
    of the config's (an object of the ``hpsearch.objectives.Objective`` protocol, defined in
    an importable module so worker processes can load it)."""
    from hpsearch.search import start_search

    cfg = _config(config).with_overrides(
        trials=trials,
        budget=budget,
        rounds=rounds,
        jobs=jobs,
        seed=seed,
        name=name,
        backend=backend,
        scheduler=scheduler,
        runs_dir=runs_dir,
        early_stop=early_stop,
        min_epochs=min_epochs,
        eta=eta,
        max_epochs=max_epochs,
        keep_checkpoints=keep_checkpoints,
        devices=devices,
        per_device=per_device,
    )
    if objective is not None and cfg.early_stop.on:
        from hpsearch.objectives.python import takes

        if not takes(objective, "budget"):
            raise UserError(
                f"objective={type(objective).__name__}: early stopping calls it with "
                "budget= (epochs to reach) and checkpoint_dir=; add those keywords to its "
                "__call__"
            )
    return SearchSession(start_search(cfg, objective=objective))


def run(
    config: ConfigLike,
    *,
    trials: int | None = None,
    budget: int | None = None,
    rounds: int | None = None,
    jobs: int | None = None,
    seed: int | None = None,
    name: str | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    runs_dir: str | Path | None = None,
    early_stop: str | None = None,
    min_epochs: int | None = None,
    eta: int | None = None,
    max_epochs: int | None = None,
    keep_checkpoints: bool | None = None,
    devices: str | Sequence[Any] | None = None,
    per_device: int | None = None,
    objective: Objective | None = None,
    on_event: Subscriber | None = None,
) -> Run:
    """Sample random trials, train them in parallel, rank them (``hpsearch run``); with
    ``rounds``, zoom in that many times, with ``budget``, spend that many evaluations.
    Returns the search's run; ``on_event`` is called with each event (``hpsearch.events``)
    as the search goes. The keywords are those of ``start_run``."""
    session = start_run(
        config,
        trials=trials,
        budget=budget,
        rounds=rounds,
        jobs=jobs,
        seed=seed,
        name=name,
        backend=backend,
        scheduler=scheduler,
        runs_dir=runs_dir,
        early_stop=early_stop,
        min_epochs=min_epochs,
        eta=eta,
        max_epochs=max_epochs,
        keep_checkpoints=keep_checkpoints,
        devices=devices,
        per_device=per_device,
        objective=objective,
    )
    return _finished(session.run(on_event))


def _open_search(run: RunLike, runs_dir: str | Path | None) -> tuple[RunStore, list[Notice]]:
    """The run directory of a search to write to: a search written by hpsearch 0.1 (one
    directory per round) is converted into one first (``hpsearch.legacy``)."""
    from hpsearch.legacy import convert

    source = load_search(run, runs_dir)
    if source.legacy is None:
        return source.store, []
    old = source.legacy
    store = convert(old)
    note = Notice(
        f"converted the hpsearch 0.1 search {', '.join(s.run_id for s in old.stores)} into "
        f"one run, {shown(store.path)} (the old directories are left as they were)",
        warning=True,
    )
    return store, [note]


def start_resume(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    trials: int | None = None,
    retry: str | Sequence[str] | None = None,
) -> SearchSession:
    """An interrupted search, ready to go on: the missing trials of its rounds, then the
    rounds its strategy has left. ``trials``: that many trials in the whole search (more than
    it had: a complete search grows, its newest round taking the new trials); ``retry``:
    statuses ("failed,timeout") whose trials run again, their earlier records kept in
    attempts.jsonl."""
    from hpsearch.growing import retry_statuses
    from hpsearch.runner import require_backend
    from hpsearch.search import resume_search

    statuses = retry_statuses(retry)
    store, notices = _open_search(run, runs_dir)
    resumed = resume_search(store, trials=trials, retry=statuses)
    search = resumed.search
    try:
        checked = search.config.with_overrides(jobs=jobs, backend=backend, scheduler=scheduler)
        require_backend(checked.run.backend)
    except BaseException:
        search.release()
        raise
    if resumed.grown_from is not None:
        notices.append(
            Notice(
                f"{store.run_id}: {search.history.planned} trials in all (from "
                f"{resumed.grown_from}; round {search.history.rounds[-1].number} takes the change)"
            )
        )
    if search.retried:
        shown_trials = ", ".join(map(str, search.retried[:8])) + (
            " …" if len(search.retried) > 8 else ""
        )
        notices.append(
            Notice(
                f"retrying {len(search.retried)} trial{'s' if len(search.retried) != 1 else ''} "
                f"({shown_trials}); their earlier records are kept in "
                f"{shown(store.path / 'attempts.jsonl')}"
            )
        )
    elif statuses:
        notices.append(Notice(f"no {' or '.join(statuses)} trials to retry"))
    if resumed.torn is not None:
        notices.append(
            Notice(
                f"warning: {store.path / 'trials.jsonl'}: its last line was cut off (the "
                "process was killed while writing it); set aside in trials.jsonl.torn and "
                "that trial runs again",
                warning=True,
            )
        )
    return SearchSession(search, jobs=jobs, backend=backend, scheduler=scheduler, notices=notices)


def resume(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    trials: int | None = None,
    retry: str | Sequence[str] | None = None,
    on_event: Subscriber | None = None,
) -> Run:
    """Finish an interrupted search, then the rounds it had left (``hpsearch resume``): only
    the missing trials run, with the same seeds. ``trials`` grows the search to that many
    trials; ``retry`` runs the trials of those statuses again (see ``start_resume``)."""
    session = start_resume(
        run,
        runs_dir=runs_dir,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        trials=trials,
        retry=retry,
    )
    return _finished(session.run(on_event))


@dataclass
class ZoomPlan:
    """The next round of a search: its region (``proposal``), the round number, the trials it
    was narrowed around; ``config`` is the same region as a standalone config."""

    source: Run
    proposal: Proposal
    round: int
    anchors: list[TrialRecord]
    config: Config
    runs_dir: str | Path | None = None
    jobs: int | None = None
    backend: str | None = None
    scheduler: str | None = None
    notices: list[Notice] = field(default_factory=list)

    @property
    def parent(self) -> Round:
        """The round the new one is cut from (the search's newest)."""
        return self.source.history.rounds[-1]

    def write(self, path: str | Path) -> Path:
        """Write the narrowed region as an ordinary config (``--write-config``)."""
        from hpsearch import yamlio
        from hpsearch.files import atomic_write

        header = (
            f"# Zoomed from {self.source.path} (as its round {self.round}) around "
            f"{len(self.anchors)} trial(s). An ordinary config: edit it, then hpsearch run it.\n"
        )
        target = Path(path)
        try:
            atomic_write(target, header + yamlio.dump(self.config.to_dict(absolute_paths=True)))
        except OSError as exc:
            raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return target

    def start(self) -> SearchSession:
        """The new round, added to the search's run, ready to run."""
        from hpsearch.search import resume_search

        store, notices = _open_search(self.source, self.runs_dir)
        search = resume_search(store).search
        try:
            if search.history.unfinished():
                raise RunError(
                    f"{store.path}: {search.history.planned - len(search.history.by_trial)} of "
                    "its trials have not run yet; finish it first: hpsearch resume "
                    f"{shown(store.path)}"
                )
            search.config.with_overrides(jobs=self.jobs, backend=self.backend)
        except BaseException:
            search.release()
            raise
        return SearchSession(
            search,
            jobs=self.jobs,
            backend=self.backend,
            scheduler=self.scheduler,
            notices=[*notices, *self.notices],
            asked=self.proposal,
        )


def plan_zoom(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int | None = None,
    top_fraction: float | None = None,
    margin: float | None = None,
    trials: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
) -> ZoomPlan:
    """The search's next round, narrowed inside its newest round's region around the best
    trials there (the course's zoom); nothing is run or written yet."""
    from hpsearch.config.rules import ZOOM, problem
    from hpsearch.strategies import Done, ZoomStrategy

    if top is not None and top_fraction is not None:
        raise UserError("--top: give --top or --top-fraction, not both")
    if top_fraction is not None and not 0 < top_fraction <= 1:
        raise UserError(f"--top-fraction: must be in (0, 1], got {top_fraction}")
    for name, value, low in (("--top", top, 1), ("--trials", trials, 1)):
        if value is not None and not value >= low:
            raise UserError(f"{name}: must be >= {low}, got {value}")
    if margin is not None and problem(ZOOM["margin"], margin):
        raise UserError(f"--margin: {problem(ZOOM['margin'], margin)}")
    source = load_search(run, runs_dir)
    if source.kind == "retest":
        raise RunError(
            f"{source.path}: a re-test is not a search to zoom into; zoom the run it re-tested"
        )
    if not len(source.config.space):
        raise RunError(
            f"{source.path}: nothing to narrow: its space is empty (every parameter is fixed)"
        )
    history = source.history
    try:
        proposal = ZoomStrategy(source.config).propose(
            history, top=top, top_fraction=top_fraction, margin=margin, trials=trials
        )
    except Done as reason:
        if "no ok trial" in str(reason):
            raise NoOkTrial(f"{source.path}: {reason}") from None
        raise RunError(f"{source.path}: {reason}") from None
    notices = []
    anchors = [history.by_trial[i] for i in proposal.anchors]
    if top is not None and len(anchors) < top:
        notices.append(
            Notice(
                f"warning: only {len(anchors)} ok trials in its newest region, fewer than --top "
                f"{top}: zooming on those",
                warning=True,
            )
        )
    number = len(history.rounds)
    return ZoomPlan(
        source,
        proposal,
        number,
        anchors,
        _standalone(source.config, proposal),
        runs_dir,
        jobs,
        backend,
        scheduler,
        notices,
    )


def _standalone(config: Config, proposal: Proposal) -> Config:
    """A zoom round's region as an ordinary config: its space, what it fixes under ``model``,
    its own seed (new trials), the same data."""
    import dataclasses

    return dataclasses.replace(
        config,
        seed=proposal.seed,
        data=dataclasses.replace(config.data, seed=config.data_seed),
        model={**config.model, **proposal.region.fixed},
        space=proposal.region.space,
        search=dataclasses.replace(config.search, trials=proposal.trials, budget=None),
        zoom=dataclasses.replace(config.zoom, rounds=0),
    )


def zoom(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int | None = None,
    top_fraction: float | None = None,
    margin: float | None = None,
    trials: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    on_event: Subscriber | None = None,
) -> Run:
    """Add a zoom round to a search: narrowed around its best trials, inside its newest
    round's region, run into the same run (``hpsearch zoom``)."""
    plan = plan_zoom(
        run,
        runs_dir=runs_dir,
        top=top,
        top_fraction=top_fraction,
        margin=margin,
        trials=trials,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
    )
    return _finished(plan.start().run(on_event))


# -- re-testing and one model ----------------------------------------------------------------


def plan_retest(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int = 3,
    seeds: int = 5,
    data_source: str | None = None,
    data_seed: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
) -> RetestPlan:
    """What re-testing a run's best ``top`` trials with ``seeds`` fresh seeds would run."""
    from hpsearch.retesting import plan_retest as plan

    source = load_search(run, runs_dir)
    return plan(
        source,
        top=top,
        seeds=seeds,
        data_source=data_source,
        data_seed=data_seed,
        jobs=jobs,
        backend=backend,
    )


def retest(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    top: int = 3,
    seeds: int = 5,
    data_source: str | None = None,
    data_seed: int | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    on_event: Subscriber | None = None,
) -> Run:
    """Re-train a search's winners with fresh seeds (``hpsearch retest``); the verdict is the
    returned run's ``summary["retest"]``."""
    plan = plan_retest(
        run,
        runs_dir=runs_dir,
        top=top,
        seeds=seeds,
        data_source=data_source,
        data_seed=data_seed,
        jobs=jobs,
        backend=backend,
    )
    return _finished(plan.run(on_event))


def plan_train(
    config: ConfigLike,
    *,
    settings: Mapping[str, Any] | None = None,
    from_run: RunLike | None = None,
    runs_dir: str | Path | None = None,
) -> Panda:
    """One model to train: the config's searched parameters fixed from ``settings``, else
    the best trial of ``from_run``, else the middle of their ranges."""
    from hpsearch.panda import plan

    cfg = _config(config)
    if runs_dir is not None:
        cfg = cfg.with_overrides(runs_dir=runs_dir)
    from_params = None
    if from_run is not None:
        source = load_search(from_run, runs_dir or cfg.run.runs_dir)
        best = source.best
        if best is None:
            raise NoOkTrial(f"{source.path}: no ok trial to start from")
        from_params = {**source.config.model, **best.params}
    return plan(cfg, dict(settings or {}), from_params)


def train(
    config: ConfigLike,
    *,
    settings: Mapping[str, Any] | None = None,
    from_run: RunLike | None = None,
    runs_dir: str | Path | None = None,
    report: Any = None,
) -> Run:
    """Train one model in the foreground (``hpsearch train``, panda mode), calling
    ``report(epoch, **metrics)`` after each epoch; saved as a one-trial run."""
    panda = plan_train(config, settings=settings, from_run=from_run, runs_dir=runs_dir)
    return _finished(panda.train(report))
