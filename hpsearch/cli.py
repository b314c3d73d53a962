"""The ``hpsearch`` command: parse the arguments, call the core, present the result."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpsearch import __version__

app = typer.Typer(
    name="hpsearch",
    help="Random hyperparameter search on the right scales, coarse-to-fine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigArg = Annotated[Path, typer.Argument(help="YAML config file.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]


def _console(stderr: bool = False):  # rich is imported only by commands that print tables
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a user's mistake into one line on stderr and exit code 2."""
    from hpsearch.errors import UserError

    try:
        yield
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
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
    """Check a config file and its data; show the search space: scale, range, quantiles."""
    from hpsearch.config import load_config
    from hpsearch.data import load_dataset
    from hpsearch.report import space_table

    with _user_errors():
        cfg = load_config(config)
        data = load_dataset(cfg.data, cfg.seed, cfg.base_dir)
    console = _console()
    console.print(space_table(cfg))
    fixed = ", ".join(f"{k}={v}" for k, v in cfg.model.items()) or "trainer defaults"
    console.print(f"fixed: {fixed}", soft_wrap=True)
    console.print(
        f"search: {cfg.search.trials} trials, {cfg.search.direction} {cfg.search.metric}, "
        f"seed {cfg.seed}",
        soft_wrap=True,
    )
    console.print(
        f"data: {data.name}, {len(data.x_train)} training / {len(data.x_val)} validation "
        f"examples, {data.features} features, {data.classes} classes",
        soft_wrap=True,
    )
    console.print(f"[green]{config} is valid[/green]", soft_wrap=True)


@app.command()
def sample(
    config: ConfigArg,
    n: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("-n", "--trials", min=1, help="How many trials (default: search.trials)."),
    ] = None,
    seed: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--seed", min=0, help="Override the config's seed."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Draw trials from the search space without training, to see how values spread."""
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
    """List the built-in trainer's hyperparameters: type, default, valid range, meaning."""
    from hpsearch.report import registry_table

    _console().print(registry_table())


def main() -> None:
    """Console-script entry point."""
    app(prog_name="hpsearch")
