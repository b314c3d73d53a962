"""Commands that look at runs: show, list, compare, importance, plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

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
    trial: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--trial", min=0, help="One trial: params, status, reason, traceback."),
    ] = None,
    failures_: Annotated[
        bool,
        typer.Option("--failures", help="Every failed trial's reason and traceback."),
    ] = False,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A search's summary, rounds, best trials and failures."""
    from hpsearch import api
    from hpsearch.display import top_table
    from hpsearch.tables import round_lines, rounds_table, summary_lines

    with user_errors():
        run = api.load_run(run_ref, runs_dir)
        if trial is not None:
            _show_trial(run, trial, as_json)
            return
        if failures_:
            _show_failures(run, as_json)
            return
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
        if run.config.search.several:  # several goals: the front, from the records themselves
            doc["pareto_front"] = run.config.search.goal.extra_fields(ranked)["pareto_front"]
        print_json(doc)
        return
    out = console()
    several = run.config.search.describe() if run.config.search.several else None
    for line in summary_lines(run.summary, run.path, several):
        say(out, line)
    if run.config.search.metrics:  # the front from the records (summary.json may be edited)
        from hpsearch.goals import front_line

        front = run.config.search.goal.extra_fields(ranked)["pareto_front"]
        say(out, front_line([m for m, _ in run.config.search.metrics], front))
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


def _show_trial(run: Any, number: int, as_json: bool) -> None:
    """``show --trial N``: what the trial was and what came of it, its traceback last."""
    from hpsearch.display import format_value
    from hpsearch.errors import UserError

    record = next((r for r in run.trials if r.trial == number), None)
    if record is None:
        numbers = [r.trial for r in run.trials]
        known = f"its trials are {min(numbers)}-{max(numbers)}" if numbers else "no trials yet"
        raise UserError(f"{run.path}: no trial {number} recorded ({known})")
    if as_json:
        print_json({"run_dir": str(run.path), "trial": record.to_json()})
        return
    out, space = console(), run.config.space
    say(out, f"trial {record.trial} of {run.run_id}: {record.status}, round {record.round}")
    for name, value in record.params.items():
        p = space.get(name)
        say(out, f"  {name} = {p.format(value) if p is not None else value}")
    metric = run.config.search.metric
    value = format_value(record.metrics.get(metric))
    if record.status == "stopped" and record.epochs is not None:  # as far as it trained
        value += f" after {record.epochs} epochs"
    say(out, f"{metric}: {value}")
    others = {k: v for k, v in record.metrics.items() if k != metric}
    if others:
        say(out, "other metrics: " + ", ".join(f"{k}={format_value(v)}" for k, v in others.items()))
    say(out, f"seed {record.seed}, epochs {_or_dash(record.epochs)}, {_or_dash(record.seconds)} s")
    if record.error:
        say(out, f"reason: {record.error}")
    if record.traceback:
        say(out, record.traceback.rstrip("\n"))


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def _show_failures(run: Any, as_json: bool) -> None:
    """``show --failures``: each reason (most common first) with its trials, and each
    distinct traceback under it once."""
    from hpsearch.results import failures_by_reason

    by_trial = {r.trial: r for r in run.trials}
    groups = failures_by_reason(run.trials)
    for group in groups:
        tracebacks: dict[str, list[int]] = {}
        for number in group["trials"]:
            text = by_trial[number].traceback
            if text:
                tracebacks.setdefault(text, []).append(number)
        group["tracebacks"] = [{"trials": t, "traceback": text} for text, t in tracebacks.items()]
    if as_json:
        print_json({"run_dir": str(run.path), "failures": groups})
        return
    out = console()
    if not groups:
        say(out, f"no failed trials in {run.run_id}")
    for group in groups:
        trials = ", ".join(map(str, group["trials"]))
        say(out, f"{group['count']} {group['status']}: {group['reason']} (trials {trials})")
        for kept in group["tracebacks"]:
            if len(group["tracebacks"]) > 1:
                say(out, f"  trials {', '.join(map(str, kept['trials']))}:")
            say(out, kept["traceback"].rstrip("\n"))


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
