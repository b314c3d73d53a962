"""Commands that search: run, resume, zoom. Each starts a search through the API, follows
its events with a display, and ends with the documented exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hpsearch.cli.common import (
    BackendOpt,
    ClusterOpt,
    ConfigArg,
    FailUnderOpt,
    JobsOpt,
    JsonOpt,
    QuietOpt,
    ReportOpt,
    RunArg,
    RunsDirOpt,
    SchedulerFileOpt,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    TimeBudgetOpt,
    TrialsOpt,
    app,
    check_fail_under,
    console,
    finite,
    load,
    print_json,
    say,
    user_errors,
)
from hpsearch.cli.ending import follow


@app.command()
def run(
    config: ConfigArg,
    settings: SetOpt = None,
    trials: TrialsOpt = None,
    jobs: JobsOpt = None,
    seed: SeedOpt = None,
    name: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
        typer.Option("--name", help="Name of the run (default: the config's name)."),
    ] = None,
    runs_dir: RunsDirOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    cluster: ClusterOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    fail_under: FailUnderOpt = None,
    rounds: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--rounds", min=0, help="Zoom rounds after the coarse round (zoom.rounds)."),
    ] = None,
    budget: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--budget",
            help="Evaluations in all, spent by hpsearch's own rounds after a coarse one "
            "(search.budget).",
        ),
    ] = None,
    early_stop: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--early-stop",
            help="Stop bad trials early: halving or hyperband, or none to switch the config's "
            "early stopping off (early_stop.method).",
            rich_help_panel="Early stopping",
        ),
    ] = None,
    min_epochs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--min-epochs",
            help="Epochs every trial trains (early_stop.min_epochs).",
            rich_help_panel="Early stopping",
        ),
    ] = None,
    eta: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--eta",
            help="1/eta of a rung's trials go on, eta times longer (early_stop.eta).",
            rich_help_panel="Early stopping",
        ),
    ] = None,
    max_epochs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-epochs",
            help="Epochs a python or command objective trains to in full (early_stop.max_epochs).",
            rich_help_panel="Early stopping",
        ),
    ] = None,
    keep_checkpoints: Annotated[
        bool,
        typer.Option(
            "--keep-checkpoints",
            help="Keep the trials' checkpoints once the run is complete.",
            rich_help_panel="Early stopping",
        ),
    ] = False,
    devices: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--devices",
            metavar="LIST",
            help="CUDA devices to share out, e.g. 0,1 or GPU-/MIG- UUIDs (run.devices): each "
            "trial gets CUDA_VISIBLE_DEVICES / HPSEARCH_DEVICE, {device} or device=.",
            rich_help_panel="Devices",
        ),
    ] = None,
    devices_raw: Annotated[
        bool,
        typer.Option(
            "--devices-raw",
            help="Hand the --devices values over as they are (names other than CUDA's).",
            rich_help_panel="Devices",
        ),
    ] = False,
    per_device: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--per-device",
            help="Trials at once on one device (run.per_device, 1).",
            rich_help_panel="Devices",
        ),
    ] = None,
    warm_start: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--warm-start",
            metavar="RUN",
            help="Start the model from the trials of RUN, a search of a compatible space "
            "(search.warm_start).",
        ),
    ] = None,
    time_budget: TimeBudgetOpt = None,
    html_report: ReportOpt = False,
) -> None:
    """Sample random trials, train them in parallel, rank them.

    Results go to a run directory under the runs directory (runs/)."""
    from hpsearch import api

    with user_errors():
        loaded = load(config, settings)
        check_fail_under(loaded, fail_under)  # before a run is made: a typo is exit 2
        session = api.start_run(
            loaded,
            rounds=rounds,
            budget=budget,
            name=name,
            seed=seed,
            trials=trials,
            jobs=jobs,
            backend=backend,
            scheduler=scheduler,
            scheduler_file=scheduler_file,
            cluster=cluster,
            runs_dir=runs_dir,
            early_stop=early_stop,
            min_epochs=min_epochs,
            eta=eta,
            max_epochs=max_epochs,
            keep_checkpoints=keep_checkpoints or None,
            devices=devices,
            devices_raw=devices_raw,
            per_device=per_device,
            warm_start=warm_start,
            time_budget=time_budget,
        )
    if not quiet:
        for hint in session.config.hints:
            typer.echo(hint, err=True)
    follow(session, as_json=as_json, quiet=quiet, fail_under=fail_under, html=html_report)


@app.command()
def resume(
    run_ref: RunArg,
    runs_dir: RunsDirOpt = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    cluster: ClusterOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    fail_under: FailUnderOpt = None,
    trials: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--trials",
            help="Grow the run to N trials in all (a complete run too); the same as a run "
            "started with N.",
        ),
    ] = None,
    retry: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--retry",
            metavar="STATUSES",
            help="Run the trials of these statuses again with the same seeds, e.g. "
            "failed,timeout (or all); earlier records are kept in attempts.jsonl.",
        ),
    ] = None,
    time_budget: TimeBudgetOpt = None,
    html_report: ReportOpt = False,
) -> None:
    """Finish an interrupted run, then the rounds it had left.

    Only the missing trials run, with the same seeds; a --rounds search goes on from the
    newest round it had started. --trials grows a run, --retry heals one."""
    from hpsearch import api

    with user_errors():
        session = api.start_resume(
            run_ref,
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
        check_fail_under(session.config, fail_under)
    follow(session, as_json=as_json, quiet=quiet, fail_under=fail_under, html=html_report)


@app.command()
def zoom(
    run_ref: RunArg,
    top: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--top", min=1, help="Zoom around the best K trials of the newest region (zoom.top)."
        ),
    ] = None,
    top_fraction: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "--top-fraction",
            callback=finite,
            help="Zoom around this fraction of the ok trials instead of --top.",
        ),
    ] = None,
    margin: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "--margin",
            callback=finite,
            help="Padding on each side, as a share of what the top trials leave free of each "
            "range (zoom.margin; below 0.5).",
        ),
    ] = None,
    trials: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--trials", "-n", min=1, help="Trials in the new round (zoom.trials)."),
    ] = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    cluster: ClusterOpt = None,
    runs_dir: RunsDirOpt = None,
    write_config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--write-config",
            help="Only write the new round's region as a config to this file (nothing runs).",
        ),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    fail_under: FailUnderOpt = None,
) -> None:
    """Add a narrower round to a search, around its best trials.

    The round lies inside the search's newest region and runs into the same run."""
    from hpsearch import api
    from hpsearch.tables import zoom_text

    out = console(stderr=as_json)
    with user_errors():
        plan = api.plan_zoom(
            run_ref,
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
    if write_config is not None:
        for notice in plan.notices:
            typer.echo(notice.text, err=True)
        with user_errors():
            plan.write(write_config)
        if not quiet:
            region = zoom_text(
                plan.source.config.space, plan.parent.region, plan.proposal, plan.round
            )
            say(out, region)
            say(out, f"wrote {write_config}")
        if as_json:
            print_json({"config": str(write_config), "round": plan.round, "of": plan.source.run_id})
        return
    with user_errors():  # refused (a search with trials to go, another driver) before a word
        session = plan.start()
    # The round, its ranges and why, are told as it starts (the display of RoundStarted).
    follow(session, as_json=as_json, quiet=quiet, fail_under=fail_under)
