"""``hpsearch watch RUN``: a run in progress, from another shell, until it ends.

The snapshots come from ``hpsearch.watching`` (it only reads the run directory); this module
shows them. Three ways, chosen once:

- ``live``: a terminal (and no ``CI``): one view, redrawn in place as the run changes.
- ``plain``: anything else (a pipe, a file, ``ssh host hpsearch watch`` without ``-t``): no
  cursor movement, no colour (unless ``FORCE_COLOR``); the whole view once, then one line
  per change (a progress line; ``round N: …`` when a round begins; ``new best …``), the
  whole view again at the end.
- ``json``: one JSON object per snapshot, a line each (JSON Lines), on stdout.

Then one line says how the run ended, and the exit code follows it (``hpsearch.exits``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hpsearch.cli.common import RunArg, RunsDirOpt, app, console, print_json, say, user_errors

if TYPE_CHECKING:
    from hpsearch.watching import RungCount, Snapshot


def _interval(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"must be a number of seconds above 0, got {value}")
    return value


@app.command()
def watch(
    run_ref: RunArg,
    interval: Annotated[
        float,
        typer.Option("--interval", "-i", callback=_interval, help="Seconds between looks."),
    ] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Show the run once and exit 0.")] = False,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="How many trials.")] = 5,
    runs_dir: RunsDirOpt = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="One JSON object per change, a line each, on stdout."),
    ] = False,
) -> None:
    """A live view of a run in progress; ends when the run does.

    Progress, best so far, top trials, early stopping's rungs, trainings in flight. It only
    reads the run (never its lock): safe while the driver writes, on any backend. Exit 0 when
    the run completes (1 if no trial is ok), 130 when it ends interrupted, 1 when its driver
    is gone (killed: hpsearch resume RUN goes on); a terminal gets a view redrawn in place,
    a pipe a line per change."""
    from hpsearch import exits, interrupts
    from hpsearch.watching import watch as looks

    out = console()
    mode = "json" if as_json else _mode()
    try:
        with user_errors(), interrupts.stop_on_signals(), _Shown(out, mode) as shown:
            for last in looks(run_ref, runs_dir, interval=interval, top=top):
                shown(last, final=once or last.ended is not None)
                if once:
                    break
            shown.close()  # the last view stays; how the run ended goes under it
            code = _end(last, out, as_json)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: quietly, the run untouched
        raise typer.Exit(interrupts.exit_code(exc)) from None
    except BrokenPipeError:  # `hpsearch watch RUN | head`: the reader has what it wanted
        raise typer.Exit(interrupts.output_closed().exit_code) from None
    raise typer.Exit(exits.OK if once else code)


def _mode() -> str:
    """live on a terminal, plain anywhere else (and under ``CI``). Whether stdout is a
    terminal, not whether rich would style it: ``FORCE_COLOR`` may colour a log, but a log
    gets no cursor movement."""
    import os
    import sys

    try:
        terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return "live" if terminal and not os.environ.get("CI") else "plain"


def _end(last: Snapshot, out: Any, as_json: bool) -> int:
    """Say how the run ended (not with ``--json`` unless it is not complete: on stderr);
    watch's exit code."""
    from hpsearch import exits
    from hpsearch.console import styled

    if last.ended is None:  # --once on a run still going
        return exits.OK
    code, line = ending(last)
    if not as_json:
        out.print(styled(line))  # wrapped to a terminal's width; whole in a pipe
    elif code != exits.OK:
        from hpsearch.errors import one_line

        typer.echo(one_line(line), err=True)
    return code


def ending(snap: Snapshot) -> tuple[int, str]:
    """How the run ended, in one line, and watch's exit code for it."""
    from hpsearch import exits
    from hpsearch.display import format_value
    from hpsearch.paths import shown

    resume = f"resume with: hpsearch resume {shown(snap.path)}"
    so_far = f"{snap.done} of {snap.planned if snap.planned is not None else '?'} trials"
    if snap.status == "interrupted":
        return exits.CTRL_C, f"run {snap.run_id} was interrupted after {so_far}; {resume}"
    if snap.status == "stopped":
        pid = snap.driver.get("pid", "?")
        return (
            exits.NO_RESULT,
            f"run {snap.run_id} stopped after {so_far}: its driver (pid {pid}) is gone; {resume}",
        )
    seconds = f" in {snap.elapsed:.1f} s" if snap.elapsed is not None else ""
    took = f"{snap.done} trials ({_counts(snap)}){seconds}"
    constraints = snap.config.search.constraints
    if snap.best is None and constraints and snap.counts.get("ok"):
        return exits.NO_RESULT, (
            f"run {snap.run_id} complete, but no trial meets the constraints "
            f"({', '.join(constraints)}): {took}"
        )
    if snap.best is None:
        return exits.NO_RESULT, f"run {snap.run_id} complete, but no trial is ok: {took}"
    metric = snap.config.search.metric
    value = format_value(snap.best.metrics.get(metric))
    return exits.OK, f"run {snap.run_id} complete: {took}; best {metric} {value}"


class _Shown:
    """Shows each snapshot in the chosen mode; a problem reading the run once, on stderr."""

    def __init__(self, out: Any, mode: str) -> None:
        self.out, self.mode = out, mode
        self.live: Any = None
        self.previous: Snapshot | None = None
        self.problems: set[str] = set()

    def __enter__(self) -> _Shown:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()  # the last view stays on the screen
            self.live = None

    def __call__(self, snap: Snapshot, final: bool) -> None:
        from hpsearch.errors import one_line

        if snap.problem and snap.problem not in self.problems:
            self.problems.add(snap.problem)
            typer.echo(f"warning: {one_line(snap.problem)} (showing the last look)", err=True)
        previous, self.previous = self.previous, snap
        if self.mode == "json":
            print_json(snap.to_json())
        elif self.mode == "live" and not (previous is None and final):
            self._live(snap)
        elif previous is None or final:
            self.out.print(View(snap))
        else:
            for line in changes(previous, snap):
                say(self.out, line)

    def _live(self, snap: Snapshot) -> None:
        from rich.live import Live

        if self.live is None:
            self.live = Live(View(snap), console=self.out, refresh_per_second=1)
            self.live.start()
        else:
            self.live.update(View(snap), refresh=True)


class View:
    """A snapshot as the terminal shows it: a few lines, then the top trials. Wrapped to a
    terminal's width (a table hides its rightmost columns, and says so); the elapsed time
    goes on at each redraw."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def __rich_console__(self, console: Any, options: Any) -> Iterable[Any]:
        from hpsearch.console import styled
        from hpsearch.display import top_table

        snap = self.snap
        for line in view_lines(snap):
            yield styled(line)
        if snap.top:
            title = f"top {len(snap.top)} of {snap.counts.get('ok', 0)} ok trials"
            yield top_table(snap.config, snap.top, len(snap.top), title)


def view_lines(snap: Snapshot) -> list[str]:
    """The view's lines, above the top trials."""
    lines = [f"run {snap.run_id}: {_status(snap)}"]
    planned = f" of {snap.planned}" if snap.planned is not None else ""
    rate = f" · {snap.rate:.1f} trials/min" if snap.rate else ""
    elapsed = _duration(snap.elapsed_now())
    lines.append(f"trials: {snap.done}{planned} ({_counts(snap)}) · {elapsed}{rate}")
    if snap.round is not None and snap.kind == "search":
        r = snap.round
        lines.append(f"round {r.number}: {r.summary} ({r.done} of {r.planned} done)")
    lines += rung_lines(snap.rungs or ())
    if snap.in_flight is not None and snap.status == "running":
        lines.append(f"in flight: {_in_flight(snap.in_flight)}")
    lines.append(_best(snap, "best"))
    return lines


def changes(before: Snapshot, snap: Snapshot) -> list[str]:
    """Plain mode: what changed since ``before``, in a line or three."""
    out = []
    now, then = snap.round, before.round
    if now is not None and (then is None or then.number != now.number):
        out.append(f"round {now.number}: {now.summary}")
    if snap.best is not None and snap.best != before.best:
        out.append(_best(snap, "new best"))
    done = f"[{snap.done}/{snap.planned if snap.planned is not None else '?'}]"
    parts = [f"{_duration(snap.elapsed_now())} {done} {_counts(snap)}"]
    if now is not None and snap.rounds > 1:
        parts.append(f"round {now.number} {now.done}/{now.planned}")
    if snap.rungs:
        brackets: dict[int, list[str]] = {}
        for r in snap.rungs:
            brackets.setdefault(r.bracket, []).append(f"{r.reported}/{r.of}")
        parts.append("rungs " + " | ".join(" ".join(b) for b in brackets.values()))
    if snap.in_flight is not None and snap.status == "running":
        parts.append(f"in flight: {_in_flight(snap.in_flight)}")
    if snap.best is not None:
        parts.append(f"best {_value(snap)} (trial {snap.best.trial})")
    out.append(" · ".join(parts))
    return out


def rung_lines(rungs: Iterable[RungCount]) -> list[str]:
    """``rungs: 1 epoch 9/9 · 3 epochs 2/3 · 9 epochs 0/1``, a line per bracket."""
    brackets: dict[int, list[str]] = {}
    for r in rungs:
        unit = "epoch" if r.epochs == 1 else "epochs"
        brackets.setdefault(r.bracket, []).append(f"{r.epochs} {unit} {r.reported}/{r.of}")
    several = len(brackets) > 1
    return [
        f"{f'bracket {b + 1} ' if several else ''}rungs: {' · '.join(parts)}"
        for b, parts in brackets.items()
    ]


def _status(snap: Snapshot) -> str:
    pid, host = snap.driver.get("pid", "?"), snap.driver.get("host", "?")
    if snap.status == "running" and snap.driver.get("state") == "alive":
        return f"running (driver pid {pid} on {host})"
    if snap.status == "running" and "pid" in snap.driver:  # a driver elsewhere: its word only
        return f"running (driver pid {pid} on {host}, not checked from here)"
    if snap.status == "stopped":
        return f"stopped (its driver, pid {pid}, is gone)"
    return str(snap.status)


def _best(snap: Snapshot, label: str) -> str:
    from hpsearch.display import format_params

    if snap.best is None:
        return f"{label}: none yet"
    metric = snap.config.search.metric
    params = format_params(snap.config, snap.best.params)
    return f"{label} {metric} {_value(snap)} (trial {snap.best.trial}): {params}"


def _value(snap: Snapshot) -> str:
    from hpsearch.display import format_value

    best = snap.best.metrics.get(snap.config.search.metric) if snap.best is not None else None
    return format_value(best)


def _counts(snap: Snapshot) -> str:
    return ", ".join(f"{n} {status}" for status, n in snap.counts.items()) or "none yet"


def _in_flight(trials: tuple[int, ...]) -> str:
    if not trials:
        return "none"
    listed = ", ".join(map(str, trials[:8])) + (" …" if len(trials) > 8 else "")
    return f"{len(trials)} ({'trial' if len(trials) == 1 else 'trials'} {listed})"


def _duration(seconds: float | None) -> str:
    """``0:04:03``: hours, minutes, seconds."""
    if seconds is None:
        return "-:--:--"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
