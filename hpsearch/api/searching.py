"""Searching: ``run``, ``resume`` and ``zoom``, and the steps below them (``start_run``,
``start_resume``) that return the search ready to run, for a caller that follows its events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hpsearch.api.arguments import checked_arguments
from hpsearch.api.common import ConfigLike, Progress, RunLike, as_config, followed
from hpsearch.api.zooming import plan_zoom
from hpsearch.config.options import ZOOM_TRIALS
from hpsearch.errors import UserError
from hpsearch.events import Notice, Subscriber
from hpsearch.objectives import Objective
from hpsearch.paths import shown
from hpsearch.runs import Run, load_search
from hpsearch.schedule import space_budget_warning
from hpsearch.session import SearchSession
from hpsearch.store import RunStore


@checked_arguments()
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
    scheduler_file: str | Path | None = None,
    cluster: str | None = None,
    runs_dir: str | Path | None = None,
    early_stop: str | None = None,
    min_epochs: int | None = None,
    eta: int | None = None,
    max_epochs: int | None = None,
    keep_checkpoints: bool | None = None,
    devices: str | Sequence[Any] | None = None,
    devices_raw: bool = False,
    per_device: int | None = None,
    warm_start: str | Path | Run | None = None,
    metrics: Mapping[str, str] | None = None,
    constraints: Sequence[str] | None = None,
    time_budget: str | float | None = None,
    objective: Objective | None = None,
) -> SearchSession:
    """A new search, ready to run: its run directory is made, no trial has started. The
    keywords are the command's flags (each checked as the file's key is); ``rounds``: zoom
    rounds after the coarse one (``zoom.rounds``); ``devices``: CUDA indices or GPU-/MIG-
    UUIDs, unless ``devices_raw`` (``--devices-raw``); ``objective``: what the trials run instead
    of the config's (an object of the ``hpsearch.objectives.Objective`` protocol, defined in
    an importable module so worker processes can load it); ``metrics`` (``{"val_accuracy":
    "maximize", "parameters": "minimize"}``) and ``constraints`` (``["parameters <=
    100000"]``): several goals at once, in place of the config's ``search.metric``."""
    from hpsearch.config.options import check_cuda_devices
    from hpsearch.config.search import with_goals
    from hpsearch.search import start_search

    check_cuda_devices(devices, raw=devices_raw)

    cfg = with_goals(as_config(config), metrics, constraints).with_overrides(
        time_budget=time_budget,
        trials=trials,
        budget=budget,
        rounds=rounds,
        jobs=jobs,
        seed=seed,
        name=name,
        backend=backend,
        scheduler=scheduler,
        scheduler_file=None if scheduler_file is None else str(scheduler_file),
        cluster=cluster,
        runs_dir=runs_dir,
        early_stop=early_stop,
        min_epochs=min_epochs,
        eta=eta,
        max_epochs=max_epochs,
        keep_checkpoints=keep_checkpoints,
        devices=devices,
        per_device=per_device,
        warm_start=str(warm_start.path if isinstance(warm_start, Run) else warm_start)
        if warm_start is not None
        else None,
    )
    if objective is not None and cfg.early_stop.on:
        from hpsearch.objectives.python import takes

        if not takes(objective, "budget"):
            raise UserError(
                f"objective={type(objective).__name__}: early stopping calls it with "
                "budget= (epochs to reach) and checkpoint_dir=; add those keywords to its "
                "__call__"
            )
    flag = "--warm-start" if warm_start is not None else "search.warm_start"
    session = SearchSession(
        start_search(cfg, objective=objective, warm_flag=flag), time_budget=cfg.search.time_budget
    )
    if cfg.search.budget is not None:
        flag = "--budget" if budget is not None else "search.budget"  # the flags' names
        said = space_budget_warning(cfg.search.budget, cfg.space, flag)
        session.notices += [Notice(said, warning=True)] if said else []
    return session


@checked_arguments()
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
    scheduler_file: str | Path | None = None,
    cluster: str | None = None,
    runs_dir: str | Path | None = None,
    early_stop: str | None = None,
    min_epochs: int | None = None,
    eta: int | None = None,
    max_epochs: int | None = None,
    keep_checkpoints: bool | None = None,
    devices: str | Sequence[Any] | None = None,
    devices_raw: bool = False,
    per_device: int | None = None,
    warm_start: str | Path | Run | None = None,
    metrics: Mapping[str, str] | None = None,
    constraints: Sequence[str] | None = None,
    time_budget: str | float | None = None,
    objective: Objective | None = None,
    on_event: Subscriber | None = None,
    quiet: bool = False,
    progress: Progress | None = None,
) -> Run:
    """Sample random trials, train them in parallel, rank them (``hpsearch run``); with
    ``rounds``, zoom in that many times, with ``budget``, spend that many evaluations.
    Returns the search's run; ``on_event`` is called with each event (``hpsearch.events``)
    as the search goes. ``hpsearch.run`` shows the search's progress on stderr, as the
    command line does (``quiet=True``: nothing; ``progress``: how it is shown, none in
    ``hpsearch.api.run``). The other keywords are those of ``start_run``."""
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
        scheduler_file=None if scheduler_file is None else str(scheduler_file),
        cluster=cluster,
        runs_dir=runs_dir,
        early_stop=early_stop,
        min_epochs=min_epochs,
        eta=eta,
        max_epochs=max_epochs,
        keep_checkpoints=keep_checkpoints,
        devices=devices,
        devices_raw=devices_raw,
        per_device=per_device,
        warm_start=warm_start,
        metrics=metrics,
        constraints=constraints,
        time_budget=time_budget,
        objective=objective,
    )
    return followed(session, on_event, quiet, progress)


@checked_arguments()
def start_resume(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    scheduler_file: str | Path | None = None,
    cluster: str | None = None,
    trials: int | None = None,
    retry: str | Sequence[str] | None = None,
    time_budget: str | float | None = None,
) -> SearchSession:
    """An interrupted search, ready to go on: the missing trials of its rounds, then the
    rounds its strategy has left. ``trials``: that many trials in the whole search (more than
    it had: a complete search grows, its newest round taking the new trials); ``retry``:
    statuses ("failed,timeout") whose trials run again, their earlier records kept in
    attempts.jsonl."""
    from hpsearch.growing import retry_statuses
    from hpsearch.runner import require_run
    from hpsearch.search import resume_search

    statuses = retry_statuses(retry)
    store, notices = _writable(load_search(run, runs_dir))
    resumed = resume_search(store, trials=trials, retry=statuses)
    search = resumed.search
    try:
        where = None if scheduler_file is None else str(scheduler_file)
        checked = search.config.with_overrides(
            jobs=jobs,
            backend=backend,
            scheduler=scheduler,
            time_budget=time_budget,
            cluster=cluster,
            scheduler_file=where,
        )
        require_run(checked.run)
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
    return SearchSession(
        search,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        cluster=cluster,
        scheduler_file=where,
        notices=notices,
        time_budget=checked.search.time_budget,  # --time-budget, else the config's, anew
    )


@checked_arguments()
def resume(
    run: RunLike,
    *,
    runs_dir: str | Path | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    scheduler_file: str | Path | None = None,
    cluster: str | None = None,
    trials: int | None = None,
    retry: str | Sequence[str] | None = None,
    time_budget: str | float | None = None,
    on_event: Subscriber | None = None,
    quiet: bool = False,
    progress: Progress | None = None,
) -> Run:
    """Finish an interrupted search, then the rounds it had left (``hpsearch resume``): only
    the missing trials run, with the same seeds. ``trials`` grows the search to that many
    trials; ``retry`` runs the trials of those statuses again (see ``start_resume``);
    ``on_event``, ``quiet``, ``progress``: as for ``run``."""
    session = start_resume(
        run,
        runs_dir=runs_dir,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        scheduler_file=scheduler_file,
        cluster=cluster,
        trials=trials,
        retry=retry,
        time_budget=time_budget,
    )
    return followed(session, on_event, quiet, progress)


def _writable(source: Run) -> tuple[RunStore, list[Notice]]:
    """The run directory of a search to write to (a 0.1 search is converted first)."""
    from hpsearch.legacy import writable

    store, said = writable(source)
    return store, [Notice(said, warning=True)] if said else []


@checked_arguments(trials=ZOOM_TRIALS)
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
    scheduler_file: str | Path | None = None,
    cluster: str | None = None,
    on_event: Subscriber | None = None,
    quiet: bool = False,
    progress: Progress | None = None,
) -> Run:
    """Add a zoom round to a search: narrowed around its best trials, inside its newest
    round's region, run into the same run (``hpsearch zoom``); ``on_event``, ``quiet``,
    ``progress``: as for ``run``."""
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
        scheduler_file=scheduler_file,
        cluster=cluster,
    )
    return followed(plan.start(), on_event, quiet, progress)
