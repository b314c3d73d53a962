"""The ``hpsearch`` command: parse the arguments, call the core, present the result."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpsearch import __version__
from hpsearch.paths import shown

app = typer.Typer(
    name="hpsearch",
    help="Random hyperparameter search on the right scales, coarse-to-fine.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion: bash, zsh, fish, PowerShell
    rich_markup_mode=None,  # plain help: flags without a "<bool>" type, readable when piped
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigArg = Annotated[Path, typer.Argument(help="YAML config file.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
TrialsOpt = Annotated[
    Optional[int],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option("--trials", "-n", min=1, help="Number of trials (default: search.trials)."),
]
SeedOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--seed", min=0, help="Override the config's seed."),
]


def _console(stderr: bool = False):  # rich is imported only by commands that print tables
    from hpsearch.console import make_console

    return make_console(stderr)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a user's mistake into one line on stderr and exit code 2."""
    from hpsearch.errors import UserError, one_line

    try:
        yield
    except UserError as exc:
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hpsearch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Random hyperparameter search on the right scales, coarse-to-fine."""


@app.command()
def validate(config: ConfigArg) -> None:
    """Check a config and what it runs; show the search space.

    Each parameter's scale, range and the 10 / 50 / 90 % quantiles of a draw; the data."""
    from hpsearch.config import load_config
    from hpsearch.report import space_table
    from hpsearch.search import build_objective

    with _user_errors():
        cfg = load_config(config)
        objective = build_objective(cfg)  # loads the data, or imports the function
    for hint in cfg.hints:
        typer.echo(hint, err=True)
    console = _console()
    console.print(space_table(cfg))
    fixed = ", ".join(f"{k}={v}" for k, v in cfg.model.items()) or (
        "trainer defaults" if cfg.objective.is_builtin else "nothing"
    )
    console.print(f"fixed: {fixed}", soft_wrap=True)
    console.print(
        f"search: {cfg.search.trials} trials, {cfg.search.direction} {cfg.search.metric}, "
        f"seed {cfg.seed}",
        soft_wrap=True,
    )
    data = getattr(objective, "dataset", None)
    if data is not None:
        console.print(
            f"data: {data.name}, {len(data.x_train)} training / {len(data.x_val)} validation "
            f"examples, {data.features} features, {data.classes} classes",
            soft_wrap=True,
        )
    else:
        what = cfg.objective.python or cfg.objective.command
        console.print(
            f"objective: {cfg.objective.kind} {what} (in {cfg.workdir})",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    console.print(f"[green]{config} is valid[/green]", soft_wrap=True)


@app.command()
def sample(
    config: ConfigArg,
    n: TrialsOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draw trials without training, to see how values spread."""
    from hpsearch.config import load_config
    from hpsearch.sampling import sample_trials

    with _user_errors():
        cfg = load_config(config)
    count = n if n is not None else cfg.search.trials
    root_seed = seed if seed is not None else cfg.seed
    trials = sample_trials(cfg.space, root_seed, count)
    if as_json:
        doc = {
            "config": str(config),
            "seed": root_seed,
            "space": cfg.space.to_dict(),
            "trials": [{"trial": t.index, "seed": t.seed, "params": t.params} for t in trials],
        }
        json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return
    from hpsearch.report import spread_table, trials_table

    console = _console()
    params = list(cfg.space)
    console.print(trials_table(params, trials))
    console.print(spread_table(params, trials))


@app.command()
def params() -> None:
    """The built-in trainer's hyperparameters and their ranges.

    Type, default, valid range, suggested scale and meaning of each."""
    from hpsearch.report import registry_table

    _console().print(registry_table())


def main() -> None:
    """Console-script entry point: a usage error is one line on stderr, exit code 2."""
    from hpsearch.errors import UserError, one_line

    command = typer.main.get_command(app)
    from hpsearch import interrupts

    try:
        code = command.main(args=sys.argv[1:], prog_name="hpsearch", standalone_mode=False)
    except KeyboardInterrupt as exc:
        sys.exit(interrupts.exit_code(exc))
    except BrokenPipeError:  # `hpsearch list | head -1`: the reader has what it wanted
        sys.exit(interrupts.output_closed().exit_code)
    except UserError as exc:  # a safety net: commands catch these themselves
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        # click's usage errors (a bad option value, a missing argument, an unknown command):
        # they carry format_message() and exit_code.
        if not hasattr(exc, "format_message") or not hasattr(exc, "exit_code"):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None):
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        hint = ""
        if getattr(exc, "ctx", None) is not None:
            hint = f" (see: {exc.ctx.command_path} --help)"
        typer.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


# -- run / resume ------------------------------------------------------------------------------

RunsDirOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--runs-dir",
        envvar="HPSEARCH_RUNS_DIR",
        help="Where runs live (default: HPSEARCH_RUNS_DIR, else the config's run.runs_dir, "
        "else ./runs).",
    ),
]


def _jobs(value: Optional[int]) -> Optional[int]:  # noqa: UP045
    if value is not None and value != -1 and value < 1:
        raise typer.BadParameter(f"must be -1 (every core) or a positive integer, got {value}")
    return value


JobsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--jobs", "-j", callback=_jobs, help="Parallel trials; -1 = every core."),
]
BackendOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--backend",
        help="processes (default), threading, sequential (in the driver, for debugging) or dask.",
    ),
]
SchedulerOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--scheduler",
        help="Dask scheduler address for --backend dask "
        "(also HPSEARCH_DASK_SCHEDULER); none: a local cluster.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")]


def _finite(value: Optional[float]) -> Optional[float]:  # noqa: UP045
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


FailUnderOpt = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--fail-under", callback=_finite, help="Exit 1 if the best metric is worse than this."
    ),
]


def _scheduler_applies(scheduler: Optional[str], backend: str) -> None:  # noqa: UP045
    """--scheduler with a backend that is not dask (given, or the config's) is a mistake."""
    from hpsearch.errors import UserError

    if scheduler is not None and backend != "dask":
        raise UserError(
            f"--scheduler applies to the dask backend only; this run's backend is '{backend}' "
            "(add --backend dask)"
        )


def _check_backend(backend: Optional[str], scheduler: Optional[str] = None) -> None:  # noqa: UP045
    from hpsearch.config import BACKENDS, suggest

    if scheduler is not None and backend not in (None, "dask"):
        raise typer.BadParameter("applies to --backend dask only", param_hint="--scheduler")
    if backend is not None and backend not in BACKENDS:
        raise typer.BadParameter(
            f"unknown backend '{backend}'{suggest(backend, BACKENDS)}", param_hint="--backend"
        )


@app.command()
def run(
    config: ConfigArg,
    trials: TrialsOpt = None,
    jobs: JobsOpt = None,
    seed: SeedOpt = None,
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--name", help="Name of the run (default: the config's name)."),
    ] = None,
    runs_dir: RunsDirOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    fail_under: FailUnderOpt = None,
    rounds: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--rounds", min=0, help="Zoom rounds after the coarse run (zoom.rounds)."),
    ] = None,
) -> None:
    """Sample random trials, train them in parallel, rank them.

    Results go to a run directory under the runs directory (runs/)."""
    import dataclasses

    from hpsearch.config import load_config, parse_override_name
    from hpsearch.runner import require_backend
    from hpsearch.search import start_search

    _check_backend(backend, scheduler)
    with _user_errors():
        cfg = load_config(config)
        run_cfg = dataclasses.replace(
            cfg.run,
            jobs=jobs if jobs is not None else cfg.run.jobs,
            backend=backend or cfg.run.backend,
            runs_dir=str(runs_dir) if runs_dir is not None else cfg.run.runs_dir,
            scheduler=scheduler
            or (cfg.run.scheduler if not backend or backend == "dask" else None),
        )
        _scheduler_applies(scheduler, run_cfg.backend)
        require_backend(run_cfg.backend)
        cfg = dataclasses.replace(
            cfg,
            name=parse_override_name(name) if name is not None else cfg.name,
            seed=seed if seed is not None else cfg.seed,
            search=dataclasses.replace(cfg.search, trials=trials or cfg.search.trials),
            run=run_cfg,
        )
        rounds = rounds if rounds is not None else cfg.zoom.rounds
        search = start_search(cfg, rounds_left=rounds)
    if not quiet:
        for hint in cfg.hints:
            typer.echo(hint, err=True)
    _drive(search, as_json=as_json, quiet=quiet, fail_under=fail_under, rounds=rounds)


@app.command()
def resume(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run directory, run id, or 'latest'.")
    ],
    runs_dir: RunsDirOpt = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    fail_under: FailUnderOpt = None,
) -> None:
    """Finish an interrupted run, then the rounds it had left.

    Only the missing trials run, with the same seeds; a --rounds search goes on from the
    newest round it had started."""
    from hpsearch.runner import require_backend
    from hpsearch.search import ancestors, latest_round, resume_search
    from hpsearch.store import resolve_run

    _check_backend(backend, scheduler)
    with _user_errors():
        named = resolve_run(run_ref, runs_dir or "runs", search_only=True)
        store = latest_round(named)  # a --rounds search goes on where it had got to
        resumed = resume_search(store)
        _scheduler_applies(scheduler, backend or resumed.search.config.run.backend)
        require_backend(backend or resumed.search.config.run.backend)
        summary = store.summary()
        rounds = int(summary.get("rounds_left") or 0)
        history = ancestors(store) if rounds or summary.get("round") else []
    if store.run_id != named.run_id:
        typer.echo(
            f"{named.run_id} went on in round {summary.get('round')}: resuming {shown(store.path)}",
            err=True,
        )
    if resumed.torn is not None:
        typer.echo(
            f"warning: {store.path / 'trials.jsonl'}: its last line was cut off (the "
            "process was killed while writing it); set aside in trials.jsonl.torn and "
            "that trial runs again",
            err=True,
        )
    _drive(
        resumed.search,
        as_json=as_json,
        quiet=quiet,
        fail_under=fail_under,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        rounds=rounds,
        history=history,
    )


def _drive(
    search,
    *,
    as_json: bool,
    quiet: bool,
    fail_under: float | None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    rounds: int = 0,
    history: Sequence = (),
) -> None:
    """Run a search (and ``rounds`` zoom rounds after it) under one display; write the
    results; exit with the documented code."""
    import contextlib

    from hpsearch import interrupts
    from hpsearch.display import (
        SearchDisplay,
        choose_mode,
        ranges_text,
    )
    from hpsearch.errors import UserError
    from hpsearch.runner import shutdown_workers
    from hpsearch.search import start_next_round

    console = _console(stderr=as_json)
    mode = choose_mode(console, quiet)
    config = search.config
    total = config.search.trials + rounds * config.zoom.trials
    searches = [*history, search]  # history: earlier rounds of a resumed lineage
    summaries: dict[int, dict] = {}
    status = "complete"
    stopped: KeyboardInterrupt | None = None
    storage_error: Exception | None = None
    _warn_about_jobs(jobs if jobs is not None else config.run.jobs, backend or config.run.backend)
    with interrupts.stop_on_signals():
        try:
            with SearchDisplay(console, config, mode, total, done=len(search.records)) as display:
                for round_index in range(rounds + 1):
                    current = searches[-1]
                    display.start_round(current.config, current.records)
                    if mode != "quiet":
                        display.note(
                            f"run {current.store.run_id}: {len(current.missing)} of "
                            f"{current.config.search.trials} trials to go, "
                            f"{config.search.direction} {config.search.metric}"
                        )
                    try:
                        for record in current.run(jobs=jobs, backend=backend, scheduler=scheduler):
                            display.update(record)
                    except KeyboardInterrupt as exc:
                        status, stopped = "interrupted", exc
                    except BrokenPipeError:  # `hpsearch run ... | head`: like Ctrl-C
                        status, stopped = "interrupted", interrupts.output_closed()
                    except UserError as exc:  # a full disk, an unreachable scheduler: stop,
                        status, storage_error = "interrupted", exc  # keep what is on disk
                    with interrupts.protected():
                        try:
                            summaries[id(current)] = current.finish(
                                status, extra={"rounds_left": rounds - round_index}, release=False
                            )
                        except (OSError, UserError) as exc:
                            storage_error = storage_error or exc
                            summaries[id(current)] = {"status": status}
                    if status != "complete" or round_index == rounds:
                        break
                    with interrupts.protected():
                        following = start_next_round(searches)
                        if following is None:
                            with contextlib.suppress(OSError, UserError):
                                current.store.write_summary(
                                    {**current.store.summary(), "rounds_left": 0}
                                )
                    if following is None:
                        display.note(
                            "nothing to zoom on (no ok trial, or every parameter is "
                            "fixed): no more rounds"
                        )
                        break
                    if mode != "quiet":
                        display.note(ranges_text(current.config, following.config))
                    searches.append(following)
        except KeyboardInterrupt as exc:  # between two rounds
            status, stopped = "interrupted", stopped or exc
        except BrokenPipeError:
            status, stopped = "interrupted", stopped or interrupts.output_closed()
        finally:
            with interrupts.protected(raise_after=False):
                shutdown_workers()
        try:
            with interrupts.protected(raise_after=False):  # the search is over: write it all
                _report_search(
                    searches,
                    summaries,
                    status,
                    stopped,
                    storage_error,
                    as_json,
                    quiet,
                    console,
                    fail_under,
                )
        finally:
            for finished in searches:  # held until the next round existed and all is written
                finished.release()


def _report_search(
    searches, summaries, status, stopped, storage_error, as_json, quiet, console, fail_under
):
    """The end of ``_drive``: the lineage, the final report, the exit code. ``--quiet``: the
    best trial and the run only; with ``--json`` too, nothing but the JSON."""
    from hpsearch import interrupts
    from hpsearch.display import final_report, lineage_table
    from hpsearch.errors import one_line
    from hpsearch.search import finish_lineage

    config = searches[0].config
    last = searches[-1]
    if storage_error is not None:
        from hpsearch.search import MetricMissing

        again = (
            ""
            if isinstance(storage_error, MetricMissing)
            else f"; once that is fixed: hpsearch resume {shown(last.store.path)}"
        )
        typer.echo(f"error: {one_line(str(storage_error))}{again}", err=True)
        raise typer.Exit(2)
    summary = summaries.get(id(last)) or last.finish(status)
    if len(searches) > 1:
        summary = finish_lineage(searches, summary)
    if as_json:
        doc = {
            "run_dir": str(last.store.path),
            **{k: v for k, v in summary.items() if k != "config"},
        }
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
    if not (quiet and as_json):
        final_report(console, last.config, summary, last.ranked(), last.store.path, quiet=quiet)
    if len(searches) > 1 and not quiet:
        console.print(lineage_table(searches))
    if status == "interrupted":
        typer.echo(
            f"interrupted after {len(last.records)} of {last.config.search.trials} "
            f"trials; resume with: hpsearch resume {shown(last.store.path)}",
            err=as_json or getattr(stopped, "signum", None) == interrupts.SIGPIPE,
        )
        raise typer.Exit(interrupts.exit_code(stopped) if stopped else 130)
    raise typer.Exit(_exit_code(summary, config, fail_under))


def _warn_about_jobs(jobs: int, backend: str) -> None:
    """More worker processes than cores only helps trials that wait: say so."""
    from hpsearch.runner import cores

    if backend in ("processes", "loky", "threading") and jobs > cores():
        typer.echo(
            f"warning: --jobs {jobs} is more than the {cores()} CPU cores here: trials "
            "will share them (worth it only for trials that wait on a GPU, a remote "
            "service or files)",
            err=True,
        )


def _exit_code(summary, config, fail_under) -> int:
    """0: a best trial (meeting --fail-under); 1: none, or it misses --fail-under (said on
    stderr, so a CI log shows why)."""
    best = summary.get("lineage_best") or summary.get("best")
    if best is None:
        typer.echo("error: every trial failed", err=True)
        return 1
    if fail_under is not None:
        value = best["value"]
        worse = value < fail_under if config.search.direction == "maximize" else value > fail_under
        if worse:
            typer.echo(
                f"error: best {config.search.metric} {value:.4f} misses --fail-under {fail_under}",
                err=True,
            )
            return 1
    return 0


@app.command()
def zoom(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run directory, run id, or 'latest'.")
    ],
    top: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--top", min=1, help="Zoom around the best K trials (zoom.top)."),
    ] = None,
    top_fraction: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "--top-fraction",
            help="Zoom around this fraction of the ok trials instead of --top.",
        ),
    ] = None,
    margin: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--margin", min=0.0, help="Widening on each side, × the span (zoom.margin)."),
    ] = None,
    trials: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--trials", "-n", min=1, help="Trials in the new run (zoom.trials)."),
    ] = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    runs_dir: RunsDirOpt = None,
    write_config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--write-config", help="Only write the narrowed config to this file."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    fail_under: FailUnderOpt = None,
) -> None:
    """Narrow the space around a run's best trials; search again."""
    import dataclasses

    from hpsearch import yamlio
    from hpsearch.display import ranges_text
    from hpsearch.errors import NoOkTrial
    from hpsearch.search import start_search
    from hpsearch.store import atomic_write, lineage, resolve_run
    from hpsearch.zoom import top_records, zoomed_config

    _check_backend(backend, scheduler)
    if top is not None and top_fraction is not None:
        raise typer.BadParameter("give --top or --top-fraction, not both", param_hint="--top")
    if top_fraction is not None and not 0 < top_fraction <= 1:
        raise typer.BadParameter(
            f"must be in (0, 1], got {top_fraction}", param_hint="--top-fraction"
        )
    console = _console(stderr=as_json)
    with _user_errors():
        store = resolve_run(run_ref, runs_dir or "runs", search_only=True)
        config = store.config()
        from hpsearch.errors import UserError

        if store.kind == "retest":
            raise UserError(
                f"{store.path}: a re-test is not a search to zoom into; zoom the run it re-tested"
            )
        if not len(config.space):
            raise UserError(
                f"{store.path}: nothing to narrow: its space is empty (every parameter is fixed)"
            )
        chain = lineage(store)
        records = [
            r
            for run_store in chain
            for r in run_store.load_trials(space=run_store.config().space).records
        ]
        want = top if top is not None or top_fraction is not None else config.zoom.top
        best = top_records(
            records, config.search.metric, config.search.direction, want, top_fraction
        )
        if not best:
            raise NoOkTrial(f"{store.path}: no ok trial to zoom on")
    if top is not None and len(best) < top:
        typer.echo(
            f"warning: only {len(best)} ok trials, fewer than --top {top}: zooming on those",
            err=True,
        )
    round_ = int(store.summary().get("round") or 0) + 1
    new_cfg = zoomed_config(
        config,
        best,
        margin if margin is not None else config.zoom.margin,
        trials or config.zoom.trials,
        round_,
    )
    # The new run lives beside its parent, so its lineage can be followed.
    new_cfg = dataclasses.replace(
        new_cfg,
        run=dataclasses.replace(
            new_cfg.run,
            runs_dir=str(store.path.parent),
            jobs=jobs if jobs is not None else new_cfg.run.jobs,
            backend=backend or new_cfg.run.backend,
            scheduler=scheduler
            or (new_cfg.run.scheduler if not backend or backend == "dask" else None),
        ),
    )
    with _user_errors():
        _scheduler_applies(scheduler, new_cfg.run.backend)
    console.print(ranges_text(config, new_cfg), soft_wrap=True, highlight=False, markup=False)
    if write_config is not None:
        header = (
            f"# Zoomed from {store.path} (round {round_}) around its best "
            f"{len(best)} trial(s). An ordinary config: edit it, then hpsearch run it.\n"
        )
        with _user_errors():
            try:
                atomic_write(
                    write_config, header + yamlio.dump(new_cfg.to_dict(absolute_paths=True))
                )
            except OSError as exc:
                from hpsearch.errors import UserError

                raise UserError(f"{write_config}: cannot write: {exc.strerror or exc}") from None
        console.print(f"wrote {write_config}", soft_wrap=True, highlight=False)
        if as_json:
            sys.stdout.write(
                json.dumps({"config": str(write_config), "round": round_, "parent": store.run_id})
                + "\n"
            )
        return
    with _user_errors():
        from hpsearch.runner import require_backend

        require_backend(new_cfg.run.backend)
        search = start_search(new_cfg, parent=store.run_id, round_=round_)
    _drive(search, as_json=as_json, quiet=quiet, fail_under=fail_under)


# -- seeing the results ------------------------------------------------------------------------

RunArg = Annotated[str, typer.Argument(metavar="RUN", help="Run directory, run id, or 'latest'.")]


def _open_run(ref: str, runs_dir: Optional[Path], search_only: bool = False):  # noqa: UP045
    """A run, its config, summary and trials (checked against its space)."""
    from hpsearch.store import resolve_run

    store = resolve_run(ref, runs_dir or "runs", search_only=search_only)
    config = store.config()
    records = store.load_trials(space=config.space).records
    return store, config, store.current_summary(config, records), records


def _public(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "config"}


@app.command()
def show(
    run_ref: RunArg,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="How many trials.")] = 10,
    lineage_: Annotated[
        bool, typer.Option("--lineage", help="Follow the parents: each round's ranges and best.")
    ] = False,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A run's summary, best trials and failures by reason."""
    from hpsearch.display import format_value, top_table
    from hpsearch.report import failures_by_reason, summary_lines
    from hpsearch.store import lineage, rank

    with _user_errors():
        store, config, summary, records = _open_run(run_ref, runs_dir)
        chain = lineage(store) if lineage_ else []
        rounds = [_round_info(s) for s in chain]
    ranked = rank(records, config.search.metric, config.search.direction)
    failures = failures_by_reason(records)
    if as_json:
        doc = {
            "run_dir": str(store.path),
            "summary": _public(summary),
            "top": ranked[:top],
            "failures": failures,
        }
        if lineage_:
            doc["lineage"] = rounds
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    console = _console()
    for line in summary_lines(summary, store.path):
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    console.print(
        top_table(config, ranked, top, f"top {min(top, len(ranked))} of {len(ranked)} trials")
    )
    panda = summary.get("panda")
    if panda:  # a one-model run: its values live in the config, not in a space
        for name, value in panda["values"].items():
            console.print(
                f"{name} = {value} ({panda['chosen'].get(name, '')})",
                soft_wrap=True,
                highlight=False,
                markup=False,
            )
    for f in failures:
        trials = ", ".join(map(str, f["trials"][:8])) + (" …" if f["count"] > 8 else "")
        console.print(
            f"{f['count']} {f['status']}: {f['reason']} (trials {trials})",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    for info in rounds:
        console.print(
            f"round {info['round']} {info['run_id']}: {info['trials']} trials, best "
            f"{format_value(info['best'])}",
            soft_wrap=True,
            highlight=False,
        )
        for name, text in info["ranges"].items():
            console.print(f"    {name}: {text}", soft_wrap=True, highlight=False, markup=False)


def _round_info(run_store) -> dict:
    from hpsearch.store import best_ok, rank

    cfg = run_store.config()
    recs = run_store.load_trials(space=cfg.space).records
    ranked = rank(recs, cfg.search.metric, cfg.search.direction)
    best = best_ok(ranked)
    ranges = {p.name: p.describe() for p in cfg.space}
    for name in sorted(_searched_before(run_store) - set(ranges)):
        ranges[name] = f"fixed at {cfg.model.get(name)}"
    return {
        "round": run_store.summary().get("round", 0),
        "run_id": run_store.run_id,
        "trials": len(recs),
        "best": best["metrics"].get(cfg.search.metric) if best else None,
        "best_params": best["params"] if best else None,
        "ranges": ranges,
    }


def _searched_before(run_store) -> set[str]:
    """Parameters a parent searched (so a fixed value in this round came from zooming)."""
    from hpsearch.store import lineage

    names: set[str] = set()
    for ancestor in lineage(run_store)[:-1]:
        names |= set(ancestor.config().space.names)
    return names


@app.command(name="list")
def list_runs_command(runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """Every run in the runs directory, newest first.

    Status, ok / total trials, best, zoom round and start time of each."""
    from hpsearch.report import runs_table
    from hpsearch.store import RunError, list_runs, run_kind

    rows = []
    problems: list[str] = []
    with _user_errors():
        stores = list_runs(runs_dir or "runs", problems)
    for run_store in stores:
        try:
            summary = run_store.current_summary()
        except RunError as exc:  # one bad run does not hide the others
            problems.append(str(exc))
            summary = {}
        counts = summary.get("counts") or {}
        best = summary.get("lineage_best") or summary.get("best") or {}
        rows.append(
            {
                "run_id": run_store.run_id,
                "name": summary.get("name", "?"),
                "status": summary.get("status", "?"),
                "ok": counts.get("ok", 0),
                "trials": summary.get("trials_done", 0),
                "best": best.get("value"),
                "metric": summary.get("metric", ""),
                "parent": summary.get("parent"),
                "round": summary.get("round", 0),
                "retest": bool(summary.get("retest")),
                "kind": run_kind(summary),
                "started": summary.get("started"),
                "path": str(run_store.path),
            }
        )
    from hpsearch.errors import one_line

    for problem in problems:
        typer.echo(f"warning: {one_line(problem)}", err=True)
    if as_json:
        sys.stdout.write(json.dumps({"runs": rows}) + "\n")
        return
    _console().print(runs_table(rows))


@app.command()
def compare(
    run_refs: Annotated[list[str], typer.Argument(metavar="RUN...", help="Two or more runs.")],
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The best metric and parameters of runs side by side."""
    from hpsearch.errors import UserError
    from hpsearch.report import compare_table
    from hpsearch.store import best_ok, rank

    columns = []
    with _user_errors():
        if len(run_refs) < 2:
            raise UserError(
                f"give two or more runs to compare, got {len(run_refs)} "
                "(one run: hpsearch show RUN)"
            )
        for ref in run_refs:
            store, config, summary, records = _open_run(ref, runs_dir)
            ranked = rank(records, config.search.metric, config.search.direction)
            best = best_ok(ranked)
            params = {**config.model, **(best["params"] if best else {})} if best else {}
            formatted = {
                n: (config.space[n].format(v) if n in config.space else str(v))
                for n, v in params.items()
            }
            columns.append(
                {
                    "run_id": store.run_id,
                    "status": summary.get("status", "?"),
                    "metric": config.search.metric,
                    "direction": config.search.direction,
                    "value": best["metrics"].get(config.search.metric) if best else None,
                    "trial": best["trial"] if best else None,
                    "params": params,
                    "formatted": formatted,
                    "searched": config.space.names,
                    "ok": sum(r["status"] == "ok" for r in records),
                    "trials": len(records),
                }
            )
    if as_json:
        for c in columns:
            c.pop("formatted")
            c.pop("searched")
        sys.stdout.write(json.dumps({"runs": columns}) + "\n")
        return
    _console().print(compare_table(columns))


@app.command()
def importance(run_ref: RunArg, runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """How much of the metric each hyperparameter explains.

    Binned main effects on each parameter's own scale, minus chance, with Spearman's rho."""
    from hpsearch.analysis import importance as compute
    from hpsearch.errors import NoOkTrial
    from hpsearch.report import importance_table

    with _user_errors():
        store, config, _, records = _open_run(run_ref, runs_dir)
        if not any(r["status"] == "ok" for r in records):
            raise NoOkTrial(f"{store.path}: no ok trial: nothing to tell the parameters apart")
    report = compute(config.space, records, config.search.metric)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "run_dir": str(store.path),
                    "metric": config.search.metric,
                    "trials": report.trials,
                    "caution": report.caution,
                    "params": [item.__dict__ for item in report.params],
                }
            )
            + "\n"
        )
        return
    console = _console()
    console.print(importance_table(report))
    if report.caution:
        console.print(f"caution: {report.caution}", soft_wrap=True, highlight=False)


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
    from hpsearch.plot import plot_run

    with _user_errors():
        store, config, summary, records = _open_run(run_ref, runs_dir)
        parent_space = None
        if summary.get("parent"):
            parent_dir = store.path.parent / summary["parent"]
            from hpsearch.store import RunStore, is_run_dir

            if is_run_dir(parent_dir):
                parent_space = RunStore.open(parent_dir).config().space
        target = out or store.path / "plot.png"
        if target.is_dir():
            target = target / f"{store.run_id}.png"
        if target.suffix.lower() != ".png":
            from hpsearch.errors import UserError

            raise UserError(f"--out {target}: the plot is a PNG: give a file name ending in .png")
        try:
            plot_run(
                config,
                records,
                store.load_curves(),
                target,
                parent_space,
                title=f"{store.run_id}: {config.search.direction} {config.search.metric}",
            )
        except OSError as exc:
            from hpsearch.errors import UserError

            raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None
    typer.echo(f"wrote {target}")


@app.command(name="train")
def train_command(
    config: ConfigArg,
    settings: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--set", help="name=value for one parameter (repeatable)."),
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
    import dataclasses

    from hpsearch import interrupts
    from hpsearch.config import load_config
    from hpsearch.display import CurveDisplay, choose_mode, format_value
    from hpsearch.panda import parse_setting, plan, train_in_foreground

    with _user_errors():
        cfg = load_config(config)
        if runs_dir is not None:
            cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, runs_dir=str(runs_dir)))
        overrides = dict(parse_setting(text) for text in settings or [])
        from_params = None
        if from_run is not None:
            from_params = _best_params(from_run, runs_dir or cfg.run.runs_dir)
        panda = plan(cfg, overrides, from_params)
    console = _console(stderr=as_json)
    mode = choose_mode(console, quiet)
    if mode != "quiet":
        for name, value in panda.values.items():
            console.print(
                f"{name} = {cfg.space[name].format(value)} ({panda.chosen[name]})",
                soft_wrap=True,
                highlight=False,
                markup=False,
            )
    epochs = int(panda.config.resolved_model().get("epochs", 0) or 0)
    with (
        _user_errors(),
        interrupts.stop_on_signals(),
        CurveDisplay(console, mode, epochs) as display,
    ):
        try:
            store, record = train_in_foreground(panda, display)
        except KeyboardInterrupt as exc:  # before training started (loading data)
            raise typer.Exit(interrupts.exit_code(exc)) from None
    summary = store.summary()
    metric = panda.config.search.metric
    if as_json:
        sys.stdout.write(json.dumps({"run_dir": str(store.path), **_public(summary)}) + "\n")
    console.print(
        f"{record['status']}: {metric} = "
        f"{format_value(record['metrics'].get(metric))} after {record['epochs']} "
        f"epochs; run {shown(store.path)}",
        soft_wrap=True,
        highlight=False,
    )
    if record.get("error"):
        console.print(record["error"], soft_wrap=True, highlight=False, markup=False)
    if summary.get("status") == "interrupted":
        raise typer.Exit(interrupts.last_exit_code())
    raise typer.Exit(0 if record["status"] == "ok" else 1)


def _best_params(ref: str, runs_dir) -> dict:
    """Every value the best trial of a run (of its lineage, for ``--rounds``) trained with:
    its searched values and its run's fixed ones (zoom rounds fix some)."""
    from hpsearch.errors import NoOkTrial
    from hpsearch.store import RunStore, best_ok, is_run_dir, rank

    store, config, summary, records = _open_run(ref, runs_dir, search_only=True)
    best = summary.get("lineage_best")
    if best and is_run_dir(store.path.parent / best["run_id"]):
        owner = RunStore.open(store.path.parent / best["run_id"]).config()
        return {**owner.model, **best["params"]}
    ranked = rank(records, config.search.metric, config.search.direction)
    best = best_ok(ranked)
    if best is None:
        raise NoOkTrial(f"{store.path}: no ok trial to start from")
    return {**config.model, **best["params"]}


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
    import contextlib
    import dataclasses

    from hpsearch import interrupts
    from hpsearch.analysis import retest_summary
    from hpsearch.config import DataConfig
    from hpsearch.errors import NoOkTrial, UserError, one_line
    from hpsearch.runner import run_trials, shutdown_workers
    from hpsearch.sampling import Trial
    from hpsearch.search import build_objective
    from hpsearch.store import RunStore, rank

    _check_backend(backend)
    console = _console(stderr=as_json)
    with _user_errors():
        store, config, summary, records = _open_run(run_ref, runs_dir, search_only=True)
        ranked = [
            r
            for r in rank(records, config.search.metric, config.search.direction)
            if r["status"] == "ok"
        ][:top]
        if not ranked:
            raise NoOkTrial(f"{store.path}: no ok trial to re-test")
        if len(ranked) < top:
            typer.echo(
                f"warning: only {len(ranked)} ok trials, fewer than --top {top}: re-testing those",
                err=True,
            )
        new = config
        if data_source is not None or data_seed is not None:
            if not config.objective.is_builtin:
                raise UserError(
                    "--data-source and --data-seed apply to the built-in trainer; "
                    "a Python or command objective loads its own data"
                )
            data = config.data if data_source is None else DataConfig(source=data_source)
            if data_source is not None and data_source not in ("spirals", "blobs", "digits"):
                raise UserError(
                    f"--data-source: expected spirals, blobs or digits, got '{data_source}'"
                )
            if data_source == "digits":
                data = DataConfig("digits", None, None, None, None, 0.2)
            new = dataclasses.replace(
                config,
                data=dataclasses.replace(
                    data, seed=data_seed if data_seed is not None else config.data_seed
                ),
            )
        new = dataclasses.replace(
            new,
            search=dataclasses.replace(new.search, trials=len(ranked) * seeds),
            run=dataclasses.replace(
                new.run,
                runs_dir=str(store.path.parent),
                jobs=jobs if jobs is not None else new.run.jobs,
                backend=backend or new.run.backend,
            ),
        )
        objective = build_objective(new)
        retest_store = RunStore.create(
            new,
            new.run.runs_dir,
            parent=store.run_id,
            round_=int(summary.get("round") or 0),
            kind="retest",
        )
    trials = [
        Trial(k * seeds + j, dict(c["params"]), _fresh_seed(c["seed"], j))
        for k, c in enumerate(ranked)
        for j in range(seeds)
    ]
    owner = {
        t.index: c["trial"]
        for t, c in zip(trials, [c for c in ranked for _ in range(seeds)], strict=True)
    }
    results: dict[int, list] = {}
    started = time.perf_counter()
    status = "complete"
    if not quiet and not as_json:
        console.print(
            f"re-testing the top {len(ranked)} of {store.run_id} with {seeds} fresh "
            f"seeds each ({len(trials)} trainings)",
            soft_wrap=True,
            highlight=False,
        )
    failure = None
    stopped = None
    try:
        with interrupts.stop_on_signals():
            for record in run_trials(
                objective,
                trials,
                backend=new.run.backend,
                jobs=new.run.jobs,
                timeout=new.trial_timeout,
                scheduler=new.run.scheduler,
            ):
                curves = record.pop("curves", None)
                retest_store.append(record, curves)
                results.setdefault(owner[record["trial"]], []).append(record)
    except KeyboardInterrupt as exc:
        status, stopped = "interrupted", exc
    except UserError as exc:  # a full disk: stop, keep what is on disk
        status, failure = "interrupted", exc
    finally:
        shutdown_workers()
        with contextlib.suppress(OSError, UserError):
            retest_store.close()
    if failure is not None:
        typer.echo(f"error: {one_line(str(failure))}", err=True)
        raise typer.Exit(2)
    rows, holds = retest_summary(
        ranked,
        results,
        config.search.metric,
        config.search.direction,
        same_data=data_source is None,
    )
    verdict = {
        "of": store.run_id,
        "seeds": seeds,
        "ranking_holds": holds,
        "data": new.to_dict()["data"] if data_source or data_seed is not None else None,
        "winners": [dict(r.__dict__) for r in rows],
    }
    all_records = [r for recs in results.values() for r in recs]
    final = retest_store.write_results(
        new,
        all_records,
        status=status,
        wall_time=time.perf_counter() - started,
        extra={"retest": verdict},
    )
    if as_json:
        sys.stdout.write(json.dumps({"run_dir": str(retest_store.path), **_public(final)}) + "\n")
    from hpsearch.report import retest_table

    console.print(retest_table(rows, config.search.metric))
    console.print(
        "the original ranking holds"
        if holds
        else "the original ranking does not hold: the re-test orders the winners differently",
        soft_wrap=True,
        highlight=False,
    )
    for r in rows:
        if r.lucky and data_source is not None:
            console.print(
                f"trial {r.trial} (rank {r.rank}) was luck: on {data_source} it ranks "
                f"{r.new_rank} (other data: ranks are compared, not scores)",
                soft_wrap=True,
                highlight=False,
            )
        elif r.lucky:
            console.print(
                f"trial {r.trial} (rank {r.rank}, {r.original:.4f}) was luck: fresh "
                f"seeds give {r.mean if r.mean is not None else float('nan'):.4f} ± "
                f"{(r.std or 0):.4f}",
                soft_wrap=True,
                highlight=False,
            )
    console.print(f"run: {shown(retest_store.path)}", soft_wrap=True, highlight=False)
    if status == "interrupted":
        raise typer.Exit(interrupts.exit_code(stopped) if stopped else 130)


def _fresh_seed(original: int, j: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence([original, 0x7E57, j]).generate_state(1)[0])
