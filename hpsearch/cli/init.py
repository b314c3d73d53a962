"""``hpsearch init``: a starter config to edit and run."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpsearch.cli.common import app, user_errors
from hpsearch.visible import visible


@app.command()
def init(
    config: Annotated[
        Optional[Path],  # noqa: UP045 - typer on Python 3.10
        typer.Argument(
            metavar="CONFIG",
            help="Where to write it (default: hpsearch.yaml); never over an existing file.",
            show_default=False,
        ),
    ] = None,
    tier: Annotated[
        int,
        typer.Option(
            "--tier",
            help="Search the course's tiers 1 to N (1: learning_rate; 2: + beta1, hidden_units, "
            "batch_size; 3: + layers, lr_decay).",
        ),
    ] = 2,
    data: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--data",
            help="spirals (default, as the quickstart), blobs, digits, or a .npz file.",
        ),
    ] = None,
) -> None:
    """Write a starter config: the hyperparameters that matter most.

    Each on its suggested scale and range, with comments; it validates and runs as written."""
    from hpsearch import api

    with user_errors():
        starter = api.init(config, tier=tier, data=data)
    tiers = sorted({t for _, t in starter.params})
    searched = "; ".join(
        f"tier {t} {', '.join(name for name, of in starter.params if of == t)}" for t in tiers
    )
    path, data = visible(str(starter.path)), visible(str(starter.data))  # as typed, escaped
    typer.echo(f"wrote {path}: {searched}; data {data}; {starter.trials} trials")
    typer.echo(f"next: hpsearch run {visible(shlex.quote(str(starter.path)))}")
