"""How a search started by the command line is followed and how it ended is told: the
display, the final report or JSON, the ``--report`` page, the exit code."""

from __future__ import annotations

from typing import Any

import typer

from hpsearch.cli.common import console, print_json, public
from hpsearch.paths import shown


def follow(
    session: Any,
    *,
    as_json: bool,
    quiet: bool,
    fail_under: Any,
    html: bool = False,
) -> None:
    """Run ``session`` under one display, report how it ended, exit with the documented code.
    ``html``: write the run's HTML report at the end (an interrupted run's too)."""
    from hpsearch.display import SearchDisplay, choose_mode
    from hpsearch.events import SearchFinished

    out = console(stderr=as_json)
    with SearchDisplay(out, choose_mode(out, quiet), errors=console(stderr=True)) as display:

        def subscriber(event: Any) -> None:
            display(event)
            if isinstance(event, SearchFinished):  # still under the search's signal guard
                report(event.outcome, out, as_json=as_json, quiet=quiet)

        outcome = session.run(subscriber)
    if html and outcome.run_dir is not None:
        write_report(outcome, quiet=quiet)
    raise typer.Exit(exit_code(outcome, fail_under))


def write_report(outcome: Any, *, quiet: bool) -> None:
    """``--report``: the HTML report of the search; a failure to write it is a warning (the
    search's own exit code stands)."""
    from hpsearch import api
    from hpsearch.errors import UserError, one_line
    from hpsearch.pages import write_html

    try:
        path = write_html(api.load_run(outcome.run_dir))
    except Exception as exc:  # a report never costs the search its exit code
        what = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        typer.echo(f"warning: no report: {one_line(what)}", err=True)
        return
    if not quiet:
        typer.echo(f"report: {shown(path)}", err=True)


def report(outcome: Any, out: Any, *, as_json: bool, quiet: bool) -> None:
    """The end of a search: the JSON, the final table (``--quiet``: the best trial and the
    run only; with ``--json`` too, nothing but the JSON), the rounds, how to go on."""
    from hpsearch import interrupts
    from hpsearch.display import final_report
    from hpsearch.errors import one_line
    from hpsearch.search import MetricMissing
    from hpsearch.tables import rounds_table

    run_dir = outcome.run_dir
    if outcome.error is not None:
        again = (
            ""
            if isinstance(outcome.error, MetricMissing)
            else f"; once that is fixed: hpsearch resume {shown(run_dir)}"
        )
        typer.echo(f"error: {one_line(str(outcome.error))}{again}", err=True)
        return
    if as_json:
        print_json({"run_dir": str(run_dir), **public(outcome.summary)})
    if not (quiet and as_json):
        final_report(out, outcome.config, outcome.summary, outcome.ranked, run_dir, quiet=quiet)
    if len(outcome.rounds) > 1 and not quiet:
        out.print(rounds_table(outcome.rounds, outcome.config.search.metric))
    if outcome.status == "interrupted":
        typer.echo(
            f"interrupted after {len(outcome.ranked)} of {outcome.planned} trials; resume "
            f"with: hpsearch resume {shown(run_dir)}",
            err=as_json or getattr(outcome.stopped, "signum", None) == interrupts.SIGPIPE,
        )


def exit_code(outcome: Any, fail_under: Any) -> int:
    """``hpsearch.exits``: USAGE when an error stopped it; 128 + the signal when interrupted;
    NO_RESULT when no trial is ok or the best misses --fail-under (said on stderr, so a CI log
    shows why); else OK."""
    from hpsearch import exits, interrupts
    from hpsearch.record import format_metric

    # --fail-under, as its callback read it: [(metric or None, threshold), ...]
    if outcome.error is not None:
        return exits.USAGE
    if outcome.status == "interrupted":
        return interrupts.exit_code(outcome.stopped) if outcome.stopped else exits.CTRL_C
    best = outcome.summary.get("best")
    constraints = outcome.config.search.constraints
    if best is None and any(r.ok for r in outcome.ranked):
        goal = outcome.config.search.goal
        reported = [r for r in outcome.ranked if getattr(goal, "point", lambda r: 0)(r)]
        what = (
            f"meets the constraints ({', '.join(constraints)})"
            if reported and constraints
            else f"reported every metric ({', '.join(m for m, _ in outcome.config.search.metrics)})"
        )
        typer.echo(f"error: no trial {what}", err=True)
        return exits.NO_RESULT
    budget = outcome.summary.get("time_budget")
    if best is None and not outcome.ranked and isinstance(budget, dict) and budget.get("reached"):
        typer.echo("error: the time budget was spent before any trial finished", err=True)
        return exits.NO_RESULT
    if best is None:
        typer.echo(f"error: every trial failed{_most_common_reason(outcome.ranked)}", err=True)
        return exits.NO_RESULT
    goal = outcome.config.search.goal
    if not fail_under:
        return exits.OK
    if len(fail_under) == 1 and fail_under[0][0] in (None, goal.metric):
        threshold = fail_under[0][1]
        if goal.misses(best["value"], threshold):
            typer.echo(
                f"error: best {goal.metric} {format_metric(best['value'])} misses --fail-under "
                f"{threshold:g}",
                err=True,
            )
            return exits.NO_RESULT
        return exits.OK
    from hpsearch.goals import meeting

    missed = meeting(goal, outcome.ranked, fail_under)
    if missed:
        typer.echo(f"error: {missed} (--fail-under)", err=True)
        return exits.NO_RESULT
    return exits.OK


def _most_common_reason(records: Any) -> str:
    """``: 5 × ValueError: … (at objective.py:23 in train)``, or nothing without a reason."""
    from hpsearch.errors import one_line
    from hpsearch.objectives.base import shortened
    from hpsearch.results import failures_by_reason

    groups = failures_by_reason(records)
    if not groups:
        return ""
    # A huge message: its start, and where it was raised at its end.
    reason = shortened(one_line(groups[0]["reason"]), 300)
    return f": {groups[0]['count']} × {reason}"
