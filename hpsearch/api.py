"""The Python API: everything the command line does, as functions (``import hpsearch``).

Each command has a function that runs it and returns a ``Run`` (``run``, ``resume``,
``zoom``, ``retest``, ``train``), and below it the two steps the command line takes itself
(``start_run`` / ``plan_zoom`` / ... then ``.run(subscriber)``), so that a display can follow
the events. Bad input raises a ``UserError`` (``ConfigError``, ``RunError``, ...) whose message
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
from hpsearch.runs import Run, compare, list_runs, load_run, load_search  # noqa: F401 - the API
from hpsearch.sampling import Trial
from hpsearch.session import SearchSession

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
    rounds: int | None = None,
    objective: Objective | None = None,
    **overrides: Any,
) -> SearchSession:
    """A new search, ready to run: its run directory is made, no trial has started.
    ``overrides``: name, seed, trials, budget, jobs, backend, scheduler, runs_dir, early_stop,
    min_epochs, eta, max_epochs, keep_checkpoints; ``rounds``: zoom
    rounds after the coarse run (default ``zoom.rounds``); ``objective``: what the trials run
    instead of the config's (an object of the ``hpsearch.objectives.Objective`` protocol,
    defined in an importable module so worker processes can load it)."""
    from hpsearch.search import start_search

    cfg = _config(config).with_overrides(**overrides)
    if objective is not None and cfg.early_stop.on:
        from hpsearch.objectives.python import takes

        if not takes(objective, "budget"):
            raise UserError(
                f"objective={type(objective).__name__}: early stopping calls it with "
                "budget= (epochs to reach) and checkpoint_dir=; add those keywords to its "
                "__call__"
            )
    if rounds is not None and cfg.search.budget is not None:
        raise UserError(
            "--rounds: a budget sets the zoom rounds itself (search.budget = "
            f"{cfg.search.budget}); give --budget or --rounds"
        )
    rounds = cfg.zoom.rounds if rounds is None else rounds
    if rounds < 0:
        raise UserError(f"--rounds: must be >= 0, got {rounds}")
    search = start_search(cfg, rounds_left=rounds, objective=objective)
    return SearchSession(search, rounds=rounds)


def run(
    config: ConfigLike,
    *,
    rounds: int | None = None,
    on_event: Subscriber | None = None,
    objective: Objective | None = None,
    **overrides: Any,
) -> Run:
    """Sample random trials, train them in parallel, rank them (``hpsearch run``); with
    ``rounds``, zoom in that many times. Returns the last round's run; ``on_event`` is called
    with each event (``hpsearch.events``) as the search goes."""
    session = start_run(config, rounds=rounds, objective=objective, **overrides)
    return _finished(session.run(on_event))


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
    """An interrupted search, ready to go on: the missing trials of its newest round, then
    the rounds a ``--rounds`` search still had to go. ``trials``: that many trials in all
    (more than it had: a complete run grows); ``retry``: statuses ("failed,timeout") whose
    trials run again, their earlier records kept in attempts.jsonl."""
    from hpsearch.growing import retry_statuses
    from hpsearch.lineage import ancestors, latest_round
    from hpsearch.rundirs import lineage
    from hpsearch.runner import require_backend
    from hpsearch.search import resume_search

    statuses = retry_statuses(retry)
    named = load_search(run, runs_dir).store
    store = latest_round(named)  # a --rounds search goes on where it had got to
    growing = trials is not None or statuses
    if growing and store.run_id != named.run_id:
        flag = "--trials" if trials is not None else "--retry"
        raise RunError(
            f"{named.path}: its search went on in round {store.summary().get('round')} "
            f"({store.run_id}), narrowed from these trials; {flag} applies to the newest "
            f"round: hpsearch resume {shown(store.path)} {flag} ..."
        )
    root = lineage(store)[0].config() if growing else None
    resumed = resume_search(store, trials=trials, retry=statuses, root=root)
    search = resumed.search
    try:
        checked = search.config.with_overrides(jobs=jobs, backend=backend, scheduler=scheduler)
        require_backend(checked.run.backend)
        summary = store.summary()
        rounds = int(summary.get("rounds_left") or 0)
        history = ancestors(store) if rounds or summary.get("round") else []
    except BaseException:
        search.release()
        raise
    notices = []
    if store.run_id != named.run_id:
        notices.append(
            Notice(
                f"{named.run_id} went on in round {summary.get('round')}: "
                f"resuming {shown(store.path)}",
                warning=True,
            )
        )
    if trials is not None:
        notices.append(Notice(f"{store.run_id}: {search.config.search.trials} trials in all"))
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
    return SearchSession(
        search,
        rounds=rounds,
        history=history,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        notices=notices,
    )


def resume(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    on_event: Subscriber | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    trials: int | None = None,
    retry: str | Sequence[str] | None = None,
) -> Run:
    """Finish an interrupted run, then the rounds it had left (``hpsearch resume``): only the
    missing trials run, with the same seeds. ``trials`` grows the run to that many trials;
    ``retry`` runs the trials of those statuses again (see ``start_resume``)."""
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
    """The next round of a run: its config (an ordinary one: it can be written out and run),
    the round number, the trials it was narrowed around."""

    source: Run
    config: Config
    round: int
    anchors: list[TrialRecord]
    notices: list[Notice] = field(default_factory=list)

    def write(self, path: str | Path) -> Path:
        """Write the narrowed config as YAML (``--write-config``)."""
        from hpsearch import yamlio
        from hpsearch.store import atomic_write

        header = (
            f"# Zoomed from {self.source.path} (round {self.round}) around its best "
            f"{len(self.anchors)} trial(s). An ordinary config: edit it, then hpsearch run it.\n"
        )
        target = Path(path)
        try:
            atomic_write(target, header + yamlio.dump(self.config.to_dict(absolute_paths=True)))
        except OSError as exc:
            raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None
        return target

    def start(self) -> SearchSession:
        """The new round as a run beside its parent, ready to run."""
        from hpsearch.search import start_search

        search = start_search(self.config, parent=self.source.run_id, round_=self.round)
        return SearchSession(search)


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
    """The space narrowed around a run's best trials (its whole lineage's), as the next
    round; nothing is run or written yet."""
    from hpsearch.narrowing import zoom_step

    if top is not None and top_fraction is not None:
        raise UserError("--top: give --top or --top-fraction, not both")
    if top_fraction is not None and not 0 < top_fraction <= 1:
        raise UserError(f"--top-fraction: must be in (0, 1], got {top_fraction}")
    for name, value, low in (("--top", top, 1), ("--trials", trials, 1), ("--margin", margin, 0)):
        if value is not None and not value >= low:
            raise UserError(f"{name}: must be >= {low}, got {value}")
    source = load_search(run, runs_dir)
    if source.kind == "retest":
        raise RunError(
            f"{source.path}: a re-test is not a search to zoom into; zoom the run it re-tested"
        )
    lineage = [(ancestor.config, ancestor.trials) for ancestor in source.lineage]
    if not len(lineage[0][0].space):  # rounds narrow the first run's space
        raise RunError(
            f"{source.path}: nothing to narrow: its space is empty (every parameter is fixed)"
        )
    round_ = int(source.summary.get("round") or 0) + 1
    step = zoom_step(
        lineage, round_, top=top, top_fraction=top_fraction, margin=margin, trials=trials
    )
    if step is None:
        raise NoOkTrial(f"{source.path}: no ok trial to zoom on")
    notices = []
    if top is not None and len(step.anchors) < top:
        notices.append(
            Notice(
                f"warning: only {len(step.anchors)} ok trials, fewer than --top {top}: "
                "zooming on those",
                warning=True,
            )
        )
    # The new run lives beside its parent, so its lineage can be followed.
    new = step.config.with_overrides(
        runs_dir=source.path.parent, jobs=jobs, backend=backend, scheduler=scheduler
    )
    return ZoomPlan(source, new, round_, step.anchors, notices)


def zoom(run: RunLike, *, on_event: Subscriber | None = None, **options: Any) -> Run:
    """Narrow the space around a run's best trials and search it as a new, linked run
    (``hpsearch zoom``); ``options`` as for ``plan_zoom``."""
    plan = plan_zoom(run, **options)
    session = plan.start()
    session.notices[:0] = plan.notices  # said when the search starts
    return _finished(session.run(on_event))


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
        source.store,
        top=top,
        seeds=seeds,
        data_source=data_source,
        data_seed=data_seed,
        jobs=jobs,
        backend=backend,
    )


def retest(run: RunLike, *, on_event: Subscriber | None = None, **options: Any) -> Run:
    """Re-train a run's winners with fresh seeds (``hpsearch retest``); the verdict is the
    returned run's ``summary["retest"]``. ``options`` as for ``plan_retest``."""
    return _finished(plan_retest(run, **options).run(on_event))


def plan_train(
    config: ConfigLike,
    *,
    settings: Mapping[str, Any] | None = None,
    from_run: RunLike | None = None,
    runs_dir: str | Path | None = None,
) -> Panda:
    """One model to train: the config's searched parameters fixed from ``settings``, else
    the best trial of ``from_run``, else the middle of their ranges."""
    from hpsearch.lineage import best_values
    from hpsearch.panda import plan

    cfg = _config(config)
    if runs_dir is not None:
        cfg = cfg.with_overrides(runs_dir=runs_dir)
    from_params = None
    if from_run is not None:
        source = load_search(from_run, runs_dir or cfg.run.runs_dir)
        from_params = best_values(source.store)
        if from_params is None:
            raise NoOkTrial(f"{source.path}: no ok trial to start from")
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
