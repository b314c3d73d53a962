"""Commands that train chosen settings: train (one model, panda mode) and retest."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from hpsearch import exits
from hpsearch.cli.common import (
    BackendOpt,
    ConfigArg,
    JobsOpt,
    JsonOpt,
    QuietOpt,
    RunArg,
    RunsDirOpt,
    app,
    console,
    print_json,
    public,
    say,
    user_errors,
)
from hpsearch.paths import shown


@app.command(name="train")
def train(
    config: ConfigArg,
    settings: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs Optional on Python 3.10
        typer.Option(
            "--set",
            help="name=value for one parameter (repeatable); model.name= and space.name= "
            "name the same one, as run's --set writes them.",
        ),
    ] = None,
    from_run: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--from", help="Start from this run's best parameters."),
    ] = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Panda mode: train one model with a live learning curve."""
    from hpsearch import api, interrupts
    from hpsearch.config.overrides import parameter_setting
    from hpsearch.display import CurveDisplay, choose_mode, format_value

    with user_errors():
        chosen = dict(parameter_setting(text) for text in settings or [])
        panda = api.plan_train(config, settings=chosen, from_run=from_run, runs_dir=runs_dir)
    out = console(stderr=as_json)
    mode = choose_mode(out, quiet)
    if mode != "quiet":
        for name in panda.values:
            say(out, f"{name} = {panda.shown[name]} ({panda.chosen[name]})")
    epochs = int(panda.config.resolved_model().get("epochs", 0) or 0)
    with user_errors(), CurveDisplay(out, mode, epochs) as display:
        done = panda.train(display)
    record, metric = done.record, panda.config.search.metric
    if as_json:
        print_json({"run_dir": str(done.run_dir), **public(done.summary)})
    say(
        out,
        f"{record.status}: {metric} = {format_value(record.metrics.get(metric))} after "
        f"{record.epochs} epochs; run {shown(done.run_dir)}",
    )
    if record.error:
        say(out, record.error)
    if done.status == "interrupted":
        raise typer.Exit(interrupts.last_exit_code())
    raise typer.Exit(exits.OK if record.ok else exits.NO_RESULT)


@app.command()
def retest(
    run_ref: RunArg,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="How many winners.")] = 3,
    seeds: Annotated[int, typer.Option("--seeds", min=2, help="Fresh seeds per winner.")] = 5,
    data_source: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--data-source", help="Re-test on other built-in data (spirals, blobs, digits)."
        ),
    ] = None,
    data_seed: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--data-seed", min=0, help="Re-test on a fresh draw of the data."),
    ] = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Re-train a run's winners with fresh seeds: was it luck?

    Or on a fresh draw of the data (--data-seed), or on other data (--data-source)."""
    from hpsearch import api, interrupts
    from hpsearch.errors import one_line
    from hpsearch.events import Notice
    from hpsearch.tables import retest_table, retest_verdict

    out = console(stderr=as_json)
    with user_errors():
        plan = api.plan_retest(
            run_ref, runs_dir=runs_dir, top=top, seeds=seeds, data_source=data_source,
            data_seed=data_seed, jobs=jobs, backend=backend,
        )  # fmt: skip

    def follow(event) -> None:
        if isinstance(event, Notice) and event.warning:
            typer.echo(event.text, err=True)
        elif isinstance(event, Notice) and not (quiet or as_json):
            say(out, event.text)

    with user_errors():
        done = plan.run(follow)
    if done.error is not None:
        typer.echo(f"error: {one_line(str(done.error))}", err=True)
        raise typer.Exit(exits.USAGE)
    if as_json:
        print_json({"run_dir": str(done.run_dir), **public(done.summary)})
    out.print(retest_table(done.rows, plan.original.search.metric))
    for line in retest_verdict(done.rows, done.holds, data_source):
        say(out, line)
    say(out, f"run: {shown(done.run_dir)}")
    if done.status == "interrupted":
        raise typer.Exit(interrupts.exit_code(done.stopped) if done.stopped else exits.CTRL_C)
