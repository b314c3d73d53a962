"""Commands that look at runs: show, list, compare, importance, plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hpsearch.cli.common import (
    JsonOpt,
    RunArg,
    RunsDirOpt,
    app,
    console,
    print_json,
    public,
    say,
    user_errors,
)


@app.command()
def show(
    run_ref: RunArg,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="How many trials.")] = 10,
    rounds_: Annotated[
        bool,
        typer.Option("--rounds", help="Each round's region in full: every range and why."),
    ] = False,
    lineage_: Annotated[bool, typer.Option("--lineage", hidden=True)] = False,  # 0.1's name
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A search's summary, rounds, best trials and failures."""
    from hpsearch import api
    from hpsearch.display import top_table
    from hpsearch.tables import round_lines, rounds_table, summary_lines

    with user_errors():
        run = api.load_run(run_ref, runs_dir)
        infos = run.rounds()
    ranked, failures = run.ranked(), run.failures()
    if as_json:
        doc = {
            "run_dir": str(run.path),
            "summary": public(run.summary),
            "rounds": [info.to_json() for info in infos],
            "top": [r.to_json() for r in ranked[:top]],
            "failures": failures,
        }
        print_json(doc)
        return
    out = console()
    for line in summary_lines(run.summary, run.path):
        say(out, line)
    out.print(
        top_table(run.config, ranked, top, f"top {min(top, len(ranked))} of {len(ranked)} trials")
    )
    panda = run.summary.get("panda") or {}
    for name, value in panda.get("values", {}).items():  # a one-model run's values
        say(out, f"{name} = {value} ({panda.get('chosen', {}).get(name, '')})")
    for f in failures:
        trials = ", ".join(map(str, f["trials"][:8])) + (" …" if f["count"] > 8 else "")
        say(out, f"{f['count']} {f['status']}: {f['reason']} (trials {trials})")
    if len(infos) > 1:
        out.print(rounds_table(infos, run.config.search.metric))
    if rounds_ or lineage_:
        for line in round_lines(run.config.space, run.history.rounds):
            say(out, line)


@app.command(name="list")
def list_runs(runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """Every search in the runs directory, newest first.

    One row per search (and re-test or one-model run): status, ok / total trials, best,
    rounds and start time."""
    from hpsearch import api
    from hpsearch.errors import one_line
    from hpsearch.tables import runs_table

    problems: list[str] = []
    with user_errors():
        rows = [run.list_row() for run in api.list_runs(runs_dir, problems)]
    for problem in problems:
        typer.echo(f"warning: {one_line(problem)}", err=True)
    if as_json:
        print_json({"runs": rows})
        return
    console().print(runs_table(rows))


@app.command()
def compare(
    run_refs: Annotated[list[str], typer.Argument(metavar="RUN...", help="Two or more runs.")],
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The best metric and parameters of runs side by side."""
    from hpsearch import api
    from hpsearch.tables import compare_table

    with user_errors():
        runs = api.compare(run_refs, runs_dir)
    if as_json:
        print_json({"runs": [run.best_column() for run in runs]})
        return
    console().print(compare_table(runs))


@app.command()
def importance(run_ref: RunArg, runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """How much of the metric each hyperparameter explains.

    Binned main effects on each parameter's own scale, minus chance, with Spearman's rho."""
    from hpsearch import api
    from hpsearch.tables import importance_table

    with user_errors():
        run = api.load_run(run_ref, runs_dir)
        found = run.importance()
    if as_json:
        print_json(
            {
                "run_dir": str(run.path),
                "metric": run.config.search.metric,
                "trials": found.trials,
                "caution": found.caution,
                "basis": found.basis,
                "params": [item.__dict__ for item in found.params],
            }
        )
        return
    out = console()
    out.print(importance_table(found))
    if found.basis:
        say(out, f"measured on: {found.basis}")
    if found.caution:
        say(out, f"caution: {found.caution}")


@app.command()
def plot(
    run_ref: RunArg,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", "-o", help="PNG file to write (default: RUN/plot.png)."),
    ] = None,
    runs_dir: RunsDirOpt = None,
) -> None:
    """The metric against each parameter on its scale (PNG).

    One panel per parameter, then the top trials' learning curves."""
    from hpsearch import api

    with user_errors():
        written = api.load_run(run_ref, runs_dir).plot(out)
    typer.echo(f"wrote {written}")


@app.command()
def report(
    run_ref: RunArg,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", "-o", help="Where to write it (default: RUN/report.html)."),
    ] = None,
    lineage_: Annotated[bool, typer.Option("--lineage", hidden=True)] = False,  # 0.1's flag
    as_markdown: Annotated[
        bool,
        typer.Option(
            "--markdown",
            help="A GitHub Markdown summary instead, on stdout (or to --out), e.g. "
            ">> $GITHUB_STEP_SUMMARY.",
        ),
    ] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """A one-file HTML report of a run, or Markdown."""
    from hpsearch import api
    from hpsearch.pages import markdown, write_html
    from hpsearch.paths import shown

    with user_errors():
        run = api.load_run(run_ref, runs_dir)
        if as_markdown:
            text = markdown(run)
            if out is None:
                typer.echo(text)
                return
            from hpsearch.files import atomic_write

            if out.is_dir():
                out = out / f"{run.run_id}.md"
            try:
                atomic_write(out, text + "\n")
            except OSError as exc:
                from hpsearch.errors import UserError

                raise UserError(f"{out}: cannot write: {exc.strerror or exc}") from None
            typer.echo(f"wrote {shown(out)}")
            return
        path = write_html(run, out)
    typer.echo(f"wrote {shown(path)}")
