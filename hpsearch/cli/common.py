"""What every command shares: the app, the options, the console, one-line errors.

Commands parse their options, call the Python API (``hpsearch.api``) and render what comes
back. Only typer is imported at start-up (``hpsearch --help`` stays fast); everything else is
imported inside the command that needs it.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

app = typer.Typer(
    name="hpsearch",
    help="Random hyperparameter search on the right scales, coarse-to-fine.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion: bash, zsh, fish, PowerShell
    rich_markup_mode=None,  # plain help: flags without a "<bool>" type, readable when piped
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def console(stderr: bool = False) -> Any:
    """A rich console on stdout (stderr: under ``--json``), as wide as it should be."""
    from hpsearch.console import make_console

    return make_console(stderr)


def say(console_: Any, text: str) -> None:
    """A line of plain text: no markup, no highlighting, never wrapped."""
    console_.print(text, soft_wrap=True, highlight=False, markup=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's mistake into one line on stderr and its exit code (2; 1 for no ok
    trial)."""
    from hpsearch.errors import UserError, one_line

    try:
        yield
    except UserError as exc:
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise typer.Exit(exc.exit_code) from None


def print_json(doc: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def public(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A summary as commands print it: without the resolved config it carries."""
    return {k: v for k, v in summary.items() if k != "config"}


def _check(problem: Any) -> Any:
    """A typer callback from one of the config's rules: the rule's message, at parse time."""

    def callback(value: Any) -> Any:
        message = None if value is None else problem(value)
        if message:
            raise typer.BadParameter(message)
        return value

    return callback


def _jobs(value: Optional[int]) -> Optional[int]:  # noqa: UP045 - typer on Python 3.10
    from hpsearch.config import jobs_problem

    return _check(jobs_problem)(value)


def _backend(value: Optional[str]) -> Optional[str]:  # noqa: UP045
    from hpsearch.config import backend_problem

    return _check(backend_problem)(value)


def finite(value: Optional[float]) -> Optional[float]:  # noqa: UP045
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


def thresholds(values: Optional[list[str]]) -> Optional[list[tuple[str | None, float]]]:  # noqa: UP045
    """``--fail-under`` values: ``0.9`` (the search's metric) or ``val_accuracy=0.9``."""
    if not values:
        return None
    out: list[tuple[str | None, float]] = []
    for text in values:
        name, _, number = text.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            raise typer.BadParameter(f"expected a number or METRIC=NUMBER, got {text!r}") from None
        if not math.isfinite(value):
            raise typer.BadParameter(f"must be a finite number, got {number}")
        out.append((name.strip() or None, value))
    return out


def check_fail_under(config: Any, fail_under: Any) -> None:
    """``--fail-under METRIC=X`` of a metric the search does not have: a usage error (exit 2)
    before anything runs, not a failed run after it."""
    from hpsearch.errors import ConfigError
    from hpsearch.goals import unknown_threshold

    problem = unknown_threshold(config.search.goal, fail_under or ())
    if problem:
        raise ConfigError(problem, key="--fail-under")


def load(config: Path, settings: list[str] | None) -> Any:
    """The config file with its ``--set key=value`` settings in (checked as the file is)."""
    from hpsearch.config import load_config

    return load_config(config, settings or ())


def warn_small_budget(config: Any, flag: str = "search.budget") -> None:
    """Warn on stderr when the config's budget is too small for its space (once a command)."""
    from hpsearch.schedule import space_budget_warning

    if config.search.budget is None:
        return
    text = space_budget_warning(config.search.budget, config.space, flag)
    if text:
        typer.echo(text, err=True)


ConfigArg = Annotated[Path, typer.Argument(help="YAML config file.", show_default=False)]
SetOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Set a config key for this command, e.g. model.epochs=20 or search.metric=val_loss "
        "(dotted, repeatable; the value read as YAML, checked as in the file).",
    ),
]
RunArg = Annotated[str, typer.Argument(metavar="RUN", help="Run directory, run id, or 'latest'.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")]
TrialsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--trials", "-n", min=1, help="Number of trials (default: search.trials)."),
]
SeedOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--seed", min=0, help="Override the config's seed."),
]
RunsDirOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--runs-dir",
        envvar="HPSEARCH_RUNS_DIR",
        help="Where runs live (default: HPSEARCH_RUNS_DIR, else the config's run.runs_dir, "
        "else ./runs).",
    ),
]
JobsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--jobs", "-j", callback=_jobs, help="Parallel trials; -1 = every core."),
]
BackendOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--backend",
        callback=_backend,
        help="processes (default), threading, sequential (in the driver, for debugging), "
        "dask or joblib (run.joblib_backend).",
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
SchedulerFileOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--scheduler-file",
        metavar="PATH",
        help="Dask scheduler's file (dask scheduler --scheduler-file PATH), for --backend dask.",
    ),
]
ClusterOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--cluster",
        metavar="KIND",
        help="Dask workers as batch jobs: slurm, pbs, sge, lsf or local (run.cluster's other "
        "keys, else ~/.config/dask/jobqueue.yaml); for --backend dask, needs hpsearch[cluster].",
    ),
]
FailUnderOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--fail-under",
        callback=thresholds,
        metavar="X|METRIC=X",
        help="Exit 1 if the best metric is worse than X; with several metrics, METRIC=X "
        "(repeatable): exit 1 unless one trial meets every threshold.",
    ),
]
TimeBudgetOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--time-budget",
        metavar="DURATION",
        help="Start no trial after this long (90s, 45m, 2h30m; search.time_budget); those "
        "running get a tenth of it to finish. The run is complete; resume goes on.",
    ),
]
ReportOpt = Annotated[
    bool, typer.Option("--report", help="Write the run's HTML report at the end (report.html).")
]
